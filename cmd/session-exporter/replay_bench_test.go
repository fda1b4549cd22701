package main

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/session-exporter/session-exporter/collector/loggen"
)

// BenchmarkReplayCommand runs the replay command as the binary does, on a
// generated log as tools/loggen writes it (its defaults: 50,000 visitors,
// 20 visits a second), so that a profile shows what the command spends:
//
//	GOMAXPROCS=1 go test -run=^$ -bench=ReplayCommand -benchtime=3x -cpuprofile=/tmp/replay.prof ./cmd/session-exporter/
//
// REPLAY_BENCH_LOG names an existing log to read instead.
func BenchmarkReplayCommand(b *testing.B) {
	path := os.Getenv("REPLAY_BENCH_LOG")
	lines := 0
	if path == "" {
		path = filepath.Join(b.TempDir(), "access.log")
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriter(f)
		g := loggen.New(loggen.Options{Seed: 1, Start: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), Visitors: 50_000, Rate: 20})
		var line []byte
		for lines = 0; lines < 500_000; lines++ {
			line = append(g.Next(line[:0]), '\n')
			w.Write(line)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	for b.Loop() {
		if code := run([]string{"replay", "-format", "combined", "-o", "json", path}, nil, io.Discard, io.Discard); code != exitOK {
			b.Fatalf("exit %d", code)
		}
	}
	if lines > 0 {
		b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	}
}
