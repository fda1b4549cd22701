package accesslog

// The validation and number and time readers every format's parser shares:
// small leaf functions, kept together so that every rule a line must pass
// is found in one file.

import (
	"bytes"
	"encoding/binary"
	"time"
	"unicode/utf8"
)

// precheck strips a trailing carriage return (CRLF files) and rejects blank
// lines and lines that are not text. Every Parse starts here.
func precheck(line []byte) ([]byte, error) {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if blank(line) {
		return nil, errEmpty
	}
	if !plainASCII(line) && !utf8Text(line) {
		return nil, errBinary
	}
	return line, nil
}

// utf8Text reports whether line, which is not plain ASCII, is text: valid
// UTF-8 without NUL bytes.
func utf8Text(line []byte) bool {
	return bytes.IndexByte(line, 0) < 0 && utf8.Valid(line)
}

// blank reports whether b holds nothing but spaces and tabs.
func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// dash maps nginx's "-" (no value) to empty.
func dash(b []byte) []byte {
	if len(b) == 1 && b[0] == '-' {
		return nil
	}
	return b
}

// parseStatus accepts exactly three digits in 100-599.
func parseStatus(b []byte) (int, bool) {
	if len(b) != 3 {
		return 0, false
	}
	x, y, z := b[0]-'0', b[1]-'0', b[2]-'0'
	if x > 9 || y > 9 || z > 9 {
		return 0, false
	}
	n := int(x)*100 + int(y)*10 + int(z)
	if n < 100 || n > 599 {
		return 0, false
	}
	return n, true
}

// splitRequest splits an HTTP request line "METHOD SP URI [SP PROTO]". The
// protocol is recognised by its "HTTP/" prefix; without one, everything after
// the method is the URI (HTTP/0.9, or a URI logged with a raw space).
func splitRequest(req []byte) (method, uri []byte, ok bool) {
	// A method is a few bytes: no call to bytes.IndexByte, and none of
	// indexFrom for the three of GET.
	sp := 3
	if !spaceAt3(req, 0) {
		if sp = indexFrom(req, 0, ' '); sp <= 0 {
			return nil, nil, false
		}
	}
	method, rest := req[:sp:sp], req[sp+1:]
	// The common ending, " HTTP/1.1": a space, "HTTP/" and three bytes
	// that are not spaces, so that space is the last one; the first eight
	// of those nine bytes are read as one word.
	if n := len(rest); n >= 9 {
		w := binary.LittleEndian.Uint64(rest[n-9:])
		if w&0xffffffffffff == ' '|'H'<<8|'T'<<16|'T'<<24|'P'<<32|'/'<<40 &&
			byte(w>>48) != ' ' && byte(w>>56) != ' ' && rest[n-1] != ' ' {
			return method, rest[: n-9 : n-9], true
		}
	}
	if last := bytes.LastIndexByte(rest, ' '); last >= 0 && hasPrefix(rest[last+1:], "HTTP/") {
		rest = rest[:last]
	}
	return method, rest[:len(rest):len(rest)], true
}

