// Command botlist rebuilds the bot token lists under collector/classify/data
// from the public lists they are drawn from: it turns each list's patterns
// into lower-case literal tokens, drops the tokens that occur in a human
// agent of the test corpus, and writes one token a line.
//
//	go run ./tools/botlist -crawler-user-agents crawler-user-agents.json \
//	    -isbot patterns.json -out collector/classify/data
//
// crawler-user-agents.json is monperrus/crawler-user-agents' list; patterns.json
// is omrilotan/isbot's src/patterns.json. The human agents are read from
// collector/classify/testdata/ua: device-detector's browsers, isbot's
// browsers and the user-agents package's visitors.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	cua := flag.String("crawler-user-agents", "", "path of crawler-user-agents.json")
	isb := flag.String("isbot", "", "path of isbot's src/patterns.json")
	corpus := flag.String("corpus", "collector/classify/testdata/ua", "directory of the test corpus")
	out := flag.String("out", "collector/classify/data", "directory to write the token lists to")
	commit := flag.String("commits", "", "provenance note written into each file's header")
	flag.Parse()
	if err := run(*cua, *isb, *corpus, *out, *commit); err != nil {
		fmt.Fprintln(os.Stderr, "botlist:", err)
		os.Exit(1)
	}
}

func run(cua, isb, corpus, out, note string) error {
	humans, err := readHumans(corpus)
	if err != nil {
		return err
	}
	if cua != "" {
		var list []struct {
			Pattern string `json:"pattern"`
		}
		if err := readJSON(cua, &list); err != nil {
			return err
		}
		pats := make([]string, len(list))
		for i, e := range list {
			pats[i] = e.Pattern
		}
		if err := write(filepath.Join(out, "crawler-user-agents.txt"), "monperrus/crawler-user-agents (MIT License, see crawler-user-agents.LICENSE)", note, pats, humans); err != nil {
			return err
		}
	}
	if isb != "" {
		var pats []string
		if err := readJSON(isb, &pats); err != nil {
			return err
		}
		if err := write(filepath.Join(out, "isbot.txt"), "omrilotan/isbot src/patterns.json (The Unlicense, see isbot.LICENSE)", note, pats, humans); err != nil {
			return err
		}
	}
	return nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// readHumans returns the lower-cased human agents of the corpus.
func readHumans(dir string) ([]string, error) {
	files := []string{filepath.Join(dir, "device-detector-browsers.tsv"),
		filepath.Join(dir, "isbot-browsers.tsv"), filepath.Join(dir, "user-agents.tsv")}
	var hs []string
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			verdict, ua, ok := strings.Cut(sc.Text(), "\t")
			if ok && verdict != "bot" {
				hs = append(hs, strings.ToLower(ua))
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
	}
	return hs, nil
}

func write(path, source, note string, pats []string, humans []string) error {
	seen := map[string]bool{}
	var toks, pruned, skipped []string
	for _, p := range pats {
		lits := literals(p)
		if lits == nil {
			skipped = append(skipped, p)
			continue
		}
		for _, t := range lits {
			if seen[t] {
				continue
			}
			seen[t] = true
			if h := hit(t, humans); h != "" && !keep[t] {
				pruned = append(pruned, t)
				continue
			}
			toks = append(toks, t)
		}
	}
	sort.Strings(toks)
	var b strings.Builder
	fmt.Fprintf(&b, "# Bot tokens drawn from %s.\n", source)
	if note != "" {
		fmt.Fprintf(&b, "# %s\n", note)
	}
	b.WriteString("# Rebuilt with tools/botlist. Tokens that occur in a human agent of the\n")
	b.WriteString("# test corpus are left out; patterns that are not literal text are\n")
	b.WriteString("# left out too (the rules in collector/classify cover their shapes).\n")
	b.WriteString("# Syntax: one lower-case token a line; '^' at the start anchors it at\n")
	b.WriteString("# the start of the agent.\n")
	for _, p := range pruned {
		fmt.Fprintf(&b, "# pruned (occurs in a human agent): %s\n", p)
	}
	for _, t := range toks {
		b.WriteString(t)
		b.WriteByte('\n')
	}
	fmt.Fprintf(os.Stderr, "%s: %d tokens, %d pruned, %d patterns not literal\n", path, len(toks), len(pruned), len(skipped))
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// keep are tokens kept although a human agent has them, because the
// classifier already tells the two apart: "spider" occurs in human agents
// only as a phone model ("Spider 8"), and bot tokens inside an Android
// device model do not count.
var keep = map[string]bool{"spider": true}

// hit returns a human agent the token occurs in, or "".
func hit(tok string, humans []string) string {
	anchored := strings.HasPrefix(tok, "^")
	t := strings.TrimPrefix(tok, "^")
	for _, h := range humans {
		if anchored && strings.HasPrefix(h, t) || !anchored && strings.Contains(h, t) {
			return h
		}
	}
	return ""
}

// literals turns a regular expression into the lower-case literal tokens
// that together match (about) what it matches, or nil when it is not
// literal enough: escapes are unescaped, case classes such as [wW] become
// one letter, a group of alternatives and top-level '|' are expanded, and a
// trailing '$' or boundary group is dropped. Tokens shorter than 3 bytes
// are dropped.
func literals(p string) []string {
	// Lookarounds cannot be expressed; the literal part stays.
	for _, la := range []string{"(?<!", "(?<=", "(?!", "(?="} {
		for {
			i := strings.Index(p, la)
			if i < 0 {
				break
			}
			j := matchParen(p, i)
			if j < 0 {
				return nil
			}
			p = p[:i] + p[j+1:]
		}
	}
	var outs []string
	for _, alt := range splitTop(p) {
		exp, ok := expand(alt)
		if !ok {
			continue
		}
		for _, e := range exp {
			if len(strings.TrimPrefix(e, "^")) >= 3 {
				outs = append(outs, e)
			}
		}
	}
	return outs
}

func matchParen(p string, i int) int {
	depth := 0
	for j := i; j < len(p); j++ {
		switch p[j] {
		case '\\':
			j++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// splitTop splits p at '|' outside groups and classes.
func splitTop(p string) []string {
	var parts []string
	depth, class, last := 0, false, 0
	for j := 0; j < len(p); j++ {
		switch c := p[j]; {
		case c == '\\':
			j++
		case class:
			if c == ']' {
				class = false
			}
		case c == '[':
			class = true
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '|' && depth == 0:
			parts = append(parts, p[last:j])
			last = j + 1
		}
	}
	return append(parts, p[last:])
}

// expand returns the literal strings alt matches, or ok false.
func expand(alt string) ([]string, bool) {
	outs := []string{""}
	appendAll := func(s string) {
		for i := range outs {
			outs[i] += s
		}
	}
	for j := 0; j < len(alt); j++ {
		c := alt[j]
		switch {
		case c == '^' && j == 0:
			appendAll("^")
		case c == '$' && j == len(alt)-1:
		case c == '\\' && j+1 < len(alt):
			n := alt[j+1]
			if strings.IndexByte("dDsSwWbB", n) >= 0 {
				return cut(outs)
			}
			appendAll(strings.ToLower(string(n)))
			j++
		case c == '[':
			k := strings.IndexByte(alt[j:], ']')
			if k < 0 {
				return nil, false
			}
			set := alt[j+1 : j+k]
			if len(set) == 2 && strings.EqualFold(set[:1], set[1:]) {
				appendAll(strings.ToLower(set[:1]))
				j += k
				continue
			}
			return cut(outs)
		case c == '(':
			k := matchParen(alt, j)
			if k < 0 {
				return nil, false
			}
			inner := strings.TrimPrefix(alt[j+1:k], "?:")
			if k+1 < len(alt) && strings.IndexByte("?*+{", alt[k+1]) >= 0 {
				return cut(outs)
			}
			var next []string
			for _, a := range splitTop(inner) {
				sub, ok := expand(a)
				if !ok {
					return cut(outs)
				}
				for _, o := range outs {
					for _, s := range sub {
						next = append(next, o+s)
					}
				}
			}
			if len(next) > 16 {
				return cut(outs)
			}
			outs = next
			j = k
		case strings.IndexByte(".*+?{}|)", c) >= 0:
			return cut(outs)
		default:
			if j+1 < len(alt) && strings.IndexByte("?*{", alt[j+1]) >= 0 {
				return cut(outs) // the character is optional
			}
			appendAll(strings.ToLower(string(c)))
		}
		if j+1 < len(alt) && strings.IndexByte("?*+{", alt[j+1]) >= 0 {
			return cut(outs)
		}
	}
	return outs, true
}

// cut ends the literals at the first construct that is not literal; a
// prefix of at least 4 bytes is still a token.
func cut(outs []string) ([]string, bool) {
	var keep []string
	for _, o := range outs {
		if len(strings.TrimPrefix(o, "^")) >= 4 {
			keep = append(keep, o)
		}
	}
	return keep, len(keep) > 0
}
