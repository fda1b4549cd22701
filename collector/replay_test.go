package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/session-exporter/session-exporter/collector/accesslog"
	"github.com/session-exporter/session-exporter/collector/config"
	"github.com/session-exporter/session-exporter/collector/telemetry"
)

func mustConfig(t testing.TB, yaml string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type truthRow struct {
	Channel     string  `json:"channel"`
	Device      string  `json:"device"`
	Sessions    float64 `json:"sessions"`
	Pageviews   float64 `json:"pageviews"`
	Engaged     float64 `json:"engaged"`
	Bounced     float64 `json:"bounced"`
	Conversions float64 `json:"conversions"`
	DurationSum float64 `json:"duration_sum"`
}

// TestReplayMatchesSharedTruth replays the sample logs with ground truth
// (testdata/samples, compressed as a user's rotated logs would be) and
// compares every (channel, device) cell with their truth: counts exactly,
// duration sums within 1%.
func TestReplayMatchesSharedTruth(t *testing.T) {
	dir := filepath.Join("..", "testdata", "samples")
	for _, name := range []string{"sample-combined", "sample-caddy"} {
		t.Run(name, func(t *testing.T) {
			var truth struct {
				Format string     `json:"format"`
				By     []truthRow `json:"by"`
			}
			b, err := os.ReadFile(filepath.Join(dir, name+".truth.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &truth); err != nil {
				t.Fatal(err)
			}
			cfg := mustConfig(t, `
own_hosts: [www.example.com, example.com]
goals: [{name: purchase, path: ^/checkout/thank-you}]
session: {timeout: 30m, timezone: UTC, split_at_midnight: true, split_on_source_change: true}
`)
			c, err := New(cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			// The format is detected ("auto"), as a user replaying a file would.
			res, err := c.Replay(t.Context(), []Input{{Path: filepath.Join(dir, name+".log.gz")}}, ReplayOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sum := Summarize(res.Metrics)
			if r := sum.Rejected; len(r) != 0 {
				t.Errorf("rejected lines: %v", r)
			}
			got := map[[2]string]truthRow{}
			for _, r := range sum.Rows {
				if r.Active != 0 {
					t.Errorf("%s/%s: %d sessions still active after replay", r.Channel, r.Device, r.Active)
				}
				got[[2]string{r.Channel, r.Device}] = truthRow{Channel: r.Channel, Device: r.Device,
					Sessions: float64(r.Sessions), Pageviews: float64(r.Pageviews), Engaged: float64(r.Engaged),
					Bounced: float64(r.Bounced), Conversions: float64(r.Conversions), DurationSum: r.DurationSum}
			}
			for _, w := range truth.By {
				k := [2]string{w.Channel, w.Device}
				g := got[k]
				delete(got, k)
				if g.Sessions != w.Sessions || g.Pageviews != w.Pageviews || g.Engaged != w.Engaged ||
					g.Bounced != w.Bounced || g.Conversions != w.Conversions {
					t.Errorf("%s/%s: got %+v, want %+v", w.Channel, w.Device, g, w)
				}
				if math.Abs(g.DurationSum-w.DurationSum) > 0.01*math.Max(w.DurationSum, 1) {
					t.Errorf("%s/%s: duration sum %.3f, want %.3f within 1%%", w.Channel, w.Device, g.DurationSum, w.DurationSum)
				}
			}
			for k, g := range got {
				t.Errorf("%s/%s: %v sessions not in the truth", k[0], k[1], g.Sessions)
			}
		})
	}
}

// pathsInput is lines with neighbours swapped here and there, some lines
// moved far back (later than max_delay) and junk.
func pathsInput() []byte {
	lines := genLines(31, 20_000)
	r := rand.New(rand.NewPCG(3, 4))
	for i := 1; i < len(lines); i++ {
		switch r.IntN(40) {
		case 0:
			lines[i], lines[i-1] = lines[i-1], lines[i]
		case 1:
			if i > 200 {
				lines[i], lines[i-200] = lines[i-200], lines[i]
			}
		case 2:
			lines[i] = []byte("garbage that is not a log line\n")
		}
	}
	return join(lines)
}

// pathsConfig keeps fewer visitors than the input has (300), so sessions
// are evicted all along.
const pathsConfig = `
logs: [{path: a.log, format: combined}]
own_hosts: [www.example.com]
goals: [{name: purchase, path: ^/checkout/thank-you}]
max_visitors: 40
visitors: {capacity: 50}
`

// exposition is the text /metrics would serve for m, but for the gauge of
// visitors remembered, which a live exporter forgets as their returning
// window ends and a replay keeps to the end.
func exposition(t *testing.T, c *Collector, m *telemetry.Metrics) string {
	t.Helper()
	exp, err := c.NewExporter(m, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Shutdown(t.Context())
	var b bytes.Buffer
	if err := exp.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return regexp.MustCompile(`(?m)^session_exporter_visitors .*$`).ReplaceAllString(b.String(), "")
}

// TestParallelReplayEqualsSequential: decoding on several workers gives
// exactly the sequential counts, on lines out of order (some later than
// max_delay), with junk, and with sessions evicted by max_visitors.
func TestParallelReplayEqualsSequential(t *testing.T) {
	data := pathsInput()
	cfg := mustConfig(t, pathsConfig)
	run := func(workers int) (Summary, string) {
		c, err := New(cfg, Options{Secret: []byte("0123456789abcdef")})
		if err != nil {
			t.Fatal(err)
		}
		in := []Input{{Path: "a.log", Reader: bytes.NewReader(data[:len(data)/2])}, {Path: "b.log", Reader: bytes.NewReader(data[len(data)/2:])}}
		res, err := c.Replay(t.Context(), in, ReplayOptions{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		return Summarize(res.Metrics), exposition(t, c, res.Metrics)
	}
	wantSum, wantText := run(1)
	if wantSum.Late == 0 || len(wantSum.Rejected) == 0 || wantSum.Total.Sessions == 0 || wantSum.Evicted == 0 || wantSum.Bots == 0 {
		t.Fatalf("test input lacks late lines, junk, bots, evictions or sessions: %+v", wantSum)
	}
	for _, workers := range []int{2, 3, 4} {
		gotSum, gotText := run(workers)
		if diff := cmp.Diff(wantSum, gotSum); diff != "" {
			t.Errorf("%d workers: summary differs (-sequential +parallel):\n%s", workers, diff)
		}
		if diff := cmp.Diff(wantText, gotText); diff != "" {
			t.Errorf("%d workers: /metrics differs (-sequential +parallel):\n%s", workers, diff)
		}
	}
}

// TestReplayPathsAgree: the live counting path fed the lines of a log,
// the sequential replay and the parallel replay of the same log serve the
// same exposition, every metric of it, with sessions evicted all along.
func TestReplayPathsAgree(t *testing.T) {
	data := pathsInput()
	cfg := mustConfig(t, pathsConfig)
	secret := []byte("0123456789abcdef")
	replay := func(workers int) string {
		c, err := New(cfg, Options{Secret: secret})
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Replay(t.Context(), []Input{{Path: "a.log", Reader: bytes.NewReader(data)}}, ReplayOptions{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if workers == 1 {
			if s := Summarize(res.Metrics); s.Evicted == 0 || s.Late == 0 || s.Bots == 0 || len(s.Rejected) == 0 {
				t.Fatalf("test input lacks evictions, late lines, bots or junk: %+v", s)
			}
		}
		return exposition(t, c, res.Metrics)
	}

	// Live: the pipeline Run builds, its lines checked against a wall
	// clock after the traffic, then the clock moved on until every
	// session is closed, as idle passes do.
	c, err := New(cfg, Options{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.newPipeline(c.cl, c.metrics)
	if err != nil {
		t.Fatal(err)
	}
	parser, err := accesslog.New("combined")
	if err != nil {
		t.Fatal(err)
	}
	src := &source{name: "a.log", format: "combined", parser: parser}
	p.srcs = []*source{src}
	p.wall = func() time.Time { return time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC) }
	if err := eachLine(t.Context(), bytes.NewReader(data), cfg.MaxLineBytes,
		func(b []byte, n int) { p.line(src, b, n) }, func(n int) { p.tooLong(src, n) }); err != nil {
		t.Fatal(err)
	}
	p.guard.Idle(p)
	end := p.newest + int64(48*time.Hour)
	p.guard.Advance(end, p)
	p.sessions.Advance(end)
	live := exposition(t, c, c.metrics)

	want := replay(1)
	if diff := cmp.Diff(want, live); diff != "" {
		t.Errorf("live differs from the sequential replay (-replay +live):\n%s", diff)
	}
	for _, workers := range []int{2, 4} {
		if diff := cmp.Diff(want, replay(workers)); diff != "" {
			t.Errorf("%d workers differ from the sequential replay (-sequential +parallel):\n%s", workers, diff)
		}
	}
}

// TestParallelReplayBoundsChunks: while one chunk is slow, the workers
// stop reading when the bound of chunks in flight is reached instead of
// reading on, and the counts are the sequential ones.
func TestParallelReplayBoundsChunks(t *testing.T) {
	data := pathsInput()
	cfg := mustConfig(t, pathsConfig)
	const workers = 3
	limit := chunksPerWorker * workers
	var most atomic.Int64
	full := make(chan struct{})
	var once sync.Once
	hooks := &parallelHooks{
		chunkBytes: 4 << 10, // about a hundred chunks
		taken: func(n int) {
			for {
				m := most.Load()
				if int64(n) <= m || most.CompareAndSwap(m, int64(n)) {
					break
				}
			}
			if n >= limit {
				once.Do(func() { close(full) })
			}
		},
		process: func(seq int) {
			if seq != 0 {
				return
			}
			select { // the first chunk waits until the other workers have read the bound
			case <-full:
			case <-time.After(time.Minute):
				t.Error("the workers never had the bound of chunks out")
			}
		},
	}
	run := func(workers int, h *parallelHooks) Summary {
		c, err := New(cfg, Options{Secret: []byte("0123456789abcdef")})
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Replay(t.Context(), []Input{{Path: "a.log", Reader: bytes.NewReader(data)}}, ReplayOptions{Workers: workers, hooks: h})
		if err != nil {
			t.Fatal(err)
		}
		return Summarize(res.Metrics)
	}
	got := run(workers, hooks)
	if m := most.Load(); m > int64(limit) {
		t.Errorf("%d chunks in flight, the bound is %d", m, limit)
	}
	if diff := cmp.Diff(run(1, nil), got); diff != "" {
		t.Errorf("counts differ (-sequential +parallel):\n%s", diff)
	}
}

// endless repeats data for ever.
type endless struct {
	data []byte
	off  int
}

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m := copy(p[n:], e.data[e.off:])
		n += m
		e.off = (e.off + m) % len(e.data)
	}
	return n, nil
}

// TestParallelReplayStopsWhenCancelled: cancelling a parallel replay of an
// input without end stops it, here while a worker waits for a free chunk
// (the first chunk's turn is held, so every chunk is out), and it says
// why, as the sequential replay does.
func TestParallelReplayStopsWhenCancelled(t *testing.T) {
	cfg := mustConfig(t, pathsConfig)
	c, err := New(cfg, Options{Secret: []byte("0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	waiting := make(chan struct{})
	var once sync.Once
	hooks := &parallelHooks{
		chunkBytes: 4 << 10,
		waiting:    func() { once.Do(func() { close(waiting) }) },
		process: func(seq int) {
			if seq != 0 {
				return
			}
			select { // holds the first chunk's turn until a worker waits for a chunk
			case <-waiting:
			case <-time.After(time.Minute):
				t.Error("no worker ever waited for a free chunk")
			}
			cancel()
		},
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Replay(ctx, []Input{{Path: "a.log", Reader: &endless{data: pathsInput()}}}, ReplayOptions{Workers: 2, hooks: hooks})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "read a.log: ") {
			t.Errorf("replay returned %v, want read a.log: context canceled", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the replay did not stop when cancelled")
	}
}

// TestReplayStepsShowTheStateAtTheirTime: a backfill step is taken before
// the line that passes it, so a quiet gap shows the session open, then
// closed by the timeout, and the later visit only after its line.
func TestReplayStepsShowTheStateAtTheirTime(t *testing.T) {
	line := func(at string) string {
		ts, _ := time.Parse(time.RFC3339, at)
		return `198.51.100.7 - - [` + ts.Format("02/Jan/2006:15:04:05 -0700") + `] "GET / HTTP/1.1" 200 5 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"` + "\n"
	}
	// The 12:01 line confirms the clock's jump to 12:00 (docs/rules.md rule 1).
	data := line("2026-11-02T10:00:00Z") + line("2026-11-02T12:00:00Z") + line("2026-11-02T12:01:00Z")
	c, err := New(mustConfig(t, "own_hosts: [www.example.com]\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]uint64{} // time -> sessions, active
	_, err = c.Replay(t.Context(), []Input{{Path: "a.log", Reader: strings.NewReader(data)}}, ReplayOptions{
		Every: 5 * time.Minute,
		OnStep: func(at time.Time, m *telemetry.Metrics) error {
			s := Summarize(m)
			got[at.Format("15:04")] = [2]uint64{s.Total.Sessions, s.Total.Active}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for at, want := range map[string][2]uint64{
		"10:05": {1, 1}, // open: not yet idle for the timeout
		"10:30": {1, 1},
		"10:40": {1, 0}, // closed by the timeout
		"12:00": {1, 0}, // the 12:00 line is counted after its step
		"12:05": {2, 0}, // the last step: every session closed
	} {
		if got[at] != want {
			t.Errorf("step %s: sessions, active = %v, want %v", at, got[at], want)
		}
	}
}
