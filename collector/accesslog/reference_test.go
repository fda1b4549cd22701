package accesslog

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/session-exporter/session-exporter/collector/loggen"
)

// The word-at-a-time scanner, the offsets of matched values and the time
// caches must not change a single verdict. This file keeps the plain
// implementation they replaced (bytes.IndexByte per value, a byte-slice
// per field, every time stamp parsed in full) as the reference, and
// compares the two on every testdata log, generated traffic and fuzzed
// lines.

func refPlainASCII(b []byte) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for len(b) >= 8 {
		v := binary.LittleEndian.Uint64(b)
		if v&hi != 0 || (v-lo)&^v&hi != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c == 0 || c >= 0x80 {
			return false
		}
	}
	return true
}

func refPrecheck(line []byte) ([]byte, error) {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if blank(line) {
		return nil, errEmpty
	}
	if !refPlainASCII(line) && (bytes.IndexByte(line, 0) >= 0 || !utf8.Valid(line)) {
		return nil, errBinary
	}
	return line, nil
}

func refMatch(pl *plan, line []byte, v *[numFields][]byte) (int, bool) {
	if !bytes.HasPrefix(line, pl.prefix) {
		return 0, false
	}
	pos := len(pl.prefix)
	for k := range pl.segs {
		s := &pl.segs[k]
		end := len(line)
		if len(s.lit) > 0 {
			from := pos
			if s.pastSpace {
				j := bytes.IndexByte(line[pos:], ' ')
				if j < 0 {
					return 0, false
				}
				from += j + 1
			}
			c := s.lit[0]
			for {
				j := bytes.IndexByte(line[from:], c)
				if j < 0 {
					return 0, false
				}
				end = from + j
				if c != '"' || !escaped(line[pos:end]) {
					break
				}
				from = end + 1
			}
			if !bytes.HasPrefix(line[end:], s.lit) {
				return 0, false
			}
		}
		v[s.f] = line[pos:end:end]
		pos = end + len(s.lit)
	}
	return pos, true
}

func refQuotedTail(tail []byte, v *[numFields][]byte) bool {
	for k := 0; len(tail) > 0; k++ {
		if k == 2 || len(tail) < 3 || tail[0] != ' ' || tail[1] != '"' {
			return false
		}
		val := tail[2:]
		end := -1
		for i, c := range val {
			if c == '"' && !escaped(val[:i]) {
				end = i
				break
			}
		}
		if end < 0 {
			return false
		}
		if k == 0 {
			v[fForwardedFor] = val[:end:end]
		} else {
			v[fHost] = val[:end:end]
		}
		tail = val[end+1:]
	}
	return true
}

// refParse parses line as p's format with the reference implementation.
func refParse(p *nginxParser, line []byte, r *Request) error {
	line, err := refPrecheck(line)
	if err != nil {
		return err
	}
	var v [numFields][]byte
	pos, ok := refMatch(p.plan, line, &v)
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
	if p.sizeLast && !size(v[fSkip]) {
		return errSyntax
	}
	return refFinish(p, &v, r)
}

// refAuto is auto's choice between the nginx formats, by the reference.
func refAuto(a *autoParser, line []byte, r *Request) error {
	line, err := refPrecheck(line)
	if err != nil {
		return err
	}
	switch {
	case line[0] == '{':
		return a.caddy.parse(line, r)
	case line[0] == '#' || startsCloudFront(line):
		return a.cloudfront.parse(line, r)
	}
	var v [numFields][]byte
	if pos, ok := refMatch(a.combined.plan, line, &v); ok {
		tail := line[pos:]
		switch {
		case len(tail) == 0:
		case len(tail) > 1 && tail[1] == '"':
			if !refQuotedTail(tail, &v) {
				return errSyntax
			}
		case ingressTail(tail):
		default:
			return refParse(a.traefik, line, r)
		}
		return refFinish(a.combined, &v, r)
	}
	v = [numFields][]byte{}
	if pos, ok := refMatch(a.common.plan, line, &v); ok && pos == len(line) && size(v[fSkip]) {
		return refFinish(a.common, &v, r)
	}
	return refParse(a.vhost, line, r)
}

func refFinish(p *nginxParser, v *[numFields][]byte, r *Request) error {
	pl := p.plan
	var t time.Time
	var ok bool
	switch pl.time {
	case fMsec:
		t, ok = parseUnix(v[fMsec])
	case fTimeISO:
		t, ok = parseISO8601(v[fTimeISO])
	default:
		t, ok = parseTimeLocal(v[fTimeLocal])
	}
	if !ok {
		return errTime
	}
	status, ok := parseStatus(v[fStatus])
	if !ok {
		return errStatus
	}
	var method, uri []byte
	if pl.has[fRequest] {
		if method, uri, ok = splitRequest(v[fRequest]); !ok {
			return errRequest
		}
	}
	if pl.has[fMethod] {
		method = v[fMethod]
	}
	switch {
	case pl.has[fRequestURI]:
		uri = v[fRequestURI]
	case pl.has[fRequest]:
	case pl.has[fURI]:
		uri = v[fURI]
		if args := dash(v[fArgs]); len(args) > 0 {
			uri = append(append(append([]byte(nil), uri...), '?'), args...)
		}
	}
	if !validMethod(method) || !validTarget(method, uri) {
		return errRequest
	}
	host := dash(v[fHost])
	if len(host) == 0 {
		host = dash(v[fServerName])
	}
	*r = Request{
		Time:         t,
		RemoteAddr:   dash(v[fRemoteAddr]),
		ForwardedFor: dash(v[fForwardedFor]),
		Method:       method,
		URI:          uri,
		Status:       status,
		Referer:      dash(v[fReferer]),
		UserAgent:    dash(v[fUserAgent]),
		Host:         host,
		NoUserAgent:  p.noAgent,
	}
	return nil
}

