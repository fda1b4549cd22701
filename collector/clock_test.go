package collector

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/session-exporter/session-exporter/collector/accesslog"
	"github.com/session-exporter/session-exporter/collector/session"
	"github.com/session-exporter/session-exporter/collector/state"
)

// clockLine is a combined-format pageview of visitor v (an address's last
// byte) at the time written as local in the zone "-0700"-style offset.
func clockLine(v int, local, offset, path string) string {
	t, err := time.Parse("2006-01-02T15:04:05", local)
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf(`198.51.100.%d - - [%s %s] "GET %s HTTP/1.1" 200 5 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"`+"\n",
		v, t.Format("02/Jan/2006:15:04:05"), offset, path)
}

// clockTotals is what a wild-clock case must end with, derived by hand.
type clockTotals struct {
	Sessions, Pageviews, Engaged, Bounced, Rejected, Late uint64
	Duration                                              float64 // seconds
}

func totalsOf(s Summary) clockTotals {
	return clockTotals{
		Sessions: s.Total.Sessions, Pageviews: s.Total.Pageviews, Engaged: s.Total.Engaged,
		Bounced: s.Total.Bounced, Rejected: s.Rejected[accesslog.ReasonFutureTime], Late: s.Late,
		Duration: s.Total.DurationSum,
	}
}

// wildClockCases: visitor 7 browses 10:00, 10:05, 10:10 (one engaged
// session of 600 s and 3 pageviews); visitor 8's wild line comes between,
// then its real 10:12 visit (one bounced session). The wild line is
// rejected; had it moved the clock, visitor 7's session would have been
// cut in two and its later pageviews counted late.
var wildClockCases = []struct {
	name string
	wild string
}{
	{"a 2099 line", clockLine(8, "2099-06-01T10:06:00", "+0000", "/wild")},
	{"a line one day ahead", clockLine(8, "2026-11-03T10:06:00", "+0000", "/wild")},
	{"the current time labelled -12:00", clockLine(8, "2026-11-02T10:06:00", "-1200", "/wild")},
}

func wildClockLog(wild string) string {
	return clockLine(7, "2026-11-02T10:00:00", "+0000", "/") +
		clockLine(7, "2026-11-02T10:05:00", "+0000", "/a") +
		wild +
		clockLine(7, "2026-11-02T10:10:00", "+0000", "/b") +
		clockLine(8, "2026-11-02T10:12:00", "+0000", "/")
}

var wildClockWant = clockTotals{Sessions: 2, Pageviews: 4, Engaged: 1, Bounced: 1, Rejected: 1, Duration: 600}

// outageLog: visitor 7 at 10:00 and 10:05, then the site is down for a day
// and resumes: visitor 7 at 10:00 and 10:02, visitor 8 at 10:03 the next
// day. The jump is confirmed by the line after it: three sessions (300 s
// and 120 s engaged, one bounced), nothing rejected, nothing late.
func outageLog() string {
	return clockLine(7, "2026-11-02T10:00:00", "+0000", "/") +
		clockLine(7, "2026-11-02T10:05:00", "+0000", "/a") +
		clockLine(7, "2026-11-03T10:00:00", "+0000", "/") +
		clockLine(7, "2026-11-03T10:02:00", "+0000", "/b") +
		clockLine(8, "2026-11-03T10:03:00", "+0000", "/")
}

var outageWant = clockTotals{Sessions: 3, Pageviews: 5, Engaged: 2, Bounced: 1, Duration: 420}

func clockReplay(t *testing.T, data string, workers int) Summary {
	t.Helper()
	c, err := New(mustConfig(t, "own_hosts: [www.example.com]\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Replay(t.Context(), []Input{{Path: "a.log", Reader: strings.NewReader(data)}}, ReplayOptions{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	return Summarize(res.Metrics)
}

func TestWildClockReplay(t *testing.T) {
	cases := append([]struct{ name, data string }{}, struct{ name, data string }{"a day's outage", outageLog()})
	for _, tc := range wildClockCases {
		cases = append(cases, struct{ name, data string }{tc.name, wildClockLog(tc.wild)})
	}
	for _, tc := range cases {
		want := wildClockWant
		if tc.name == "a day's outage" {
			want = outageWant
		}
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/workers=%d", tc.name, workers), func(t *testing.T) {
				if got := totalsOf(clockReplay(t, tc.data, workers)); got != want {
					t.Errorf("got  %+v\nwant %+v", got, want)
				}
			})
		}
	}
}

