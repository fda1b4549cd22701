package main

// The clock guard's scenarios against the built binary (live, replay, across
// a restart, state upgrade, concurrent scrapes) sharing the clock* helpers.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/session-exporter/session-exporter/collector/loggen"
	"github.com/session-exporter/session-exporter/collector/state"
)

// Binary-level tests of the clock guard, the state file and scrapes: the
// built exporter, real signals, bounded waits, totals compared with a
// replay of the same lines.

// clockTraffic returns n generated combined lines whose times end before
// the wall clock: they start at start.
func clockTraffic(t *testing.T, seed uint64, n int, start time.Time) [][]byte {
	t.Helper()
	g := loggen.New(loggen.Options{Seed: seed, Visitors: 200, Rate: 0.5, UserAgents: 10, Start: start})
	lines := make([][]byte, n)
	for i := range lines {
		lines[i] = append(g.Next(nil), '\n')
	}
	if g.Now().After(time.Now().Add(-time.Minute)) {
		t.Fatalf("generated traffic runs to %v, past the wall clock", g.Now())
	}
	return lines
}

// clockWild is a pageview of a visitor seen nowhere else at local time t
// written with zone offset zone ("+0000", "-1200").
func clockWild(t time.Time, zone string) []byte {
	return fmt.Appendf(nil, `203.0.113.250 - - [%s %s] "GET /wild HTTP/1.1" 200 5 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"`+"\n",
		t.Format("02/Jan/2006:15:04:05"), zone)
}

// lineTime reads the $time_local of a combined line.
func clockLineTime(t *testing.T, l []byte) time.Time {
	t.Helper()
	i, j := bytes.IndexByte(l, '['), bytes.IndexByte(l, ']')
	ts, err := time.Parse("02/Jan/2006:15:04:05 -0700", string(l[i+1:j]))
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// clockWithWild inserts wild lines into clean: a 2099 line, one a day
// ahead of the wall clock, the wall clock's reading labelled -12:00, and
// one an hour past its neighbours (within max_future of the wall clock: a
// jump that the next line denies). They go at the given positions.
func clockWithWild(t *testing.T, clean [][]byte, at ...int) ([][]byte, int) {
	t.Helper()
	now := time.Now().UTC()
	var out [][]byte
	wild := 0
	for i, l := range clean {
		out = append(out, l)
		if !slices.Contains(at, i) {
			continue
		}
		var w []byte
		switch wild % 4 {
		case 0:
			w = clockWild(time.Date(2099, 6, 1, 10, 0, 0, 0, time.UTC), "+0000")
		case 1:
			w = clockWild(now.Add(24*time.Hour), "+0000")
		case 2:
			w = clockWild(now, "-1200")
		case 3:
			w = clockWild(clockLineTime(t, l).UTC().Add(time.Hour), "+0000")
		}
		out = append(out, w)
		wild++
	}
	return out, wild
}

type clockReplayTotals struct {
	Total    struct{ Sessions, Pageviews, Engaged float64 }
	Lines    float64
	Rejected map[string]float64
	Late     float64
}

// clockReplay runs the built binary's replay over lines.
func clockReplay(t *testing.T, bin, cfg string, lines [][]byte) clockReplayTotals {
	t.Helper()
	p := filepath.Join(t.TempDir(), "replay.log")
	writeFile(t, p, string(bytes.Join(lines, nil)))
	cmd := exec.Command(bin, "replay", "-config", cfg, "-o", "json", p)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("replay: %v: %s", err, errb.String())
	}
	var r clockReplayTotals
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// clockSample returns the sum of the samples of name whose labels contain
// label (all of them when label is "").
func (p *proc) clockSample(t *testing.T, name, label string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + p.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var sum float64
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, name+"{") && !strings.HasPrefix(l, name+" ") {
			continue
		}
		if label != "" && !strings.Contains(l, label) {
			continue
		}
		var v float64
		fmt.Sscan(l[strings.LastIndexByte(l, ' ')+1:], &v)
		sum += v
	}
	return sum
}

