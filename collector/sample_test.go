package collector

import "testing"

func TestMaskLineShowsShapeOnly(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`203.0.113.9 - - [02/Nov/2026:00:03:37 +0000] "GET /cart?id=42 HTTP/1.1" 200 5 "-" "curl/8.4"`,
			`9.9.9.9 - - [9/a/9:9:9:9 +9] "a /a?a=9 a/9.9" 9 9 "-" "a/9.9"`},
		{"2001:db8::beef \x00\xff", "9:a9::a ??"},
		{"", ""},
	} {
		if got := maskLine([]byte(tc.in), 200); got != tc.want {
			t.Errorf("MaskLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := maskLine([]byte("abcdef"), 3); got != "a" {
		t.Errorf("MaskLine cut = %q", got)
	}
}
