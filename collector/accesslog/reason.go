package accesslog

import "errors"

// Shared rejection errors, one per Reason. Parsers return these values so that
// rejecting a line does not allocate.
var (
	errEmpty   error = &Error{Reason: ReasonEmpty}
	errBinary  error = &Error{Reason: ReasonBinary}
	errSyntax  error = &Error{Reason: ReasonSyntax}
	errTime    error = &Error{Reason: ReasonTime}
	errRequest error = &Error{Reason: ReasonRequest}
	errStatus  error = &Error{Reason: ReasonStatus}
	errJSON    error = &Error{Reason: ReasonJSON}
)

// ReasonOf returns the Reason carried by err (which may wrap an *Error), or ""
// when err is nil or carries none. It does not allocate for the errors Parse
// returns.
func ReasonOf(err error) Reason {
	if e, ok := err.(*Error); ok {
		if e == nil {
			return ""
		}
		return e.Reason
	}
	var e *Error
	if errors.As(err, &e) && e != nil {
		return e.Reason
	}
	return ""
}

// ErrComment is what Parse returns for a line that holds no request by the
// format's design, such as CloudFront's "#Version:" and "#Fields:" header
// lines. Such a line is read but neither counted as a request nor rejected.
// It carries no Reason.
var ErrComment = errors.New("access log line is a header comment")
