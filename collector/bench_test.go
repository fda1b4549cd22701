package collector

import (
	"bytes"
	"sync"
	"testing"

	"github.com/session-exporter/session-exporter/collector/loggen"
)

var (
	benchOnce sync.Once
	benchData []byte
	benchN    int
)

// benchLog is a realistic mix: pages, assets, redirects, bots and errors from
// a few hundred user agents and tens of thousands of visitors.
func benchLog() ([]byte, int) {
	benchOnce.Do(func() {
		g := loggen.New(loggen.Options{Seed: 1, Visitors: 50_000, Rate: 20})
		var b bytes.Buffer
		var line []byte
		for benchN = 0; benchN < 400_000; benchN++ {
			line = append(g.Next(line[:0]), '\n')
			b.Write(line)
		}
		benchData = b.Bytes()
	})
	return benchData, benchN
}

// BenchmarkReplay measures replay end to end, from bytes to final metrics.
//
//	GOMAXPROCS=1 go test -run=^$ -bench=Replay -benchmem ./collector/
func BenchmarkReplay(b *testing.B) {
	data, n := benchLog()
	cfg := mustConfig(b, `
logs: [{path: bench.log, format: combined}]
own_hosts: [www.example.com]
goals: [{name: purchase, path: ^/checkout/thank-you}]
`)
	c, err := New(cfg, Options{})
	if err != nil {
		b.Fatal(err)
	}
	// A first replay warms the user-agent cache, as the first seconds of a
	// long replay do (a cold user agent costs about half a millisecond).
	if err := c.Replay(b.Context(), []Input{{Path: "bench.log", Reader: bytes.NewReader(data)}}, ReplayOptions{}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Replay(b.Context(), []Input{{Path: "bench.log", Reader: bytes.NewReader(data)}}, ReplayOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
