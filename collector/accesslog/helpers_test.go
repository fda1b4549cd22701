package accesslog

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// view is a Request with strings, so table tests read and diff well.
type view struct {
	Time         string // RFC 3339 with nanoseconds, UTC
	RemoteAddr   string
	ClientIP     string
	ForwardedFor string
	Method       string
	URI          string
	Status       int
	Referer      string
	UserAgent    string
	Host         string
	NoUserAgent  bool `json:",omitempty"`
}

func viewOf(r *Request) view {
	return view{
		Time:         r.Time.Format(time.RFC3339Nano),
		RemoteAddr:   string(r.RemoteAddr),
		ClientIP:     string(r.ClientIP),
		ForwardedFor: string(r.ForwardedFor),
		Method:       string(r.Method),
		URI:          string(r.URI),
		Status:       r.Status,
		Referer:      string(r.Referer),
		UserAgent:    string(r.UserAgent),
		Host:         string(r.Host),
		NoUserAgent:  r.NoUserAgent,
	}
}

// parseCase is one line and what parsing it must give: want, or reason.
type parseCase struct {
	name   string
	line   string
	want   view
	reason Reason
}

func mustNew(t interface {
	Helper()
	Fatalf(string, ...any)
}, format string) Parser {
	t.Helper()
	p, err := New(format)
	if err != nil {
		t.Fatalf("New(%q): %v", format, err)
	}
	return p
}

// runCases parses each case's line with a new Parser for format.
func runCases(t *testing.T, format string, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := mustNew(t, format)
			var r Request
			err := p.Parse([]byte(tc.line), &r)
			if tc.reason != "" {
				if got := ReasonOf(err); got != tc.reason {
					t.Fatalf("Parse(%q) = %v (reason %q), want reason %q", tc.line, err, got, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.line, err)
			}
			if diff := cmp.Diff(tc.want, viewOf(&r)); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tc.line, diff)
			}
		})
	}
}
