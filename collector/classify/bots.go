package classify

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"strings"
	"sync"
)

// botData holds the bot token lists: our own (local.txt) and those drawn
// from crawler-user-agents and isbot (see data/README.md for provenance
// and licences).
//
//go:embed data/*.txt
var botData embed.FS

// Where a token counts (see deviceTokens for the spelling).
const (
	tStart      uint8 = 1 << iota // at the start of the agent
	tLeft                         // no letter or digit before it
	tRight                        // no letter or digit after it
	tModel                        // inside the Android device model
	tModelWord                    // at the start of a word of the model
	tModelStart                   // at the start of the model
)

// uaToken is what a pattern of the automaton stands for.
type uaToken struct {
	feat  uint32
	where uint8
}

// uaEngine is the user-agent classifier: one automaton over every bot and
// device token. It is built once per process and shared.
type uaEngine struct {
	m    *matcher
	toks []uaToken
}

// engine builds the user-agent engine on first use (about 5 ms).
var engine = sync.OnceValues(buildEngine)

func buildEngine() (*uaEngine, error) {
	var pats []string
	var toks []uaToken
	index := map[string]int{} // pattern -> index, to merge duplicates
	add := func(spelled string, feat uint32) error {
		p, where, err := parseToken(spelled)
		if err != nil {
			return err
		}
		// The same text with the same placement is one pattern with the
		// union of the features.
		key := string(rune(where)) + p
		if i, ok := index[key]; ok {
			toks[i].feat |= feat
			return nil
		}
		index[key] = len(pats)
		pats = append(pats, p)
		toks = append(toks, uaToken{feat: feat, where: where})
		return nil
	}
	files, err := botData.ReadDir("data")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".txt") {
			continue
		}
		b, err := botData.ReadFile("data/" + f.Name())
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimRight(sc.Text(), " \t\r")
			if line == "" || line[0] == '#' {
				continue
			}
			if strings.ContainsAny(line[:1], "=~*") {
				return nil, fmt.Errorf("classify: data/%s:%d: bot tokens cannot be limited to the device model", f.Name(), n)
			}
			if err := add(line, fBot); err != nil {
				return nil, fmt.Errorf("classify: data/%s:%d: %w", f.Name(), n, err)
			}
		}
	}
	for _, d := range deviceTokens {
		for _, t := range d.toks {
			if err := add(t, d.feat); err != nil {
				return nil, err
			}
		}
	}
	for _, t := range notBotTokens {
		if err := add(t, fNotBot); err != nil {
			return nil, err
		}
	}
	m, err := newMatcher(pats)
	if err != nil {
		return nil, err
	}
	return &uaEngine{m: m, toks: toks}, nil
}

// parseToken reads a token's placement marks: a leading '^' (start of the
// agent), '=' (start of the model), '~' (start of a word of the model) or
// '*' (anywhere in the model), and '|' at either end (word boundary).
func parseToken(s string) (string, uint8, error) {
	var where uint8
	if s != "" {
		switch s[0] {
		case '^':
			where |= tStart
		case '=':
			where |= tModelStart
		case '~':
			where |= tModelWord
		case '*':
			where |= tModel
		}
		if where != 0 {
			s = s[1:]
		}
	}
	if strings.HasPrefix(s, "|") {
		where |= tLeft
		s = s[1:]
	}
	if strings.HasSuffix(s, "|") {
		where |= tRight
		s = s[:len(s)-1]
	}
	if s == "" {
		return "", 0, fmt.Errorf("empty token")
	}
	if strings.ToLower(s) != s {
		return "", 0, fmt.Errorf("token %q is not lower-case", s)
	}
	return s, where, nil
}

// notBotTokens are products whose agents contain a bot token but are
// people's browsers or apps.
var notBotTokens = []string{
	"ps4application libhttp", // PlayStation 4 apps
}

