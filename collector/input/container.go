package input

import (
	"bytes"
	"encoding/json"

	"github.com/session-exporter/session-exporter/collector/accesslog"
)

// Stream selects records by the stream the container wrote them to.
type Stream uint8

// Streams.
const (
	Stdout Stream = 1 << iota
	Stderr
	Both = Stdout | Stderr
)

// StreamOf maps the configuration's "stdout", "stderr" and "both".
func StreamOf(s string) Stream {
	switch s {
	case "stderr":
		return Stderr
	case "both":
		return Both
	}
	return Stdout
}

func streamOf(b []byte) Stream {
	switch string(b) {
	case "stdout":
		return Stdout
	case "stderr":
		return Stderr
	}
	return 0
}

// Record is one container log record's content.
type Record struct {
	Line    []byte // the text (without newline); aliases the record or a scratch buffer
	Stream  Stream
	Partial bool // the runtime split a long line: the next records continue it
}

// CRI reads one line of the CRI log format kubelet writes under
// /var/log/containers: "2026-11-02T10:15:42.123456789Z stdout F text"
// (F a full line, P a part of one; tags may carry more after ':').
func CRI(b []byte, r *Record) bool {
	sp1 := bytes.IndexByte(b, ' ')
	if sp1 < 20 {
		return false
	}
	rest := b[sp1+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 < 0 {
		return false
	}
	stream := streamOf(rest[:sp2])
	if stream == 0 {
		return false
	}
	rest = rest[sp2+1:]
	sp3 := bytes.IndexByte(rest, ' ')
	tag := rest
	if sp3 >= 0 {
		tag, rest = rest[:sp3], rest[sp3+1:]
	} else {
		rest = nil // "TIMESTAMP stdout F": an empty line
	}
	if i := bytes.IndexByte(tag, ':'); i >= 0 {
		tag = tag[:i]
	}
	if len(tag) != 1 || (tag[0] != 'F' && tag[0] != 'P') {
		return false
	}
	*r = Record{Line: rest, Stream: stream, Partial: tag[0] == 'P'}
	return true
}

// Docker reads one record of Docker's json-file log driver,
// {"log":"text\n","stream":"stdout","time":"..."}, decoding the log string
// into buf (reused; returned grown). A log value without its closing
// newline is a part of a longer line (Docker splits at 16 KiB).
func Docker(b []byte, r *Record, buf []byte) ([]byte, bool) {
	*r = Record{}
	b = trimJSONSpace(b) // not bytes.TrimSpace: JSON allows no Unicode spaces around a value
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return buf, false
	}
	var haveLog bool
	p := 1
	for first := true; ; first = false {
		p = skipSpace(b, p)
		if first && p < len(b) && b[p] == '}' {
			break
		}
		key, next, ok := jsonString(b, p, buf[:0], true)
		if !ok {
			return buf, false
		}
		p = skipSpace(b, next)
		if p >= len(b) || b[p] != ':' {
			return buf, false
		}
		p = skipSpace(b, p+1)
		switch string(key) {
		case "log":
			var v []byte
			v, p, ok = jsonString(b, p, buf[:0], false)
			if !ok {
				return buf, false
			}
			buf, haveLog = v, true
		case "stream":
			var v []byte
			s := p
			_, p, ok = jsonString(b, p, nil, true)
			if !ok {
				return buf, false
			}
			v = b[s+1 : p-1]
			r.Stream = streamOf(v)
		default:
			s := p
			if p, ok = skipValue(b, p); !ok || b[s] != '"' && !json.Valid(b[s:p]) {
				return buf, false // strings are checked by skipValue; the rest here
			}
		}
		p = skipSpace(b, p)
		if p < len(b) && b[p] == ',' {
			p++
			continue
		}
		if p < len(b) && b[p] == '}' {
			break
		}
		return buf, false
	}
	if p != len(b)-1 {
		return buf, false // bytes after the object's closing brace: not one JSON value
	}
	if !haveLog || r.Stream == 0 {
		return buf, false
	}
	line := buf
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
	} else {
		r.Partial = true
	}
	r.Line = line
	return buf, true
}

