package accesslog

// Caddy's JSON log: the parser and the small JSON scanner under it, which only
// this format (and the Docker reader's unescaping) uses.

import (
	"bytes"
	"encoding/binary"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Slots for the Caddy string values kept, each with its own decode buffer.
const (
	slotRemoteIP = iota
	slotRemoteAddr
	slotClientIP
	slotMethod
	slotHost
	slotURI
	slotUserAgent
	slotReferer
	slotForwardedFor
	numSlots
)

// State of ts or status while scanning a Caddy line.
const (
	valMissing uint8 = iota
	valOK
	valBad   // right type, impossible value
	valShape // wrong JSON type
)

// caddyParser parses Caddy's JSON access log with a hand-written scanner: it
// validates the whole line as JSON, decodes only the strings it keeps, and
// skips everything else.
type caddyParser struct {
	buf [numSlots][]byte // decoded values of escaped strings
	key []byte           // decoded escaped object key
}

// caddyVals collects one line's values.
type caddyVals struct {
	s      [numSlots][]byte
	t      time.Time
	status int
	ts, st uint8 // states of ts and status: valMissing, valOK, valBad or valShape
}

// Name implements Parser.
func (p *caddyParser) Name() string { return "caddy" }

// Parse implements Parser.
func (p *caddyParser) Parse(line []byte, r *Request) error {
	line, err := precheck(line)
	if err != nil {
		return err
	}
	return p.parse(line, r)
}

// parse parses a prechecked line.
func (p *caddyParser) parse(line []byte, r *Request) error {
	s := scanner{b: line}
	var v caddyVals
	s.ws()
	if !s.at('{') || !p.top(&s, &v) {
		return errJSON
	}
	if s.ws(); s.i != len(line) {
		return errJSON
	}
	switch {
	case v.ts == valMissing || v.ts == valShape || v.st == valMissing || v.st == valShape:
		return errJSON
	case v.ts == valBad:
		return errTime
	case v.st == valBad:
		return errStatus
	}
	method, uri := v.s[slotMethod], v.s[slotURI]
	if !validMethod(method) || !validTarget(method, uri) {
		return errRequest
	}
	remote := v.s[slotRemoteIP]
	if len(remote) == 0 {
		remote = hostOnly(v.s[slotRemoteAddr]) // Caddy before 2.5: "ip:port"
	}
	*r = Request{
		Time:         v.t,
		RemoteAddr:   dash(remote),
		ClientIP:     dash(v.s[slotClientIP]),
		ForwardedFor: dash(v.s[slotForwardedFor]),
		Method:       method,
		URI:          uri,
		Status:       v.status,
		Referer:      dash(v.s[slotReferer]),
		UserAgent:    dash(v.s[slotUserAgent]),
		Host:         dash(stripPort(v.s[slotHost])),
	}
	return nil
}

// top scans the top-level object.
func (p *caddyParser) top(s *scanner, v *caddyVals) bool {
	more, ok := s.open('{', '}')
	for ok && more {
		var k []byte
		if k, ok = p.member(s); !ok {
			return false
		}
		switch string(k) {
		case "ts":
			ok = p.ts(s, v)
		case "status":
			ok = p.status(s, v)
		case "request":
			ok = p.request(s, v)
		default:
			ok = s.skip()
		}
		if ok {
			more, ok = s.next('}')
		}
	}
	return ok
}

// ts scans the time stamp: Unix seconds, or an RFC 3339 string (Caddy's
// time_format iso8601/rfc3339).
func (p *caddyParser) ts(s *scanner, v *caddyVals) bool {
	var ok bool
	switch {
	case s.at('"'):
		raw, esc, valid := s.str()
		if !valid {
			return false
		}
		v.t, ok = parseISO8601(raw)
		ok = ok && !esc
	case s.at('-') || s.atDigit():
		raw, valid := s.number()
		if !valid {
			return false
		}
		v.t, ok = parseUnix(raw)
	default:
		v.ts = valShape
		return s.skip()
	}
	v.ts = valBad
	if ok {
		v.ts = valOK
	}
	return true
}

// status scans the status code, a number.
func (p *caddyParser) status(s *scanner, v *caddyVals) bool {
	if !s.at('-') && !s.atDigit() {
		v.st = valShape
		return s.skip()
	}
	raw, valid := s.number()
	if !valid {
		return false
	}
	var ok bool
	v.status, ok = parseStatus(raw)
	v.st = valBad
	if ok {
		v.st = valOK
	}
	return true
}

// request scans the request object.
func (p *caddyParser) request(s *scanner, v *caddyVals) bool {
	more, ok := s.open('{', '}')
	for ok && more {
		var k []byte
		if k, ok = p.member(s); !ok {
			return false
		}
		switch string(k) {
		case "remote_ip":
			ok = p.str(s, v, slotRemoteIP)
		case "remote_addr":
			ok = p.str(s, v, slotRemoteAddr)
		case "client_ip":
			ok = p.str(s, v, slotClientIP)
		case "method":
			ok = p.str(s, v, slotMethod)
		case "host":
			ok = p.str(s, v, slotHost)
		case "uri":
			ok = p.str(s, v, slotURI)
		case "headers":
			ok = p.headers(s, v)
		default:
			ok = s.skip()
		}
		if ok {
			more, ok = s.next('}')
		}
	}
	return ok
}

// headers scans request.headers, an object of string arrays, keeping the
// first value of the headers a Request has. Names match case-insensitively.
func (p *caddyParser) headers(s *scanner, v *caddyVals) bool {
	if s.at('n') {
		return s.word("null")
	}
	more, ok := s.open('{', '}')
	for ok && more {
		var k []byte
		if k, ok = p.member(s); !ok {
			return false
		}
		switch {
		case equalFold(k, "User-Agent"):
			ok = p.first(s, v, slotUserAgent)
		case equalFold(k, "Referer"):
			ok = p.first(s, v, slotReferer)
		case equalFold(k, "X-Forwarded-For"):
			ok = p.first(s, v, slotForwardedFor)
		default:
			ok = s.skip()
		}
		if ok {
			more, ok = s.next('}')
		}
	}
	return ok
}

// first scans an array of strings (or null) into slot: its first element,
// or empty.
func (p *caddyParser) first(s *scanner, v *caddyVals, slot int) bool {
	v.s[slot] = nil
	if s.at('n') {
		return s.word("null")
	}
	more, ok := s.open('[', ']')
	if ok && more {
		if ok = p.str(s, v, slot); ok {
			more, ok = s.next(']')
		}
	}
	for ok && more {
		if ok = s.skip(); ok {
			more, ok = s.next(']')
		}
	}
	return ok
}

// str scans a string (or null) into slot, decoding escapes into the slot's
// buffer.
func (p *caddyParser) str(s *scanner, v *caddyVals, slot int) bool {
	if s.at('n') {
		v.s[slot] = nil
		return s.word("null")
	}
	raw, esc, ok := s.str()
	if !ok {
		return false
	}
	if esc {
		p.buf[slot] = AppendJSONUnescaped(p.buf[slot][:0], raw)
		raw = p.buf[slot][:len(p.buf[slot]):len(p.buf[slot])]
	}
	v.s[slot] = raw
	return true
}

// member scans an object member's name and colon, leaving s at the value.
func (p *caddyParser) member(s *scanner) ([]byte, bool) {
	s.ws()
	k, esc, ok := s.str()
	if !ok {
		return nil, false
	}
	if esc {
		p.key = AppendJSONUnescaped(p.key[:0], k)
		k = p.key
	}
	s.ws()
	if !s.at(':') {
		return nil, false
	}
	s.i++
	s.ws()
	return k, true
}

// scanner is a position in a line of JSON.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// at reports whether the next byte is c.
func (s *scanner) at(c byte) bool { return s.i < len(s.b) && s.b[s.i] == c }

func (s *scanner) atDigit() bool { return s.i < len(s.b) && s.b[s.i]-'0' <= 9 }

// open consumes the opening bracket of an object or array and reports
// whether it has members or elements; it consumes the closer of an empty one.
func (s *scanner) open(opener, closer byte) (more, ok bool) {
	if !s.at(opener) {
		return false, false
	}
	s.i++
	s.ws()
	if s.at(closer) {
		s.i++
		return false, true
	}
	return true, true
}

// next consumes the ',' or closer after a member or element and reports
// whether another follows.
func (s *scanner) next(closer byte) (more, ok bool) {
	s.ws()
	if s.i >= len(s.b) {
		return false, false
	}
	switch s.b[s.i] {
	case ',':
		s.i++
		s.ws()
		return true, true
	case closer:
		s.i++
		return false, true
	}
	return false, false
}

// word consumes the literal w (true, false or null).
func (s *scanner) word(w string) bool {
	if !hasPrefix(s.b[s.i:], w) {
		return false
	}
	s.i += len(w)
	return true
}

// strStop marks the bytes that end a run of plain string content.
var strStop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// special8 reports whether any of the 8 bytes in x is a control character,
// '"' or '\\' (exact for "any", the classic has-zero-byte test).
func special8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := x ^ (ones * '"')
	e := x ^ (ones * '\\')
	return ((x-ones*0x20)&^x|(q-ones)&^q|(e-ones)&^e)&highs != 0
}

