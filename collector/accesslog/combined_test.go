package accesslog

import (
	"bytes"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/session-exporter/session-exporter/collector/loggen"
)

// matchCombined must split every line exactly as the loop over the plan's
// segments does: the same verdict, the same end and, for a line that
// matches, the same spans. These tests hold the two side by side on the
// testdata logs, generated traffic, every one-byte edit of a few lines and
// fuzzed input.

// combinedPlans are the plans that start with the combined layout.
func combinedPlans(t testing.TB) map[string]*plan {
	plans := map[string]*plan{}
	for _, p := range nginxPresets {
		if np := newPreset(p); np.plan.combined {
			plans[p.name] = np.plan
		}
	}
	for _, f := range []string{combinedCustom, combinedCustom + ` "$host"`} {
		pl, err := compile(f)
		if err != nil {
			t.Fatalf("compile(%q): %v", f, err)
		}
		plans[f] = pl
	}
	return plans
}

// combinedCustom is combined written with other variables where the values
// are not kept, and so laid out like it.
const combinedCustom = `$remote_addr - $remote_ident [$time_local] "$request" $status $bytes_sent "$http_referer" "$http_user_agent"`

func TestStartsCombined(t *testing.T) {
	for _, tc := range []struct {
		format string
		want   bool
	}{
		{"combined", true}, {"main", true}, {"sessions", true}, {"traefik", true}, {"ingress-nginx", true},
		{"common", false}, {"vhost_combined", false}, {customFormat, false},
		{combinedCustom, true},
		// The referrer is the last segment: nothing to match after it.
		{`$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer"`, false},
		// A literal before $remote_addr, or one literal changed.
		{"> " + CombinedFormat, false},
		{`$remote_addr - $remote_user [$time_local] "$request" $status  $body_bytes_sent "$http_referer" "$http_user_agent"`, false},
		{`$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '$http_referer' "$http_user_agent"`, false},
		// A kept value where combined has one that is not.
		{`$remote_addr - $host [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`, false},
		{`$remote_addr - $remote_user [$time_iso8601] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`, false},
	} {
		p := mustNew(t, tc.format).(*nginxParser)
		if p.plan.combined != tc.want {
			t.Errorf("%q: combined = %v, want %v", tc.format, p.plan.combined, tc.want)
		}
	}
}

// compareMatch matches line with pl both ways and reports a difference.
func compareMatch(t *testing.T, name string, pl *plan, line []byte) {
	t.Helper()
	m, _ := slowMask(line)
	var fast, slow values
	fpos, fok := pl.match(line, m, &fast)
	spos, sok := pl.matchGeneric(line, &slow)
	if fok != sok || fpos != spos {
		t.Fatalf("%s: %q: matchCombined gives (%d, %v), the loop (%d, %v)", name, line, fpos, fok, spos, sok)
	}
	if fok && fast != slow {
		t.Fatalf("%s: %q: matchCombined gives spans %v, the loop %v", name, line, fast, slow)
	}
	// Given a last time stamp (a valid one, as parseCombined gives), the
	// same verdict and spans, and c.last exactly when the stamp is the
	// line's.
	var want combinedSpans
	wpos, wok := matchCombined(line, nil, m, &want)
	for _, stamp := range lastStamps(line) {
		var c combinedSpans
		pos, ok := matchCombined(line, &stamp, m, &c)
		same := c.timeEnd-c.time == 26 && string(line[c.time:c.timeEnd]) == string(stamp[:])
		if ok && c.last != same {
			t.Fatalf("%q with last stamp %q: c.last = %v", line, stamp, c.last)
		}
		c.last = false
		if pos != wpos || ok != wok || (ok && c != want) {
			t.Fatalf("%q with last stamp %q: (%d, %v, %+v), without (%d, %v, %+v)", line, stamp, pos, ok, c, wpos, wok, want)
		}
	}
}

