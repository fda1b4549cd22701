package telemetry

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/session-exporter/session-exporter/collector/accesslog"
)

// TestLineCounterMatchesLineRead counts the same lines through a
// LineCounter and through LineRead/LineRejected, and wants the same
// counters after Flush, and no more than flushEvery lines held back
// before it.
func TestLineCounterMatchesLineRead(t *testing.T) {
	d := Dims{Files: []string{"a.log", "b.log"}}
	direct, batched := New(d), New(d)
	c := batched.LineCounter(1)
	for i := range 5000 {
		n := 100 + i%37
		direct.LineRead(1, n)
		c.Read(n)
		if i%9 == 0 {
			r := accesslog.Reasons[i%len(accesslog.Reasons)]
			direct.LineRejected(1, r)
			c.Rejected(r)
		}
		if got, _ := batched.LinesRead(); i+1-int(got) > flushEvery {
			t.Fatalf("after %d lines only %d exported", i+1, got)
		}
	}
	c.Flush()
	for f := range d.Files {
		r1, j1, top1 := direct.FileLines(f)
		r2, j2, top2 := batched.FileLines(f)
		if r1 != r2 || j1 != j2 || top1 != top2 || direct.bytesRead[f].Load() != batched.bytesRead[f].Load() {
			t.Errorf("file %d: LineRead gives %d read %d rejected (%s), LineCounter %d %d (%s)", f, r1, j1, top1, r2, j2, top2)
		}
	}
	if r, _, _ := batched.FileLines(1); r != 5000 {
		t.Errorf("read %d lines, want 5000", r)
	}
	if got, want := batched.Rejected(), direct.Rejected(); len(got) != len(want) {
		t.Errorf("rejected by reason %v, want %v", got, want)
	}
	bad := batched.LineCounter(7) // no such file: counted nowhere, as LineRead does
	bad.Read(10)
	bad.Flush()
	if r, _ := batched.LinesRead(); r != 5000 {
		t.Errorf("a counter for an unknown file changed the total to %d", r)
	}
}

// TestLineCounterConcurrentScrape counts on two goroutines, each with its
// own counter, while a third reads the metrics as a scrape does; run with
// -race. The counters never go backwards and end at the total.
func TestLineCounterConcurrentScrape(t *testing.T) {
	m := New(Dims{Files: []string{"a.log"}})
	const per = 20000
	var wg sync.WaitGroup
	var done atomic.Bool
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := m.LineCounter(0)
			for i := range per {
				c.Read(10)
				if i%100 == 0 {
					c.Rejected(accesslog.ReasonSyntax)
				}
			}
			c.Flush()
		}()
	}
	scraped := make(chan error, 1)
	go func() {
		var last uint64
		for !done.Load() {
			r, _ := m.LinesRead()
			if r < last {
				scraped <- errBackwards
				return
			}
			last = r
			m.Snapshot()
		}
		scraped <- nil
	}()
	wg.Wait()
	done.Store(true)
	if err := <-scraped; err != nil {
		t.Fatal(err)
	}
	if r, j := m.LinesRead(); r != 2*per || j != 2*per/100 {
		t.Errorf("read %d rejected %d, want %d and %d", r, j, 2*per, 2*per/100)
	}
}

var errBackwards = errorString("lines read went backwards")

type errorString string

func (e errorString) Error() string { return string(e) }

// BenchmarkLineRead is the per-line cost of LineRead's atomic counters.
func BenchmarkLineRead(b *testing.B) {
	m := New(Dims{Files: []string{"a.log"}})
	b.ReportAllocs()
	for b.Loop() {
		m.LineRead(0, 240)
	}
}

// BenchmarkLineCounter is the per-line cost of a LineCounter, its flushes
// included.
func BenchmarkLineCounter(b *testing.B) {
	m := New(Dims{Files: []string{"a.log"}})
	c := m.LineCounter(0)
	b.ReportAllocs()
	for b.Loop() {
		c.Read(240)
	}
	c.Flush()
}
