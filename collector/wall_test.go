package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/session-exporter/session-exporter/collector/accesslog"
)

// TestLiveWallClockReadPerTick: live, the clock guard's wall clock is not
// read per line. Lines within max_future of the last reading are judged
// against it; a line past that bound is judged against a fresh reading,
// so it is accepted if the clock has moved on and rejected only if it is
// still too far ahead; a dropped reading (the logs went quiet) is taken
// again at the next line.
func TestLiveWallClockReadPerTick(t *testing.T) {
	c, p, src := testPipeline(t, "logs: [{path: a.log, format: combined}]\nown_hosts: [www.example.com]\nsession: {max_future: 10m}\n")
	now := time.Date(2026, 11, 2, 10, 20, 0, 0, time.UTC)
	reads := 0
	p.wall = func() time.Time { reads++; return now }
	feed := func(v int, local string) {
		l := []byte(strings.TrimSuffix(clockLine(v, local, "+0000", "/"), "\n"))
		p.line(src, l, len(l)+1)
	}
	rejected := func() uint64 { return Summarize(c.Metrics()).Rejected[accesslog.ReasonFutureTime] }

	for i := range 100 { // 10:25, within max_future of 10:20
		feed(1+i%50, "2026-11-02T10:25:00")
	}
	if reads != 1 {
		t.Fatalf("%d clock readings for 100 lines, want 1", reads)
	}
	now = now.Add(20 * time.Minute) // 10:40: 10:33 is past the old reading's bound only
	feed(60, "2026-11-02T10:33:00")
	if reads != 2 || rejected() != 0 {
		t.Fatalf("a line past the old reading's bound: %d readings (want 2), %d rejected (want 0)", reads, rejected())
	}
	feed(61, "2026-11-02T10:34:00") // within the new reading's bound
	if reads != 2 {
		t.Fatalf("%d readings, want still 2", reads)
	}
	feed(62, "2026-11-02T10:51:00") // 11 minutes ahead of the clock now
	if reads != 3 || rejected() != 1 {
		t.Fatalf("a line too far ahead: %d readings (want 3), %d rejected (want 1)", reads, rejected())
	}
	p.readWall(now) // a tick: no reading by the pipeline
	feed(63, "2026-11-02T10:35:00")
	if reads != 3 {
		t.Fatalf("after a tick's reading: %d readings, want 3", reads)
	}
	p.dropWall() // quiet: the next line reads the clock
	feed(64, "2026-11-02T10:36:00")
	if reads != 4 || rejected() != 1 {
		t.Fatalf("after a dropped reading: %d readings (want 4), %d rejected (want 1)", reads, rejected())
	}
}
