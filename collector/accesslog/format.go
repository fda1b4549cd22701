package accesslog

import (
	"fmt"
	"strings"
)

// Predefined nginx log formats.
const (
	// CombinedFormat is nginx's predefined "combined" log_format.
	CombinedFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`

	// MainFormat is the "main" log_format of nginx's default nginx.conf:
	// combined followed by the quoted X-Forwarded-For header.
	MainFormat = CombinedFormat + ` "$http_x_forwarded_for"`
)

// New returns a Parser for format, which is one of
//
//   - "combined": nginx's predefined combined format (CombinedFormat);
//   - "main": the main format of nginx's default nginx.conf (MainFormat);
//   - "caddy": Caddy's JSON access log;
//   - "auto": combined, main or caddy, decided line by line;
//   - an nginx log_format string, anything containing '$', such as
//     `$remote_addr [$time_local] "$request" $status "$http_user_agent"`.
//
// A log_format string is compiled once, here; an unusable one (no time, no
// status or no request variable, two variables with nothing between them) is
// an error naming what is wrong. Anything else is an error too.
//
// A Parser keeps scratch buffers and is not safe for concurrent use: create
// one per goroutine.
func New(format string) (Parser, error) {
	name := "custom"
	switch format {
	case "caddy":
		return &caddyParser{}, nil
	case "auto":
		a, err := newAuto()
		if err != nil {
			return nil, err
		}
		return a, nil
	case "combined", CombinedFormat:
		name, format = "combined", CombinedFormat
	case "main", MainFormat:
		name, format = "main", MainFormat
	default:
		if !strings.Contains(format, "$") {
			return nil, fmt.Errorf("unknown log format %q (want combined, main, caddy, auto or an nginx log_format string)", format)
		}
	}
	pl, err := compile(format)
	if err != nil {
		return nil, err
	}
	return &nginxParser{name: name, plan: pl}, nil
}
