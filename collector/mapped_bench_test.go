package collector

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// benchLinesFile writes the benchmark log to a file (REPLAY_BENCH_LOG names
// a log to use instead) and returns its path and lines.
func benchLinesFile(b *testing.B) (string, int) {
	b.Helper()
	if p := os.Getenv("REPLAY_BENCH_LOG"); p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, c := range data {
			if c == '\n' {
				n++
			}
		}
		return p, n
	}
	data, n := benchLog()
	p := filepath.Join(b.TempDir(), "bench.log")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		b.Fatal(err)
	}
	return p, n
}

// BenchmarkLines measures cutting a file into lines, nothing else: read in
// blocks (read) against cut from its mapping (mapped). The file is in the
// page cache.
//
//	go test -run=^$ -bench='^BenchmarkLines$' -count=5 ./collector/
func BenchmarkLines(b *testing.B) {
	path, lines := benchLinesFile(b)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	var sum int
	line := func(l []byte, n int) {
		if len(l) > 0 {
			sum += int(l[0]) + n // touch the line, as a parser does
		}
	}
	tooLong := func(int) {}
	run := func(b *testing.B, each func() error) {
		b.ReportAllocs()
		b.SetBytes(fi.Size())
		for b.Loop() {
			if err := each(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(lines)/float64(b.N), "ns/line")
	}
	b.Run("read", func(b *testing.B) {
		run(b, func() error {
			r, closeFn, err := openInput(Input{Path: path})
			if err != nil {
				return err
			}
			defer closeFn()
			return eachLine(context.Background(), r, 64<<10, line, tooLong)
		})
	})
	b.Run("mapped", func(b *testing.B) {
		if openMapped(Input{Path: path}) == nil {
			b.Skip("files are not mapped here")
		}
		run(b, func() error {
			m := openMapped(Input{Path: path})
			defer m.close()
			return eachMappedLine(context.Background(), m, 64<<10, line, tooLong)
		})
	})
}
