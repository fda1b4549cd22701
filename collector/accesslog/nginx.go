package accesslog

// The log_format compiler and the matcher it drives share the plan and values
// layouts; one file, rather than internals passed between several.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// field is what a log_format variable feeds into.
type field uint8

const (
	fSkip field = iota // understood or unknown, but not part of a Request
	fRemoteAddr
	fTimeLocal
	fTimeISO
	fMsec
	fRequest
	fMethod
	fRequestURI
	fURI
	fArgs
	fStatus
	fReferer
	fUserAgent
	fForwardedFor
	fHost
	fServerName
	numFields
)

// variables maps the nginx variables this package understands to their field.
// Any other variable is matched like these but its value is not kept.
var variables = map[string]field{
	"remote_addr":            fRemoteAddr,
	"remote_user":            fSkip,
	"time_local":             fTimeLocal,
	"time_iso8601":           fTimeISO,
	"msec":                   fMsec,
	"request":                fRequest,
	"request_method":         fMethod,
	"request_uri":            fRequestURI,
	"uri":                    fURI,
	"document_uri":           fURI,
	"args":                   fArgs,
	"query_string":           fArgs,
	"status":                 fStatus,
	"body_bytes_sent":        fSkip,
	"bytes_sent":             fSkip,
	"http_referer":           fReferer,
	"http_user_agent":        fUserAgent,
	"http_x_forwarded_for":   fForwardedFor,
	"host":                   fHost,
	"server_name":            fServerName,
	"request_time":           fSkip,
	"upstream_response_time": fSkip,
}

// segment is one variable of a compiled format and the literal text that
// follows it. The variable's value ends at the first occurrence of the
// literal's first byte, or at the end of the line when the literal is empty,
// which only the last segment's can be. nginx escapes '"' inside values, so a
// quoted value ends at the right quote; a quote escaped with a backslash
// (escape=json) does not end it.
type segment struct {
	f    field
	name string // as written, for error messages
	lit  []byte
	// pastSpace makes the value extend past its first space before looking
	// for the literal: $time_local contains one ("02/Nov/2026:00:03:37 +0000")
	// and may be followed by a space-led literal.
	pastSpace bool
	// long marks the values that run to tens or hundreds of bytes (request,
	// URI, referrer, user agent): they are scanned with bytes.IndexByte,
	// the others word by word (indexFrom).
	long bool
}

// longField reports whether values of f are long enough for
// bytes.IndexByte to pay.
func longField(f field) bool {
	switch f {
	case fRequest, fRequestURI, fURI, fArgs, fReferer, fUserAgent:
		return true
	}
	return false
}

// plan is a compiled nginx log_format: a leading literal, then segments.
type plan struct {
	prefix []byte
	segs   []segment
	has    [numFields]bool
	time   field // the time variable used: fMsec, fTimeISO or fTimeLocal
	// combined: the plan starts with combinedLayout, matched by
	// matchCombined.
	combined bool
}

// compile turns an nginx log_format string into a plan, or explains why it
// cannot describe a usable access log.
func compile(format string) (*plan, error) {
	bad := func(msg string, args ...any) error {
		return fmt.Errorf("nginx log_format %q: %s", format, fmt.Sprintf(msg, args...))
	}
	format = strings.TrimRight(format, "\r\n")
	if strings.HasPrefix(format, "'") {
		return nil, bad("starts with a quote: give the text nginx writes, without nginx.conf's quoting")
	}
	if strings.ContainsAny(format, "\r\n") {
		return nil, bad("contains a line break")
	}
	pl := &plan{}
	var lit []byte
	for i := 0; i < len(format); {
		if format[i] != '$' {
			lit = append(lit, format[i])
			i++
			continue
		}
		name, n := varName(format[i:])
		if n == 0 {
			return nil, bad("invalid variable name at byte %d", i)
		}
		if len(pl.segs) == 0 {
			pl.prefix = lit
		} else {
			prev := &pl.segs[len(pl.segs)-1]
			if len(lit) == 0 {
				return nil, bad("$%s is followed directly by $%s: put a separator between them", prev.name, name)
			}
			prev.lit = lit
		}
		lit = nil
		pl.segs = append(pl.segs, segment{f: variables[name], name: name})
		i += n
	}
	if len(pl.segs) == 0 {
		return nil, bad("no variables")
	}
	pl.segs[len(pl.segs)-1].lit = lit
	for k := range pl.segs {
		s := &pl.segs[k]
		s.pastSpace = s.f == fTimeLocal && len(s.lit) > 0 && s.lit[0] == ' '
		s.long = longField(s.f)
		pl.has[s.f] = true
	}

	switch {
	case pl.has[fMsec]: // the most precise and zone-free
		pl.time = fMsec
	case pl.has[fTimeISO]:
		pl.time = fTimeISO
	case pl.has[fTimeLocal]:
		pl.time = fTimeLocal
	default:
		return nil, bad("no time variable: want $time_local, $time_iso8601 or $msec")
	}
	pl.combined = pl.startsCombined()
	if !pl.has[fStatus] {
		return nil, bad("no $status variable")
	}
	hasURI := pl.has[fRequestURI] || pl.has[fURI]
	switch {
	case pl.has[fRequest]:
	case pl.has[fMethod] && !hasURI:
		return nil, bad("has $request_method but no $request_uri or $uri")
	case !pl.has[fMethod] && hasURI:
		return nil, bad("has $request_uri or $uri but no $request_method")
	case !pl.has[fMethod]:
		return nil, bad("no request variable: want $request, or $request_method with $request_uri or $uri")
	}
	return pl, nil
}

