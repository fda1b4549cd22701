package accesslog

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/; the testdata logs are
// added as seeds too. Run one target for a short while with, for example:
//
//	go test -run '^$' -fuzz '^FuzzCaddy$' -fuzztime 15s ./collector/accesslog/

// outcome is what one Parse call gave, comparable across calls.
type outcome struct {
	Reason Reason
	View   view
}

func parseOutcome(p Parser, line []byte) outcome {
	var r Request
	if err := p.Parse(line, &r); err != nil {
		return outcome{Reason: ReasonOf(err)}
	}
	return outcome{View: viewOf(&r)}
}

// scratches returns the buffers a parser may point Request fields into.
func scratches(p Parser) [][]byte {
	switch p := p.(type) {
	case *nginxParser:
		return [][]byte{p.uri}
	case *caddyParser:
		return p.buf[:]
	case *cloudFrontParser:
		return [][]byte{p.uri, p.ua, p.ref}
	case *autoParser:
		out := scratches(&p.caddy)
		for _, q := range []Parser{p.combined, p.traefik, p.common, p.vhost, p.cloudfront} {
			out = append(out, scratches(q)...)
		}
		return out
	}
	return nil
}

// within reports whether f lies inside buf.
func within(f, buf []byte) bool {
	if len(buf) == 0 {
		return false
	}
	fp := uintptr(unsafe.Pointer(unsafe.SliceData(f)))
	bp := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	return fp >= bp && fp+uintptr(len(f)) <= bp+uintptr(len(buf))
}

// checkParse asserts the properties every parser has on any input: no
// panic, an error with a known Reason or a sane Request whose fields point
// into the line or the parser's scratch, an unmodified input, and the same
// outcome when the line is parsed again. When good is non-nil it must parse
// after line exactly as it does with a new parser.
func checkParse(t *testing.T, format string, line, good []byte) {
	newParser := func() Parser { return mustNew(t, format) }
	p := newParser()
	orig := bytes.Clone(line)
	var r Request
	err := p.Parse(line, &r)
	if !bytes.Equal(line, orig) {
		t.Fatalf("Parse modified its input: %q -> %q", orig, line)
	}
	if err == ErrComment {
		if len(line) == 0 || line[0] != '#' {
			t.Fatalf("Parse(%q) = ErrComment for a line that is not a header", line)
		}
	} else if err != nil {
		if _, ok := err.(*Error); !ok || !slices.Contains(Reasons, ReasonOf(err)) {
			t.Fatalf("Parse(%q) error %#v has no known Reason", line, err)
		}
	} else {
		if r.Status < 100 || r.Status > 599 {
			t.Errorf("Parse(%q): status %d", line, r.Status)
		}
		if r.Time.IsZero() || r.Time.Location().String() != "UTC" {
			t.Errorf("Parse(%q): time %v", line, r.Time)
		}
		bufs := scratches(p)
		for name, f := range map[string][]byte{
			"RemoteAddr": r.RemoteAddr, "ClientIP": r.ClientIP, "ForwardedFor": r.ForwardedFor,
			"Method": r.Method, "URI": r.URI, "Referer": r.Referer, "UserAgent": r.UserAgent, "Host": r.Host,
		} {
			if len(f) == 0 {
				continue
			}
			if len(f) > len(line) {
				t.Errorf("Parse(%q): %s is longer than the line: %q", line, name, f)
			}
			if !within(f, line) && !slices.ContainsFunc(bufs, func(b []byte) bool { return within(f, b) }) {
				t.Errorf("Parse(%q): %s points outside the line and the parser's buffers", line, name)
			}
		}
	}
	first := parseOutcome(p, line) // the Request above may alias p's buffers
	if good != nil {
		want := parseOutcome(newParser(), good)
		if got := parseOutcome(p, good); !cmp.Equal(want, got) {
			t.Fatalf("after Parse(%q), a good line parses differently (-want +got):\n%s", line, cmp.Diff(want, got))
		}
	}
	if again := parseOutcome(p, line); !cmp.Equal(first, again) {
		t.Fatalf("Parse(%q) twice differs (-first +second):\n%s", line, cmp.Diff(first, again))
	}
}