// trimJSONSpace drops the white space JSON allows around a value: space,
// tab, CR and LF.
func trimJSONSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isJSONSpace(b[i]) {
		i++
	}
	for j > i && isJSONSpace(b[j-1]) {
		j--
	}
	return b[i:j]
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func skipSpace(b []byte, p int) int {
	for p < len(b) && isJSONSpace(b[p]) {
		p++
	}
	return p
}

// jsonString reads the JSON string starting at b[p] (a quote). With raw it
// only checks it and returns the key bytes undecoded (keys are plain
// ASCII); else it decodes into dst.
func jsonString(b []byte, p int, dst []byte, raw bool) ([]byte, int, bool) {
	if p >= len(b) || b[p] != '"' {
		return nil, 0, false
	}
	p++
	start := p
	for p < len(b) {
		c := b[p]
		switch {
		case c == '"':
			if raw {
				return b[start:p], p + 1, true
			}
			return accesslog.AppendJSONUnescaped(dst, b[start:p]), p + 1, true
		case c == '\\':
			if p+1 >= len(b) {
				return nil, 0, false
			}
			e := b[p+1]
			p += 2
			switch e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				_, n, ok := hex4(b, p)
				if !ok {
					return nil, 0, false
				}
				p = n
			default:
				return nil, 0, false
			}
		case c < 0x20:
			return nil, 0, false
		default:
			p++
		}
	}
	return nil, 0, false
}

func hex4(b []byte, p int) (rune, int, bool) {
	if p+4 > len(b) {
		return 0, 0, false
	}
	var r rune
	for _, c := range b[p : p+4] {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, p + 4, true
}

// skipValue skips a JSON string, number, literal, or (nested) object or
// array, and returns the position after it.
func skipValue(b []byte, p int) (int, bool) {
	if p >= len(b) {
		return 0, false
	}
	switch b[p] {
	case '"':
		_, n, ok := jsonString(b, p, nil, true)
		return n, ok
	case '{', '[':
		depth := 0
		for p < len(b) {
			switch b[p] {
			case '"':
				_, n, ok := jsonString(b, p, nil, true)
				if !ok {
					return 0, false
				}
				p = n
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return p + 1, true
				}
			}
			p++
		}
		return 0, false
	}
	for p < len(b) && b[p] != ',' && b[p] != '}' && b[p] != ' ' && b[p] != '\t' && b[p] != '\r' && b[p] != '\n' {
		p++
	}
	return p, true
}

// Joiner puts partial records back together. Not safe for concurrent use.
type Joiner struct {
	buf      []byte
	pending  bool
	overflow bool
	max      int
}

// NewJoiner joins parts into lines of at most max bytes; a longer line is
// reported as too long once it completes.
func NewJoiner(max int) *Joiner { return &Joiner{max: max} }

// Add takes the next record. It returns the complete line when r ends one
// (its own line when nothing is pending, without copying), with tooLong
// set when the joined line exceeded the limit (the line is then nil).
func (j *Joiner) Add(r *Record) (line []byte, complete, tooLong bool) {
	if !j.pending && !r.Partial {
		return r.Line, true, len(r.Line) > j.max
	}
	if !j.overflow {
		if len(j.buf)+len(r.Line) > j.max {
			j.overflow, j.buf = true, j.buf[:0]
		} else {
			j.buf = append(j.buf, r.Line...)
		}
	}
	if r.Partial {
		j.pending = true
		return nil, false, false
	}
	line, tooLong = j.buf, j.overflow
	j.buf, j.pending, j.overflow = j.buf[:0], false, false
	if tooLong {
		line = nil
	}
	return line, true, tooLong
}