// clockWaitSettled polls until lines_read is n and the session counters
// stop moving (held lines are applied on the idle pass after the read).
func (p *proc) clockWaitSettled(t *testing.T, n int) {
	t.Helper()
	p.waitLines(t, n)
	deadline := time.Now().Add(30 * time.Second)
	last := -1.0
	for {
		pv := p.clockSample(t, "web_pageviews_total", "")
		if pv == last {
			return
		}
		last = pv
		if time.Now().After(deadline) {
			t.Fatalf("pageviews still moving after 30s; stderr:\n%s", p.stderr)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// clockCompare checks the scraped totals against a replay.
func (p *proc) clockCompare(t *testing.T, want clockReplayTotals, wild int) {
	t.Helper()
	for _, c := range []struct {
		metric string
		want   float64
	}{
		{"web_sessions_total", want.Total.Sessions},
		{"web_pageviews_total", want.Total.Pageviews},
		{"web_sessions_engaged_total", want.Total.Engaged},
	} {
		if got := p.clockSample(t, c.metric, ""); got != c.want {
			t.Errorf("%s = %v, replay %v", c.metric, got, c.want)
		}
	}
	// A wild clock taken would make nearly every later line late. Live, a
	// few lines may be counted late where a replay reorders them: an idle
	// pass (or a restart) applies the held lines and moves the event clock
	// max_delay past the newest line, and a line a few seconds older
	// arriving after it is late.
	if got := p.clockSample(t, "session_exporter_lines_late_total", ""); got > want.Late+want.Lines/100 {
		t.Errorf("%v lines late, replay %v: a wild clock moved the event clock", got, want.Late)
	}
	if got := p.clockSample(t, "session_exporter_lines_rejected_total", `reason="future_time"`); got != float64(wild) {
		t.Errorf("future_time rejections %v, want the %d wild lines", got, wild)
	}
}

func clockConfig(t *testing.T, dir, extra string) (cfg, logPath, statePath string) {
	t.Helper()
	logPath = filepath.Join(dir, "access.log")
	statePath = filepath.Join(dir, "state.json")
	cfg = writeFile(t, filepath.Join(dir, "c.yaml"), fmt.Sprintf(`
logs: [{path: %q, format: combined}]
start_at: beginning
own_hosts: [www.example.com]
goals: [{name: purchase, path: ^/checkout/thank-you}]
state_file: %q
state_interval: 200ms
poll_interval: 100ms
%s`, logPath, statePath, extra))
	return cfg, logPath, statePath
}

// TestClockWildLinesLiveAndReplay: wild lines among real traffic are
// rejected live and in replay; the totals equal a replay of the traffic
// without them.
func TestClockWildLinesLiveAndReplay(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	cfg, logPath, _ := clockConfig(t, dir, "")
	clean := clockTraffic(t, 51, 3000, time.Now().Add(-3*time.Hour))
	lines, wild := clockWithWild(t, clean, 100, 700, 1400, 2100, 2500, 2900)
	cleanReplay := clockReplay(t, bin, cfg, clean)
	wildReplay := clockReplay(t, bin, cfg, lines)
	if wildReplay.Total != cleanReplay.Total || wildReplay.Late != cleanReplay.Late {
		t.Errorf("replay with wild lines %+v late %v, without %+v late %v", wildReplay.Total, wildReplay.Late, cleanReplay.Total, cleanReplay.Late)
	}
	if wildReplay.Rejected["future_time"] != float64(wild) {
		t.Errorf("replay rejected %v, want %d future_time", wildReplay.Rejected, wild)
	}

	p := startExporter(t, bin, cfg, freeAddr(t))
	appendLines(t, logPath, lines[:1500])
	appendLines(t, logPath, lines[1500:])
	p.clockWaitSettled(t, len(lines))
	p.clockCompare(t, cleanReplay, wild)
	if lag := p.clockSample(t, "session_exporter_read_lag_seconds", ""); lag < 0 || lag > 4*3600 {
		t.Errorf("read lag %v s: a wild clock reached it", lag)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "state_saved=true") {
		t.Errorf("shutdown does not report the saved state:\n%s", p.stderr)
	}
}

// TestClockWildLinesAcrossRestart: wild lines before a SIGTERM do not reach
// the saved state; after the restart the totals equal a replay of the
// traffic without them.
func TestClockWildLinesAcrossRestart(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	cfg, logPath, statePath := clockConfig(t, dir, "")
	clean := clockTraffic(t, 52, 3000, time.Now().Add(-3*time.Hour))
	lines, wild := clockWithWild(t, clean, 300, 900, 1200, 1450, 2000, 2600, 2700, 2800)
	split := 1500 + 4 // four wild lines before the split
	want := clockReplay(t, bin, cfg, clean)
	addr := freeAddr(t)

	p := startExporter(t, bin, cfg, addr)
	appendLines(t, logPath, lines[:split])
	p.clockWaitSettled(t, split)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.stderr)
	}
	st, err := state.Load(statePath)
	if err != nil {
		t.Fatal(err)
	}
	newest := clockLineTime(t, clean[1499])
	limit := newest.Add(30 * time.Minute)
	if wm := time.Unix(0, st.Sessions.Watermark); wm.After(limit) {
		t.Errorf("saved event clock %v, newest real line %v: a wild clock was saved", wm, newest)
	}
	if st.Guard == nil || time.Unix(0, st.Guard.Newest).After(limit) {
		t.Errorf("saved clock guard %+v, newest real line %v", st.Guard, newest)
	}
	for _, v := range st.Sessions.Visitors {
		if time.Unix(0, v.Last).After(limit) {
			t.Errorf("saved session last seen %v", time.Unix(0, v.Last))
		}
	}

	p2 := startExporter(t, bin, cfg, addr)
	appendLines(t, logPath, lines[split:])
	p2.clockWaitSettled(t, len(lines))
	p2.clockCompare(t, want, wild)
	if t.Failed() {
		t.Logf("first run:\n%s\nsecond run:\n%s", p.stderr, p2.stderr)
	}
}

// TestClockStateUpgrade starts the exporter on state files written by
// earlier builds (format version 1): counters and open sessions continue,
// none is reset, and the totals end at a replay of every line.
func TestClockStateUpgrade(t *testing.T) {
	bin := buildBinary(t)
	for _, fixture := range []string{"state-v1-ms.json", "state-v1-ns.json"} {
		t.Run(fixture, func(t *testing.T) {
			dir := t.TempDir()
			_, lines := genLog(t, dir, clockUpgradeSeed, clockUpgradeLines)
			logPath := filepath.Join(dir, "access.log")
			statePath := filepath.Join(dir, "state.json")
			cfg := writeFile(t, filepath.Join(dir, "c.yaml"), clockUpgradeConfig(logPath, statePath))
			appendLines(t, logPath, lines[:clockUpgradeSplit])

			// The fixture names the file it followed then: point its
			// position at the same content here (path, device and inode).
			raw, err := os.ReadFile(filepath.Join("testdata", fixture))
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber() // visitor keys and fingerprints are 64-bit
			if err := dec.Decode(&doc); err != nil {
				t.Fatal(err)
			}
			var fi syscall.Stat_t
			if err := syscall.Stat(logPath, &fi); err != nil {
				t.Fatal(err)
			}
			pos := doc["positions"].([]any)[0].(map[string]any)
			pos["path"], pos["dev"], pos["inode"] = logPath, fi.Dev, fi.Ino
			m := doc["metrics"].(map[string]any)
			m["dims"].(map[string]any)["files"] = []string{logPath} // the file label of its counters
			patched, _ := json.Marshal(doc)
			writeFile(t, statePath, string(patched))

			// What the old build had counted, read from the fixture itself.
			sum := func(key string) float64 {
				var s float64
				for _, v := range m[key].([]any) {
					f, _ := v.(json.Number).Float64()
					s += f
				}
				return s
			}
			oldSessions, oldLines := sum("sessions"), sum("lines_read")
			var oldDuration float64 // seconds
			if _, ok := m["duration_sum_ns"]; ok {
				oldDuration = sum("duration_sum_ns") / 1e9
			} else {
				oldDuration = sum("duration_sum_ms") / 1e3
			}
			if oldSessions == 0 || oldLines != clockUpgradeSplit || oldDuration == 0 {
				t.Fatalf("fixture holds %v sessions, %v lines, %v s", oldSessions, oldLines, oldDuration)
			}

			p := startExporter(t, bin, cfg, freeAddr(t))
			if got := p.clockSample(t, "session_exporter_lines_read_total", ""); got != oldLines {
				t.Errorf("lines read after the upgrade %v, saved %v", got, oldLines)
			}
			// The held events restored may start and close sessions at
			// once: the counters continue from the saved values, upwards.
			if got := p.clockSample(t, "web_sessions_total", ""); got < oldSessions || got > oldSessions+20 {
				t.Errorf("sessions after the upgrade %v, saved %v", got, oldSessions)
			}
			// Seconds, not nanoseconds or milliseconds taken for seconds.
			if got := p.clockSample(t, "web_session_duration_seconds_sum", ""); got < oldDuration-1e-6 || got > oldDuration+3*3600 {
				t.Errorf("duration sum after the upgrade %v s, saved %v s", got, oldDuration)
			}
			appendLines(t, logPath, lines[clockUpgradeSplit:])
			p.clockWaitSettled(t, len(lines))
			if fixture == "state-v1-ms.json" {
				// Written by the build before this one, whose counting
				// rules are this build's: the totals are a replay's.
				want := clockReplay(t, bin, cfg, lines)
				for metric, w := range map[string]float64{"web_sessions_total": want.Total.Sessions, "web_pageviews_total": want.Total.Pageviews} {
					if got := p.clockSample(t, metric, ""); got != w {
						t.Errorf("%s = %v, replay %v", metric, got, w)
					}
				}
			}
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := p.cmd.Wait(); err != nil {
				t.Fatalf("exit after SIGTERM: %v\n%s", err, p.stderr)
			}
			if !strings.Contains(p.stderr.String(), "from_version=1") {
				t.Errorf("no conversion logged:\n%s", p.stderr)
			}
			if strings.Contains(p.stderr.String(), "moved aside") {
				t.Errorf("old state moved aside:\n%s", p.stderr)
			}
			b, _ := os.ReadFile(statePath)
			if !bytes.Contains(b, []byte(`"version":2,"checksum":"sha256:`)) {
				t.Errorf("state not rewritten in format 2: %.120s", b)
			}
		})
	}
}

// TestClockStateFileLifecycle: temporary files of an interrupted save are
// removed at start; an edited state is moved aside with a log line; a
// final save that fails makes SIGTERM exit non-zero with one error line.
func TestClockStateFileLifecycle(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	sub := filepath.Join(dir, "state")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "access.log")
	statePath := filepath.Join(sub, "state.json")
	cfg := writeFile(t, filepath.Join(dir, "c.yaml"), fmt.Sprintf(`
logs: [{path: %q, format: combined}]
start_at: beginning
state_file: %q
state_interval: 1h
poll_interval: 100ms
`, logPath, statePath))
	_, lines := genLog(t, dir, 53, 400)
	appendLines(t, logPath, lines)
	stale := filepath.Join(sub, ".state.json.tmp-123456")
	writeFile(t, stale, "{")
	addr := freeAddr(t)

	stop := func(p *proc) (int, string) {
		t.Helper()
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		p.cmd.Wait()
		return p.cmd.ProcessState.ExitCode(), p.stderr.String()
	}

	p := startExporter(t, bin, cfg, addr)
	p.waitLines(t, len(lines))
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temporary state file still there: %v", err)
	}
	if code, stderr := stop(p); code != 0 || !strings.Contains(stderr, "removed temporary state files") || !strings.Contains(stderr, "state_saved=true") {
		t.Errorf("exit %d; stderr:\n%s", code, stderr)
	}

	// An edit that leaves valid JSON: the offset moved back by hand.
	b, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(b, []byte(`"offset":`), []byte(`"offset":1`), 1)
	writeFile(t, statePath, string(edited))
	p = startExporter(t, bin, cfg, addr)
	p.waitLines(t, len(lines)) // started fresh: the whole file again
	moved, _ := filepath.Glob(statePath + ".bad-*")
	if len(moved) != 1 {
		t.Errorf("edited state: moved to %v, want one FILE.bad-TIMESTAMP", moved)
	}

	// The state directory disappears: the final save fails.
	if err := os.RemoveAll(sub); err != nil {
		t.Fatal(err)
	}
	code, stderr := stop(p)
	if !strings.Contains(stderr, "checksum does not match") || !strings.Contains(stderr, "moved aside") {
		t.Errorf("edited state not reported:\n%s", stderr)
	}
	if code == 0 {
		t.Errorf("exit 0 after a failed final save; stderr:\n%s", stderr)
	}
	// A checkpoint between the removal and the signal may have failed and
	// been logged on its own ("will retry"); the final save's failure is
	// one line, the exporter's last.
	var final, exits []string
	all := strings.Split(strings.TrimSpace(stderr), "\n")
	for _, l := range all {
		if strings.Contains(l, "final state save") {
			final = append(final, l)
		}
		if strings.HasPrefix(l, "session-exporter: ") {
			exits = append(exits, l)
		}
	}
	if len(final) != 1 || len(exits) != 1 || final[0] != exits[0] || all[len(all)-1] != final[0] {
		t.Errorf("want one last line about the final save, got %q (exit lines %q)", final, exits)
	}
	if !strings.Contains(stderr, "state_saved=false") || strings.Contains(stderr, "state_saved=true") {
		t.Errorf("shutdown log does not say the state was not saved:\n%s", stderr)
	}
}

