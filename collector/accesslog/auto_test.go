package accesslog

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAuto(t *testing.T) {
	nginx := view{Time: ts0, RemoteAddr: "203.0.113.7", Method: "GET", URI: "/", Status: 200, UserAgent: ua}
	runCases(t, "auto", []parseCase{
		{name: "combined", line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "200"), want: nginx},
		{name: "main",
			line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "200") + ` "198.51.100.1"`,
			want: view{Time: ts0, RemoteAddr: "203.0.113.7", ForwardedFor: "198.51.100.1", Method: "GET", URI: "/", Status: 200, UserAgent: ua}},
		{name: "main without forwarded for",
			line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "200") + ` "-"`,
			want: nginx},
		{name: "main with empty forwarded for",
			line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "200") + ` ""`,
			want: nginx},
		{name: "main with escaped quote",
			line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "200") + ` "a\"b\\"`,
			want: view{Time: ts0, RemoteAddr: "203.0.113.7", ForwardedFor: `a\"b\\`, Method: "GET", URI: "/", Status: 200, UserAgent: ua}},
		{name: "main with raw quote", line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "200") + ` "a"b"`, reason: ReasonSyntax},
		{name: "main ending in escaped quote", line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "200") + ` "a\"`, reason: ReasonSyntax},
		{name: "caddy",
			line: `{"ts":1793579376.421,"status":200,"request":{"client_ip":"198.51.100.1","method":"GET","uri":"/"}}`,
			want: view{Time: caddyTS, ClientIP: "198.51.100.1", Method: "GET", URI: "/", Status: 200}},
		{name: "caddy invalid", line: `{"ts":1793579376.421,"status":200`, reason: ReasonJSON},
		{name: "three trailing fields", line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "200") + ` "a" "b" "c"`, reason: ReasonSyntax},
		{name: "unquoted trailing field", line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "200") + ` 0.001`, reason: ReasonSyntax},
		{name: "unterminated trailing field", line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "200") + ` "a`, reason: ReasonSyntax},
		{name: "garbage", line: "GET / HTTP/1.1", reason: ReasonSyntax},
		{name: "bad time", line: combinedLine("31/Feb/2026:00:03:37 +0000", "GET / HTTP/1.1", "200"), reason: ReasonTime},
		{name: "bad status", line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "999"), reason: ReasonStatus},
		{name: "bad request", line: combinedLine("02/Nov/2026:00:03:37 +0000", `\x16\x03\x01`, "400"), reason: ReasonRequest},
		{name: "empty", line: "", reason: ReasonEmpty},
		{name: "binary", line: "\x00\x01", reason: ReasonBinary},
	})
}

// TestAutoMixed feeds one parser a file that mixes formats, line by line.
func TestAutoMixed(t *testing.T) {
	lines := []string{
		combinedLine("02/Nov/2026:00:03:37 +0000", "GET /a HTTP/1.1", "200"),
		`{"ts":1793579376.421,"status":404,"request":{"method":"GET","uri":"/b"}}`,
		combinedLine("02/Nov/2026:00:03:37 +0000", "GET /c HTTP/1.1", "301") + ` "198.51.100.1"`,
		`{"ts":`,
		combinedLine("02/Nov/2026:00:03:37 +0000", "GET /d HTTP/1.1", "200"),
	}
	type result struct {
		URI    string
		Status int
		XFF    string
		Reason Reason
	}
	want := []result{
		{URI: "/a", Status: 200},
		{URI: "/b", Status: 404},
		{URI: "/c", Status: 301, XFF: "198.51.100.1"},
		{Reason: ReasonJSON},
		{URI: "/d", Status: 200},
	}
	p := mustNew(t, "auto")
	var got []result
	for _, l := range lines {
		var r Request
		if err := p.Parse([]byte(l), &r); err != nil {
			got = append(got, result{Reason: ReasonOf(err)})
			continue
		}
		got = append(got, result{URI: string(r.URI), Status: r.Status, XFF: string(r.ForwardedFor)})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mixed file (-want +got):\n%s", diff)
	}
}
