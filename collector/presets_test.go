package collector

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/session-exporter/session-exporter/collector/loggen"
)

// renderTraffic writes n lines of one seed's traffic in format f.
func renderTraffic(f loggen.Format, n int) []byte {
	g := loggen.New(loggen.Options{Seed: 12, Format: f, Visitors: 3000, Rate: 1, UserAgents: 24}) // few agents: a cold user-agent parse is slow under the race detector
	var b []byte
	for i := 0; i < n; i++ {
		b = append(g.Next(b), '\n')
	}
	return b
}

func replaySummary(t *testing.T, data []byte, format string, workers int) Summary {
	t.Helper()
	cfg := mustConfig(t, `
own_hosts: [www.example.com]
goals: [{name: purchase, path: ^/checkout/thank-you}]
`)
	c, err := New(cfg, Options{Secret: []byte("0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	in := []Input{{Path: "access.log", Reader: bytes.NewReader(data)}}
	res, err := c.Replay(t.Context(), in, ReplayOptions{Format: format, Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	return Summarize(res.Metrics)
}

// TestPresetsCountAsCombined renders one traffic set in every preset and
// checks that replaying it, with the preset named and with auto, sequential
// and parallel, gives exactly what the combined rendering gives.
func TestPresetsCountAsCombined(t *testing.T) {
	const n = trafficLines
	want := replaySummary(t, renderTraffic(loggen.Combined, n), "combined", 1)
	if want.Total.Sessions == 0 || want.Bots == 0 || want.Total.Conversions == 0 || len(want.Rejected) != 0 {
		t.Fatalf("combined baseline lacks sessions, bots or conversions, or rejects lines: %+v", want)
	}
	for _, name := range []string{"sessions", "vhost_combined", "traefik", "ingress-nginx", "cloudfront"} {
		extra := uint64(0)
		if name == "cloudfront" {
			extra = 2 // #Version and #Fields: read, not rejected
		}
		data := renderTraffic(loggen.FormatNames[name], n+int(extra))
		for _, format := range []string{name, "auto"} {
			for _, workers := range []int{1, 3} {
				got := replaySummary(t, data, format, workers)
				if got.Lines != want.Lines+extra {
					t.Errorf("%s as %s, %d workers: %d lines read, want %d", name, format, workers, got.Lines, want.Lines+extra)
				}
				got.Lines = want.Lines
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s as %s, %d workers: differs from combined (-combined +%s):\n%s", name, format, workers, name, diff)
				}
			}
		}
	}
}

// TestCommonLogFormatCountsHumans: the common log format has no user
// agent, so nothing is a bot and every visit is a human of device other,
// told apart by address alone (docs/rules.md rule 1).
func TestCommonLogFormatCountsHumans(t *testing.T) {
	// Hand-counted: 198.51.100.7 views / and /pricing (one session of two
	// pageviews, engaged by its two pageviews); 203.0.113.9 views / once
	// (a bounce) and fetches an asset, which is no pageview; the POST is
	// no pageview either; the CONNECT line is a request, not bad_request.
	data := strings.Join([]string{
		`198.51.100.7 - - [02/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 512`,
		`198.51.100.7 - frank [02/Nov/2026:10:00:30 +0000] "GET /pricing HTTP/1.1" 200 512`,
		`203.0.113.9 - - [02/Nov/2026:10:01:00 +0000] "GET / HTTP/1.1" 200 512`,
		`203.0.113.9 - - [02/Nov/2026:10:01:01 +0000] "GET /static/app.css HTTP/1.1" 200 512`,
		`198.51.100.7 - - [02/Nov/2026:10:01:05 +0000] "POST /api/cart HTTP/1.1" 201 12`,
		`192.0.2.1 - - [02/Nov/2026:10:01:06 +0000] "CONNECT example.com:443 HTTP/1.1" 400 0`,
	}, "\n") + "\n"
	for _, format := range []string{"common", "auto"} {
		got := replaySummary(t, []byte(data), format, 1)
		if len(got.Rejected) != 0 || got.Bots != 0 {
			t.Errorf("%s: rejected %v, bots %d; want none", format, got.Rejected, got.Bots)
		}
		if got.Total.Sessions != 2 || got.Total.Pageviews != 3 || got.Total.Bounced != 1 || got.Total.Engaged != 1 {
			t.Errorf("%s: sessions %d pageviews %d bounced %d engaged %d; want 2, 3, 1, 1", format,
				got.Total.Sessions, got.Total.Pageviews, got.Total.Bounced, got.Total.Engaged)
		}
		for _, r := range got.Rows {
			if r.Sessions > 0 && r.Device != "other" {
				t.Errorf("%s: %d sessions of device %s, want other only", format, r.Sessions, r.Device)
			}
		}
	}
	// The generated traffic in common: every line parses, nothing is a bot,
	// and the preset and auto agree sequentially and in parallel.
	traffic := renderTraffic(loggen.Common, trafficLines)
	want := replaySummary(t, traffic, "common", 1)
	if want.Bots != 0 || len(want.Rejected) != 0 || want.Total.Sessions == 0 {
		t.Fatalf("common traffic: bots %d, rejected %v, sessions %d", want.Bots, want.Rejected, want.Total.Sessions)
	}
	for _, workers := range []int{1, 3} {
		if diff := cmp.Diff(want, replaySummary(t, traffic, "auto", workers)); diff != "" {
			t.Errorf("auto, %d workers, differs from common:\n%s", workers, diff)
		}
	}
}

// TestCloudFrontOwnFieldsInParallel: a CloudFront log with its own #Fields
// layout counts as combined does, also when workers read chunks that come
// after the header line.
func TestCloudFrontOwnFieldsInParallel(t *testing.T) {
	n := max(trafficLines, 8000) // enough for several chunks
	want := replaySummary(t, renderTraffic(loggen.Combined, n), "combined", 1)
	pick := []int{0, 1, 4, 5, 7, 11, 8, 10, 9, 15} // of the standard 33 columns
	var out bytes.Buffer
	out.WriteString("#Version: 1.0\n#Fields: date time c-ip cs-method cs-uri-stem cs-uri-query sc-status cs(User-Agent) cs(Referer) x-host-header\n")
	for _, line := range strings.Split(strings.TrimSuffix(string(renderTraffic(loggen.CloudFront, n+2)), "\n"), "\n") {
		if line[0] == '#' {
			continue
		}
		cols := strings.Split(line, "\t")
		for i, k := range pick {
			if i > 0 {
				out.WriteByte('\t')
			}
			out.WriteString(cols[k])
		}
		out.WriteByte('\n')
	}
	if out.Len() < 2*chunkBytes {
		t.Fatalf("input of %d bytes fits in too few chunks", out.Len())
	}
	for _, format := range []string{"cloudfront", "auto"} {
		for _, workers := range []int{1, 3} {
			got := replaySummary(t, out.Bytes(), format, workers)
			got.Lines -= 2
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s, %d workers: differs from combined (-combined +cloudfront):\n%s", format, workers, diff)
			}
		}
	}
}
