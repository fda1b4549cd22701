package accesslog

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/session-exporter/session-exporter/collector/loggen"
)

// The benchmarks parse the testdata logs line by line with one Parser and one
// Request, as the collector does; an op is one line. Run them with:
//
//	go test -run '^$' -bench . -benchmem ./collector/accesslog/

func BenchmarkParse(b *testing.B) {
	for _, fx := range fixtures {
		if fx.format == "cloudfront" { // header lines switch columns: see BenchmarkPresets
			continue
		}
		b.Run(strings.TrimSuffix(fx.file, ".log"), func(b *testing.B) {
			benchLines(b, mustNew(b, fx.format), readLines(b, filepath.Join("testdata", fx.file)), true)
		})
	}
}

// BenchmarkPresets parses generated traffic (pages, assets, bots, errors)
// in each preset, with the preset named and with auto. Header lines are
// left out: they are parsed once per file, not once per request.
func BenchmarkPresets(b *testing.B) {
	for _, name := range []string{"combined", "sessions", "common", "vhost_combined", "traefik", "ingress-nginx", "cloudfront"} {
		g := loggen.New(loggen.Options{Seed: 5, Format: loggen.FormatNames[name]})
		var lines [][]byte
		for len(lines) < 2000 {
			if l := g.Next(nil); l[0] != '#' {
				lines = append(lines, l)
			}
		}
		for _, format := range []string{name, "auto"} {
			b.Run(name+"/"+format, func(b *testing.B) {
				benchLines(b, mustNew(b, format), lines, true)
			})
		}
	}
}

// BenchmarkReject measures lines that are turned away, one reason each.
func BenchmarkReject(b *testing.B) {
	lines := [][]byte{
		[]byte(""),
		[]byte(combinedLine("02/Nov/2026:00:03:37 +0000", "GET /\xff HTTP/1.1", "200")),
		[]byte("GET / HTTP/1.1"),
		[]byte(combinedLine("31/Feb/2026:00:03:37 +0000", "GET / HTTP/1.1", "200")),
		[]byte(combinedLine("02/Nov/2026:00:03:37 +0000", `\x16\x03\x01\x02\x00\x01\x00\x01\xFC\x03\x03`, "400")),
		[]byte(combinedLine("02/Nov/2026:00:03:37 +0000", "GET / HTTP/1.1", "999")),
		[]byte(`{"level":"info","ts":1793579376.421,"msg":"server running"}`),
	}
	benchLines(b, mustNew(b, "auto"), lines, false)
}

// BenchmarkCaddyEncodingJSON is the reference the hand-written Caddy scanner
// is measured against: encoding/json into a struct, per line.
func BenchmarkCaddyEncodingJSON(b *testing.B) {
	lines := readLines(b, filepath.Join("testdata", "caddy.log"))
	var size int
	for _, l := range lines {
		size += len(l)
	}
	b.SetBytes(int64(size / len(lines)))
	b.ReportAllocs()
	type entry struct {
		TS      float64 `json:"ts"`
		Status  int     `json:"status"`
		Request struct {
			RemoteIP string              `json:"remote_ip"`
			ClientIP string              `json:"client_ip"`
			Method   string              `json:"method"`
			Host     string              `json:"host"`
			URI      string              `json:"uri"`
			Headers  map[string][]string `json:"headers"`
		} `json:"request"`
	}
	i := 0
	for b.Loop() {
		var e entry
		if err := json.Unmarshal(lines[i], &e); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(lines) {
			i = 0
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

func benchLines(b *testing.B, p Parser, lines [][]byte, wantOK bool) {
	var size int
	for _, l := range lines {
		size += len(l)
	}
	b.SetBytes(int64(size / len(lines)))
	b.ReportAllocs()
	var r Request
	i := 0
	for b.Loop() {
		if err := p.Parse(lines[i], &r); (err == nil) != wantOK {
			b.Fatalf("Parse(%q): %v", lines[i], err)
		}
		if i++; i == len(lines) {
			i = 0
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
