package accesslog

import (
	"fmt"
	"strings"
)

// Predefined log formats, written as nginx log_format strings. Formats of
// other servers are given in nginx's variables for the fields they share.
const (
	// CombinedFormat is nginx's predefined "combined" log_format.
	CombinedFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`

	// MainFormat is the "main" log_format of nginx's default nginx.conf:
	// combined followed by the quoted X-Forwarded-For header.
	MainFormat = CombinedFormat + ` "$http_x_forwarded_for"`

	// SessionsFormat is the log_format docs/running.md recommends: main
	// followed by the quoted Host header.
	SessionsFormat = MainFormat + ` "$host"`

	// CommonFormat is the Common Log Format (Apache's "common", nginx
	// combined without referrer and user agent).
	CommonFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent`

	// VhostCombinedFormat is Apache's vhost_combined,
	// `%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"`.
	VhostCombinedFormat = `$server_name:$server_port $remote_addr $remote_ident $remote_user [$time_local] "$request" $status $bytes_sent "$http_referer" "$http_user_agent"`

	// TraefikFormat is Traefik's access log in its default common format:
	// combined, then the request count, the router and server names and
	// the duration in milliseconds.
	TraefikFormat = CombinedFormat + ` $traefik_request_count "$traefik_router_name" "$traefik_server_url" ${traefik_duration}ms`

	// IngressNginxFormat is the ingress-nginx controller's default
	// log-format-upstream ("upstreaminfo"). Its upstream fields list one
	// value per upstream tried ("10.0.0.1:80, 10.0.0.2:80"), so the
	// ingress-nginx preset reads them loosely: combined, the request length
	// and time, the two bracketed upstream names, then anything.
	IngressNginxFormat = CombinedFormat + ` $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id`
)

// presets lists the named formats New accepts, "auto" last.
var presets = []string{"combined", "main", "sessions", "common", "vhost_combined", "traefik", "ingress-nginx", "caddy", "cloudfront", "auto"}

// ReadsHeaders reports whether a parser of format lays out its columns by
// the input's header lines (CloudFront's "#Fields:", read by "cloudfront"
// and "auto"): a reader that hands an input's parts to several parsers must
// give each the last header line before its part. Other formats have no
// header lines, and nobody needs to look for them.
func ReadsHeaders(format string) bool { return format == "cloudfront" || format == "auto" }

// New returns a Parser for format, which is one of
//
//   - "combined": nginx's predefined combined format (CombinedFormat);
//   - "main": the main format of nginx's default nginx.conf (MainFormat);
//   - "sessions": main with the Host header (SessionsFormat);
//   - "common": the Common Log Format, without referrer and user agent
//     (CommonFormat); its requests carry NoUserAgent;
//   - "vhost_combined": Apache's vhost_combined (VhostCombinedFormat);
//   - "traefik": Traefik's default access log (TraefikFormat);
//   - "ingress-nginx": the ingress-nginx controller's default
//     log-format-upstream (IngressNginxFormat);
//   - "caddy": Caddy's JSON access log;
//   - "cloudfront": Amazon CloudFront standard logs (tab-separated, with
//     #Fields header lines);
//   - "auto": any of the above, decided line by line;
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
	switch format {
	case "caddy":
		return &caddyParser{}, nil
	case "cloudfront":
		return newCloudFront(), nil
	case "auto":
		return newAuto(), nil
	}
	for _, p := range nginxPresets {
		if format == p.name || format == p.format {
			return newPreset(p), nil
		}
	}
	if !strings.Contains(format, "$") {
		return nil, fmt.Errorf("unknown log format %q (want %s or an nginx log_format string)", format, presetList())
	}
	pl, err := compile(format)
	if err != nil {
		return nil, err
	}
	np := &nginxParser{name: "custom", plan: pl, noAgent: !pl.has[fUserAgent], quotes: make([]uint64, 0, 16)}
	np.after, np.oneFunc = pl.quotedTail()
	return np, nil
}

func presetList() string {
	return strings.Join(presets, ", ")
}

// preset is a named log_format, and how its end is read.
type preset struct {
	name   string
	format string // compiled whole, unless loose
	// loose: format is compiled only up to and including $http_user_agent;
	// the rest of the line is checked by ingressTail.
	loose bool
}

var nginxPresets = []preset{
	{name: "combined", format: CombinedFormat},
	{name: "main", format: MainFormat},
	{name: "sessions", format: SessionsFormat},
	{name: "common", format: CommonFormat},
	{name: "vhost_combined", format: VhostCombinedFormat},
	{name: "traefik", format: TraefikFormat},
	{name: "ingress-nginx", format: IngressNginxFormat, loose: true},
}

// newPreset compiles a preset. The formats are constants, tested to compile.
func newPreset(p preset) *nginxParser {
	f := p.format
	if p.loose {
		f = f[:strings.Index(f, `"$http_user_agent"`)+len(`"$http_user_agent"`)]
	}
	pl, err := compile(f)
	if err != nil {
		panic("accesslog: preset " + p.name + ": " + err.Error())
	}
	np := &nginxParser{name: p.name, plan: pl, noAgent: !pl.has[fUserAgent], quotes: make([]uint64, 0, 16)}
	if p.loose {
		np.tail = ingressTail
	}
	np.sizeLast = p.name == "common"
	if after, ok := pl.quotedTail(); ok && np.tail == nil && !np.sizeLast {
		np.after, np.oneFunc = after, true
	}
	return np
}
