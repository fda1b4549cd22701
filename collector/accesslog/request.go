// Package accesslog parses one access-log line (nginx log_format or Caddy JSON)
// into a Request, without regular expressions or allocation per line.
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
)

// Reasons lists every Reason, for pre-registering metric series.
var Reasons = []Reason{ReasonEmpty, ReasonTooLong, ReasonBinary, ReasonSyntax, ReasonTime, ReasonRequest, ReasonStatus, ReasonJSON}

// Error is returned by Parse for a rejected line. Parsers return shared
// sentinel values, so rejecting a line does not allocate.
type Error struct{ Reason Reason }

func (e *Error) Error() string { return "access log line rejected: " + string(e.Reason) }

// Parser turns one line (without its trailing newline) into a Request.
type Parser interface {
	// Parse fills r from line. On error r is unspecified and the error is an *Error.
	Parse(line []byte, r *Request) error
	// Name is the format name: "combined", "main", "caddy", "auto" or "custom".
	Name() string
}
