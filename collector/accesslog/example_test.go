package accesslog_test

import (
	"fmt"

	"github.com/session-exporter/session-exporter/collector/accesslog"
)

func ExampleNew() {
	p, err := accesslog.New("combined")
	if err != nil {
		panic(err)
	}
	line := []byte(`203.0.113.7 - - [02/Nov/2026:05:33:37 +0530] "GET /pricing?utm_source=news HTTP/1.1" 200 5120 "https://www.google.com/" "Mozilla/5.0 (X11; Linux x86_64)"`)
	var r accesslog.Request // reuse one Request for every line
	if err := p.Parse(line, &r); err != nil {
		fmt.Println("rejected:", accesslog.ReasonOf(err))
		return
	}
	fmt.Println(r.Time, r.Status)
	fmt.Printf("%s %s\n", r.Method, r.URI)
	fmt.Printf("from %s via %s\n", r.RemoteAddr, r.Referer)

	err = p.Parse([]byte(`203.0.113.7 - - [02/Nov/2026:05:33:37 +0530] "\x16\x03\x01" 400 150 "-" "-"`), &r)
	fmt.Println("rejected:", accesslog.ReasonOf(err))
	// Output:
	// 2026-11-02 00:03:37 +0000 UTC 200
	// GET /pricing?utm_source=news
	// from 203.0.113.7 via https://www.google.com/
	// rejected: bad_request
}

func ExampleNew_logFormat() {
	p, err := accesslog.New(`$host $remote_addr [$time_iso8601] "$request" $status "$http_user_agent"`)
	if err != nil {
		panic(err)
	}
	var r accesslog.Request
	err = p.Parse([]byte(`www.example.com 203.0.113.7 [2026-11-01T16:03:37-08:00] "GET / HTTP/2.0" 304 "curl/8.5.0"`), &r)
	fmt.Println(p.Name(), err, r.Time, string(r.Host), r.Status, string(r.UserAgent))

	_, err = accesslog.New(`$remote_addr "$request" $status`)
	fmt.Println(err)
	// Output:
	// custom <nil> 2026-11-02 00:03:37 +0000 UTC www.example.com 304 curl/8.5.0
	// nginx log_format "$remote_addr \"$request\" $status": no time variable: want $time_local, $time_iso8601 or $msec
}