// validMethod accepts an upper-case token such as GET, PROPFIND or M-SEARCH.
func validMethod(m []byte) bool {
	if len(m) == 0 || len(m) > 32 || m[0] < 'A' || m[0] > 'Z' {
		return false
	}
	for _, c := range m[1:] {
		if (c < 'A' || c > 'Z') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// validTarget accepts the request target of method: an authority
// ("host:443") for CONNECT, else what validURI accepts.
func validTarget(method, u []byte) bool {
	if string(method) == "CONNECT" {
		return validAuthority(u)
	}
	return validURI(u)
}

// validAuthority accepts "host:port" as a CONNECT request names it: a host
// without '/' or spaces (a bracketed IPv6 address included) and a port of
// one to five digits.
func validAuthority(u []byte) bool {
	i := bytes.LastIndexByte(u, ':')
	if i <= 0 || len(u)-i-1 < 1 || len(u)-i-1 > 5 || !allDigits(u[i+1:]) {
		return false
	}
	for _, c := range u[:i] {
		if c <= ' ' || c == '/' || c == '"' {
			return false
		}
	}
	return true
}

// validURI accepts an origin-form URI ("/path?query"), an absolute http(s)
// URI, or "*".
func validURI(u []byte) bool {
	if len(u) == 0 {
		return false
	}
	switch u[0] {
	case '/':
		return true
	case '*':
		return len(u) == 1
	}
	return (len(u) > len("http://") && hasPrefixFold(u, "http://")) ||
		(len(u) > len("https://") && hasPrefixFold(u, "https://"))
}

// hasPrefix is bytes.HasPrefix for a string prefix, without conversion.
func hasPrefix(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == prefix
}

// hasPrefixFold is hasPrefix ignoring ASCII case.
func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && equalFold(b[:len(prefix)], prefix)
}

// equalFold reports whether b equals s ignoring ASCII case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// stripPort removes a ":port" suffix from a Host value, keeping the brackets
// of an IPv6 literal ("[::1]:8080" -> "[::1]"), so Caddy's request.host
// matches nginx's $host, which never carries a port.
func stripPort(h []byte) []byte {
	i := bytes.LastIndexByte(h, ':')
	if i < 0 || !allDigits(h[i+1:]) {
		return h
	}
	if h[0] == '[' {
		if i > 0 && h[i-1] == ']' {
			return h[:i:i]
		}
		return h
	}
	if bytes.IndexByte(h[:i], ':') >= 0 { // bare IPv6 address, no port
		return h
	}
	return h[:i:i]
}

// hostOnly returns the address part of "ip:port" or "[ipv6]:port".
func hostOnly(a []byte) []byte {
	a = stripPort(a)
	if n := len(a); n >= 2 && a[0] == '[' && a[n-1] == ']' {
		return a[1 : n-1 : n-1]
	}
	return a
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Time bounds: an access log has no events before the Unix epoch, and the
// counting keeps a time as int64 nanoseconds since it, which end on
// 2262-04-11: a later time would wrap around to another, plausible one
// (year 2610 to 2026), so a year after 2261 is an impossible time too. The
// last second of 2261 stays inside the range even 18 hours west of UTC.
const (
	minYear = 1970
	maxYear = 2261
	maxUnix = 9214646399   // 2261-12-31T23:59:59Z
	maxZone = 18 * 60 * 60 // largest zone offset accepted, in seconds
)

// num2 parses two ASCII digits.
func num2(b []byte) (int, bool) {
	x, y := b[0]-'0', b[1]-'0'
	if x > 9 || y > 9 {
		return 0, false
	}
	return int(x)*10 + int(y), true
}

// num4 parses four ASCII digits.
func num4(b []byte) (int, bool) {
	hi, ok1 := num2(b[0:2])
	lo, ok2 := num2(b[2:4])
	return hi*100 + lo, ok1 && ok2
}

// month parses an English three-letter month abbreviation as nginx writes it.
func month(b []byte) time.Month {
	switch string(b) {
	case "Jan":
		return time.January
	case "Feb":
		return time.February
	case "Mar":
		return time.March
	case "Apr":
		return time.April
	case "May":
		return time.May
	case "Jun":
		return time.June
	case "Jul":
		return time.July
	case "Aug":
		return time.August
	case "Sep":
		return time.September
	case "Oct":
		return time.October
	case "Nov":
		return time.November
	case "Dec":
		return time.December
	}
	return 0
}

func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// civil validates a wall-clock time with its zone offset (seconds east of
// UTC) and returns the instant in UTC. Impossible dates are rejected rather
// than normalised as time.Date would.
func civil(year int, mon time.Month, day, hour, min, sec, nsec, offset int) (time.Time, bool) {
	if year < minYear || year > maxYear || mon < time.January || mon > time.December ||
		day < 1 || day > daysIn(mon, year) || hour > 23 || min > 59 || sec > 59 ||
		offset < -maxZone || offset > maxZone {
		return time.Time{}, false
	}
	t := time.Date(year, mon, day, hour, min, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), true
}

// zone parses "+hhmm" or "+hh:mm" (sign required) into seconds east of UTC.
func zone(b []byte) (int, bool) {
	var hh, mm []byte
	switch {
	case len(b) == 5:
		hh, mm = b[1:3], b[3:5]
	case len(b) == 6 && b[3] == ':':
		hh, mm = b[1:3], b[4:6]
	default:
		return 0, false
	}
	if b[0] != '+' && b[0] != '-' {
		return 0, false
	}
	h, ok1 := num2(hh)
	m, ok2 := num2(mm)
	if !ok1 || !ok2 || m > 59 {
		return 0, false
	}
	off := h*3600 + m*60
	if b[0] == '-' {
		off = -off
	}
	return off, true
}

// parseTimeLocal parses nginx $time_local, "02/Nov/2026:00:03:37 +0000".
func parseTimeLocal(b []byte) (time.Time, bool) {
	if len(b) != 26 || b[2] != '/' || b[6] != '/' || b[11] != ':' || b[14] != ':' ||
		b[17] != ':' || b[20] != ' ' {
		return time.Time{}, false
	}
	day, ok1 := num2(b[0:2])
	year, ok2 := num4(b[7:11])
	hour, ok3 := num2(b[12:14])
	min, ok4 := num2(b[15:17])
	sec, ok5 := num2(b[18:20])
	off, ok6 := zone(b[21:26])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	return civil(year, month(b[3:6]), day, hour, min, sec, 0, off)
}

// parseISO8601 parses nginx $time_iso8601, "2026-11-02T00:03:37+00:00". It
// also accepts RFC 3339 forms: fractional seconds, "Z", and "+hhmm".
func parseISO8601(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't') ||
		b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := num4(b[0:4])
	mon, ok2 := num2(b[5:7])
	day, ok3 := num2(b[8:10])
	hour, ok4 := num2(b[11:13])
	min, ok5 := num2(b[14:16])
	sec, ok6 := num2(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	rest := b[19:]
	nsec := 0
	if rest[0] == '.' {
		i := 1
		for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
			if i <= 9 {
				nsec = nsec*10 + int(rest[i]-'0')
			}
		}
		if i == 1 {
			return time.Time{}, false
		}
		for d := i - 1; d < 9; d++ {
			nsec *= 10
		}
		rest = rest[i:]
	}
	off := 0 // "Z"
	if len(rest) != 1 || (rest[0] != 'Z' && rest[0] != 'z') {
		var ok bool
		if off, ok = zone(rest); !ok {
			return time.Time{}, false
		}
	}
	return civil(year, time.Month(mon), day, hour, min, sec, nsec, off)
}

var pow10 = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// parseUnix parses Unix seconds written as a decimal, with an optional
// fraction and exponent: nginx $msec ("1793579376.421") and Caddy's ts. It
// works in integers, so "1793579376.421" is exactly 421 ms (a float64 would
// give 420.999...). Times before 1970-01-01T00:00:01Z or after year 2261 are
// rejected.
func parseUnix(b []byte) (time.Time, bool) {
	var mant uint64 // significant digits, at most 19 of them
	nd, exp, i := 0, 0, 0
	digits := func(frac bool) int {
		start := i
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			switch {
			case nd < 19:
				mant = mant*10 + uint64(b[i]-'0')
				if mant > 0 {
					nd++
				}
				if frac {
					exp--
				}
			case !frac:
				exp++ // integer digit beyond the precision kept
			}
		}
		return i - start
	}
	if digits(false) == 0 {
		return time.Time{}, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits(true) == 0 {
			return time.Time{}, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		neg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			neg = b[i] == '-'
			i++
		}
		start, e := i, 0
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if e < 10000 {
				e = e*10 + int(b[i]-'0')
			}
		}
		if i == start {
			return time.Time{}, false
		}
		if neg {
			e = -e
		}
		exp += e
	}
	if i != len(b) {
		return time.Time{}, false
	}
	var sec, nsec uint64
	switch {
	case exp >= 0:
		if exp > 11 || mant > maxUnix/pow10[exp] {
			return time.Time{}, false
		}
		sec = mant * pow10[exp]
	case -exp <= 19:
		k := -exp
		sec, nsec = mant/pow10[k], mant%pow10[k]
		if k <= 9 {
			nsec *= pow10[9-k]
		} else {
			nsec /= pow10[k-9]
		}
	default: // below one second
		sec = 0
	}
	if sec < 1 || sec > maxUnix {
		return time.Time{}, false
	}
	return time.Unix(int64(sec), int64(nsec)).UTC(), true
}