// TestWildClockParallelEqualsSequential: wild lines scattered through a
// large generated log, split over two inputs: parallel replay rejects
// exactly the lines a sequential one does and counts the same.
func TestWildClockParallelEqualsSequential(t *testing.T) {
	lines := genLines(77, 8000)
	var b bytes.Buffer
	wild := 0
	for i, l := range lines {
		b.Write(l)
		if i%997 == 500 {
			b.WriteString(wildClockCases[wild%len(wildClockCases)].wild)
			wild++
		}
	}
	data := b.Bytes()
	run := func(workers int) Summary {
		c, err := New(mustConfig(t, "own_hosts: [www.example.com]\n"), Options{Secret: []byte("0123456789abcdef")})
		if err != nil {
			t.Fatal(err)
		}
		in := []Input{{Path: "a.log", Reader: bytes.NewReader(data[:len(data)/2])}, {Path: "b.log", Reader: bytes.NewReader(data[len(data)/2:])}}
		res, err := c.Replay(t.Context(), in, ReplayOptions{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		return Summarize(res.Metrics)
	}
	seq := run(1)
	// Every wild line is rejected (the half-way split may cut a line in
	// two, which the parser rejects on its own account).
	if got := seq.Rejected[accesslog.ReasonFutureTime]; got != uint64(wild) {
		t.Errorf("future_time rejections %d, want the %d wild lines", got, wild)
	}
	if seq.Late != 0 {
		t.Errorf("%d late lines: a wild clock moved the event clock", seq.Late)
	}
	for _, workers := range []int{2, 3} {
		if got := run(workers); !equalSummaries(seq, got) {
			t.Errorf("%d workers: %+v\nsequential: %+v", workers, got.Total, seq.Total)
		}
	}
}

func equalSummaries(a, b Summary) bool {
	return fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b)
}

func TestWildClockLive(t *testing.T) {
	type liveCase struct {
		name string
		data string
		wall time.Time
		want clockTotals
	}
	cases := []liveCase{{"a day's outage, read as a backlog", outageLog(), time.Date(2026, 11, 3, 10, 10, 0, 0, time.UTC), outageWant}}
	for _, tc := range wildClockCases {
		cases = append(cases, liveCase{tc.name, wildClockLog(tc.wild), time.Date(2026, 11, 2, 10, 20, 0, 0, time.UTC), wildClockWant})
	}
	// Within max_future of the wall clock, a jump still needs the next line.
	cases = append(cases, liveCase{"a day ahead within max_future of the wall clock",
		wildClockLog(clockLine(8, "2026-11-03T10:06:00", "+0000", "/wild")),
		time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC), wildClockWant})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			logPath := filepath.Join(dir, "access.log")
			statePath := filepath.Join(dir, "state.json")
			clock := &fakeClock{t: tc.wall}
			r := startLive(t, logPath, "beginning", statePath, clock)
			appendFile(t, logPath, []byte(tc.data))
			r.step()
			// The read lag is the wall clock minus the newest real line.
			lag := r.scrape()
			r.shutdown()
			st, err := state.Load(statePath)
			if err != nil {
				t.Fatal(err)
			}
			newest := time.Date(2026, 11, 3, 10, 3, 0, 0, time.UTC)
			if tc.want.Rejected != 0 {
				newest = time.Date(2026, 11, 2, 10, 12, 0, 0, time.UTC)
			}
			// The idle backlog moves the event clock max_delay (5s) past it.
			if got := time.Unix(0, st.Sessions.Watermark).UTC(); got.Before(newest) || got.After(newest.Add(5*time.Second)) {
				t.Errorf("saved event clock %v, want the newest real line's %v (+ max_delay)", got, newest)
			}
			wantLag := fmt.Sprintf("session_exporter_read_lag_seconds %g\n", tc.wall.Sub(newest).Seconds())
			if !strings.Contains(lag, wantLag) {
				t.Errorf("read lag: want %q in\n%s", wantLag, grepLines(lag, "read_lag"))
			}
			if st.Guard == nil || st.Guard.Newest != newest.UnixNano() || len(st.Guard.Held) != 0 {
				t.Errorf("saved clock guard %+v, want newest %v and nothing held", st.Guard, newest)
			}
			r2 := startLive(t, logPath, "beginning", statePath, clock)
			r2.closeSessions()
			got := totalsOf(Summarize(r2.c.Metrics()))
			r2.shutdown()
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestGuardedLineDoesNotAllocate: the clock guard adds no allocation to
// the counting path of a line.
func TestGuardedLineDoesNotAllocate(t *testing.T) {
	_, p, src := testPipeline(t, "own_hosts: [www.example.com]\n")
	line := []byte(strings.TrimSuffix(clockLine(7, "2026-11-02T10:00:00", "+0000", "/"), "\n"))
	wild := []byte(strings.TrimSuffix(clockLine(8, "2099-11-02T10:00:00", "+0000", "/"), "\n"))
	for range 3 { // warm the caches and the visitor's slot
		p.line(src, line, len(line)+1)
	}
	if n := testing.AllocsPerRun(1000, func() { p.line(src, line, len(line)+1) }); n != 0 {
		t.Errorf("%v allocations per line", n)
	}
	if n := testing.AllocsPerRun(1000, func() {
		p.line(src, wild, len(wild)+1) // held
		p.line(src, line, len(line)+1) // rejects it
	}); n != 0 {
		t.Errorf("%v allocations per held and rejected line", n)
	}
}

// TestWildClockInOldStateIsRepaired: a state saved by a build without the
// clock guard, whose event clock a 2099 line moved, is set back at start:
// the later lines are neither late nor cut from their sessions, and the
// totals equal a replay of the real lines.
func TestWildClockInOldStateIsRepaired(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	statePath := filepath.Join(dir, "state.json")
	lines := genLines(91, 2000)
	clock := newClock() // 2026-11-20, after the generated traffic
	r := startLive(t, logPath, "beginning", statePath, clock)
	appendFile(t, logPath, join(lines[:1000]))
	r.step()
	r.shutdown()

	st, err := state.Load(statePath)
	if err != nil {
		t.Fatal(err)
	}
	wild := time.Date(2099, 6, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	st.Sessions.Watermark = wild
	st.Sessions.Visitors = append(st.Sessions.Visitors, session.VisitorState{Key: 12345, Open: true, First: wild, Last: wild, Pageviews: 1, Channel: "direct", Device: "desktop"})
	st.Guard = nil // as a version 1 file
	if err := state.Save(statePath, st); err != nil {
		t.Fatal(err)
	}

	r2 := startLive(t, logPath, "beginning", statePath, clock)
	appendFile(t, logPath, join(lines[1000:]))
	r2.step()
	r2.closeSessions()
	got := Summarize(r2.c.Metrics())
	r2.shutdown()
	want := replayed(t, join(lines))
	if got.Late != want.Late {
		t.Errorf("%d late lines after the restart, replay %d", got.Late, want.Late)
	}
	sameRows(t, want, got)
}

// testPipeline returns the collector configured by yaml, a counting path
// of its own and the source a.log (the default format) it counts, as
// input 0.
func testPipeline(t *testing.T, yaml string) (*Collector, *pipeline, *source) {
	t.Helper()
	c, err := New(mustConfig(t, yaml), Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.newPipeline(c.cl, c.metrics)
	if err != nil {
		t.Fatal(err)
	}
	src, err := c.replaySource("a.log", "")
	if err != nil {
		t.Fatal(err)
	}
	p.srcs = []*source{src}
	return c, p, src
}