// addFixture adds every line of a testdata log to f's seeds.
func addFixture(f *testing.F, file string) {
	for _, line := range readLines(f, filepath.Join("testdata", file)) {
		f.Add(line)
	}
}

var (
	goodCombined = []byte(`203.0.113.7 - - [02/Nov/2026:00:03:37 +0000] "GET /a?b=c HTTP/1.1" 200 512 "https://r.example/" "UA"`)
	goodMain     = []byte(`203.0.113.7 - - [02/Nov/2026:00:03:37 +0000] "GET /a?b=c HTTP/1.1" 200 512 "https://r.example/" "UA" "198.51.100.1"`)
	goodCaddy    = []byte(`{"ts":1793579376.421,"status":200,"request":{"remote_ip":"10.0.0.1","client_ip":"198.51.100.1","method":"GET","host":"example.com","uri":"/a?b=c","headers":{"User-Agent":["U\u0041"],"Referer":["https:\/\/r.example\/"]}}}`)
)

func FuzzCombined(f *testing.F) {
	addFixture(f, "combined.log")
	f.Fuzz(func(t *testing.T, line []byte) {
		checkParse(t, "combined", line, goodCombined)
	})
}

func FuzzMain(f *testing.F) {
	addFixture(f, "main.log")
	f.Fuzz(func(t *testing.T, line []byte) {
		checkParse(t, "main", line, goodMain)
	})
}

func FuzzAuto(f *testing.F) {
	addFixture(f, "mixed.log")
	f.Fuzz(func(t *testing.T, line []byte) {
		checkParse(t, "auto", line, goodMain)
		checkParse(t, "auto", line, goodCaddy)
	})
}

// FuzzCaddy also checks the hand-written scanner against encoding/json: a
// line it accepts is valid JSON and holds the values it reported.
func FuzzCaddy(f *testing.F) {
	addFixture(f, "caddy.log")
	f.Fuzz(func(t *testing.T, line []byte) {
		checkParse(t, "caddy", line, goodCaddy)
		var r Request
		if err := mustNew(t, "caddy").Parse(line, &r); err != nil {
			return
		}
		if !json.Valid(line) {
			t.Fatalf("accepted invalid JSON %q", line)
		}
		want, ok := decodeCaddy(line)
		if !ok {
			t.Fatalf("accepted %q, which encoding/json does not decode as a Caddy line", line)
		}
		got := viewOf(&r)
		if want.tsString != "" {
			if ref, err := time.Parse(time.RFC3339Nano, want.tsString); err == nil && !ref.Equal(r.Time) {
				t.Errorf("ts: got %v, time.Parse %v", r.Time, ref)
			}
		} else if secs := unixSeconds(r.Time); math.Abs(secs-want.ts) > 1e-6+math.Abs(want.ts)*1e-15 {
			t.Errorf("ts: got %v, encoding/json %v", r.Time, want.ts)
		}
		want.v.Time = got.Time
		if !want.uaKnown {
			want.v.UserAgent, want.v.Referer, want.v.ForwardedFor = got.UserAgent, got.Referer, got.ForwardedFor
		}
		if diff := cmp.Diff(want.v, got); diff != "" {
			t.Errorf("Parse(%q) differs from encoding/json (-json +parser):\n%s", line, diff)
		}
	})
}

// unixSeconds is t in seconds since 1970, for any year: t.UnixNano
// overflows after 2262, so a parser letting a later ts through fails the
// comparison instead of wrapping into it.
func unixSeconds(t time.Time) float64 {
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}

type caddyJSON struct {
	v        view
	ts       float64
	tsString string
	uaKnown  bool // headers were decoded unambiguously
}

