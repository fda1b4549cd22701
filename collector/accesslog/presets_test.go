package accesslog

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	presetUA  = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
	presetPre = `192.0.2.10 - - [02/Nov/2026:10:15:42 +0000] "GET /pricing?utm_source=news HTTP/1.1" 200 5123 "https://www.google.com/" "` + presetUA + `"`
)

// presetWant is what presetPre holds, by hand.
var presetWant = view{Time: "2026-11-02T10:15:42Z", RemoteAddr: "192.0.2.10", Method: "GET", URI: "/pricing?utm_source=news",
	Status: 200, Referer: "https://www.google.com/", UserAgent: presetUA}

func TestPresetsCompile(t *testing.T) {
	for _, name := range presets {
		p := mustNew(t, name)
		if p.Name() != name {
			t.Errorf("New(%q).Name() = %q", name, p.Name())
		}
	}
	// The preset's log_format text, pasted as a format, is the preset.
	for _, p := range nginxPresets {
		if got := mustNew(t, p.format).Name(); got != p.name {
			t.Errorf("New(%s's format).Name() = %q", p.name, got)
		}
	}
}

func TestIngressNginx(t *testing.T) {
	withHost := presetWant
	cases := []parseCase{
		{name: "one upstream", line: presetPre + ` 312 0.004 [default-web-80] [] 10.244.0.12:8080 5123 0.004 200 5a6c8f0e`, want: withHost},
		{name: "retried upstream", line: presetPre + ` 312 0.120 [default-web-80] [alt-80] 10.244.0.12:8080, 10.244.0.13:8080 0, 5123 0.060, 0.060 502, 200 5a6c8f0e`, want: withHost},
		{name: "no upstream", line: presetPre + ` 95 0.000 [] [] - - - - 0f1e`, want: withHost},
		{name: "combined only", line: presetPre, reason: ReasonSyntax},
		{name: "length not a number", line: presetPre + ` x 0.004 [a] [] - - - - 0f`, reason: ReasonSyntax},
		{name: "time not a number", line: presetPre + ` 312 0.0.4 [a] [] - - - - 0f`, reason: ReasonSyntax},
		{name: "unbracketed upstream", line: presetPre + ` 312 0.004 a [] - - - - 0f`, reason: ReasonSyntax},
		{name: "nothing after the names", line: presetPre + ` 312 0.004 [a] []`, reason: ReasonSyntax},
	}
	runCases(t, "ingress-nginx", cases)
	runCases(t, "auto", cases[:3])
}

func TestTraefik(t *testing.T) {
	cases := []parseCase{
		{name: "routed", line: presetPre + ` 42 "web@docker" "http://172.18.0.3:80" 3ms`, want: presetWant},
		{name: "no router", line: presetPre + ` 44 "-" "-" 0ms`, want: presetWant},
		{name: "no unit", line: presetPre + ` 42 "web@docker" "http://172.18.0.3:80" 3`, reason: ReasonSyntax},
		{name: "no server", line: presetPre + ` 42 "web@docker" 3ms`, reason: ReasonSyntax},
	}
	runCases(t, "traefik", cases)
	runCases(t, "auto", cases)
}

func TestVhostCombined(t *testing.T) {
	want := presetWant
	want.Host = "www.example.com"
	cases := []parseCase{
		{name: "vhost", line: "www.example.com:443 " + presetPre, want: want},
		{name: "no port", line: "www.example.com " + presetPre, reason: ReasonSyntax},
	}
	runCases(t, "vhost_combined", cases)
	runCases(t, "auto", cases[:1])
}

func TestCommon(t *testing.T) {
	line := `192.0.2.10 - frank [02/Nov/2026:10:15:42 +0000] "GET /pricing?utm_source=news HTTP/1.1" 200 5123`
	want := view{Time: "2026-11-02T10:15:42Z", RemoteAddr: "192.0.2.10", Method: "GET", URI: "/pricing?utm_source=news", Status: 200, NoUserAgent: true}
	cases := []parseCase{
		{name: "clf", line: line, want: want},
		{name: "no size", line: strings.TrimSuffix(line, "5123") + "-", want: want},
		{name: "trailing space", line: line + " ", reason: ReasonSyntax},
		{name: "combined line", line: line + ` "-" "curl/8.4.0"`, reason: ReasonSyntax},
	}
	runCases(t, "common", cases)
	runCases(t, "auto", cases[:2])
	// combined never claims to lack a user agent, even an empty one.
	runCases(t, "combined", []parseCase{{name: "dash agent", line: line + ` "-" "-"`,
		want: view{Time: want.Time, RemoteAddr: want.RemoteAddr, Method: "GET", URI: want.URI, Status: 200}}})
}

