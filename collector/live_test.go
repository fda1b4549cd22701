package collector

// The live exporter's tests through Run: each starts the whole exporter on
// temporary files with the helpers at the top (startLive, runCollector, an
// injected clock).

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/session-exporter/session-exporter/collector/loggen"
	"github.com/session-exporter/session-exporter/collector/tail"
)

// fakeClock is the wall clock of a live test: it moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// genLines returns n generated combined-format lines, each with its newline.
func genLines(seed uint64, n int) [][]byte {
	// Few user agents: a cold user-agent parse is slow under the race detector.
	g := loggen.New(loggen.Options{Seed: seed, Visitors: 300, Rate: 0.5, UserAgents: 12})
	out := make([][]byte, n)
	for i := range out {
		out[i] = append(g.Next(nil), '\n')
	}
	return out
}

func join(parts ...[][]byte) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		for _, l := range p {
			b.Write(l)
		}
	}
	return b.Bytes()
}

const liveConfig = `
logs: [{path: %q, format: combined}]
start_at: %s
own_hosts: [www.example.com]
goals: [{name: purchase, path: ^/checkout/thank-you}]
state_file: %q
poll_interval: 1h
`

// replayed returns the rows a replay of data produces: what a live run over
// the same lines must report once its sessions are closed.
func replayed(t *testing.T, data []byte) Summary {
	t.Helper()
	cfg := mustConfig(t, fmt.Sprintf(liveConfig, "replay.log", "beginning", ""))
	c, err := New(cfg, Options{Secret: []byte("0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Replay(t.Context(), []Input{{Path: "replay.log", Reader: bytes.NewReader(data)}}, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return Summarize(res.Metrics)
}

// liveRun is one running exporter under test.
type liveRun struct {
	t     *testing.T
	c     *Collector
	waker *tail.ManualWaker
	clock *fakeClock
	addr  string
	stop  context.CancelFunc
	done  chan error
}

func startLive(t *testing.T, logPath, startAt, statePath string, clock *fakeClock) *liveRun {
	t.Helper()
	return startLiveConfig(t, fmt.Sprintf(liveConfig, logPath, startAt, statePath), clock)
}

// startLiveConfig runs a collector for the config document yaml.
func startLiveConfig(t *testing.T, yaml string, clock *fakeClock) *liveRun {
	t.Helper()
	cfg := mustConfig(t, yaml)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	c, err := New(cfg, Options{Now: clock.Now, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return runCollector(t, c, clock)
}

// runCollector runs c live on a 127.0.0.1 port with a manual waker.
func runCollector(t *testing.T, c *Collector, clock *fakeClock) *liveRun {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	r := &liveRun{t: t, c: c, waker: tail.NewManualWaker(), clock: clock, stop: cancel, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() {
		r.done <- c.Run(ctx, RunOptions{Listener: ln, Waker: r.waker, Ready: func(a net.Addr) { ready <- a.String() }})
	}()
	select {
	case r.addr = <-ready:
	case err := <-r.done:
		t.Fatalf("Run returned before it was ready: %v", err)
	}
	r.step()
	return r
}

// step wakes the tailer and waits until it has read everything written.
func (r *liveRun) step() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(r.t.Context(), 20*time.Second)
	defer cancel()
	if err := r.waker.Step(ctx); err != nil {
		r.t.Fatalf("step: %v", err)
	}
}

// closeSessions moves the wall clock past the timeout so idle sessions close.
func (r *liveRun) closeSessions() {
	r.clock.Add(2 * time.Hour)
	r.step()
}

func (r *liveRun) shutdown() {
	r.t.Helper()
	r.stop()
	select {
	case err := <-r.done:
		if err != nil {
			r.t.Fatalf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		r.t.Fatal("Run did not return after cancel")
	}
}

func (r *liveRun) scrape() string {
	r.t.Helper()
	resp, err := http.Get("http://" + r.addr + "/metrics")
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func appendFile(t *testing.T, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func sameRows(t *testing.T, want, got Summary) {
	t.Helper()
	if diff := cmp.Diff(want.Rows, got.Rows); diff != "" {
		t.Errorf("live rows differ from replay (-replay +live):\n%s", diff)
	}
	if want.Bots != got.Bots {
		t.Errorf("bot requests: live %d, replay %d", got.Bots, want.Bots)
	}
	if want.Total.Sessions == 0 {
		t.Error("test data produced no sessions")
	}
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)} }

func TestLiveRotationRenameCreate(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	lines := genLines(1, 4000)
	a, b, c, d := lines[:1000], lines[1000:1800], lines[1800:3000], lines[3000:]
	appendFile(t, logPath, nil)
	r := startLive(t, logPath, "end", "", newClock())
	appendFile(t, logPath, join(a))
	r.step()
	// logrotate renames; nginx keeps writing to the renamed file until USR1.
	if err := os.Rename(logPath, logPath+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, logPath+".1", join(b))
	appendFile(t, logPath, join(c)) // nginx reopened: a new file
	r.step()
	appendFile(t, logPath, join(d))
	r.step()
	r.closeSessions()
	got := Summarize(r.c.Metrics())
	r.shutdown()
	sameRows(t, replayed(t, join(lines)), got)
	if got.Lines != uint64(len(lines)) {
		t.Errorf("lines read %d, want %d", got.Lines, len(lines))
	}
}

func TestLiveCopyTruncate(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	lines := genLines(2, 3000)
	a, b := lines[:1500], lines[1500:]
	r := startLive(t, logPath, "beginning", "", newClock())
	appendFile(t, logPath, join(a))
	r.step()
	if err := os.WriteFile(logPath+".1", join(a), 0o644); err != nil { // the copy
		t.Fatal(err)
	}
	if err := os.Truncate(logPath, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, logPath, join(b)) // already longer than before the truncation
	r.step()
	r.closeSessions()
	body := r.scrape()
	got := Summarize(r.c.Metrics())
	r.shutdown()
	sameRows(t, replayed(t, join(lines)), got)
	if !strings.Contains(body, `session_exporter_truncations_total{file="`+logPath+`"} 1`) {
		t.Errorf("truncation not counted:\n%s", grepLines(body, "truncations"))
	}
}

func TestLiveFileAppearsAfterStart(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	lines := genLines(3, 2000)
	r := startLive(t, logPath, "end", "", newClock()) // start_at end: a file created later is still read whole
	appendFile(t, logPath, join(lines[:700]))
	r.step()
	appendFile(t, logPath, join(lines[700:]))
	r.step()
	r.closeSessions()
	got := Summarize(r.c.Metrics())
	r.shutdown()
	sameRows(t, replayed(t, join(lines)), got)
}

func TestLiveStartAtEndSkipsExistingLines(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	lines := genLines(4, 2000)
	appendFile(t, logPath, join(lines[:1000]))
	r := startLive(t, logPath, "end", "", newClock())
	appendFile(t, logPath, join(lines[1000:]))
	r.step()
	r.closeSessions()
	got := Summarize(r.c.Metrics())
	r.shutdown()
	sameRows(t, replayed(t, join(lines[1000:])), got)
}

// TestLiveRestartResumes stops the exporter mid-stream (sessions open,
// events held), writes while it is down, and restarts it from its state:
// the totals equal one uninterrupted replay.
func TestLiveRestartResumes(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	statePath := filepath.Join(dir, "state.json")
	lines := genLines(5, 5000)
	clock := newClock()
	r := startLive(t, logPath, "beginning", statePath, clock)
	appendFile(t, logPath, join(lines[:2100]))
	r.step()
	before := Summarize(r.c.Metrics())
	r.shutdown()
	if fi, err := os.Stat(statePath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", fi, err)
	}
	appendFile(t, logPath, join(lines[2100:3500])) // written while stopped
	r2 := startLive(t, logPath, "beginning", statePath, clock)
	afterStart := Summarize(r2.c.Metrics())
	if afterStart.Lines < before.Lines {
		t.Errorf("counters went back at restart: %d lines, was %d", afterStart.Lines, before.Lines)
	}
	appendFile(t, logPath, join(lines[3500:]))
	r2.step()
	r2.closeSessions()
	got := Summarize(r2.c.Metrics())
	r2.shutdown()
	sameRows(t, replayed(t, join(lines)), got)
	if got.Lines != uint64(len(lines)) {
		t.Errorf("lines read %d over two runs, want %d", got.Lines, len(lines))
	}
}

// TestLiveRotationWhileStopped rotates the log while the exporter is down:
// the rest of the old file is found by its inode and read first.
func TestLiveRotationWhileStopped(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	statePath := filepath.Join(dir, "state.json")
	lines := genLines(6, 3000)
	clock := newClock()
	r := startLive(t, logPath, "beginning", statePath, clock)
	appendFile(t, logPath, join(lines[:1000]))
	r.step()
	r.shutdown()
	appendFile(t, logPath, join(lines[1000:1500]))
	if err := os.Rename(logPath, logPath+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, logPath, join(lines[1500:]))
	r2 := startLive(t, logPath, "beginning", statePath, clock)
	r2.closeSessions()
	got := Summarize(r2.c.Metrics())
	r2.shutdown()
	sameRows(t, replayed(t, join(lines)), got)
}

// TestLiveQuietSiteClosesSessions: with no new lines, sessions close once
// the wall clock passes the timeout after the last line was read.
func TestLiveQuietSiteClosesSessions(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	clock := newClock()
	r := startLive(t, logPath, "beginning", "", clock)
	ts := time.Date(2026, 11, 20, 11, 0, 0, 0, time.UTC).Format("02/Jan/2006:15:04:05 -0700")
	appendFile(t, logPath, []byte(`203.0.113.9 - - [`+ts+`] "GET / HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"`+"\n"))
	r.step()
	clock.Add(10 * time.Second) // past max_delay: the pageview is applied
	r.step()
	if s := Summarize(r.c.Metrics()); s.Total.Sessions != 1 || s.Total.Active != 1 {
		t.Fatalf("after 10s: %+v, want one active session", s.Total)
	}
	clock.Add(29 * time.Minute)
	r.step()
	if s := Summarize(r.c.Metrics()); s.Total.Active != 1 {
		t.Fatalf("session closed before the timeout: %+v", s.Total)
	}
	clock.Add(2 * time.Minute)
	r.step()
	s := Summarize(r.c.Metrics())
	r.shutdown()
	if s.Total.Active != 0 || s.Total.Bounced != 1 {
		t.Errorf("after the timeout: %+v, want the session closed and bounced", s.Total)
	}
}

func TestLiveCorruptStateIsMovedAside(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	statePath := filepath.Join(dir, "state.json")
	if err := os.WriteFile(statePath, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	lines := genLines(7, 500)
	appendFile(t, logPath, join(lines))
	r := startLive(t, logPath, "beginning", statePath, newClock())
	r.closeSessions()
	got := Summarize(r.c.Metrics())
	r.shutdown()
	sameRows(t, replayed(t, join(lines)), got)
	moved, _ := filepath.Glob(statePath + ".bad-*")
	if len(moved) != 1 {
		t.Errorf("corrupt state not moved aside: %v", moved)
	}
}

func TestLiveHTTPEndpoints(t *testing.T) {
	dir := t.TempDir()
	r := startLive(t, filepath.Join(dir, "access.log"), "end", "", newClock())
	defer r.shutdown()
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/metrics", 200, "# TYPE web_bot_requests_total counter"},
		{"HEAD", "/metrics", 200, ""},
		{"GET", "/healthz", 200, "ok"},
		{"POST", "/metrics", 405, ""},
		{"DELETE", "/healthz", 405, ""},
		{"GET", "/nope", 404, ""},
	} {
		req, _ := http.NewRequest(tc.method, "http://"+r.addr+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.body) {
			t.Errorf("%s %s: %d %.80q, want %d containing %q", tc.method, tc.path, resp.StatusCode, b, tc.status, tc.body)
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestLiveBacklogShowsAtOnce: lines older than max_delay by the wall clock
// are counted as soon as the files are read to their end, without waiting
// max_delay of wall time; sessions still close only by the timeout.
func TestLiveBacklogShowsAtOnce(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	lines := genLines(8, 3000) // event times in 2026-11-02, long before the clock
	appendFile(t, logPath, join(lines))
	r := startLive(t, logPath, "beginning", "", newClock()) // no clock movement at all
	got := Summarize(r.c.Metrics())
	r.shutdown()
	want := replayed(t, join(lines))
	if got.Total.Sessions != want.Total.Sessions || got.Total.Pageviews != want.Total.Pageviews {
		t.Errorf("after reading the backlog: %d sessions %d pageviews, replay %d and %d",
			got.Total.Sessions, got.Total.Pageviews, want.Total.Sessions, want.Total.Pageviews)
	}
	if got.Total.Active == 0 {
		t.Error("sessions closed without the clock passing the timeout")
	}
}
