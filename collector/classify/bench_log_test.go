package classify

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/session-exporter/session-exporter/collector/accesslog"
	"github.com/session-exporter/session-exporter/collector/loggen"
)

// logRequests returns the requests of a combined log, parsed once and
// copied out of the parser's buffers, in the log's order: the first
// 16*CLASSIFY_BENCH_LINES lines (CLASSIFY_BENCH_LINES is 1<<10 by default) of
// CLASSIFY_BENCH_LOG when it is set, else that many lines as tools/loggen
// writes them with its defaults. A benchmark classifies them all and
// then, again and again, the last CLASSIFY_BENCH_LINES: the first
// minutes of a log are not yet its steady state, and the last lines stay
// in the core's cache, as a line the parser has just read does.
func logRequests(tb testing.TB) (reqs []accesslog.Request, window int) {
	n := 1 << 10
	if s := os.Getenv("CLASSIFY_BENCH_LINES"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			tb.Fatalf("CLASSIFY_BENCH_LINES=%q: not a positive number", s)
		}
		n = v
	}
	window = n
	n *= 16
	var lines [][]byte
	if path := os.Getenv("CLASSIFY_BENCH_LOG"); path != "" {
		f, err := os.Open(path)
		if err != nil {
			tb.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for len(lines) < n && sc.Scan() {
			lines = append(lines, bytes.Clone(sc.Bytes()))
		}
		if err := sc.Err(); err != nil {
			tb.Fatal(err)
		}
	} else {
		g := loggen.New(loggen.Options{Seed: 1, Start: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), Visitors: 50_000, Rate: 20})
		for range n {
			lines = append(lines, g.Next(nil))
		}
	}
	p, err := accesslog.New("combined")
	if err != nil {
		tb.Fatal(err)
	}
	// Each request's fields are copied next to each other, in the order of
	// the log, as they lie in the line the parser has just read.
	size := 0
	for _, line := range lines {
		size += len(line)
	}
	arena := make([]byte, 0, size)
	reqs = make([]accesslog.Request, 0, len(lines))
	var r accesslog.Request
	for _, line := range lines {
		if p.Parse(line, &r) != nil {
			continue
		}
		for _, f := range []*[]byte{&r.RemoteAddr, &r.ClientIP, &r.ForwardedFor, &r.Method, &r.URI, &r.Referer, &r.UserAgent, &r.Host} {
			if len(arena)+len(*f) > cap(arena) {
				arena = make([]byte, 0, size)
			}
			start := len(arena)
			arena = append(arena, *f...)
			*f = arena[start:len(arena):len(arena)]
		}
		reqs = append(reqs, r)
	}
	if len(reqs) == 0 {
		tb.Fatal("no request in the log")
	}
	return reqs, min(window, len(reqs))
}

// BenchmarkClassifyLog measures Classify per line of a log, in the log's
// order, on the configuration replay runs with when given none. The
// requests are parsed before the clock starts; one op is one line. It must
// report 0 allocs/op on a generated log.
//
//	GOMAXPROCS=1 go test -run '^$' -bench 'ClassifyLog$' -benchmem -count 5 ./collector/classify/
//	CLASSIFY_BENCH_LOG=access.log CLASSIFY_BENCH_LINES=1000000 GOMAXPROCS=1 go test -run '^$' -bench 'ClassifyLog$' ./collector/classify/
func BenchmarkClassifyLog(b *testing.B) {
	all, window := logRequests(b)
	c := newTestClassifier(b, Config{Secret: []byte(testSecretStr)})
	var res Result
	for i := range all {
		c.Classify(&all[i], &res)
	}
	reqs := all[len(all)-window:]
	b.ReportAllocs()
	start := cpuTime()
	for i := 0; b.Loop(); i++ {
		if i == len(reqs) {
			i = 0
		}
		c.Classify(&reqs[i], &res)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	reportCPU(b, start)
}
