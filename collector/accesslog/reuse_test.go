package accesslog

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestNoCarryOver parses, with one Parser and one Request, a line rich in
// fields, then a rejected line for every reason, each followed by a sparse
// line: nothing of an earlier line may show in a later result.
func TestNoCarryOver(t *testing.T) {
	for _, tc := range []struct {
		format       string
		rich, sparse string
		bad          []string
	}{
		{format: "main",
			rich:   combinedLine("02/Nov/2026:00:03:37 +0000", "GET /rich?x=1 HTTP/1.1", "200") + ` "198.51.100.1"`,
			sparse: `- - - [02/Nov/2026:00:03:38 +0000] "HEAD / HTTP/1.1" 204 0 "-" "-" "-"`,
			bad: []string{"", "\x00", "nope",
				combinedLine("31/Feb/2026:00:03:37 +0000", "GET / HTTP/1.1", "200") + ` "-"`,
				combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "700") + ` "-"`,
				combinedLine("02/Nov/2026:00:03:37 +0000", `\x16\x03`, "400") + ` "-"`}},
		{format: `$host $server_name [$time_local] $request_method $uri "$args" $status "$http_user_agent"`,
			rich:   `www.example.com example.com [02/Nov/2026:00:03:37 +0000] GET /search "q=long+query+text" 200 "UA"`,
			sparse: `- - [02/Nov/2026:00:03:38 +0000] GET /s "-" 200 "-"`,
			bad: []string{"", "\xff", "x",
				`- - [02/Nov/2026:00:03:38 +0000] get /s "-" 200 "-"`,
				`- - [02/Nov/2026:00:03:38 +0000] GET /s "a" 2000 "-"`}},
		{format: "caddy",
			rich:   `{"ts":1793579376.421,"status":200,"request":{"remote_ip":"10.0.0.1","client_ip":"198.51.100.1","method":"GET","host":"example.com","uri":"/\u0061?b=c","headers":{"User-Agent":["U\u0041"],"Referer":["https:\/\/r.example\/"],"X-Forwarded-For":["1.2.3.4"]}}}`,
			sparse: `{"ts":1793579377,"status":204,"request":{"method":"HEAD","uri":"/"}}`,
			bad: []string{"", "\x00", "{",
				`{"ts":"x","status":200,"request":{"method":"GET","uri":"/"}}`,
				`{"ts":1793579377,"status":1,"request":{"method":"GET","uri":"/"}}`,
				`{"ts":1793579377,"status":200,"request":{"method":"GET","uri":"\u0061"}}`}},
		{format: "auto",
			rich:   `{"ts":1793579376.421,"status":200,"request":{"remote_ip":"10.0.0.1","client_ip":"198.51.100.1","method":"GET","host":"example.com","uri":"/\u0061?b=c","headers":{"User-Agent":["U\u0041"],"X-Forwarded-For":["1.2.3.4"]}}}`,
			sparse: `- - - [02/Nov/2026:00:03:38 +0000] "HEAD / HTTP/1.1" 204 0 "-" "-"`,
			bad:    []string{"", "\x00", "nope", "{", combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "200") + ` "a" "b" "c"`}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			want := parseOutcome(mustNew(t, tc.format), []byte(tc.sparse))
			if want.Reason != "" {
				t.Fatalf("sparse line rejected: %s", want.Reason)
			}
			p := mustNew(t, tc.format)
			var r Request
			if err := p.Parse([]byte(tc.rich), &r); err != nil {
				t.Fatalf("rich line: %v", err)
			}
			for _, bad := range append([]string{""}, tc.bad...) {
				if bad != "" {
					if err := p.Parse([]byte(bad), &r); err == nil {
						t.Fatalf("Parse(%q) succeeded, want rejected", bad)
					}
				}
				if err := p.Parse([]byte(tc.sparse), &r); err != nil {
					t.Fatalf("sparse line after %q: %v", bad, err)
				}
				if diff := cmp.Diff(want.View, viewOf(&r)); diff != "" {
					t.Errorf("sparse line after %q (-want +got):\n%s", bad, diff)
				}
				if err := p.Parse([]byte(tc.rich), &r); err != nil {
					t.Fatalf("rich line: %v", err)
				}
			}
		})
	}
}

// TestZeroAllocs guards the zero-allocations-per-line promise for every
// format, accepted and rejected lines alike.
func TestZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	rejects := [][]byte{
		[]byte(""), []byte("\x00"), []byte("garbage"), []byte("{"),
		[]byte(combinedLine("31/Feb/2026:00:03:37 +0000", "GET / HTTP/1.1", "200")),
		[]byte(combinedLine("02/Nov/2026:00:03:37 +0000", `\x16\x03`, "400")),
		[]byte(`{"ts":1793579376.421,"status":"x"}`),
	}
	for _, fx := range fixtures {
		t.Run(fx.file, func(t *testing.T) {
			p := mustNew(t, fx.format)
			var lines [][]byte
			for _, l := range readLines(t, filepath.Join("testdata", fx.file)) {
				if l[0] != '#' { // header lines lay out columns, once per file
					lines = append(lines, l)
				}
			}
			lines = append(lines, rejects...)
			var r Request
			for _, l := range lines { // grow scratch buffers once
				_ = p.Parse(l, &r)
			}
			allocs := testing.AllocsPerRun(20, func() {
				for _, l := range lines {
					_ = p.Parse(l, &r)
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per pass over %d lines, want 0", allocs, len(lines))
			}
		})
	}
}

func TestReasonOf(t *testing.T) {
	var nilErr *Error
	for _, tc := range []struct {
		err  error
		want Reason
	}{
		{nil, ""},
		{errTime, ReasonTime},
		{nilErr, ""},
		{&wrapped{errStatus}, ReasonStatus},
		{&wrapped{nil}, ""},
	} {
		if got := ReasonOf(tc.err); got != tc.want {
			t.Errorf("ReasonOf(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	if got := errJSON.Error(); got != "access log line rejected: bad_json" {
		t.Errorf("Error() = %q", got)
	}
}

type wrapped struct{ err error }

func (w *wrapped) Error() string { return "wrapped" }
func (w *wrapped) Unwrap() error { return w.err }
