package tail

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// stepTimeout only guards against a hung tailer; tests never wait for it to
// pass.
const stepTimeout = 10 * time.Second

// fakeClock is a Config.Now that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// recorder is a Handler that records what it is given, and checks on every
// line that no byte range is handed out twice and that Positions already
// includes the line.
type recorder struct {
	t    testing.TB
	base string // directory stripped from paths
	tl   *Tailer

	mu     sync.Mutex
	lines  []string
	events []string
	errs   []error
	idle   int
	last   map[*File]int64 // end of the last line or skipped line, per file
	count  tally
	open   map[*File]bool // files opened and not closed yet

	// onLine, if set, is called on the tailer's goroutine after each line
	// is recorded, with the line as recorded.
	onLine func(line string)
}

func newRecorder(t testing.TB, base string, tl *Tailer) *recorder {
	return &recorder{t: t, base: base, tl: tl, last: make(map[*File]int64),
		open: make(map[*File]bool), count: tally{events: make(map[EventKind]int64)}}
}

func (r *recorder) Line(f *File, line []byte, end int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checkPosition(f, end)
	r.record(f, line, end)
}

// checkPosition checks that Positions already includes what ends at end.
func (r *recorder) checkPosition(f *File, end int64) {
	found := false
	for _, p := range r.tl.Positions() {
		if p.Path == f.Path && p.Offset == end {
			found = true
		}
	}
	if !found {
		r.t.Errorf("%s: Positions during Line does not include offset %d: %+v", f.Path, end, r.tl.Positions())
	}
}

// record records one line, ending at end, with r.mu held.
func (r *recorder) record(f *File, line []byte, end int64) {
	start := end - int64(len(line)) - 1
	if prev, ok := r.last[f]; ok && start < prev {
		r.t.Errorf("%s: line %q at [%d,%d) overlaps what was handed out up to %d", f.Path, line, start, end, prev)
	}
	r.last[f] = end
	rec := r.rel(f.Path) + ": " + string(line)
	r.lines = append(r.lines, rec)
	r.count.lines++
	r.count.bytes += int64(len(line)) + 1
	if r.onLine != nil {
		r.mu.Unlock()
		r.onLine(rec)
		r.mu.Lock()
	}
}

func (r *recorder) Event(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e.Kind {
	case EventTruncated:
		delete(r.last, e.File)
	case EventTooLong:
		r.last[e.File] = e.Offset + e.Bytes + 1
		r.count.bytes += e.Bytes + 1
	case EventReadError:
		r.errs = append(r.errs, e.Err)
	case EventOpened:
		r.open[e.File] = true
	case EventClosed:
		delete(r.open, e.File)
	}
	r.count.events[e.Kind]++
	s := e.Kind.String() + " " + r.rel(e.Path)
	switch e.Kind {
	case EventOpened, EventRotated, EventClosed, EventLost:
		s += fmt.Sprintf(" @%d", e.Offset)
	case EventTooLong:
		s += fmt.Sprintf(" @%d len %d", e.Offset, e.Bytes)
	case EventTruncated:
		s += fmt.Sprintf(" from %d", e.Offset)
	}
	r.events = append(r.events, s)
}

func (r *recorder) Idle() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.idle++
}

func (r *recorder) rel(p string) string {
	if rel, err := filepath.Rel(r.base, p); err == nil {
		return rel
	}
	return p
}

// tally is what a handler can count from the lines and events it is
// given: the totals a metrics layer derives from them.
type tally struct {
	lines  int64
	bytes  int64 // lines with their newlines, and skipped lines
	events map[EventKind]int64
}

// counts returns the totals since the recorder started, and how many files
// are open (opened and not closed).
func (r *recorder) counts() (tally, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.count
	c.events = maps.Clone(c.events)
	return c, len(r.open)
}

// takeLines returns the lines recorded since the last call.
func (r *recorder) takeLines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.lines
	r.lines = nil
	return l
}

// takeEvents returns the events recorded since the last call.
func (r *recorder) takeEvents() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.events
	r.events = nil
	return e
}

// harness runs one Tailer over a temporary directory with a ManualWaker.
type harness struct {
	t     *testing.T
	dir   string
	clock *fakeClock
	waker *ManualWaker
	tl    *Tailer
	rec   *recorder

	cancel context.CancelFunc
	done   chan error
}

// start runs a tailer with cfg (Paths relative to dir) from positions, and
// returns after its first pass.
func start(t *testing.T, dir string, cfg Config, positions []Position) *harness {
	t.Helper()
	return startChunk(t, dir, cfg, positions, 0)
}

// startChunk is start with a read buffer of chunk bytes beyond the line
// limit instead of 64 KiB, to exercise lines crossing reads.
func startChunk(t *testing.T, dir string, cfg Config, positions []Position, chunk int) *harness {
	t.Helper()
	for i, p := range cfg.Paths {
		cfg.Paths[i] = filepath.Join(dir, p)
	}
	h := &harness{t: t, dir: dir, clock: newFakeClock(), waker: NewManualWaker()}
	cfg.Waker = h.waker
	cfg.Now = h.clock.Now
	if cfg.DrainIdle == 0 {
		cfg.DrainIdle = 5 * time.Second
	}
	tl, err := New(cfg, positions)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if chunk > 0 {
		tl.buf = make([]byte, chunk+tl.cfg.MaxLineBytes)
	}
	h.tl = tl
	h.rec = newRecorder(t, dir, tl)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- tl.Run(ctx, h.rec) }()
	t.Cleanup(func() { h.stop() })
	h.step() // the first pass is over: what it found was there at the start
	return h
}

// step wakes the tailer and returns once it has caught up.
func (h *harness) step() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	if err := h.waker.Step(ctx); err != nil {
		h.t.Fatalf("step: %v", err)
	}
}

// stop stops the tailer and returns its final positions.
func (h *harness) stop() []Position {
	h.t.Helper()
	if h.done == nil {
		return h.tl.Positions()
	}
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run: %v", err)
		}
	case <-time.After(stepTimeout):
		h.t.Fatal("Run did not return after cancel")
	}
	h.done = nil
	return h.tl.Positions()
}

// lines steps and returns the lines handed out since the last call.
func (h *harness) lines() []string {
	h.t.Helper()
	h.step()
	return h.rec.takeLines()
}

func (h *harness) path(name string) string { return filepath.Join(h.dir, name) }

func (h *harness) write(name, s string) {
	h.t.Helper()
	writeFile(h.t, h.path(name), s)
}

func (h *harness) rename(from, to string) {
	h.t.Helper()
	if err := os.Rename(h.path(from), h.path(to)); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) remove(name string) {
	h.t.Helper()
	if err := os.Remove(h.path(name)); err != nil {
		h.t.Fatal(err)
	}
}

// writeFile appends s to path, creating it if needed.
func writeFile(t testing.TB, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// eventsOf returns the events of the given kinds, in order.
func eventsOf(events []string, kinds ...EventKind) []string {
	var out []string
	for _, e := range events {
		for _, k := range kinds {
			if len(e) > len(k.String()) && e[:len(k.String())+1] == k.String()+" " {
				out = append(out, e)
			}
		}
	}
	return out
}

// positionFor returns the position for path with the highest offset.
func positionFor(t *testing.T, ps []Position, path string) Position {
	t.Helper()
	i := slices.IndexFunc(ps, func(p Position) bool { return p.Path == path })
	if i < 0 {
		t.Fatalf("no position for %s in %+v", path, ps)
	}
	return ps[i]
}