// str scans a string and returns its content, still escaped, and whether it
// contains escapes. It rejects bad escapes and raw control characters.
func (s *scanner) str() (raw []byte, esc, ok bool) {
	if !s.at('"') {
		return nil, false, false
	}
	b := s.b
	start := s.i + 1
	for i := start; i < len(b); {
		for i+8 <= len(b) && !special8(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		for i < len(b) && !strStop[b[i]] {
			i++
		}
		if i >= len(b) {
			break
		}
		switch b[i] {
		case '"':
			s.i = i + 1
			return b[start:i:i], esc, true
		case '\\':
			esc = true
			if i+1 >= len(b) {
				return nil, false, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || hex4(b[i+2:i+6]) < 0 {
					return nil, false, false
				}
				i += 6
			default:
				return nil, false, false
			}
		default: // control character
			return nil, false, false
		}
	}
	return nil, false, false
}

// number scans a JSON number and returns its text.
func (s *scanner) number() ([]byte, bool) {
	b, i := s.b, s.i
	digits := func() int {
		start := i
		for i < len(b) && b[i]-'0' <= 9 {
			i++
		}
		return i - start
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return nil, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return nil, false
		}
	}
	raw := b[s.i:i:i]
	s.i = i
	return raw, true
}

// maxDepth bounds the nesting skip accepts.
const maxDepth = 512

