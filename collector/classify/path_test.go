package classify

import (
	"regexp"
	"testing"
)

var pathPatterns = []struct {
	expr    string
	literal bool // matched without the regular expression
}{
	{`^/checkout/thank-you`, true},
	{`^/signup/done$`, true},
	{`^/(healthz|api/)`, true},
	{`^/[ab]c`, true},
	{`^/[^a]`, false},
	{`^/[a-z]`, false},
	{`^/(pricing|plans)(/|$)`, false},
	{`^/docs/(a|b)/(x|y)`, true},
	{`^/(?:shop|store)/cart$`, true},
	{`/checkout`, true},
	{`^`, true},
	{`^$`, true},
	{`^/$`, true},
	{`(?i)^/checkout`, false},
	{`^/Checkout`, true},
	{`^/(?i:A)b`, false},
	{`^/blog/.*`, false},
	{`^/blog/[0-9]+$`, false},
	{`^/caf\x{e9}`, false},
	{`thank-you$`, false},
	{`a|b`, false},
	{`^/a(b|)`, true},
	{`^/a\.b`, true},
	{`(?m)^/a`, false},
	{`^/a\z`, true},
	{`^/(a|b|c|d)(e|f|g|h)(i|j|k|l)(m|n|o|p)`, false}, // 256 literals: too many
}

var pathSamples = []string{
	"", "/", "/checkout", "/checkout/thank-you", "/checkout/thank-you/", "/checkout/thank-yo",
	"/Checkout/thank-you", "/x/checkout/thank-you", "/signup/done", "/signup/done/", "/signup/don",
	"/healthz", "/healthzz", "/api/", "/api", "/api/cart", "/pricing", "/pricing/", "/plans/x", "/plansx",
	"/docs/a/x", "/docs/b/y/z", "/docs/c/x", "/shop/cart", "/store/cart", "/store/cart/", "/a", "/ab",
	"/a.b", "/axb", "/café", "/caf\xe9", "/blog/12", "/blog/", "thank-you", "/thank-you", "a", "b",
	"/a\n", "x\n/a", "/a/cek", "/adfjm", "/bfkp", "/ac", "/bc", "/cc", "/b",
}

func TestPathMatcherAgreesWithRegexp(t *testing.T) {
	for _, p := range pathPatterns {
		re := regexp.MustCompile(p.expr)
		m := newPathMatcher(re)
		if m.literal != p.literal {
			t.Errorf("%q: literal = %v, want %v", p.expr, m.literal, p.literal)
		}
		for _, s := range pathSamples {
			if got, want := m.match([]byte(s)), re.Match([]byte(s)); got != want {
				t.Errorf("%q on %q: %v, regexp says %v", p.expr, s, got, want)
			}
		}
	}
}

func FuzzPathMatcher(f *testing.F) {
	for _, p := range pathPatterns {
		for _, s := range pathSamples[:8] {
			f.Add(p.expr, s)
		}
	}
	f.Fuzz(func(t *testing.T, expr, path string) {
		re, err := regexp.Compile(expr)
		if err != nil {
			return
		}
		m := newPathMatcher(re)
		if got, want := m.match([]byte(path)), re.Match([]byte(path)); got != want {
			t.Fatalf("%q on %q: %v, regexp says %v (literals %q)", expr, path, got, want, m.lits)
		}
	})
}
