package tail

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchLine is a typical nginx combined log line (about 200 bytes).
const benchLine = `203.0.113.42 - - [02/Jan/2026:03:04:05 +0000] "GET /products/garden-chair?utm_source=news HTTP/1.1" 200 5123 "https://www.example.com/" "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"` + "\n"

// BenchmarkTail measures reading a backlog: each iteration follows a fresh
// 16 MiB file from 0 to its end. Allocations per iteration are per file and
// per pass, not per line.
//
// Run with:
//
//	go test -run '^$' -bench . -benchtime 20x ./collector/tail/
func BenchmarkTail(b *testing.B) {
	path := filepath.Join(b.TempDir(), "access.log")
	n := (16 << 20) / len(benchLine)
	if err := os.WriteFile(path, []byte(strings.Repeat(benchLine, n)), 0o644); err != nil {
		b.Fatal(err)
	}
	var lines int64
	b.SetBytes(int64(n * len(benchLine)))
	b.ReportAllocs()
	for b.Loop() {
		tl, err := New(Config{Paths: []string{path}, Waker: NewManualWaker()}, nil)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(b.Context())
		h := HandlerFuncs{
			LineFunc: func(_ *File, line []byte, _ int64) { lines++ },
			IdleFunc: cancel,
		}
		if err := tl.Run(ctx, h); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
	if lines != int64(b.N*n) {
		b.Fatalf("read %d lines, want %d", lines, b.N*n)
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkFollow measures the live path: each iteration appends a batch of
// lines and wakes the tailer, which reads them and goes idle.
//
// Run with:
//
//	go test -run '^$' -bench Follow ./collector/tail/
func BenchmarkFollow(b *testing.B) {
	for _, batch := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "access.log")
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			w := NewManualWaker()
			tl, err := New(Config{Paths: []string{path}, Waker: w}, nil)
			if err != nil {
				b.Fatal(err)
			}
			var lines int64
			ctx, cancel := context.WithCancel(b.Context())
			done := make(chan error, 1)
			go func() {
				done <- tl.Run(ctx, HandlerFuncs{LineFunc: func(*File, []byte, int64) { lines++ }})
			}()
			if err := w.Step(ctx); err != nil {
				b.Fatal(err)
			}
			data := []byte(strings.Repeat(benchLine, batch))
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.Write(data); err != nil {
					b.Fatal(err)
				}
				if err := w.Step(ctx); err != nil {
					b.Fatal(err)
				}
			}
			elapsed := b.Elapsed()
			cancel()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			if lines != int64(b.N*batch) {
				b.Fatalf("read %d lines, want %d", lines, b.N*batch)
			}
			b.ReportMetric(float64(lines)/elapsed.Seconds(), "lines/s")
		})
	}
}
