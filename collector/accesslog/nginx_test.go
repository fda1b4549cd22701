package accesslog

import (
	"strings"
	"testing"
)

const (
	ua  = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
	ts0 = "2026-11-02T00:03:37Z"
)

// combinedLine builds a combined line from its varying parts.
func combinedLine(timeLocal, request, status string) string {
	return `203.0.113.7 - - [` + timeLocal + `] "` + request + `" ` + status + ` 512 "-" "` + ua + `"`
}

func TestNewNames(t *testing.T) {
	for _, tc := range []struct{ format, name string }{
		{"combined", "combined"},
		{"main", "main"},
		{"caddy", "caddy"},
		{"auto", "auto"},
		{CombinedFormat, "combined"},
		{MainFormat, "main"},
		{`$remote_addr [$time_local] "$request" $status`, "custom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustNew(t, tc.format).Name(); got != tc.name {
				t.Errorf("New(%q).Name() = %q, want %q", tc.format, got, tc.name)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct{ name, format, want string }{
		{"typo", "combnied",
			`unknown log format "combnied" (want combined, main, sessions, common, vhost_combined, traefik, ingress-nginx, caddy, cloudfront, auto or an nginx log_format string)`},
		{"empty", "",
			`unknown log format "" (want combined, main, sessions, common, vhost_combined, traefik, ingress-nginx, caddy, cloudfront, auto or an nginx log_format string)`},
		{"no time", `$remote_addr "$request" $status`,
			`nginx log_format "$remote_addr \"$request\" $status": no time variable: want $time_local, $time_iso8601 or $msec`},
		{"no status", `[$time_local] "$request"`,
			`nginx log_format "[$time_local] \"$request\"": no $status variable`},
		{"misspelt status", `[$time_local] "$request" $stauts`,
			`nginx log_format "[$time_local] \"$request\" $stauts": no $status variable`},
		{"no request", `[$time_local] $status`,
			`nginx log_format "[$time_local] $status": no request variable: want $request, or $request_method with $request_uri or $uri`},
		{"method without uri", `[$time_local] $request_method $status`,
			`nginx log_format "[$time_local] $request_method $status": has $request_method but no $request_uri or $uri`},
		{"uri without method", `[$time_local] $request_uri $status`,
			`nginx log_format "[$time_local] $request_uri $status": has $request_uri or $uri but no $request_method`},
		{"adjacent variables", `[$time_local] "$request" $status$body_bytes_sent`,
			`nginx log_format "[$time_local] \"$request\" $status$body_bytes_sent": $status is followed directly by $body_bytes_sent: put a separator between them`},
		{"lone dollar", `[$time_local] "$request" $status $`,
			`nginx log_format "[$time_local] \"$request\" $status $": invalid variable name at byte 33`},
		{"unclosed brace", `[$time_local] "$request" ${status`,
			`nginx log_format "[$time_local] \"$request\" ${status": invalid variable name at byte 25`},
		{"empty braces", `[$time_local] "$request" ${} $status`,
			`nginx log_format "[$time_local] \"$request\" ${} $status": invalid variable name at byte 25`},
		{"nginx.conf quoting", `'$remote_addr [$time_local] ' '"$request" $status'`,
			`nginx log_format "'$remote_addr [$time_local] ' '\"$request\" $status'": starts with a quote: give the text nginx writes, without nginx.conf's quoting`},
		{"line break", "[$time_local]\n\"$request\" $status",
			`nginx log_format "[$time_local]\n\"$request\" $status": contains a line break`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.format)
			if err == nil {
				t.Fatalf("New(%q) = %s parser, want error", tc.format, p.Name())
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("New(%q) error\n got: %s\nwant: %s", tc.format, got, tc.want)
			}
		})
	}
}