// skip scans and validates any JSON value without recursion.
func (s *scanner) skip() bool {
	var obj [maxDepth / 64]uint64 // bit set: that level is an object
	depth := 0
	for {
		// A value.
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		switch c := s.b[s.i]; c {
		case '{', '[':
			if depth == maxDepth {
				return false
			}
			closer := byte(']')
			if c == '{' {
				closer = '}'
				obj[depth/64] |= 1 << (depth % 64)
			} else {
				obj[depth/64] &^= 1 << (depth % 64)
			}
			more, _ := s.open(c, closer)
			if more {
				depth++
				if c == '{' && !s.key() {
					return false
				}
				continue
			}
		case '"':
			if _, _, ok := s.str(); !ok {
				return false
			}
		case 't':
			if !s.word("true") {
				return false
			}
		case 'f':
			if !s.word("false") {
				return false
			}
		case 'n':
			if !s.word("null") {
				return false
			}
		default:
			if _, ok := s.number(); !ok {
				return false
			}
		}
		// After a value: close containers until another value is due.
		for {
			if depth == 0 {
				return true
			}
			d := depth - 1
			isObj := obj[d/64]&(1<<(d%64)) != 0
			closer := byte(']')
			if isObj {
				closer = '}'
			}
			more, ok := s.next(closer)
			if !ok {
				return false
			}
			if more {
				if isObj && !s.key() {
					return false
				}
				break
			}
			depth--
		}
	}
}

// key scans a member name and its colon, without decoding.
func (s *scanner) key() bool {
	s.ws()
	if _, _, ok := s.str(); !ok {
		return false
	}
	s.ws()
	if !s.at(':') {
		return false
	}
	s.i++
	return true
}

// hex4 parses four hex digits, or returns -1.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// AppendJSONUnescaped appends the decoded form of raw, the content (between
// the quotes) of a JSON string already checked to be valid, to dst. Like
// encoding/json it turns an unpaired surrogate into U+FFFD. The result is
// never longer than raw. Other readers of JSON records (container logs)
// decode their strings with it too.
func AppendJSONUnescaped(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		j := bytes.IndexByte(raw[i:], '\\')
		if j < 0 {
			return append(dst, raw[i:]...)
		}
		dst = append(dst, raw[i:i+j]...)
		i += j
		c := raw[i+1]
		i += 2
		switch c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(raw[i : i+4])
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					r2 = hex4(raw[i+2 : i+6])
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
	}
	return dst
}
