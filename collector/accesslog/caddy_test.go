package accesslog

import (
	"encoding/binary"
	"strings"
	"testing"
)

// caddyLine builds a Caddy access-log line around a request object.
func caddyLine(request string) string {
	return `{"level":"info","ts":1793579376.421,"logger":"http.log.access.log0","msg":"handled request","request":` +
		request + `,"bytes_read":0,"user_id":"","duration":0.164197,"size":32042,"status":200,"resp_headers":{"Server":["Caddy"]}}`
}

const caddyTS = "2026-11-02T00:29:36.421Z"

func TestCaddy(t *testing.T) {
	sample := view{Time: caddyTS, RemoteAddr: "178.85.126.246", ClientIP: "178.85.126.246", Method: "GET",
		URI: "/", Status: 200, UserAgent: ua, Host: "www.example.com"}
	with := func(f func(*view)) view { v := sample; f(&v); return v }
	deep := strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100)
	tooDeep := strings.Repeat(`[`, 600) + strings.Repeat(`]`, 600)

	runCases(t, "caddy", []parseCase{
		{name: "sample",
			line: caddyLine(`{"remote_ip":"178.85.126.246","remote_port":"39242","client_ip":"178.85.126.246","proto":"HTTP/2.0","method":"GET","host":"www.example.com","uri":"/","headers":{"User-Agent":["` + ua + `"],"Accept":["*/*"]}}`),
			want: sample},
		{name: "client_ip absent",
			line: caddyLine(`{"remote_ip":"178.85.126.246","method":"GET","host":"www.example.com","uri":"/","headers":{"User-Agent":["` + ua + `"]}}`),
			want: with(func(v *view) { v.ClientIP = "" })},
		{name: "client_ip differs from remote_ip",
			line: caddyLine(`{"remote_ip":"10.0.0.2","client_ip":"198.51.100.9","method":"GET","host":"www.example.com","uri":"/","headers":{"User-Agent":["` + ua + `"],"X-Forwarded-For":["198.51.100.9, 10.0.0.1","ignored"]}}`),
			want: with(func(v *view) {
				v.RemoteAddr, v.ClientIP, v.ForwardedFor = "10.0.0.2", "198.51.100.9", "198.51.100.9, 10.0.0.1"
			})},
		{name: "remote_addr of Caddy before 2.5",
			line: caddyLine(`{"remote_addr":"[2001:db8::1]:443","method":"GET","host":"www.example.com","uri":"/","headers":{"User-Agent":["` + ua + `"]}}`),
			want: with(func(v *view) { v.RemoteAddr, v.ClientIP = "2001:db8::1", "" })},
		{name: "referer, query, other method",
			line: caddyLine(`{"remote_ip":"178.85.126.246","client_ip":"178.85.126.246","method":"POST","host":"www.example.com","uri":"/api?a=1&utm_source=x","headers":{"Referer":["https://www.google.com/"],"User-Agent":["` + ua + `"]}}`),
			want: with(func(v *view) { v.Method, v.URI, v.Referer = "POST", "/api?a=1&utm_source=x", "https://www.google.com/" })},
		{name: "string escapes",
			line: caddyLine(`{"remote_ip":"178.85.126.246","client_ip":"178.85.126.246","method":"GET","host":"www.example.com","uri":"\/caf\u00e9?q=\"a\"\\b","headers":{"User-Agent":["say \"hi\" \\ \/ \b\f\n\r\t \u00e9 \u20AC \ud83d\ude00 end"],"Referer":["https:\/\/e.com\/"]}}`),
			want: with(func(v *view) {
				v.URI, v.UserAgent, v.Referer = `/café?q="a"\b`, "say \"hi\" \\ / \b\f\n\r\t é € 😀 end", "https://e.com/"
			})},
		{name: "unpaired surrogates",
			line: caddyLine(`{"remote_ip":"178.85.126.246","client_ip":"178.85.126.246","method":"GET","host":"www.example.com","uri":"/","headers":{"User-Agent":["a\ud83d b\ude00 c\ud83d\u0041 d\ud83d"]}}`),
			want: with(func(v *view) { v.UserAgent = "a\uFFFD b\uFFFD c\uFFFDA d\uFFFD" })},
		{name: "escaped key",
			line: `{"t\u0073":1793579376.421,"st\u0061tus":200,"request":{"m\u0065thod":"GET","uri":"/","h\u0065aders":{"user-\u0061gent":["x"]}}}`,
			want: view{Time: caddyTS, Method: "GET", URI: "/", Status: 200, UserAgent: "x"}},
		{name: "header names ignore case",
			line: caddyLine(`{"remote_ip":"178.85.126.246","client_ip":"178.85.126.246","method":"GET","host":"www.example.com","uri":"/","headers":{"user-agent":["` + ua + `"],"REFERER":["https://r.example/"],"x-forwarded-for":["198.51.100.1"]}}`),
			want: with(func(v *view) { v.Referer, v.ForwardedFor = "https://r.example/", "198.51.100.1" })},
		{name: "empty and null header values",
			line: caddyLine(`{"remote_ip":"178.85.126.246","client_ip":"178.85.126.246","method":"GET","host":"www.example.com","uri":"/","headers":{"User-Agent":[],"Referer":null}}`),
			want: with(func(v *view) { v.UserAgent = "" })},
		{name: "dash user agent is empty",
			line: caddyLine(`{"remote_ip":"178.85.126.246","client_ip":"178.85.126.246","method":"GET","host":"www.example.com","uri":"/","headers":{"User-Agent":["-"]}}`),
			want: with(func(v *view) { v.UserAgent = "" })},
		{name: "null strings and headers",
			line: caddyLine(`{"remote_ip":null,"client_ip":null,"method":"GET","host":null,"uri":"/","headers":null}`),
			want: view{Time: caddyTS, Method: "GET", URI: "/", Status: 200}},
		{name: "host port removed",
			line: caddyLine(`{"method":"GET","host":"www.example.com:8443","uri":"/"}`),
			want: view{Time: caddyTS, Method: "GET", URI: "/", Status: 200, Host: "www.example.com"}},
		{name: "IPv6 host port removed",
			line: caddyLine(`{"method":"GET","host":"[2001:db8::1]:8443","uri":"/"}`),
			want: view{Time: caddyTS, Method: "GET", URI: "/", Status: 200, Host: "[2001:db8::1]"}},
		{name: "nested unknown values are skipped",
			line: `{"x":{"request":{"uri":"/evil","method":"EVIL"},"status":500,"ts":1},"y":[1,-2.5e-3,true,false,null,"s",{},[],{"a":[{"b":"\"}"}]}],"z":` + deep + `,"ts":1793579376.421,"request":{"extra":{"uri":"/evil"},"method":"GET","uri":"/","headers":{"Accept":["a","b"],"User-Agent":["x","y"]}},"status":200}`,
			want: view{Time: caddyTS, Method: "GET", URI: "/", Status: 200, UserAgent: "x"}},
		{name: "duplicate keys: last wins",
			line: `{"ts":1,"ts":1793579376.421,"status":500,"status":200,"request":{"uri":"/a","method":"GET","uri":"/b"}}`,
			want: view{Time: caddyTS, Method: "GET", URI: "/b", Status: 200}},
		{name: "whitespace between tokens",
			line: " { \"ts\" : 1793579376.421 ,\t\"status\" : 200 , \"request\" : { \"method\" : \"GET\" , \"uri\" : \"/\" , \"headers\" : { \"User-Agent\" : [ \"x\" , \"y\" ] } } } ",
			want: view{Time: caddyTS, Method: "GET", URI: "/", Status: 200, UserAgent: "x"}},
		{name: "ts as RFC 3339 string",
			line: `{"ts":"2026-11-02T00:29:36.421Z","status":200,"request":{"method":"GET","uri":"/"}}`,
			want: view{Time: caddyTS, Method: "GET", URI: "/", Status: 200}},
		{name: "ts with exponent",
			line: `{"ts":1.793579376421e9,"status":200,"request":{"method":"GET","uri":"/"}}`,
			want: view{Time: caddyTS, Method: "GET", URI: "/", Status: 200}},
		{name: "ts integer",
			line: `{"ts":1793579376,"status":200,"request":{"method":"GET","uri":"/"}}`,
			want: view{Time: "2026-11-02T00:29:36Z", Method: "GET", URI: "/", Status: 200}},
		{name: "ts nanosecond digits",
			line: `{"ts":1793579376.123456789123,"status":200,"request":{"method":"GET","uri":"/"}}`,
			want: view{Time: "2026-11-02T00:29:36.123456789Z", Method: "GET", URI: "/", Status: 200}},

		// Rejections.
		{name: "empty", line: "", reason: ReasonEmpty},
		{name: "NUL byte", line: caddyLine(`{"method":"GET","uri":"/\u0000","x":"` + "\x00" + `"}`), reason: ReasonBinary},
		{name: "invalid UTF-8", line: caddyLine(`{"method":"GET","uri":"/` + "\xc3\x28" + `"}`), reason: ReasonBinary},
		{name: "not JSON", line: `hello`, reason: ReasonJSON},
		{name: "nginx line", line: combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "200"), reason: ReasonJSON},
		{name: "array", line: `[{"ts":1793579376.421,"status":200}]`, reason: ReasonJSON},
		{name: "null", line: `null`, reason: ReasonJSON},
		{name: "empty object", line: `{}`, reason: ReasonJSON},
		{name: "truncated", line: caddyLine(`{"method":"GET","uri":"/"}`)[:100], reason: ReasonJSON},
		{name: "trailing garbage", line: caddyLine(`{"method":"GET","uri":"/"}`) + ` x`, reason: ReasonJSON},
		{name: "two objects", line: caddyLine(`{"method":"GET","uri":"/"}`) + caddyLine(`{"method":"GET","uri":"/"}`), reason: ReasonJSON},
		{name: "trailing comma", line: `{"ts":1793579376.421,"status":200,"request":{"method":"GET","uri":"/",}}`, reason: ReasonJSON},
		{name: "missing colon", line: `{"ts" 1793579376.421,"status":200}`, reason: ReasonJSON},
		{name: "single quotes", line: `{'ts':1793579376.421}`, reason: ReasonJSON},
		{name: "bad escape", line: caddyLine(`{"method":"GET","uri":"/\x41"}`), reason: ReasonJSON},
		{name: "short unicode escape", line: caddyLine(`{"method":"GET","uri":"/\u12"}`), reason: ReasonJSON},
		{name: "raw control character", line: caddyLine(`{"method":"GET","uri":"/` + "\t" + `"}`), reason: ReasonJSON},
		{name: "bad literal", line: `{"x":nul,"ts":1793579376.421,"status":200,"request":{"method":"GET","uri":"/"}}`, reason: ReasonJSON},
		{name: "leading zero", line: `{"x":01,"ts":1793579376.421,"status":200,"request":{"method":"GET","uri":"/"}}`, reason: ReasonJSON},
		{name: "bare minus", line: `{"x":-,"ts":1793579376.421,"status":200,"request":{"method":"GET","uri":"/"}}`, reason: ReasonJSON},
		{name: "unclosed nesting", line: `{"x":[[{}],"ts":1793579376.421,"status":200}`, reason: ReasonJSON},
		{name: "mismatched brackets", line: `{"x":[1},"ts":1793579376.421,"status":200}`, reason: ReasonJSON},
		{name: "too deep", line: `{"x":` + tooDeep + `,"ts":1793579376.421,"status":200,"request":{"method":"GET","uri":"/"}}`, reason: ReasonJSON},
		{name: "missing ts", line: `{"status":200,"request":{"method":"GET","uri":"/"}}`, reason: ReasonJSON},
		{name: "missing status", line: `{"ts":1793579376.421,"request":{"method":"GET","uri":"/"}}`, reason: ReasonJSON},
		{name: "ts of wrong type", line: `{"ts":true,"status":200,"request":{"method":"GET","uri":"/"}}`, reason: ReasonJSON},
		{name: "status as string", line: `{"ts":1793579376.421,"status":"200","request":{"method":"GET","uri":"/"}}`, reason: ReasonJSON},
		{name: "request not an object", line: `{"ts":1793579376.421,"status":200,"request":"GET /"}`, reason: ReasonJSON},
		{name: "uri not a string", line: `{"ts":1793579376.421,"status":200,"request":{"method":"GET","uri":5}}`, reason: ReasonJSON},
		{name: "header value not an array", line: `{"ts":1793579376.421,"status":200,"request":{"method":"GET","uri":"/","headers":{"User-Agent":"x"}}}`, reason: ReasonJSON},
		{name: "header value of numbers", line: `{"ts":1793579376.421,"status":200,"request":{"method":"GET","uri":"/","headers":{"User-Agent":[1]}}}`, reason: ReasonJSON},
		{name: "bad ts and no status", line: `{"ts":0,"request":{"method":"GET","uri":"/"}}`, reason: ReasonJSON},
		{name: "bad ts and bad status", line: `{"ts":0,"status":0,"request":{"method":"GET","uri":"/"}}`, reason: ReasonTime},
		{name: "ts zero", line: `{"ts":0,"status":200,"request":{"method":"GET","uri":"/"}}`, reason: ReasonTime},
		{name: "ts negative", line: `{"ts":-1793579376.421,"status":200,"request":{"method":"GET","uri":"/"}}`, reason: ReasonTime},
		{name: "ts after 2261", line: `{"ts":1e10,"status":200,"request":{"method":"GET","uri":"/"}}`, reason: ReasonTime},
		{name: "ts bad string", line: `{"ts":"yesterday","status":200,"request":{"method":"GET","uri":"/"}}`, reason: ReasonTime},
		{name: "status zero", line: `{"ts":1793579376.421,"status":0,"request":{"method":"GET","uri":"/"}}`, reason: ReasonStatus},
		{name: "status fraction", line: `{"ts":1793579376.421,"status":200.0,"request":{"method":"GET","uri":"/"}}`, reason: ReasonStatus},
		{name: "status 1000", line: `{"ts":1793579376.421,"status":1000,"request":{"method":"GET","uri":"/"}}`, reason: ReasonStatus},
		{name: "no request", line: `{"ts":1793579376.421,"status":200}`, reason: ReasonRequest},
		{name: "lower-case method", line: `{"ts":1793579376.421,"status":200,"request":{"method":"get","uri":"/"}}`, reason: ReasonRequest},
		{name: "no uri", line: `{"ts":1793579376.421,"status":200,"request":{"method":"GET"}}`, reason: ReasonRequest},
		{name: "relative uri", line: `{"ts":1793579376.421,"status":200,"request":{"method":"GET","uri":"x"}}`, reason: ReasonRequest},
	})
}

// TestSpecial8 checks the eight-bytes-at-a-time test against the byte table
// for every byte value at every position, over plain and multi-byte filler.
func TestSpecial8(t *testing.T) {
	for _, fill := range []byte{'a', ' ', 0x7f, 0x80, 0xff, '!', '#', '[', ']'} {
		for pos := 0; pos < 8; pos++ {
			for c := 0; c < 256; c++ {
				var w [8]byte
				for i := range w {
					w[i] = fill
				}
				w[pos] = byte(c)
				want := false
				for _, x := range w {
					want = want || strStop[x]
				}
				if got := special8(binary.LittleEndian.Uint64(w[:])); got != want {
					t.Fatalf("special8(%q) = %v, want %v", w, got, want)
				}
			}
		}
	}
}
