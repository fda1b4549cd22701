package accesslog

import (
	"bytes"
	"strings"
	"time"
	"unicode/utf8"
)

// cfField is what a CloudFront column feeds into.
type cfField uint8

const (
	cfSkip cfField = iota
	cfDate
	cfTime
	cfTimestamp
	cfClientIP
	cfMethod
	cfDistHost // cs(Host): the distribution's domain name
	cfStem
	cfStatus
	cfReferer
	cfUserAgent
	cfQuery
	cfHostHeader // x-host-header: the Host the viewer asked for
	cfForwardedFor
	numCF
)

var cfColumns = map[string]cfField{
	"date":            cfDate,
	"time":            cfTime,
	"timestamp":       cfTimestamp,
	"c-ip":            cfClientIP,
	"cs-method":       cfMethod,
	"cs(Host)":        cfDistHost,
	"cs-uri-stem":     cfStem,
	"sc-status":       cfStatus,
	"cs(Referer)":     cfReferer,
	"cs(User-Agent)":  cfUserAgent,
	"cs-uri-query":    cfQuery,
	"x-host-header":   cfHostHeader,
	"x-forwarded-for": cfForwardedFor,
}

// cfStandard is the column order of CloudFront standard logs when no
// #Fields line says otherwise.
const cfStandard = "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status " +
	"cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id " +
	"x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher " +
	"x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port " +
	"time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end"

// cloudFrontParser reads CloudFront standard log records: tab-separated
// columns in the order of the last "#Fields:" line (the standard order until
// one is seen), date and time in UTC or a Unix timestamp, the user agent and
// referrer URL-encoded.
type cloudFrontParser struct {
	cols []cfField // column index -> field
	need int       // columns a record must have: the last wanted one + 1
	has  [numCF]bool

	uri, ua, ref []byte // scratch: stem?query, decoded user agent and referrer
}

func newCloudFront() *cloudFrontParser {
	p := &cloudFrontParser{}
	if !p.setColumns(strings.Fields(cfStandard)) {
		panic("accesslog: CloudFront standard columns unusable")
	}
	return p
}

// setColumns lays out the columns named; false (and no change) when they
// lack a time, the method, the path or the status.
func (p *cloudFrontParser) setColumns(names []string) bool {
	cols := make([]cfField, len(names))
	var has [numCF]bool
	need := 0
	for i, n := range names {
		f := cfColumns[n]
		if f == cfSkip || has[f] {
			continue
		}
		cols[i], has[f], need = f, true, i+1
	}
	if !(has[cfTimestamp] || has[cfDate] && has[cfTime]) || !has[cfMethod] || !has[cfStem] || !has[cfStatus] {
		return false
	}
	p.cols, p.has, p.need = cols, has, need
	return true
}

// Name implements Parser.
func (p *cloudFrontParser) Name() string { return "cloudfront" }

// Parse implements Parser.
func (p *cloudFrontParser) Parse(line []byte, r *Request) error {
	line, err := precheck(line)
	if err != nil {
		return err
	}
	return p.parse(line, r)
}

func (p *cloudFrontParser) parse(line []byte, r *Request) error {
	if line[0] == '#' {
		switch {
		case hasPrefix(line, "#Version:"):
			return ErrComment
		case hasPrefix(line, "#Fields:"):
			if !p.setColumns(strings.Fields(string(line[len("#Fields:"):]))) {
				return errSyntax
			}
			return ErrComment
		}
		return errSyntax
	}
	var v [numCF][]byte
	col := 0
	for rest := line; ; col++ {
		i := bytes.IndexByte(rest, '\t')
		end := i
		if i < 0 {
			end = len(rest)
		}
		if col < len(p.cols) {
			v[p.cols[col]] = rest[:end:end]
		}
		if i < 0 {
			break
		}
		rest = rest[i+1:]
	}
	if col+1 < p.need {
		return errSyntax
	}
	t, ok := p.time(&v)
	if !ok {
		return errTime
	}
	status, ok := parseStatus(v[cfStatus])
	if !ok {
		return errStatus
	}
	method, uri := v[cfMethod], v[cfStem]
	if q := dash(v[cfQuery]); len(q) > 0 {
		p.uri = append(append(append(p.uri[:0], uri...), '?'), q...)
		uri = p.uri[:len(p.uri):len(p.uri)]
	}
	if !validMethod(method) || !validTarget(method, uri) {
		return errRequest
	}
	p.ua = unescapeURL(p.ua[:0], dash(v[cfUserAgent]))
	p.ref = unescapeURL(p.ref[:0], dash(v[cfReferer]))
	if !text(p.ua) || !text(p.ref) {
		return errBinary
	}
	host := dash(v[cfHostHeader])
	if len(host) == 0 {
		host = dash(v[cfDistHost])
	}
	*r = Request{
		Time:         t,
		RemoteAddr:   dash(v[cfClientIP]),
		ForwardedFor: dash(v[cfForwardedFor]),
		Method:       method,
		URI:          uri,
		Status:       status,
		Referer:      p.ref[:len(p.ref):len(p.ref)],
		UserAgent:    p.ua[:len(p.ua):len(p.ua)],
		Host:         stripPort(host),
	}
	if len(r.Referer) == 0 {
		r.Referer = nil
	}
	if len(r.UserAgent) == 0 {
		r.UserAgent = nil
	}
	return nil
}

// time reads the record's time: the Unix timestamp column where there is
// one, else date ("2026-11-02") and time ("00:03:37"), both in UTC.
func (p *cloudFrontParser) time(v *[numCF][]byte) (t time.Time, ok bool) {
	if p.has[cfTimestamp] {
		return parseUnix(v[cfTimestamp])
	}
	d, c := v[cfDate], v[cfTime]
	if len(d) != 10 || d[4] != '-' || d[7] != '-' || len(c) != 8 || c[2] != ':' || c[5] != ':' {
		return time.Time{}, false
	}
	year, ok1 := num4(d[0:4])
	mon, ok2 := num2(d[5:7])
	day, ok3 := num2(d[8:10])
	hour, ok4 := num2(c[0:2])
	min, ok5 := num2(c[3:5])
	sec, ok6 := num2(c[6:8])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	return civil(year, time.Month(mon), day, hour, min, sec, 0, 0)
}

// unescapeURL appends b to dst with every %XX replaced by its byte; a '%'
// not followed by two hex digits stays as it is.
func unescapeURL(dst, b []byte) []byte {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '%' && i+2 < len(b) {
			if h, ok1 := unhex(b[i+1]); ok1 {
				if l, ok2 := unhex(b[i+2]); ok2 {
					dst = append(dst, h<<4|l)
					i += 2
					continue
				}
			}
		}
		dst = append(dst, c)
	}
	return dst
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// text reports whether a decoded value is still text: valid UTF-8 without
// control characters.
func text(b []byte) bool {
	for _, c := range b {
		if c < ' ' || c == 0x7f {
			return false
		}
	}
	return plainASCII(b) || utf8.Valid(b)
}