// refFormats are the formats compared with the reference: every nginx
// preset, auto, and log_format strings with each kind of time variable.
var refFormats = []string{
	"combined", "main", "sessions", "common", "vhost_combined", "traefik", "ingress-nginx", "auto",
	customFormat,
	`$remote_addr [$time_local] "$request_method $request_uri" $status "$http_user_agent" $host`,
	`[$time_local] $status $uri?$args "$request_method"`,
}

// refOutcome parses line with ref, a parser used only through the
// reference, which remembers no time stamp (auto's CloudFront header
// carries over, as it must).
func refOutcome(t testing.TB, ref Parser, line []byte) outcome {
	var r Request
	var err error
	switch p := ref.(type) {
	case *nginxParser:
		err = refParse(p, line, &r)
	case *autoParser:
		err = refAuto(p, line, &r)
	default:
		t.Fatalf("no reference for %T", p)
	}
	if err != nil {
		return outcome{Reason: ReasonOf(err)}
	}
	return outcome{View: viewOf(&r)}
}

// compareWithReference parses lines in order with one parser for format
// (its time caches carry over from line to line) and each line with a new
// reference parser, and reports the first difference.
func compareWithReference(t *testing.T, format string, lines [][]byte) {
	t.Helper()
	p, ref := mustNew(t, format), mustNew(t, format)
	for i, line := range lines {
		want := refOutcome(t, ref, line)
		var r Request
		err := p.Parse(line, &r)
		got := outcome{Reason: ReasonOf(err)}
		if err == nil {
			got = outcome{View: viewOf(&r)}
			if w, ok := parseTimeLocalOf(line); ok && !r.Time.Equal(w) {
				t.Fatalf("%s line %d %q: time %v, want %v", format, i, line, r.Time, w)
			}
		}
		if want != got {
			t.Fatalf("%s line %d %q differs from the reference (-want +got):\n%s", format, i, line, cmp.Diff(want, got))
		}
	}
}

// parseTimeLocalOf returns the $time_local of a line with one in brackets.
func parseTimeLocalOf(line []byte) (time.Time, bool) {
	i := bytes.IndexByte(line, '[')
	if i < 0 || len(line) < i+28 || line[i+27] != ']' {
		return time.Time{}, false
	}
	return parseTimeLocal(line[i+1 : i+27])
}

// timeVariants returns copies of line with its $time_local replaced by
// stamps that share its day, its minute or nothing, valid and not: the
// cases the time caches must get right.
func timeVariants(line []byte) [][]byte {
	i := bytes.IndexByte(line, '[')
	if i < 0 || len(line) < i+28 || line[i+27] != ']' {
		return nil
	}
	stamps := []string{
		"02/Nov/2026:00:03:37 +0000", "02/Nov/2026:00:03:37 +0000", "02/Nov/2026:00:03:38 +0000",
		"02/Nov/2026:23:59:59 +0000", "02/Nov/2026:24:00:00 +0000", "02/Nov/2026:00:60:00 +0000",
		"02/Nov/2026:00:00:60 +0000", "02/Nov/2026:0a:00:00 +0000", "02/Nov/2026 00:00:00 +0000",
		"02/Nov/2026:00:03:37 +0100", "02/Nov/2026:00:03:37 -0930", "02/Nov/2026:00:03:37 +1900",
		"02/Nov/2026:00:03:37 +0060", "03/Nov/2026:00:03:37 +0000", "31/Feb/2026:00:03:37 +0000",
		"29/Feb/2028:12:00:00 +0000", "29/Feb/2028:12:00:01 +0000", "29/Feb/2100:12:00:01 +0000",
		"01/Jan/1970:00:00:00 +0100", "01/Jan/1970:00:00:00 -0100", "31/Dec/2261:23:59:59 -1800",
		"01/Jan/2262:00:00:00 +0000", "02/Dec/2610:07:00:00 +0000", "31/Dec/9999:23:59:59 +0000",
		"02/Nov/2026:00:03:37 +0000", "02/Nov/2026:00:03:37x+0000", "02/Nov/2026:00:03:37 +00:0",
	}
	var out [][]byte
	for _, s := range stamps {
		l := bytes.Clone(line)
		copy(l[i+1:], s)
		out = append(out, l)
	}
	return out
}

func TestParseMatchesReference(t *testing.T) {
	var all [][]byte
	for _, fx := range fixtures {
		all = append(all, readLines(t, filepath.Join("testdata", fx.file))...)
	}
	for _, name := range []string{"combined", "sessions", "common", "vhost_combined", "traefik", "ingress-nginx"} {
		g := loggen.New(loggen.Options{Seed: 9, Format: loggen.FormatNames[name]})
		for range 3000 {
			all = append(all, g.Next(nil))
		}
	}
	for _, l := range append([][]byte(nil), all[:200]...) {
		all = append(all, timeVariants(l)...)
	}
	for _, format := range refFormats {
		t.Run(format, func(t *testing.T) { compareWithReference(t, format, all) })
	}
}

// FuzzParseReference parses two fuzzed lines and their time variants in
// turn with one parser per format and compares each outcome with the
// reference's.
func FuzzParseReference(f *testing.F) {
	for _, fx := range fixtures {
		lines := readLines(f, filepath.Join("testdata", fx.file))
		for i := 0; i+1 < len(lines); i += 7 {
			f.Add(lines[i], lines[i+1])
		}
	}
	f.Add(goodCombined, goodMain)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		lines := [][]byte{a, b, a}
		lines = append(lines, timeVariants(a)...)
		lines = append(lines, b)
		for _, format := range refFormats {
			compareWithReference(t, format, lines)
		}
	})
}