// lastStamps returns valid time stamps to give matchCombined as the last:
// a fixed one, and the one in line's brackets if it is valid.
func lastStamps(line []byte) [][26]byte {
	var out [][26]byte
	var s [26]byte
	copy(s[:], "02/Nov/2026:00:03:37 +0000")
	out = append(out, s)
	if i := bytes.IndexByte(line, '['); i >= 0 && len(line) >= i+27 {
		if _, ok := parseTimeLocal(line[i+1 : i+27]); ok {
			copy(s[:], line[i+1:i+27])
			out = append(out, s)
		}
	}
	return out
}

// edits returns line with each byte deleted, each byte replaced by each of
// the bytes the combined layout turns on, and each prefix.
func edits(line []byte) [][]byte {
	var out [][]byte
	for i := range line {
		out = append(out, append(bytes.Clone(line[:i]), line[i+1:]...), line[:i])
		for _, c := range []byte(` "\[]-x`) {
			l := bytes.Clone(line)
			l[i] = c
			out = append(out, l)
		}
	}
	return out
}

func TestMatchCombined(t *testing.T) {
	var lines [][]byte
	for _, fx := range fixtures {
		lines = append(lines, readLines(t, filepath.Join("testdata", fx.file))...)
	}
	for _, name := range []string{"combined", "sessions", "traefik", "ingress-nginx"} {
		g := loggen.New(loggen.Options{Seed: 3, Format: loggen.FormatNames[name]})
		for range 2000 {
			lines = append(lines, g.Next(nil))
		}
	}
	for _, l := range [][]byte{goodCombined, goodMain, goodTraefik, goodIngress,
		[]byte(`a - b [c] "d\" \\" e f "g\\\" h" "i"`), []byte(`- - - [] "" - - "" "" "" ""`)} {
		lines = append(lines, edits(l)...)
	}
	lines = append(lines, maskBoundaryLines()...)
	matched := 0
	for name, pl := range combinedPlans(t) {
		for _, l := range lines {
			compareMatch(t, name, pl, l)
			var v values
			m, _ := slowMask(l)
			if _, ok := pl.match(l, m, &v); ok {
				matched++
			}
		}
	}
	if matched < len(lines) { // each preset's own lines match, at least
		t.Fatalf("only %d matches in %d lines and plans: the comparison saw too few", matched, len(lines))
	}
}

// FuzzMatchCombined compares matchCombined with the loop on arbitrary lines.
func FuzzMatchCombined(f *testing.F) {
	for _, fx := range fixtures {
		for _, l := range readLines(f, filepath.Join("testdata", fx.file)) {
			f.Add(l)
		}
	}
	f.Add(goodMain)
	f.Add([]byte(`a - b [c] "d\" \\" e f "g\\\" h" "i"`))
	f.Fuzz(func(t *testing.T, line []byte) {
		for name, pl := range combinedPlans(t) {
			compareMatch(t, name, pl, line)
		}
	})
}

// generalParser returns a parser for format that takes the general path:
// no parseCombined, and the plan matched by the loop alone.
func generalParser(t testing.TB, format string) *nginxParser {
	p := mustNew(t, format).(*nginxParser)
	pl := *p.plan
	pl.combined = false
	p.plan, p.oneFunc = &pl, false
	return p
}

// compareParseCombined parses lines in turn with the parseCombined parser
// for format and with the general one (each carrying its time caches from
// line to line) and reports the first difference.
func compareParseCombined(t *testing.T, format string, lines [][]byte) {
	t.Helper()
	fast, slow := mustNew(t, format).(*nginxParser), generalParser(t, format)
	if !fast.oneFunc {
		t.Fatalf("%q is not parsed by parseCombined", format)
	}
	for _, l := range lines {
		if got, want := parseOutcome(fast, l), parseOutcome(slow, l); got != want {
			t.Fatalf("%q: %q: parseCombined gives %+v, the general path %+v", format, l, got, want)
		}
	}
}