func TestSessionsPreset(t *testing.T) {
	want := presetWant
	want.ForwardedFor, want.Host = "198.51.100.1", "www.example.com"
	line := presetPre + ` "198.51.100.1" "www.example.com"`
	runCases(t, "sessions", []parseCase{{name: "sessions", line: line, want: want}})
	runCases(t, "auto", []parseCase{{name: "sessions", line: line, want: want}})
}

const cfLine = "2026-11-02\t10:15:42\tFRA56-P1\t5380\t192.0.2.10\tGET\td111111abcdef8.cloudfront.net\t/pricing\t200\t" +
	"https://www.google.com/\tMozilla/5.0%20(X11;%20Linux%20x86_64;%20rv:121.0)%20Gecko/20100101%20Firefox/121.0\t" +
	"utm_source=news\t-\tMiss\tq3Vd1Lh0-fA==\twww.example.com\thttps\t312\t0.004\t-\tTLSv1.3\tTLS_AES_128_GCM_SHA256\t" +
	"Miss\tHTTP/2.0\t-\t-\t51234\t0.004\tMiss\ttext/html\t5123\t-\t-"

func TestCloudFront(t *testing.T) {
	want := presetWant
	want.Host = "www.example.com"
	col := func(i int, v string) string {
		f := strings.Split(cfLine, "\t")
		f[i] = v
		return strings.Join(f, "\t")
	}
	cases := []parseCase{
		{name: "standard", line: cfLine, want: want},
		{name: "trailing columns", line: cfLine + "\tnew-field", want: want},
		{name: "no host header", line: col(15, "-"), want: func() view { w := want; w.Host = "d111111abcdef8.cloudfront.net"; return w }()},
		{name: "bad escape kept", line: col(10, "A%zzB%4"), want: func() view { w := want; w.UserAgent = "A%zzB%4"; return w }()},
		{name: "no query", line: col(11, "-"), want: func() view { w := want; w.URI = "/pricing"; return w }()},
		{name: "encoded control byte", line: col(10, "A%0AB"), reason: ReasonBinary},
		{name: "status 000", line: col(8, "000"), reason: ReasonStatus},
		{name: "bad date", line: col(0, "2026-02-31"), reason: ReasonTime},
		{name: "too few columns", line: strings.Join(strings.Split(cfLine, "\t")[:10], "\t"), reason: ReasonSyntax},
		{name: "relative stem", line: col(7, "pricing"), reason: ReasonRequest},
		{name: "other comment", line: "# a note", reason: ReasonSyntax},
	}
	runCases(t, "cloudfront", cases)
	runCases(t, "auto", cases[:8])

	// Header lines are comments; a #Fields line lays out the lines after it.
	for _, format := range []string{"cloudfront", "auto"} {
		p := mustNew(t, format)
		var r Request
		for _, h := range []string{"#Version: 1.0", "#Fields: timestamp cs-method cs-uri-stem sc-status c-ip"} {
			if err := p.Parse([]byte(h), &r); err != ErrComment {
				t.Fatalf("%s: Parse(%q) = %v, want ErrComment", format, h, err)
			}
		}
		if err := p.Parse([]byte("1793621744.250\tGET\t/a\t200\t192.0.2.12"), &r); err != nil {
			t.Fatalf("%s: line after #Fields: %v", format, err)
		}
		got := viewOf(&r)
		if diff := cmp.Diff(view{Time: "2026-11-02T12:15:44.25Z", RemoteAddr: "192.0.2.12", Method: "GET", URI: "/a", Status: 200}, got); diff != "" {
			t.Errorf("%s: line after #Fields (-want +got):\n%s", format, diff)
		}
		if err := p.Parse([]byte("#Fields: c-ip sc-status"), &r); ReasonOf(err) != ReasonSyntax {
			t.Errorf("%s: unusable #Fields = %v, want syntax", format, err)
		}
	}
}

// TestAutoReadsEveryFixture: auto parses every testdata log exactly as its
// own format does.
func TestAutoReadsEveryFixture(t *testing.T) {
	for _, fx := range fixtures {
		if fx.format == customFormat { // auto knows the presets only
			continue
		}
		own, auto := mustNew(t, fx.format), mustNew(t, "auto")
		for i, line := range readLines(t, filepath.Join("testdata", fx.file)) {
			want, got := parseOutcome(own, line), parseOutcome(auto, line)
			if want.Reason == "" && !cmp.Equal(want, got) {
				t.Errorf("%s line %d: auto differs from %s (-%s +auto):\n%s", fx.file, i+1, fx.format, fx.format, cmp.Diff(want, got))
			}
		}
	}
}