func TestCompilePlan(t *testing.T) {
	pl, err := compile(MainFormat)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	got = append(got, "lit "+string(pl.prefix))
	for _, s := range pl.segs {
		got = append(got, "var "+s.name, "lit "+string(s.lit))
	}
	want := []string{
		"lit ",
		"var remote_addr", "lit  - ",
		"var remote_user", "lit  [",
		"var time_local", `lit ] "`,
		"var request", `lit " `,
		"var status", "lit  ",
		"var body_bytes_sent", `lit  "`,
		"var http_referer", `lit " "`,
		"var http_user_agent", `lit " "`,
		"var http_x_forwarded_for", `lit "`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("plan of MainFormat:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCombined(t *testing.T) {
	runCases(t, "combined", []parseCase{
		{name: "sample",
			line: `203.226.161.117 - - [02/Nov/2026:00:03:37 +0000] "GET /docs/getting-started HTTP/1.1" 200 69504 "https://www.reddit.com/r/webdev/" "` + ua + `"`,
			want: view{Time: ts0, RemoteAddr: "203.226.161.117", Method: "GET", URI: "/docs/getting-started",
				Status: 200, Referer: "https://www.reddit.com/r/webdev/", UserAgent: ua}},
		{name: "dashes are empty",
			line: `- - - [02/Nov/2026:00:03:37 +0000] "GET / HTTP/1.1" 304 0 "-" "-"`,
			want: view{Time: ts0, Method: "GET", URI: "/", Status: 304}},
		{name: "remote user and query",
			line: `2001:db8::1 - alice [02/Nov/2026:00:03:37 +0000] "POST /api/v1/items?utm_source=x&b=%20 HTTP/2.0" 201 17 "https://example.com/a?b" "` + ua + `"`,
			want: view{Time: ts0, RemoteAddr: "2001:db8::1", Method: "POST", URI: "/api/v1/items?utm_source=x&b=%20",
				Status: 201, Referer: "https://example.com/a?b", UserAgent: ua}},
		{name: "escaped quote and backslash stay escaped",
			line: `203.0.113.7 - - [02/Nov/2026:00:03:37 +0000] "GET /q?x=\x22a\x22 HTTP/1.1" 200 5 "https://e.com/\x22" "say \x22hi\x22 \x5C \xD0\x9F"`,
			want: view{Time: ts0, RemoteAddr: "203.0.113.7", Method: "GET", URI: `/q?x=\x22a\x22`,
				Status: 200, Referer: `https://e.com/\x22`, UserAgent: `say \x22hi\x22 \x5C \xD0\x9F`}},
		{name: "backslash-escaped quotes (escape=json, Apache)",
			line: `203.0.113.7 - - [02/Nov/2026:00:03:37 +0000] "GET /\"x\" HTTP/1.1" 200 5 "a\\" "say \"hi\" \\\""`,
			want: view{Time: ts0, RemoteAddr: "203.0.113.7", Method: "GET", URI: `/\"x\"`, Status: 200,
				Referer: `a\\`, UserAgent: `say \"hi\" \\\"`}},
		{name: "raw quote inside a value",
			line:   `203.0.113.7 - - [02/Nov/2026:00:03:37 +0000] "GET / HTTP/1.1" 200 5 "-" "say "hi" there"`,
			reason: ReasonSyntax},
		{name: "unicode in user agent",
			line: `203.0.113.7 - - [02/Nov/2026:00:03:37 +0000] "GET /é HTTP/1.1" 200 5 "-" "Bot [x] ] ünï"`,
			want: view{Time: ts0, RemoteAddr: "203.0.113.7", Method: "GET", URI: "/é", Status: 200, UserAgent: "Bot [x] ] ünï"}},
		{name: "zone +0530",
			line: combinedLine("02/Nov/2026:05:33:37 +0530", "GET / HTTP/1.1", "200"),
			want: view{Time: ts0, RemoteAddr: "203.0.113.7", Method: "GET", URI: "/", Status: 200, UserAgent: ua}},
		{name: "zone -0800 across a year",
			line: combinedLine("31/Dec/2026:23:30:00 -0800", "GET / HTTP/1.1", "200"),
			want: view{Time: "2027-01-01T07:30:00Z", RemoteAddr: "203.0.113.7", Method: "GET", URI: "/", Status: 200, UserAgent: ua}},
		{name: "leap day",
			line: combinedLine("29/Feb/2028:12:00:00 +0000", "GET / HTTP/1.1", "200"),
			want: view{Time: "2028-02-29T12:00:00Z", RemoteAddr: "203.0.113.7", Method: "GET", URI: "/", Status: 200, UserAgent: ua}},
		{name: "HTTP/0.9 request line",
			line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET /old", "200"),
			want: view{Time: ts0, RemoteAddr: "203.0.113.7", Method: "GET", URI: "/old", Status: 200, UserAgent: ua}},
		{name: "raw space in URI",
			line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET /a b HTTP/1.0", "200"),
			want: view{Time: ts0, RemoteAddr: "203.0.113.7", Method: "GET", URI: "/a b", Status: 200, UserAgent: ua}},
		{name: "absolute URI",
			line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET http://example.com/x HTTP/1.1", "200"),
			want: view{Time: ts0, RemoteAddr: "203.0.113.7", Method: "GET", URI: "http://example.com/x", Status: 200, UserAgent: ua}},
		{name: "asterisk",
			line: combinedLine("02/Nov/2026:00:03:37 +0000", "OPTIONS * HTTP/1.1", "204"),
			want: view{Time: ts0, RemoteAddr: "203.0.113.7", Method: "OPTIONS", URI: "*", Status: 204, UserAgent: ua}},
		{name: "method with dash",
			line: combinedLine("02/Nov/2026:00:03:37 +0000", "M-SEARCH * HTTP/1.1", "405"),
			want: view{Time: ts0, RemoteAddr: "203.0.113.7", Method: "M-SEARCH", URI: "*", Status: 405, UserAgent: ua}},
		{name: "CRLF line ending",
			line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "200") + "\r",
			want: view{Time: ts0, RemoteAddr: "203.0.113.7", Method: "GET", URI: "/", Status: 200, UserAgent: ua}},

		// Rejections.
		{name: "empty", line: "", reason: ReasonEmpty},
		{name: "blank", line: " \t ", reason: ReasonEmpty},
		{name: "lone CR", line: "\r", reason: ReasonEmpty},
		{name: "NUL byte", line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET /\x00 HTTP/1.1", "200"), reason: ReasonBinary},
		{name: "invalid UTF-8", line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET /\xff HTTP/1.1", "200"), reason: ReasonBinary},
		{name: "garbage", line: "hello world", reason: ReasonSyntax},
		{name: "truncated", line: `203.0.113.7 - - [02/Nov/2026:00:03:37 +0000] "GET / HTTP/1.1" 200 512 "-" "Mozi`, reason: ReasonSyntax},
		{name: "main line is not combined", line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "200") + ` "-"`, reason: ReasonSyntax},
		{name: "caddy line", line: `{"ts":1793579376.421,"status":200}`, reason: ReasonSyntax},
		{name: "31 February", line: combinedLine("31/Feb/2026:00:03:37 +0000", "GET / HTTP/1.1", "200"), reason: ReasonTime},
		{name: "29 February of a common year", line: combinedLine("29/Feb/2026:00:03:37 +0000", "GET / HTTP/1.1", "200"), reason: ReasonTime},
		{name: "day zero", line: combinedLine("00/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "200"), reason: ReasonTime},
		{name: "hour 25", line: combinedLine("02/Nov/2026:25:03:37 +0000", "GET / HTTP/1.1", "200"), reason: ReasonTime},
		{name: "minute 60", line: combinedLine("02/Nov/2026:00:60:37 +0000", "GET / HTTP/1.1", "200"), reason: ReasonTime},
		{name: "second 60", line: combinedLine("02/Nov/2026:00:03:60 +0000", "GET / HTTP/1.1", "200"), reason: ReasonTime},
		{name: "bad month", line: combinedLine("02/Foo/2026:00:03:37 +0000", "GET / HTTP/1.1", "200"), reason: ReasonTime},
		{name: "lower-case month", line: combinedLine("02/nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "200"), reason: ReasonTime},
		{name: "before 1970", line: combinedLine("02/Nov/1969:00:03:37 +0000", "GET / HTTP/1.1", "200"), reason: ReasonTime},
		{name: "zone too large", line: combinedLine("02/Nov/2026:00:03:37 +1900", "GET / HTTP/1.1", "200"), reason: ReasonTime},
		{name: "zone minutes 60", line: combinedLine("02/Nov/2026:00:03:37 +0160", "GET / HTTP/1.1", "200"), reason: ReasonTime},
		{name: "zone without sign", line: combinedLine("02/Nov/2026:00:03:37 00000", "GET / HTTP/1.1", "200"), reason: ReasonTime},
		{name: "time dash", line: combinedLine("-", "GET / HTTP/1.1", "200"), reason: ReasonTime},
		{name: "ISO time in combined", line: combinedLine("2026-11-02T00:03:37+00:00", "GET / HTTP/1.1", "200"), reason: ReasonTime},
		{name: "status 099", line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "099"), reason: ReasonStatus},
		{name: "status 600", line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "600"), reason: ReasonStatus},
		{name: "status two digits", line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "20"), reason: ReasonStatus},
		{name: "status four digits", line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "2000"), reason: ReasonStatus},
		{name: "status not a number", line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "2x0"), reason: ReasonStatus},
		{name: "status dash", line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "-"), reason: ReasonStatus},
		{name: "TLS handshake", line: combinedLine("02/Nov/2026:00:03:37 +0000", `\x16\x03\x01\x02\x00\x01\x00\x01\xFC\x03\x03\xB5`, "400"), reason: ReasonRequest},
		{name: "TLS handshake with spaces", line: combinedLine("02/Nov/2026:00:03:37 +0000", `\x16\x03\x01 \x00 HTTP/1.1`, "400"), reason: ReasonRequest},
		{name: "empty request", line: combinedLine("02/Nov/2026:00:03:37 +0000", "", "400"), reason: ReasonRequest},
		{name: "request dash", line: combinedLine("02/Nov/2026:00:03:37 +0000", "-", "400"), reason: ReasonRequest},
		{name: "lower-case method", line: combinedLine("02/Nov/2026:00:03:37 +0000", "get / HTTP/1.1", "200"), reason: ReasonRequest},
		{name: "relative URI", line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET index.html HTTP/1.1", "200"), reason: ReasonRequest},
		{name: "CONNECT authority", line: combinedLine("02/Nov/2026:00:03:37 +0000", "CONNECT example.com:443 HTTP/1.1", "400"),
			want: view{Time: "2026-11-02T00:03:37Z", RemoteAddr: "203.0.113.7", Method: "CONNECT", URI: "example.com:443", Status: 400, UserAgent: ua}},
		{name: "CONNECT IPv6 authority", line: combinedLine("02/Nov/2026:00:03:37 +0000", "CONNECT [2001:db8::1]:8443 HTTP/1.1", "200"),
			want: view{Time: "2026-11-02T00:03:37Z", RemoteAddr: "203.0.113.7", Method: "CONNECT", URI: "[2001:db8::1]:8443", Status: 200, UserAgent: ua}},
		{name: "CONNECT without port", line: combinedLine("02/Nov/2026:00:03:37 +0000", "CONNECT example.com HTTP/1.1", "400"), reason: ReasonRequest},
		{name: "CONNECT to a path", line: combinedLine("02/Nov/2026:00:03:37 +0000", "CONNECT /a:443 HTTP/1.1", "400"), reason: ReasonRequest},
		{name: "GET authority", line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET example.com:443 HTTP/1.1", "400"), reason: ReasonRequest},
		{name: "scheme only", line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET http:// HTTP/1.1", "400"), reason: ReasonRequest},
		{name: "method only", line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET", "400"), reason: ReasonRequest},
		{name: "double space", line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET  / HTTP/1.1", "400"), reason: ReasonRequest},
	})
}

func TestMain(t *testing.T) {
	runCases(t, "main", []parseCase{
		{name: "forwarded for",
			line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "200") + ` "198.51.100.1, 10.0.0.2"`,
			want: view{Time: ts0, RemoteAddr: "203.0.113.7", ForwardedFor: "198.51.100.1, 10.0.0.2",
				Method: "GET", URI: "/", Status: 200, UserAgent: ua}},
		{name: "no forwarded for",
			line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "200") + ` "-"`,
			want: view{Time: ts0, RemoteAddr: "203.0.113.7", Method: "GET", URI: "/", Status: 200, UserAgent: ua}},
		{name: "combined line is not main",
			line:   combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "200"),
			reason: ReasonSyntax},
	})
}

// TestVariables covers every variable the compiler understands, and that
// others are skipped.
func TestVariables(t *testing.T) {
	base := view{Time: ts0, Method: "GET", URI: "/", Status: 200}
	with := func(f func(*view)) view { v := base; f(&v); return v }
	for _, tc := range []struct {
		name, format, line string
		want               view
		reason             Reason
	}{
		{name: "remote_addr remote_user",
			format: `$remote_addr $remote_user [$time_local] "$request" $status`,
			line:   `192.0.2.1 bob [02/Nov/2026:00:03:37 +0000] "GET / HTTP/1.1" 200`,
			want:   with(func(v *view) { v.RemoteAddr = "192.0.2.1" })},
		{name: "time_iso8601",
			format: `$time_iso8601 "$request" $status`,
			line:   `2026-11-02T05:33:37+05:30 "GET / HTTP/1.1" 200`,
			want:   base},
		{name: "time_iso8601 negative zone",
			format: `$time_iso8601 "$request" $status`,
			line:   `2026-11-01T16:03:37-08:00 "GET / HTTP/1.1" 200`,
			want:   base},
		{name: "time_iso8601 impossible",
			format: `$time_iso8601 "$request" $status`,
			line:   `2026-02-30T16:03:37-08:00 "GET / HTTP/1.1" 200`,
			reason: ReasonTime},
		{name: "msec",
			format: `$msec "$request" $status`,
			line:   `1793577817.421 "GET / HTTP/1.1" 200`,
			want:   with(func(v *view) { v.Time = "2026-11-02T00:03:37.421Z" })},
		{name: "msec without fraction",
			format: `$msec "$request" $status`,
			line:   `1793577817 "GET / HTTP/1.1" 200`,
			want:   base},
		{name: "msec negative",
			format: `$msec "$request" $status`,
			line:   `-1793577817.421 "GET / HTTP/1.1" 200`,
			reason: ReasonTime},
		{name: "msec not a number",
			format: `$msec "$request" $status`,
			line:   `1793577817.4x1 "GET / HTTP/1.1" 200`,
			reason: ReasonTime},
		{name: "msec wins over time_local",
			format: `[$time_local] $msec "$request" $status`,
			line:   `[02/Nov/2026:00:00:00 +0000] 1793577817.5 "GET / HTTP/1.1" 200`,
			want:   with(func(v *view) { v.Time = "2026-11-02T00:03:37.5Z" })},
		{name: "request_method request_uri",
			format: `[$time_local] $request_method $request_uri $status`,
			line:   `[02/Nov/2026:00:03:37 +0000] HEAD /a?b=c 200`,
			want:   with(func(v *view) { v.Method, v.URI = "HEAD", "/a?b=c" })},
		{name: "request_uri wins over request",
			format: `[$time_local] "$request" $request_uri $status`,
			line:   `[02/Nov/2026:00:03:37 +0000] "GET /x HTTP/1.1" /y 200`,
			want:   with(func(v *view) { v.URI = "/y" })},
		{name: "request wins over uri",
			format: `[$time_local] "$request" $uri $status`,
			line:   `[02/Nov/2026:00:03:37 +0000] "GET /x?q=1 HTTP/1.1" /index.html 200`,
			want:   with(func(v *view) { v.URI = "/x?q=1" })},
		{name: "uri args",
			format: `[$time_local] $request_method $uri $args $status`,
			line:   `[02/Nov/2026:00:03:37 +0000] GET /search q=go&utm_source=news 200`,
			want:   with(func(v *view) { v.URI = "/search?q=go&utm_source=news" })},
		{name: "uri without args",
			format: `[$time_local] $request_method $uri $args $status`,
			line:   `[02/Nov/2026:00:03:37 +0000] GET /search - 200`,
			want:   with(func(v *view) { v.URI = "/search" })},
		{name: "uri empty args",
			format: `[$time_local] $request_method $uri "$args" $status`,
			line:   `[02/Nov/2026:00:03:37 +0000] GET /search "" 200`,
			want:   with(func(v *view) { v.URI = "/search" })},
		{name: "document_uri query_string",
			format: `[$time_local] $request_method $document_uri?$query_string $status`,
			line:   `[02/Nov/2026:00:03:37 +0000] GET /p?a=1 200`,
			want:   with(func(v *view) { v.URI = "/p?a=1" })},
		{name: "request_method dash",
			format: `[$time_local] $request_method $request_uri $status`,
			line:   `[02/Nov/2026:00:03:37 +0000] - /a 400`,
			reason: ReasonRequest},
		{name: "status body_bytes_sent bytes_sent",
			format: `[$time_local] "$request" $status $body_bytes_sent $bytes_sent`,
			line:   `[02/Nov/2026:00:03:37 +0000] "GET / HTTP/1.1" 200 100 345`,
			want:   base},
		{name: "http_referer http_user_agent http_x_forwarded_for",
			format: `[$time_local] "$request" $status "$http_referer" "$http_user_agent" "$http_x_forwarded_for"`,
			line:   `[02/Nov/2026:00:03:37 +0000] "GET / HTTP/1.1" 200 "https://r.example/" "UA 1.0" "198.51.100.1"`,
			want: with(func(v *view) {
				v.Referer, v.UserAgent, v.ForwardedFor = "https://r.example/", "UA 1.0", "198.51.100.1"
			})},
		{name: "host",
			format: `$host [$time_local] "$request" $status`,
			line:   `www.example.com [02/Nov/2026:00:03:37 +0000] "GET / HTTP/1.1" 200`,
			want:   with(func(v *view) { v.Host = "www.example.com" })},
		{name: "host preferred over server_name",
			format: `$server_name $host [$time_local] "$request" $status`,
			line:   `example.com www.example.com [02/Nov/2026:00:03:37 +0000] "GET / HTTP/1.1" 200`,
			want:   with(func(v *view) { v.Host = "www.example.com" })},
		{name: "server_name when host is empty",
			format: `$server_name $host [$time_local] "$request" $status`,
			line:   `example.com - [02/Nov/2026:00:03:37 +0000] "GET / HTTP/1.1" 200`,
			want:   with(func(v *view) { v.Host = "example.com" })},
		{name: "request_time upstream_response_time",
			format: `[$time_local] "$request" $status $request_time $upstream_response_time`,
			line:   `[02/Nov/2026:00:03:37 +0000] "GET / HTTP/1.1" 200 0.012 0.010, 0.002`,
			want:   base},
		{name: "unknown variables are skipped",
			format: `$ssl_protocol/$ssl_cipher [$time_local] "$request" $status "$sent_http_content_type" $cookie_id`,
			line:   `TLSv1.3/TLS_AES_128_GCM_SHA256 [02/Nov/2026:00:03:37 +0000] "GET / HTTP/1.1" 200 "text/html; charset=utf-8" abc def`,
			want:   base},
		{name: "braced variables",
			format: `${remote_addr}|${time_iso8601}|"${request}"|${status}`,
			line:   `192.0.2.1|2026-11-02T00:03:37+00:00|"GET / HTTP/1.1"|200`,
			want:   with(func(v *view) { v.RemoteAddr = "192.0.2.1" })},
		{name: "JSON-shaped format with escape=json",
			format: `{"time":"$time_iso8601","status":$status,"request":"$request","ua":"$http_user_agent","xff":"$http_x_forwarded_for"}`,
			line:   `{"time":"2026-11-02T00:03:37+00:00","status":200,"request":"GET / HTTP/1.1","ua":"say \"hi\" \\","xff":""}`,
			want:   with(func(v *view) { v.UserAgent = `say \"hi\" \\` })},
		{name: "time_local followed by a space",
			format: `$time_local $status "$request"`,
			line:   `02/Nov/2026:00:03:37 +0000 200 "GET / HTTP/1.1"`,
			want:   base},
		{name: "last variable runs to end of line",
			format: `[$time_local] $status $request`,
			line:   `[02/Nov/2026:00:03:37 +0000] 200 GET / HTTP/1.1`,
			want:   base},
		{name: "trailing text after the format",
			format: `[$time_local] $status "$request"`,
			line:   `[02/Nov/2026:00:03:37 +0000] 200 "GET / HTTP/1.1" extra`,
			reason: ReasonSyntax},
		{name: "text after a variable that ends the line is part of it",
			format: `[$time_local] "$request" $status`,
			line:   `[02/Nov/2026:00:03:37 +0000] "GET / HTTP/1.1" 200 extra`,
			reason: ReasonStatus},
		{name: "prefix literal mismatch",
			format: `ACCESS [$time_local] "$request" $status`,
			line:   `access [02/Nov/2026:00:03:37 +0000] "GET / HTTP/1.1" 200`,
			reason: ReasonSyntax},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A format without $http_user_agent logs no agent at all.
			tc.want.NoUserAgent = !strings.Contains(tc.format, "$http_user_agent")
			runCases(t, tc.format, []parseCase{{name: "line", line: tc.line, want: tc.want, reason: tc.reason}})
		})
	}
}
