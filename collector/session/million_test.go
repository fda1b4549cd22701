package session

import (
	"testing"
	"time"

	"github.com/session-exporter/session-exporter/collector/classify"
)

// BenchmarkSessionizerMillion is BenchmarkSessionizer with a million open
// sessions, the default max_visitors: every event finds a visitor last
// seen a million events before, so the table and its index are far larger
// than the caches and most of the cost is memory latency.
//
//	GOMAXPROCS=1 go test -run '^$' -bench SessionizerMillion -benchmem ./collector/session/
func BenchmarkSessionizerMillion(b *testing.B) {
	const visitors = 1_000_000
	s, _ := New(DefaultConfig(), nopSink{})
	ev := func(i int) Event {
		// 7919 is prime to 10^6: visitor keys cycle through all of them.
		return Event{Time: at(time.Duration(i) * time.Millisecond), Visitor: uint64(i*7919) % visitors,
			Kind: classify.KindPageview, Source: uint64(i % 3)}
	}
	i := 0
	for ; i < visitors; i++ {
		s.Add(ev(i))
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Add(ev(i))
		i++
	}
	if s.Visitors() != visitors {
		b.Fatalf("%d visitors held, want %d", s.Visitors(), visitors)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
