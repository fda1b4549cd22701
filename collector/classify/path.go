package classify

import (
	"bytes"
	"regexp"
	"regexp/syntax"
)

// pathMatcher is an exclude, goal or landing pattern in the form the hot
// path runs it. Most such patterns are a literal prefix, or a few of them
// ("^/checkout/thank-you", "^/(healthz|api/)", "^/signup/done$"): those are
// matched as byte comparisons, which give what the regular expression would
// and cost a fraction of it; anything else runs the regular expression.
type pathMatcher struct {
	re *regexp.Regexp
	// lits, when re is not needed: the path must start with one of them
	// (exact: be one of them), or, when !anchored, contain one.
	lits     [][]byte
	anchored bool
	exact    bool
	literal  bool // lits decide; re is not run
}

// maxLiterals bounds the literals a pattern is expanded to.
const maxLiterals = 32

func newPathMatcher(re *regexp.Regexp) pathMatcher {
	m := pathMatcher{re: re}
	if re == nil {
		return m
	}
	tree, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return m
	}
	tree = tree.Simplify()
	subs := []*syntax.Regexp{tree}
	if tree.Op == syntax.OpConcat {
		subs = tree.Sub
	}
	if len(subs) > 0 && subs[0].Op == syntax.OpBeginText {
		m.anchored = true
		subs = subs[1:]
	}
	if n := len(subs); m.anchored && n > 0 && subs[n-1].Op == syntax.OpEndText {
		m.exact = true
		subs = subs[:n-1]
	}
	lits := [][]byte{nil}
	for _, s := range subs {
		set, ok := literals(s)
		if !ok || len(lits)*len(set) > maxLiterals {
			return m
		}
		var next [][]byte
		for _, a := range lits {
			for _, b := range set {
				next = append(next, append(append([]byte(nil), a...), b...))
			}
		}
		lits = next
	}
	if !m.anchored && (len(lits) != 1 || len(lits[0]) == 0) {
		return m // an unanchored pattern is matched as one literal only
	}
	m.lits, m.literal = lits, true
	return m
}

// literals returns the strings re matches when it matches a finite set of
// ASCII strings, spelled exactly (no case folding, classes of at most
// eight characters).
func literals(re *syntax.Regexp) ([][]byte, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return [][]byte{nil}, true
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		b := make([]byte, 0, len(re.Rune))
		for _, r := range re.Rune {
			if r <= 0 || r >= 0x80 {
				return nil, false
			}
			b = append(b, byte(r))
		}
		return [][]byte{b}, true
	case syntax.OpCharClass: // [ab], as (a|b) simplifies to
		var out [][]byte
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if lo <= 0 || hi >= 0x80 || len(out)+int(hi-lo)+1 > 8 {
				return nil, false
			}
			for r := lo; r <= hi; r++ {
				out = append(out, []byte{byte(r)})
			}
		}
		return out, len(out) > 0
	case syntax.OpCapture:
		return literals(re.Sub[0])
	case syntax.OpConcat:
		out := [][]byte{nil}
		for _, s := range re.Sub {
			set, ok := literals(s)
			if !ok || len(out)*len(set) > maxLiterals {
				return nil, false
			}
			var next [][]byte
			for _, a := range out {
				for _, b := range set {
					next = append(next, append(append([]byte(nil), a...), b...))
				}
			}
			out = next
		}
		return out, true
	case syntax.OpAlternate:
		var out [][]byte
		for _, s := range re.Sub {
			set, ok := literals(s)
			if !ok || len(out)+len(set) > maxLiterals {
				return nil, false
			}
			out = append(out, set...)
		}
		return out, true
	}
	return nil, false
}

// match reports whether the pattern matches path, as re.Match(path) does.
func (m *pathMatcher) match(path []byte) bool {
	if !m.literal {
		return m.re.Match(path)
	}
	if !m.anchored {
		return bytes.Contains(path, m.lits[0])
	}
	for _, l := range m.lits {
		if len(path) >= len(l) && string(path[:len(l)]) == string(l) && (!m.exact || len(path) == len(l)) {
			return true
		}
	}
	return false
}

func newPathMatchers(res []*regexp.Regexp) []pathMatcher {
	out := make([]pathMatcher, len(res))
	for i, re := range res {
		out[i] = newPathMatcher(re)
	}
	return out
}
