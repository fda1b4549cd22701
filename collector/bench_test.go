package collector

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/session-exporter/session-exporter/collector/config"
	"github.com/session-exporter/session-exporter/collector/loggen"
	"github.com/session-exporter/session-exporter/collector/session"
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

// benchCollector returns a collector for the benchmark log, with its
// configuration.
func benchCollector(b *testing.B) (*Collector, *config.Config) {
	b.Helper()
	cfg := mustConfig(b, `
logs: [{path: bench.log, format: combined}]
own_hosts: [www.example.com]
goals: [{name: purchase, path: ^/checkout/thank-you}]
`)
	c, err := New(cfg, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return c, cfg
}

// BenchmarkReplay measures replay end to end, from bytes to final metrics,
// on one goroutine whatever GOMAXPROCS is (BenchmarkReplayParallel
// measures two workers).
//
//	GOMAXPROCS=1 go test -run=^$ -bench='^BenchmarkReplay$' -count=5 ./collector/
func BenchmarkReplay(b *testing.B) {
	data, n := benchLog()
	c, _ := benchCollector(b)
	// A first replay warms the user-agent cache, as the first seconds of a
	// long replay do.
	if _, err := c.Replay(b.Context(), []Input{{Path: "bench.log", Reader: bytes.NewReader(data)}}, ReplayOptions{Workers: 1}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Replay(b.Context(), []Input{{Path: "bench.log", Reader: bytes.NewReader(data)}}, ReplayOptions{Workers: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// corpusAgents returns the distinct real agents of the classifier's test
// corpus (collector/classify/testdata/ua) that fit in a combined log line.
func corpusAgents(tb testing.TB) [][]byte {
	files, err := filepath.Glob(filepath.Join("classify", "testdata", "ua", "*.tsv"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no corpus: %v", err)
	}
	seen := map[string]bool{}
	var uas [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		for _, l := range bytes.Split(b, []byte("\n")) {
			_, ua, ok := bytes.Cut(l, []byte("\t"))
			if ok && len(ua) > 0 && !bytes.ContainsAny(ua, "\"\\") && !seen[string(ua)] {
				seen[string(ua)] = true
				uas = append(uas, ua)
			}
		}
	}
	return uas
}

// withAgents returns data with the user agent (the last quoted field) of
// every k-th line replaced by the next agent of uas, each used once.
func withAgents(data []byte, k int, uas [][]byte) []byte {
	var out bytes.Buffer
	next := 0
	for i, line := range bytes.SplitAfter(data, []byte("\n")) {
		end := bytes.LastIndexByte(line, '"')
		if i%k != 0 || end <= 0 || next >= len(uas) {
			out.Write(line)
			continue
		}
		start := bytes.LastIndexByte(line[:end], '"')
		out.Write(line[:start+1])
		out.Write(uas[next])
		out.Write(line[end:])
		next++
	}
	return out.Bytes()
}

// BenchmarkReplayNewAgents replays 170,000 generated lines with a cold
// user-agent cache twice per iteration, back to back: as they are (300
// agents) and with every tenth line's agent replaced by a real agent not
// seen before (17,000 agents from the classifier's corpus). It reports
// both speeds and their ratio; the target is a ratio of at least 0.5.
// Timing both in every iteration keeps the ratio honest on a machine
// whose speed drifts.
//
//	GOMAXPROCS=1 go test -run=^$ -bench=ReplayNewAgents -count=5 ./collector/
func BenchmarkReplayNewAgents(b *testing.B) {
	data, _ := benchLog()
	const n = 170_000
	cut := 0
	for i := 0; i < n; i++ {
		cut += bytes.IndexByte(data[cut:], '\n') + 1
	}
	data = data[:cut]
	uas := corpusAgents(b)
	if len(uas) < n/10 {
		b.Fatalf("corpus has %d distinct agents, need %d", len(uas), n/10)
	}
	fresh := withAgents(data, 10, uas)
	cfg := mustConfig(b, `
logs: [{path: bench.log, format: combined}]
own_hosts: [www.example.com]
`)
	replay := func(d []byte) time.Duration {
		c, err := New(cfg, Options{}) // a cold cache every time
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := c.Replay(b.Context(), []Input{{Path: "bench.log", Reader: bytes.NewReader(d)}}, ReplayOptions{Workers: 1}); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var usual, tenth time.Duration
	b.ReportAllocs()
	for b.Loop() {
		usual += replay(data)
		tenth += replay(fresh)
	}
	b.ReportMetric(float64(n)*float64(b.N)/usual.Seconds(), "usual-lines/s")
	b.ReportMetric(float64(n)*float64(b.N)/tenth.Seconds(), "tenth-new-lines/s")
	b.ReportMetric(usual.Seconds()/tenth.Seconds(), "speed-ratio")
}

// BenchmarkCountingHalf measures what the parallel replay counts in turn
// on its workers: the events of the benchmark log, decoded beforehand,
// through the clock guard and the one sessionizer. It must stay well above
// what the workers decode (BenchmarkReplayParallel), or the counting would
// limit the parallel replay.
//
//	GOMAXPROCS=1 go test -run=^$ -bench=CountingHalf -count=5 ./collector/
func BenchmarkCountingHalf(b *testing.B) {
	data, _ := benchLog()
	c, cfg := benchCollector(b)
	src, err := c.replaySource("bench.log", "")
	if err != nil {
		b.Fatal(err)
	}
	d := newDecoder(c.cl, c.newMetrics([]string{"bench.log"}), nil, true)
	var events []session.Event
	if err := eachLine(b.Context(), bytes.NewReader(data), cfg.MaxLineBytes, func(l []byte, n int) {
		if d.line(src, l, n) {
			events = append(events, d.ev)
		}
	}, func(int) {}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		p, err := c.newPipeline(c.cl, c.newMetrics([]string{"bench.log"}))
		if err != nil {
			b.Fatal(err)
		}
		p.srcs = []*source{src}
		for i := range events {
			p.guard.Line(&events[i], 0, 0, p)
		}
		p.guard.End(0, p)
		p.sessions.CloseAll()
	}
	b.ReportMetric(float64(len(events))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkReplayParallel is BenchmarkReplay on two workers.
//
//	GOMAXPROCS=2 go test -run=^$ -bench=ReplayParallel -count=5 ./collector/
func BenchmarkReplayParallel(b *testing.B) {
	data, n := benchLog()
	c, _ := benchCollector(b)
	ro := ReplayOptions{Workers: 2}
	if _, err := c.Replay(b.Context(), []Input{{Path: "bench.log", Reader: bytes.NewReader(data)}}, ro); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Replay(b.Context(), []Input{{Path: "bench.log", Reader: bytes.NewReader(data)}}, ro); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