// TestClockConcurrentScrapes fires 200 scrapes at once at the built binary
// on 127.0.0.1, three times: every one is served. The latency is logged
// (go test -v); CLOCK_SCRAPE_BIN measures another build instead (its
// failures are then the measurement).
func TestClockConcurrentScrapes(t *testing.T) {
	bin := os.Getenv("CLOCK_SCRAPE_BIN")
	if bin == "" {
		bin = buildBinary(t)
	}
	dir := t.TempDir()
	cfg, logPath, _ := clockConfig(t, dir, "")
	_, lines := genLog(t, dir, 54, 3000)
	appendLines(t, logPath, lines)
	p := startExporter(t, bin, cfg, freeAddr(t))
	p.waitLines(t, len(lines))
	const clients = 200
	tr := &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: clients}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	for round := range 3 {
		codes := make([]int, clients)
		lat := make([]time.Duration, clients)
		var wg sync.WaitGroup
		startGate := make(chan struct{})
		for i := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-startGate
				t0 := time.Now()
				resp, err := client.Get("http://" + p.addr + "/metrics")
				if err != nil {
					codes[i] = -1
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				codes[i] = resp.StatusCode
				if !bytes.Contains(b, []byte("web_pageviews_total")) {
					codes[i] = -2
				}
			}()
		}
		close(startGate)
		wg.Wait()
		ok := 0
		for _, c := range codes {
			if c == http.StatusOK {
				ok++
			}
		}
		slices.Sort(lat)
		t.Logf("round %d: %d/%d scrapes served, latency p50 %v p99 %v max %v", round, ok, clients,
			lat[clients/2].Round(time.Millisecond), lat[clients*99/100].Round(time.Millisecond), lat[clients-1].Round(time.Millisecond))
		if ok != clients {
			t.Errorf("round %d: %d of %d scrapes served (codes %v)", round, ok, clients, codes)
		}
	}
}