// classify returns the bot flag (docs/rules.md rule 2) and device class
// (rule 7) of ua, in one pass of the automaton and without allocating.
func (e *uaEngine) classify(ua []byte) (bot bool, dev Device) {
	ua = bytes.TrimSpace(ua)
	if len(ua) == 0 || len(ua) == 1 && ua[0] == '-' {
		return true, OtherDevice
	}
	if len(ua) > maxUALen {
		ua = ua[:maxUALen]
	}
	var buf [maxUALen]byte
	lower := buf[:len(ua)]
	for i, c := range ua {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	ms, me, hasModel := modelSpan(lower)

	// The automaton, inlined: one table load per byte.
	m := e.m
	var feat uint32
	s := uint32(0)
	nc := uint32(m.nclass)
	for i := 0; i < len(lower); i++ {
		v := m.next[s*nc+uint32(m.class[lower[i]])]
		s = uint32(v & stateMask)
		if v&hasOut == 0 {
			continue
		}
		for _, id := range m.outIDs[m.out[s]:m.out[s+1]] {
			t := e.toks[id]
			end := i + 1
			st := end - int(m.lens[id])
			if t.where != 0 && !placed(lower, st, end, t.where, ms, me, hasModel) {
				continue
			}
			f := t.feat
			if f&fBot != 0 && hasModel && st >= ms && end <= me {
				f &^= fBot // a bot word in the device model: a phone named so
			}
			feat |= f
		}
	}
	if hasModel {
		if tvModel(lower[ms:me]) {
			feat |= fTVModel
		}
		if model := lower[ms:me]; wifiOnlyModel(model) || sizeCodeModel(model) || tabletCode(model) ||
			huaweiTablet(model) || sizeThen3G(model) || rowModel(model) || hardwareCodeModel(model) {
			feat |= fTabletModel
		}
	}
	bot = feat&fBot != 0 && feat&fNotBot == 0 ||
		feat&(fNotBot|fHumanHint|fPhone|fTablet|fTV|fTVModel|fConsole) == 0 && shapeBot(lower)
	return bot, deviceOf(feat)
}

// placed reports whether an occurrence lower[st:end] is where its token
// counts.
func placed(lower []byte, st, end int, where uint8, ms, me int, hasModel bool) bool {
	if where&tStart != 0 && st != 0 {
		return false
	}
	if where&tLeft != 0 && st > 0 && isAlnum(lower[st-1]) {
		return false
	}
	if where&tRight != 0 && end < len(lower) && isAlnum(lower[end]) {
		return false
	}
	if where&(tModel|tModelWord|tModelStart) != 0 {
		if !hasModel || st < ms || end > me {
			return false
		}
		if where&tModelStart != 0 && st != ms {
			return false
		}
		if where&tModelWord != 0 && st != ms {
			if c := lower[st-1]; c != ' ' && c != '_' && c != '-' && c != '/' {
				return false
			}
		}
	}
	return true
}

// shapeBot reports agents whose shape alone marks a program rather than a
// browser (after isbot's structural patterns): a bare product name with at
// most a version ("Feedly", "okhttp/4.12.0", "SomeTool 1.0"), one
// product/word pair, one long word without spaces, an agent opening with a
// digit or '<', '(' or ';', "Mozilla/5.0" followed by a single word or a
// bare "(compatible; Name/1.0)", and an e-mail address. It is not asked
// about agents that name a device or a browser ("iPhone14", "nook
// browser/1.0").
func shapeBot(s []byte) bool {
	if len(s) == 0 {
		return true
	}
	switch c := s[0]; {
	case c >= '0' && c <= '9', c == '<', c == '(', c == ';':
		return true
	}
	if bareProduct(s) || productPair(s) {
		return true
	}
	if len(s) >= 50 && bytes.IndexByte(s, ' ') < 0 {
		return true
	}
	if bytes.HasPrefix(s, []byte("mozilla/")) && len(s) >= 12 && isDigit(s[8]) && s[9] == '.' && isDigit(s[10]) && s[11] == ' ' {
		rest := s[12:]
		if len(rest) > 0 && allBytes(rest, func(c byte) bool { return isWord(c) || c == '.' || c == '-' }) {
			return true // "Mozilla/5.0 zgrab/0.x" has a '/', this is "Mozilla/5.0 Foo"
		}
		if compatibleOnly(rest) {
			return true
		}
	}
	return hasEmail(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isWord(c byte) bool  { return isAlnum(c) || c == '_' }

func allBytes(s []byte, ok func(byte) bool) bool {
	for _, c := range s {
		if !ok(c) {
			return false
		}
	}
	return true
}

// bareProduct: name characters (letters, digits, '_', ' ', '.', '-', '(',
// ')', ':', '%'), then optionally "/" "v"? digits ("." digits)*, then the
// end or a comma.
func bareProduct(s []byte) bool {
	i := 0
	for i < len(s) && isNameByte(s[i]) {
		i++
	}
	if i == 0 {
		return false
	}
	if i == len(s) {
		return true
	}
	if s[i] != '/' {
		return false
	}
	i++
	if i < len(s) && s[i] == 'v' {
		i++
	}
	d := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == d {
		return false
	}
	for i < len(s) && s[i] == '.' {
		i++
		d = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(s)
}

func isNameByte(c byte) bool {
	switch c {
	case ' ', '.', '-', '(', ')', ':', '%', '?':
		return true
	}
	return isWord(c)
}

// productPair: "name/word" and nothing else.
func productPair(s []byte) bool {
	slash := bytes.IndexByte(s, '/')
	if slash <= 0 {
		return false
	}
	return allBytes(s[:slash], func(c byte) bool { return isWord(c) || c == '-' }) &&
		allBytes(s[slash+1:], func(c byte) bool { return isWord(c) || c == '(' || c == ')' })
}

// compatibleOnly: "(compatible; Name/1.0)" or "(Name/1.0)" and nothing else.
func compatibleOnly(s []byte) bool {
	if len(s) < 2 || s[0] != '(' || s[len(s)-1] != ')' {
		return false
	}
	in := s[1 : len(s)-1]
	in = bytes.TrimPrefix(in, []byte("compatible;"))
	in = bytes.TrimPrefix(in, []byte(" "))
	if len(in) == 0 {
		return true
	}
	slash := bytes.IndexByte(in, '/')
	if slash <= 0 || !allBytes(in[:slash], func(c byte) bool { return isWord(c) || c == '-' || c == '.' }) {
		return false
	}
	v := in[slash+1:]
	dot := bytes.IndexByte(v, '.')
	return dot > 0 && dot < len(v)-1 && allBytes(v[:dot], isDigit) && allBytes(v[dot+1:], isDigit)
}

// hasEmail: '@', a letter, word characters or '-', then '.'.
func hasEmail(s []byte) bool {
	for i := bytes.IndexByte(s, '@'); i >= 0 && i+1 < len(s); {
		j := i + 1
		if isLetter(s[j]) {
			for j < len(s) && (isWord(s[j]) || s[j] == '-') {
				j++
			}
			if j < len(s) && j > i+2 && s[j] == '.' {
				return true
			}
		}
		k := bytes.IndexByte(s[i+1:], '@')
		if k < 0 {
			break
		}
		i += 1 + k
	}
	return false
}