// decodeCaddy reads the fields a Request holds with encoding/json, by exact
// key, as the reference for FuzzCaddy.
func decodeCaddy(line []byte) (caddyJSON, bool) {
	var top map[string]any
	if json.Unmarshal(line, &top) != nil {
		return caddyJSON{}, false
	}
	var out caddyJSON
	out.ts, _ = top["ts"].(float64)
	out.tsString, _ = top["ts"].(string)
	if s, ok := top["status"].(float64); ok {
		out.v.Status = int(s)
	}
	req, _ := top["request"].(map[string]any)
	str := func(k string) string {
		s, _ := req[k].(string)
		return string(dash([]byte(s)))
	}
	out.v.RemoteAddr = str("remote_ip")
	if out.v.RemoteAddr == "" {
		out.v.RemoteAddr = string(dash(hostOnly([]byte(str("remote_addr")))))
	}
	out.v.ClientIP, out.v.Method, out.v.URI = str("client_ip"), str("method"), str("uri")
	out.v.Host = string(dash(stripPort([]byte(str("host")))))
	headers, _ := req["headers"].(map[string]any)
	out.uaKnown = true
	for name, dst := range map[string]*string{
		"User-Agent": &out.v.UserAgent, "Referer": &out.v.Referer, "X-Forwarded-For": &out.v.ForwardedFor,
	} {
		n := 0
		for k, vals := range headers {
			if !equalFold([]byte(k), name) {
				continue
			}
			n++
			if a, _ := vals.([]any); len(a) > 0 {
				s, _ := a[0].(string)
				*dst = string(dash([]byte(s)))
			}
		}
		if n > 1 {
			out.uaKnown = false
		}
	}
	return out, true
}

// FuzzLogFormat compiles arbitrary log_format strings and parses a line
// with each one that compiles.
func FuzzLogFormat(f *testing.F) {
	for _, format := range []string{"combined", "main", CombinedFormat, MainFormat, customFormat} {
		f.Add(format, goodCombined)
	}
	f.Fuzz(func(t *testing.T, format string, line []byte) {
		p, err := New(format)
		if err != nil {
			if p != nil || err.Error() == "" {
				t.Fatalf("New(%q) = %v, %v", format, p, err)
			}
			return
		}
		checkParse(t, format, line, nil)
	})
}

var (
	goodCommon     = []byte(`203.0.113.7 - - [02/Nov/2026:00:03:37 +0000] "GET /a?b=c HTTP/1.1" 200 512`)
	goodVhost      = append([]byte("www.example.com:443 "), goodCombined...)
	goodTraefik    = append(bytes.Clone(goodCombined), ` 42 "web@docker" "http://172.18.0.3:80" 3ms`...)
	goodIngress    = append(bytes.Clone(goodCombined), ` 312 0.004 [default-web-80] [] 10.244.0.12:8080, 10.244.0.13:8080 0, 5 0.1, 0.2 502, 200 5a6c`...)
	goodCloudFront = []byte(cfLine)
)

func FuzzCommon(f *testing.F) {
	addFixture(f, "common.log")
	f.Fuzz(func(t *testing.T, line []byte) { checkParse(t, "common", line, goodCommon) })
}

func FuzzVhostCombined(f *testing.F) {
	addFixture(f, "vhost_combined.log")
	f.Fuzz(func(t *testing.T, line []byte) { checkParse(t, "vhost_combined", line, goodVhost) })
}

func FuzzTraefik(f *testing.F) {
	addFixture(f, "traefik.log")
	f.Fuzz(func(t *testing.T, line []byte) { checkParse(t, "traefik", line, goodTraefik) })
}

func FuzzIngressNginx(f *testing.F) {
	addFixture(f, "ingress-nginx.log")
	f.Fuzz(func(t *testing.T, line []byte) { checkParse(t, "ingress-nginx", line, goodIngress) })
}

// FuzzCloudFront also feeds header lines: a #Fields line may re-lay the
// columns, after which the good line need not parse the same, so it is
// checked only after lines that are not headers.
func FuzzCloudFront(f *testing.F) {
	addFixture(f, "cloudfront.log")
	f.Fuzz(func(t *testing.T, line []byte) {
		var good []byte
		if len(line) == 0 || line[0] != '#' {
			good = goodCloudFront
		}
		checkParse(t, "cloudfront", line, good)
	})
}

// FuzzAutoPresets: auto on every preset's good line after any line.
func FuzzAutoPresets(f *testing.F) {
	for _, fx := range fixtures {
		if fx.format != customFormat {
			addFixture(f, fx.file)
		}
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if len(line) > 0 && line[0] == '#' {
			checkParse(t, "auto", line, nil)
			return
		}
		for _, good := range [][]byte{goodCommon, goodVhost, goodTraefik, goodIngress, goodCloudFront} {
			checkParse(t, "auto", line, good)
		}
	})
}