// varName reads the variable at the start of s ("$name" or "${name}") and
// returns its name and length in s, or n == 0 if it is not a valid one.
func varName(s string) (name string, n int) {
	if len(s) > 1 && s[1] == '{' {
		end := strings.IndexByte(s, '}')
		if end < 3 || !isName(s[2:end]) {
			return "", 0
		}
		return s[2:end], end + 1
	}
	i := 1
	for i < len(s) && isNameByte(s[i]) {
		i++
	}
	if i == 1 {
		return "", 0
	}
	return s[1:i], i
}

func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return true
}

func isNameByte(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// span is where a value lies in its line: line[lo:end-1]. The zero span,
// end 0, is a value the line does not have.
type span struct{ lo, end int }

// at returns the span of line[lo:hi].
func at(lo, hi int) span { return span{lo, hi + 1} }

// values are the spans of a line's values, by field: offsets, so that
// matching a line stores no pointers and clears a few words.
type values [numFields]span

// get returns the value of f in line, nil when the line has none.
func (v *values) get(line []byte, f field) []byte {
	s := v[f]
	if s.end == 0 {
		return nil
	}
	return line[s.lo : s.end-1 : s.end-1]
}

// match splits line by the plan into v and returns the offset just past the
// last segment's literal. A plan that starts with the combined layout has
// its first segments matched by matchCombined, the rest by the loop; m is
// then the line's quote mask (scanLine).
func (pl *plan) match(line []byte, m []uint64, v *values) (int, bool) {
	if pl.combined {
		var c combinedSpans
		pos, ok := matchCombined(line, nil, m, &c)
		if !ok {
			return 0, false
		}
		v[fRemoteAddr] = at(0, c.addr)
		v[fTimeLocal] = at(c.time, c.timeEnd)
		v[fRequest] = at(c.req, c.reqEnd)
		v[fStatus] = at(c.status, c.statusEnd)
		v[fSkip] = at(c.size, c.sizeEnd)
		v[fReferer] = at(c.ref, c.refEnd)
		return pl.matchFrom(line, pos, combinedSegs, v)
	}
	return pl.matchGeneric(line, v)
}

// matchGeneric is match by the loop alone, whatever the layout.
func (pl *plan) matchGeneric(line []byte, v *values) (int, bool) {
	pos := len(pl.prefix)
	if len(line) < pos || string(line[:pos]) != string(pl.prefix) {
		return 0, false
	}
	return pl.matchFrom(line, pos, 0, v)
}

// matchFrom matches the segments from the k-th on, the first of them at pos.
func (pl *plan) matchFrom(line []byte, pos, k int, v *values) (int, bool) {
	segs := pl.segs // stores to v could be to pl, for all the compiler knows
	for ; k < len(segs); k++ {
		s := &segs[k]
		end := len(line)
		if lit := s.lit; len(lit) > 0 {
			from := pos
			if s.pastSpace {
				if from = indexFrom(line, pos, ' '); from < 0 {
					return 0, false
				}
				from++
			}
			c := lit[0]
			switch {
			case c == '"':
				end = quoteEnd(line, pos, from)
			case s.long:
				if end = bytes.IndexByte(line[from:], c); end >= 0 {
					end += from
				}
			default:
				end = indexFrom(line, from, c)
			}
			if end < 0 {
				return 0, false
			}
			// The literal's first byte is at end; compare the rest (a
			// literal is a few bytes: a loop beats a call to memequal).
			if len(line)-end < len(lit) {
				return 0, false
			}
			for i := 1; i < len(lit); i++ {
				if line[end+i] != lit[i] {
					return 0, false
				}
			}
		}
		v[s.f] = at(pos, end)
		pos = end + len(s.lit)
	}
	return pos, true
}

// quoteEnd returns the index of the first '"' at or after from that ends a
// value starting at pos (one not escaped by a backslash), or -1. It is
// small enough to inline; quotes after a backslash go to quoteEndEscaped.
func quoteEnd(line []byte, pos, from int) int {
	j := bytes.IndexByte(line[from:], '"')
	if j < 0 {
		return -1
	}
	if end := from + j; end == pos || line[end-1] != '\\' {
		return end
	}
	return quoteEndEscaped(line, pos, from+j)
}

// quoteEndEscaped is quoteEnd from a quote at end that follows a backslash.
func quoteEndEscaped(line []byte, pos, end int) int {
	for escaped(line[pos:end]) {
		j := bytes.IndexByte(line[end+1:], '"')
		if j < 0 {
			return -1
		}
		end += 1 + j
	}
	return end
}

// combinedLayout is how the combined format starts, segment by segment:
// what the variable feeds and the literal after it. Every format that
// begins so, with nothing before $remote_addr (combined, main, sessions,
// traefik, ingress-nginx and log_format strings written like them), has
// these segments matched by matchCombined.
var combinedLayout = [...]struct {
	f   field
	lit string
}{
	{fRemoteAddr, " - "},
	{fSkip, " ["},
	{fTimeLocal, `] "`},
	{fRequest, `" `},
	{fStatus, " "},
	{fSkip, ` "`},
	{fReferer, `" "`},
}

// combinedSegs is the number of segments matchCombined matches.
const combinedSegs = len(combinedLayout)

// startsCombined reports whether pl begins with combinedLayout.
func (pl *plan) startsCombined() bool {
	if len(pl.prefix) != 0 || len(pl.segs) <= combinedSegs {
		return false
	}
	for k, c := range combinedLayout {
		if s := pl.segs[k]; s.f != c.f || string(s.lit) != c.lit {
			return false
		}
	}
	return true
}

// combinedSpans are the values matchCombined finds, as offsets in the
// line: $remote_addr is line[:addr], $time_local line[time:timeEnd], and so
// on ($remote_user is matched but not kept).
type combinedSpans struct {
	addr, time, timeEnd, req, reqEnd, status, statusEnd, size, sizeEnd, ref, refEnd int
	last                                                                            bool // $time_local is the stamp given as the last one
}

// combinedValues are what finishCombined reads: the spans matchCombined
// found and the quoted values after them.
type combinedValues struct {
	combinedSpans
	agent, forwarded, host []byte
}

// matchCombined is matchFrom for the segments of combinedLayout, written
// out: the same scans, in the same order, with the literals as constants,
// so it fails on the same lines and finds the same values. It returns the
// offset of the user agent, just past the referrer's closing `" "`.
// TestMatchCombined and FuzzMatchCombined hold it to the loop.
//
// last, if not nil, is the last time stamp that parsed: c.last tells that
// the line's is the same. m is the line's quote mask (scanLine), which
// finds the quotes that bytes.IndexByte would.
func matchCombined(line []byte, last *[26]byte, m []uint64, c *combinedSpans) (int, bool) {
	// $remote_addr " - "
	e := indexFrom(line, 0, ' ')
	if e < 0 || !has2(line, e+1, '-', ' ') {
		return 0, false
	}
	c.addr = e
	pos := e + 3
	// $remote_user " [", most often "-".
	if has2(line, pos, '-', ' ') {
		e = pos + 1
	} else if e = indexFrom(line, pos, ' '); e < 0 {
		return 0, false
	}
	if !has1(line, e+1, '[') {
		return 0, false
	}
	pos = e + 2
	// $time_local `] "`. When the stamp is last, the one before (valid,
	// so without ']'), and ']' follows it, the scan would end there.
	if last != nil && has1(line, pos+26, ']') && sameStamp(line[pos:pos+26], last) {
		e, c.last = pos+26, true
	} else if e = indexFrom(line, pos, ']'); e < 0 {
		return 0, false
	}
	if !has2(line, e+1, ' ', '"') {
		return 0, false
	}
	c.time, c.timeEnd = pos, e
	pos = e + 3
	// "$request" `" ` (quoteEnd, written out: it is too big to inline)
	if e = quoteFrom(m, pos); e < 0 {
		return 0, false
	}
	if e > pos && line[e-1] == '\\' {
		if e = quoteEndEscaped(line, pos, e); e < 0 {
			return 0, false
		}
	}
	if !has1(line, e+1, ' ') {
		return 0, false
	}
	c.req, c.reqEnd = pos, e
	pos = e + 2
	// $status " ", three digits as a rule
	if e = pos + 3; !spaceAt3(line, pos) {
		if e = indexFrom(line, pos, ' '); e < 0 {
			return 0, false
		}
	}
	c.status, c.statusEnd = pos, e
	pos = e + 1
	// $body_bytes_sent ` "`
	if e = indexFrom(line, pos, ' '); e < 0 || !has1(line, e+1, '"') {
		return 0, false
	}
	c.size, c.sizeEnd = pos, e
	pos = e + 2
	// "$http_referer" `" "`, often "-"
	if has2(line, pos, '-', '"') {
		e = pos + 1
	} else if e = quoteFrom(m, pos); e < 0 {
		return 0, false
	} else if e > pos && line[e-1] == '\\' {
		if e = quoteEndEscaped(line, pos, e); e < 0 {
			return 0, false
		}
	}
	if !has2(line, e+1, ' ', '"') {
		return 0, false
	}
	c.ref, c.refEnd = pos, e
	return e + 3, true
}

// has1 reports whether line[i] is c, i in the line or not; has2 whether
// line[i:i+2] is a then b. Their bounds checks are the ones that spare the
// reads theirs.
func has1(line []byte, i int, c byte) bool {
	return uint(i) < uint(len(line)) && line[i] == c
}

func has2(line []byte, i int, a, b byte) bool {
	return i >= 0 && i <= len(line)-2 && uint16(line[i])|uint16(line[i+1])<<8 == uint16(a)|uint16(b)<<8
}

// spaceAt3 reports whether the first space at or after i is at i+3, read
// as one word: in x, the four bytes XOR spaces, a byte is zero exactly
// where there is a space, and z flags those bytes exactly (as in
// quoteBits): only the fourth.
func spaceAt3(line []byte, i int) bool {
	if i < 0 || i > len(line)-4 {
		return false
	}
	x := (uint32(line[i]) | uint32(line[i+1])<<8 | uint32(line[i+2])<<16 | uint32(line[i+3])<<24) ^ 0x20202020
	z := ^(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x) & 0x80808080
	return z == 0x80000000
}

// quotedTail reports whether pl is the combined layout followed by quoted
// values alone: the user agent, then any of X-Forwarded-For, the host and
// values not kept, each ` "$value"`, the last one ending the line
// (combined, main, sessions), and returns the fields after the user agent.
func (pl *plan) quotedTail() ([]field, bool) {
	if !pl.combined || pl.segs[combinedSegs].f != fUserAgent {
		return nil, false
	}
	var fields []field
	for k := combinedSegs; k < len(pl.segs); k++ {
		s := pl.segs[k]
		switch {
		case k > combinedSegs && s.f != fForwardedFor && s.f != fHost && s.f != fSkip:
			return nil, false
		case k < len(pl.segs)-1 && string(s.lit) != `" "`, k == len(pl.segs)-1 && string(s.lit) != `"`:
			return nil, false
		}
		if k > combinedSegs {
			fields = append(fields, s.f)
		}
	}
	return fields, true
}

// parseCombined is Parse for a parser whose plan quotedTail accepts, with
// no tail to check: match and finish for that layout, reading the values
// from where matchCombined found them. TestParseCombined and
// FuzzParseCombined hold it to the general path.
//
// It is p.precheck written out for the lines of 16 bytes or more, with the
// blank check moved to where the match fails: a blank line is ASCII and
// never matches, so it is rejected as empty all the same.
func (p *nginxParser) parseCombined(line []byte, r *Request) error {
	n := len(line)
	if n > 0 && line[n-1] == '\r' {
		n--
		line = line[:n]
	}
	var m []uint64
	if n < minVector {
		var err error
		if m, err = p.scan(line); err != nil {
			return err
		}
	} else {
		w := maskWords(n)
		if cap(p.quotes) < w {
			p.quotes = make([]uint64, w)
		}
		m = p.quotes[:w]
		if !scanQuotes(line, &m[0]) && !utf8Text(line) {
			return errBinary
		}
	}
	var c combinedValues
	pos, ok := matchCombined(line, p.lastStamp(), m, &c.combinedSpans)
	if !ok {
		if blank(line) {
			return errEmpty
		}
		return errSyntax
	}
	// "$http_user_agent", then any other quoted values; the last one's
	// quote ends the line.
	end := quoteFrom(m, pos)
	if end < 0 {
		return errSyntax
	}
	if end > pos && line[end-1] == '\\' {
		if end = quoteEndEscaped(line, pos, end); end < 0 {
			return errSyntax
		}
	}
	c.agent = line[pos:end:end]
	if len(p.after) > 0 {
		if end = p.afterAgent(line, m, end, &c); end < 0 {
			return errSyntax
		}
	}
	if end != n-1 {
		return errSyntax
	}
	return p.finishCombined(line, &c, r)
}

// afterAgent reads the quoted values after the user agent, whose closing
// quote is at end, into c, and returns the offset of the last one's
// closing quote, or -1.
func (p *nginxParser) afterAgent(line []byte, m []uint64, end int, c *combinedValues) int {
	n := len(line)
	for _, f := range p.after {
		if n-end < 3 || line[end+1] != ' ' || line[end+2] != '"' {
			return -1
		}
		pos := end + 3
		if end = quoteFrom(m, pos); end < 0 {
			return -1
		}
		if end > pos && line[end-1] == '\\' {
			if end = quoteEndEscaped(line, pos, end); end < 0 {
				return -1
			}
		}
		switch f {
		case fForwardedFor:
			c.forwarded = line[pos:end:end]
		case fHost:
			c.host = line[pos:end:end]
		}
	}
	return end
}

// precheck is the package's precheck with the text check made by
// scanLine, which also gives the line's quote mask, held in p.quotes until
// the next line.
func (p *nginxParser) precheck(line []byte) ([]byte, []uint64, error) {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	m, err := p.scan(line)
	return line, m, err
}

// scan is precheck for a line without its carriage return.
func (p *nginxParser) scan(line []byte) ([]uint64, error) {
	if blank(line) {
		return nil, errEmpty
	}
	w := maskWords(len(line))
	if cap(p.quotes) < w {
		p.quotes = make([]uint64, w)
	}
	m := p.quotes[:w]
	if !scanLine(line, m) && !utf8Text(line) {
		return nil, errBinary
	}
	return m, nil
}

// lastStamp returns the last time stamp that parsed, for matchCombined, or
// nil if none has.
func (p *nginxParser) lastStamp() *[26]byte {
	if p.lastOK {
		return &p.lastLocal
	}
	return nil
}

// finishCombined is finish for the values matchCombined found and the
// quoted ones after them, in c.
func (p *nginxParser) finishCombined(line []byte, c *combinedValues, r *Request) error {
	t, ok := p.lastTime, true
	if !c.last {
		if t, ok = p.timeLocal(line[c.time:c.timeEnd:c.timeEnd]); !ok {
			return errTime
		}
	}
	status, ok := parseStatus(line[c.status:c.statusEnd])
	if !ok {
		return errStatus
	}
	method, uri, ok := splitRequest(line[c.req:c.reqEnd:c.reqEnd])
	// validMethod and validTarget, with their common cases first: GET, and
	// a path for any method but CONNECT.
	if !ok || string(method) != "GET" && !validMethod(method) ||
		!(len(uri) > 0 && uri[0] == '/' && string(method) != "CONNECT") && !validTarget(method, uri) {
		return errRequest
	}
	r.Time = t
	r.RemoteAddr = dash(line[:c.addr:c.addr])
	r.ClientIP = nil
	r.ForwardedFor = dash(c.forwarded)
	r.Method = method
	r.URI = uri
	r.Status = status
	r.Referer = dash(line[c.ref:c.refEnd:c.refEnd])
	r.UserAgent = dash(c.agent)
	r.Host = dash(c.host)
	r.NoUserAgent = false
	return nil
}

// escaped reports whether v ends in an odd number of backslashes, so that a
// quote after it is part of the value: escape=json writes \" and \\ (as
// Apache does), while escape=default never leaves a raw backslash.
func escaped(v []byte) bool {
	n := 0
	for i := len(v) - 1; i >= 0 && v[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// nginxParser parses lines of one compiled log_format.
type nginxParser struct {
	name string
	plan *plan
	uri  []byte // scratch for $uri?$args
	// noAgent: the format has no user agent (the common log format).
	noAgent bool
	// tail, when set, checks what follows the plan instead of requiring
	// the line to end there.
	tail func([]byte) bool
	// oneFunc: the format is one quotedTail accepts, parsed by
	// parseCombined; after are the fields of the quoted values that follow
	// the user agent.
	oneFunc bool
	after   []field
	// sizeLast: the line ends in $body_bytes_sent, the last value not
	// kept, which must be a number or "-" (the common log format, where a
	// combined line would otherwise pass with its agent in the size).
	sizeLast bool

	// The previous $time_local and what it parsed to: lines of a busy log
	// share their second.
	lastLocal [26]byte
	lastTime  time.Time
	lastOK    bool
	// The quote mask of the line being parsed, and room for more.
	quotes []uint64
	// The last day and zone that parsed ("02/Nov/2026" and " +0000"), and
	// the Unix time of that day's 00:00:00 in that zone.
	day      [17]byte
	midnight int64
	dayOK    bool
}

// Name implements Parser.
func (p *nginxParser) Name() string { return p.name }

// Parse implements Parser.
func (p *nginxParser) Parse(line []byte, r *Request) error {
	if p.oneFunc {
		return p.parseCombined(line, r)
	}
	line, m, err := p.precheck(line)
	if err != nil {
		return err
	}
	var v values
	pos, ok := p.plan.match(line, m, &v)
	if !ok {
		return errSyntax
	}
	if p.tail != nil {
		if !p.tail(line[pos:]) {
			return errSyntax
		}
	} else if pos != len(line) {
		return errSyntax
	}
	if p.sizeLast && !size(v.get(line, fSkip)) {
		return errSyntax
	}
	return p.finish(line, &v, r)
}

// finish validates the matched values and fills r.
func (p *nginxParser) finish(line []byte, v *values, r *Request) error {
	pl := p.plan
	var t time.Time
	var ok bool
	switch pl.time {
	case fMsec:
		t, ok = parseUnix(v.get(line, fMsec))
	case fTimeISO:
		t, ok = parseISO8601(v.get(line, fTimeISO))
	default:
		t, ok = p.timeLocal(v.get(line, fTimeLocal))
	}
	if !ok {
		return errTime
	}
	status, ok := parseStatus(v.get(line, fStatus))
	if !ok {
		return errStatus
	}

	// The URI as requested: $request_uri, else $request's, else $uri?$args
	// ($uri is decoded and changes with internal rewrites).
	var method, uri []byte
	if pl.has[fRequest] {
		if method, uri, ok = splitRequest(v.get(line, fRequest)); !ok {
			return errRequest
		}
	}
	if pl.has[fMethod] {
		method = v.get(line, fMethod)
	}
	switch {
	case pl.has[fRequestURI]:
		uri = v.get(line, fRequestURI)
	case pl.has[fRequest]:
	case pl.has[fURI]:
		uri = v.get(line, fURI)
		if args := dash(v.get(line, fArgs)); len(args) > 0 {
			p.uri = append(append(append(p.uri[:0], uri...), '?'), args...)
			uri = p.uri[:len(p.uri):len(p.uri)]
		}
	}
	if !validMethod(method) ||
		!(len(uri) > 0 && uri[0] == '/' && string(method) != "CONNECT") && !validTarget(method, uri) {
		return errRequest
	}

	host := dash(v.get(line, fHost))
	if len(host) == 0 {
		host = dash(v.get(line, fServerName))
	}
	// Field by field, every field: a composite literal would be built on
	// the stack and copied.
	r.Time = t
	r.RemoteAddr = dash(v.get(line, fRemoteAddr))
	r.ClientIP = nil
	r.ForwardedFor = dash(v.get(line, fForwardedFor))
	r.Method = method
	r.URI = uri
	r.Status = status
	r.Referer = dash(v.get(line, fReferer))
	r.UserAgent = dash(v.get(line, fUserAgent))
	r.Host = host
	r.NoUserAgent = p.noAgent
	return nil
}

// ingressTail checks what follows "$http_user_agent" in ingress-nginx's
// upstreaminfo format: ` $request_length $request_time [$proxy_upstream_name]
// [$proxy_alternative_upstream_name] ` and the upstream fields, which may
// hold several comma-separated values each and are not read.
func ingressTail(t []byte) bool {
	if len(t) < 2 || t[0] != ' ' {
		return false
	}
	t = t[1:]
	i := bytes.IndexByte(t, ' ')
	if i <= 0 || !allDigits(t[:i]) {
		return false
	}
	t = t[i+1:]
	i = bytes.IndexByte(t, ' ')
	if i <= 0 || !decimal(t[:i]) {
		return false
	}
	t = t[i+1:]
	for k := 0; k < 2; k++ {
		if len(t) == 0 || t[0] != '[' {
			return false
		}
		i = bytes.IndexByte(t, ']')
		if i < 0 || len(t) < i+3 || t[i+1] != ' ' {
			return false
		}
		t = t[i+2:]
	}
	return true
}

// size accepts a byte count: digits, or "-".
func size(b []byte) bool {
	return len(b) > 0 && (allDigits(b) || len(b) == 1 && b[0] == '-')
}

// decimal accepts digits with at most one '.', as $request_time is written.
func decimal(b []byte) bool {
	dot := false
	for i, c := range b {
		switch {
		case c == '.' && !dot && i > 0 && i < len(b)-1:
			dot = true
		case c < '0' || c > '9':
			return false
		}
	}
	return len(b) > 0
}

// timeLocal is parseTimeLocal, remembering what parsed before: the last
// time stamp and its time (lines of a busy log share their second), and the
// last day with its zone and the instant its midnight stands for (lines of
// one day differ only in the clock), so a new second costs three two-digit
// numbers, not a calendar computation. Either way the result is exactly
// parseTimeLocal's.
func (p *nginxParser) timeLocal(b []byte) (time.Time, bool) {
	if len(b) != 26 {
		return parseTimeLocal(b) // rejected: only 26 bytes parse
	}
	if p.lastOK && sameStamp(b, &p.lastLocal) {
		return p.lastTime, true
	}
	if p.dayOK && string(b[:11]) == string(p.day[:11]) && string(b[20:]) == string(p.day[11:]) &&
		b[11] == ':' && b[14] == ':' && b[17] == ':' {
		hour, ok1 := num2(b[12:14])
		min, ok2 := num2(b[15:17])
		sec, ok3 := num2(b[18:20])
		if ok1 && ok2 && ok3 && hour <= 23 && min <= 59 && sec <= 59 {
			t := time.Unix(p.midnight+int64(hour*3600+min*60+sec), 0).UTC()
			p.remember(b, t)
			return t, true
		}
	}
	t, ok := parseTimeLocal(b)
	if ok {
		p.remember(b, t)
		// parseTimeLocal checked the clock fields: they are digits.
		clock := int64(b[12]-'0')*36000 + int64(b[13]-'0')*3600 + int64(b[15]-'0')*600 +
			int64(b[16]-'0')*60 + int64(b[18]-'0')*10 + int64(b[19]-'0')
		copy(p.day[:11], b[:11])
		copy(p.day[11:], b[20:])
		p.midnight = t.Unix() - clock
		p.dayOK = true
	}
	return t, ok
}

// remember keeps b and the time it parsed to.
func (p *nginxParser) remember(b []byte, t time.Time) {
	copy(p.lastLocal[:], b)
	p.lastTime, p.lastOK = t, true
}

// sameStamp compares a 26-byte time stamp with the remembered one in four
// loads.
func sameStamp(b []byte, last *[26]byte) bool {
	_ = b[25]
	return binary.LittleEndian.Uint64(b) == binary.LittleEndian.Uint64(last[:]) &&
		binary.LittleEndian.Uint64(b[8:]) == binary.LittleEndian.Uint64(last[8:]) &&
		binary.LittleEndian.Uint64(b[16:]) == binary.LittleEndian.Uint64(last[16:]) &&
		binary.LittleEndian.Uint16(b[24:]) == binary.LittleEndian.Uint16(last[24:])
}
