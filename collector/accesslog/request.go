// Package accesslog parses one access-log line (nginx log_format or Caddy JSON)
// into a Request, without regular expressions or allocation per line.
//
// New returns a Parser for a named format ("combined", "main", "caddy",
// "auto") or for an nginx log_format string, which it compiles once into a
// sequence of literals and variables. A variable's value ends at the first
// byte of the literal that follows it, or at the end of the line. nginx
// escapes '"' inside values, so a quoted value ends at the right quote; a
// quote escaped with a backslash (escape=json, or Apache's format) does not
// end it. "auto" decides per line: a line starting with '{' is Caddy JSON,
// anything else is combined with an optional trailing quoted
// X-Forwarded-For (main).
//
// What a Request holds:
//
//   - Time is the log's own time stamp, in UTC. $time_local and $time_iso8601
//     carry their zone offset; $msec and Caddy's ts are Unix seconds, read
//     as exact decimals. Caddy's ts may also be an RFC 3339 string (Caddy's
//     time_format iso8601 or rfc3339). A format with several uses $msec,
//     else $time_iso8601, else $time_local.
//   - URI is the URI as requested: $request_uri, else the one in $request,
//     else $uri?$args ($uri is decoded by nginx and changes with internal
//     rewrites, so it is the last resort).
//   - Host is $host, else $server_name; for Caddy, request.host without its
//     port, as nginx's $host is.
//   - RemoteAddr is $remote_addr, or Caddy's request.remote_ip (remote_addr
//     without its port for Caddy before 2.5); ClientIP is Caddy's
//     request.client_ip. The headers are Caddy's first value of User-Agent,
//     Referer and X-Forwarded-For, matched ignoring case.
//   - "-" is reported as empty, for nginx and Caddy alike.
//   - nginx values are not unescaped: nginx writes '"', '\' and non-printable
//     bytes as \xHH (escape=json as \" \\ \uXXXX) and they stay so, in the
//     URI, user agent and referrer alike. Caddy's JSON strings are decoded.
//
// A line is rejected with exactly one Reason: ReasonEmpty for a blank line;
// ReasonBinary for NUL bytes or invalid UTF-8 anywhere in it; ReasonSyntax
// when it does not match the log_format (ReasonJSON when a Caddy line is not
// valid JSON, is not an object, or lacks ts or status, or has them with the
// wrong type); ReasonTime for an impossible time (31 February, hour 25, a
// zone beyond ±18:00, before 1970 or after 2261, which int64 nanoseconds
// cannot hold); ReasonStatus for a status
// other than three digits in 100-599; ReasonRequest when the request is not
// "METHOD SP URI [SP HTTP/x]" with an upper-case method and a URI that starts
// with '/', is absolute http(s), or is "*" (TLS handshakes sent to a
// plain-text port, logged with status 400, land here). Checks run in that
// order. The parsers never return ReasonTooLong: line limits belong to
// whoever reads the lines.
package accesslog

import "time"

// Request is one parsed access-log line. Byte-slice fields alias the input
// line or the parser's scratch buffers; they are valid until the next call to
// Parse on the same Parser. Absent fields are empty ("-" is reported as empty).
type Request struct {
	Time         time.Time // event time from the log, in UTC
	RemoteAddr   []byte    // $remote_addr or Caddy request.remote_ip
	ClientIP     []byte    // Caddy request.client_ip; empty for nginx
	ForwardedFor []byte    // X-Forwarded-For value as logged
	Method       []byte
	URI          []byte // path with query, as requested ("/a?b=c")
	Status       int
	Referer      []byte
	UserAgent    []byte
	Host         []byte // $host / request.host; empty when the format has none
	// NoUserAgent is set when the format logs no user agent at all (the
	// common log format): the empty UserAgent then says nothing about the
	// client, and the request is not a bot for it.
	NoUserAgent bool
}

// Reset clears r for reuse.
func (r *Request) Reset() { *r = Request{} }

// Reason names why a line was rejected. It is a bounded label value.
type Reason string

// Rejection reasons. The set is fixed: every rejected line has exactly one.
const (
	ReasonEmpty   Reason = "empty"       // blank line
	ReasonTooLong Reason = "too_long"    // over the configured line limit
	ReasonBinary  Reason = "binary"      // NUL bytes or invalid UTF-8 where text is expected
	ReasonSyntax  Reason = "syntax"      // does not match the format
	ReasonTime    Reason = "bad_time"    // timestamp missing or impossible
	ReasonRequest Reason = "bad_request" // request line / method / URI unusable
	ReasonStatus  Reason = "bad_status"  // status not a 3-digit number
	ReasonJSON    Reason = "bad_json"    // Caddy line not valid JSON or wrong shape
	// ReasonFutureTime is a line whose time the clock guard refused: too far
	// past the wall clock, or a jump the next lines did not confirm
	// (docs/rules.md rule 1). The parsers never return it.
	ReasonFutureTime Reason = "future_time"
)

// Reasons lists every Reason, for pre-registering metric series.
var Reasons = []Reason{ReasonEmpty, ReasonTooLong, ReasonBinary, ReasonSyntax, ReasonTime, ReasonRequest, ReasonStatus, ReasonJSON, ReasonFutureTime}

// Error is returned by Parse for a rejected line. Parsers return shared
// sentinel values, so rejecting a line does not allocate.
type Error struct{ Reason Reason }

// Error implements error.
func (e *Error) Error() string { return "access log line rejected: " + string(e.Reason) }

// Parser turns one line (without its trailing newline) into a Request.
type Parser interface {
	// Parse fills r from line. On error r is unspecified and the error is an *Error.
	Parse(line []byte, r *Request) error
	// Name is the format name: "combined", "main", "caddy", "auto" or "custom".
	Name() string
}