func TestParseCombined(t *testing.T) {
	var lines [][]byte
	for _, fx := range fixtures {
		lines = append(lines, readLines(t, filepath.Join("testdata", fx.file))...)
	}
	for _, name := range []string{"combined", "sessions"} {
		g := loggen.New(loggen.Options{Seed: 4, Format: loggen.FormatNames[name]})
		for range 3000 {
			lines = append(lines, g.Next(nil))
		}
	}
	for _, l := range lines[:100] {
		lines = append(lines, timeVariants(l)...)
	}
	for _, l := range [][]byte{goodCombined, goodMain, append(bytes.Clone(goodMain), ` "example.com"`...),
		[]byte(`a - b [c] "d\" \\" e f "g\\\" h" "i"`), []byte(`a - b [c] "d" e f "g" "h\"" "i\\" "j"`),
		[]byte(combinedLine("02/Nov/2026:00:03:37 +0000", "CONNECT example.com:443 HTTP/1.1", "200")),
		[]byte(combinedLine("02/Nov/2026:00:03:37 +0000", "CONNECT /a:443 HTTP/1.1", "200")),
		[]byte(combinedLine("02/Nov/2026:00:03:37 +0000", "CONNEC /a HTTP/1.1", "200")),
		[]byte(combinedLine("02/Nov/2026:00:03:37 +0000", "GET /a b HTTP/1.1", "200")),
		[]byte(combinedLine("02/Nov/2026:00:03:37 +0000", "GET /a HTTP/1.1 ", "200")),
		[]byte(combinedLine("02/Nov/2026:00:03:37 +0000", "GET /a  HTTP/ 1.1", "200")),
		[]byte(combinedLine("02/Nov/2026:00:03:37 +0000", "GET /a HTTP/1 1", "200")),
		[]byte(combinedLine("02/Nov/2026:00:03:37 +0000", "GET HTTP/1.1", "200")),
		[]byte(combinedLine("02/Nov/2026:00:03:37 +0000", " HTTP/1.1", "200")),
	} {
		lines = append(lines, l)
		lines = append(lines, edits(l)...)
	}
	lines = append(lines, maskBoundaryLines()...)
	for _, format := range parseCombinedFormats {
		compareParseCombined(t, format, lines)
	}
}

// maskBoundaryLines are combined and main lines whose quotes, escaped
// quotes and backslashes fall on every side of the quote mask's 64-byte
// words and the scans' 16- and 32-byte steps, long lines of several
// words, and lines of 15 to 17 bytes, where the vector scan starts.
func maskBoundaryLines() [][]byte {
	var out [][]byte
	for pad := 0; pad < 140; pad++ {
		p := strings.Repeat("a", pad)
		out = append(out,
			[]byte(`203.0.113.7 - - [02/Nov/2026:00:03:37 +0000] "GET /`+p+` HTTP/1.1" 200 512 "-" "ua"`),
			[]byte(`203.0.113.7 - - [02/Nov/2026:00:03:37 +0000] "GET /`+p+`\" HTTP/1.1" 200 512 "r\"`+p+`" "u\\"`),
			[]byte(`203.0.113.7 - - [02/Nov/2026:00:03:37 +0000] "GET /x HTTP/1.1" 200 512 "https://`+p+`" "`+p+`\"" "-"`),
			[]byte(`203.0.113.7 - - [02/Nov/2026:00:03:37 +0000] "GET /x HTTP/1.1" 200 512 "-" "`+p+`"`+p))
	}
	long := strings.Repeat("/segment", 700)
	out = append(out,
		[]byte(combinedLine("02/Nov/2026:00:03:37 +0000", "GET "+long+" HTTP/1.1", "200")),
		[]byte(combinedLine("02/Nov/2026:00:03:37 +0000", "GET "+long+"\\\" HTTP/1.1", "200")),
		[]byte(`a - b [c] "d`+long+`" e f "g" "`+long+`" "x"`))
	for n := 0; n < 24; n++ {
		out = append(out, []byte(`- - - [] "" - - "" ""` + strings.Repeat(`"`, n))[:n])
		out = append(out, bytes.Repeat([]byte{' '}, n), append(bytes.Repeat([]byte{' '}, n), '\r'))
	}
	return out
}

// parseCombinedFormats are formats parsed by parseCombined.
var parseCombinedFormats = []string{"combined", "main", "sessions", CombinedFormat, combinedCustom,
	combinedCustom + ` "$host"`, combinedCustom + ` "$host" "$http_x_forwarded_for"`,
	combinedCustom + ` "$request_id" "$http_x_forwarded_for" "$host"`}

func TestParseCombinedChosen(t *testing.T) {
	for _, format := range []string{"traefik", "ingress-nginx", "common", "vhost_combined", customFormat,
		combinedCustom + ` "$request_uri"`, combinedCustom + ` $host`, combinedCustom + ` "$host"x`,
		`$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$host"`} {
		if p := mustNew(t, format).(*nginxParser); p.oneFunc {
			t.Errorf("%q is parsed by parseCombined", format)
		}
	}
	for _, format := range parseCombinedFormats {
		if p := mustNew(t, format).(*nginxParser); !p.oneFunc {
			t.Errorf("%q is not parsed by parseCombined", format)
		}
	}
}

// FuzzParseCombined compares parseCombined with the general path on two
// arbitrary lines and the time variants of the first, in turn.
func FuzzParseCombined(f *testing.F) {
	lines := readLines(f, filepath.Join("testdata", "combined.log"))
	for i := 0; i+1 < len(lines); i += 3 {
		f.Add(lines[i], lines[i+1])
	}
	f.Add(goodCombined, []byte(`a - b [c] "d\" \\" e f "g\\\" h" "i"`))
	f.Add(goodMain, append(bytes.Clone(goodMain), ` "example.com"`...))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		lines := append([][]byte{a, b, a}, timeVariants(a)...)
		for _, format := range parseCombinedFormats {
			compareParseCombined(t, format, append(lines, b))
		}
	})
}

// TestEveryFieldWritten: parseCombined and finish write the Request field
// by field, so each must write every field. A Request with every field set
// (by reflection, so a field added later is set too) must come out of Parse
// as a zero one does.
func TestEveryFieldWritten(t *testing.T) {
	line := []byte(`- - - [02/Nov/2026:00:03:38 +0000] "HEAD / HTTP/1.1" 204 0 "-" "-"`)
	for _, format := range []string{"combined", "main", "common", "vhost_combined", "auto", combinedCustom,
		`[$time_local] $status $uri?$args "$request_method"`} {
		l := line
		switch format {
		case "main":
			l = append(bytes.Clone(line), ` "-"`...)
		case "common":
			l = line[:bytes.LastIndex(line, []byte(` "-" "-"`))]
		case "vhost_combined":
			l = append([]byte("-:443 "), line...)
		case `[$time_local] $status $uri?$args "$request_method"`:
			l = []byte(`[02/Nov/2026:00:03:38 +0000] 204 /?- "HEAD"`)
		}
		var want Request
		if err := mustNew(t, format).Parse(l, &want); err != nil {
			t.Fatalf("%q: Parse(%q): %v", format, l, err)
		}
		var got Request
		rv := reflect.ValueOf(&got).Elem()
		for i := range rv.NumField() {
			switch f := rv.Field(i); f.Kind() {
			case reflect.Slice:
				f.SetBytes([]byte("stale"))
			case reflect.Int:
				f.SetInt(599)
			case reflect.Bool:
				f.SetBool(!f.Bool())
			case reflect.Struct:
				f.Set(reflect.ValueOf(time.Unix(1, 0)))
			default:
				t.Fatalf("Request field %s of kind %s: teach this test to set it", rv.Type().Field(i).Name, f.Kind())
			}
		}
		if err := mustNew(t, format).Parse(l, &got); err != nil {
			t.Fatalf("%q: Parse(%q): %v", format, l, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%q: a used Request parses differently (-fresh +used):\n%s", format, diff)
		}
	}
}
