//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/session-exporter/session-exporter/collector/loggen"
)

// TestBackfill replays months-old logs with `replay -o openmetrics`, imports
// the output with `promtool tsdb create-blocks-from openmetrics`, starts a
// real Prometheus on the blocks and queries it inside the backfilled range:
// the session totals equal what the replay reports.
func TestBackfill(t *testing.T) {
	promtool := backfillNeed(t, "promtool")
	prometheus := backfillNeed(t, "prometheus")
	dir := t.TempDir()
	bin := backfillBuild(t, dir)

	// About three and a half hours of traffic, starting months ago.
	logPath := filepath.Join(dir, "access.log")
	backfillWriteLog(t, logPath, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), 20000)

	omPath := filepath.Join(dir, "backfill.om")
	backfillRun(t, omPath, bin, "replay", "-o", "openmetrics", "-step", "1m", logPath)
	jsonPath := filepath.Join(dir, "replay.json")
	backfillRun(t, jsonPath, bin, "replay", "-o", "json", logPath)
	var replay struct {
		Total struct{ Sessions, Pageviews, Closed float64 }
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &replay); err != nil {
		t.Fatal(err)
	}
	if replay.Total.Sessions == 0 {
		t.Fatal("the replay counted no sessions")
	}
	sessionsAt := backfillSessionsByTime(t, omPath)
	steps := make([]int64, 0, len(sessionsAt))
	for ts := range sessionsAt {
		steps = append(steps, ts)
	}
	slices.Sort(steps)
	if len(steps) < 100 {
		t.Fatalf("only %d steps backfilled", len(steps))
	}
	first, mid, last := steps[0], steps[len(steps)/2], steps[len(steps)-1]

	dataDir := filepath.Join(dir, "data")
	out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", omPath, dataDir).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}

	addr := backfillStartPrometheus(t, prometheus, dir, dataDir)
	for _, q := range []struct {
		query string
		at    int64
		want  float64
	}{
		{"sum(web_sessions_total)", last, replay.Total.Sessions},
		{"sum(web_pageviews_total)", last, replay.Total.Pageviews},
		{"sum(web_session_duration_seconds_count)", last, replay.Total.Closed},
		{"sum(web_sessions_total)", mid, sessionsAt[mid]},
		{"sum(web_sessions_total)", first, sessionsAt[first]},
	} {
		got, err := backfillQuery(addr, q.query, q.at)
		if err != nil {
			t.Errorf("%s at %s: %v", q.query, time.Unix(q.at, 0).UTC(), err)
			continue
		}
		if got != q.want {
			t.Errorf("%s at %s = %v, want %v", q.query, time.Unix(q.at, 0).UTC(), got, q.want)
		}
	}
	if sessionsAt[mid] <= 0 || sessionsAt[mid] >= replay.Total.Sessions {
		t.Errorf("mid-range sessions %v, want between 0 and %v", sessionsAt[mid], replay.Total.Sessions)
	}
}

// backfillNeed returns the path of a program the test needs; without it the
// test is skipped, or fails in CI.
func backfillNeed(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not found (apt-get install prometheus)", name)
	}
	t.Skipf("%s not found (apt-get install prometheus)", name)
	return ""
}

// backfillBuild builds the exporter from this tree into dir.
func backfillBuild(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "session-exporter")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/session-exporter")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func backfillWriteLog(t *testing.T, path string, start time.Time, lines int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	g := loggen.New(loggen.Options{Seed: 42, Start: start, Visitors: 2000, Rate: 0.2, UserAgents: 30})
	var buf []byte
	for range lines {
		buf = append(g.Next(buf[:0]), '\n')
		w.Write(buf)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// backfillRun runs argv with its standard output in outPath.
func backfillRun(t *testing.T, outPath string, argv ...string) {
	t.Helper()
	f, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stderr strings.Builder
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv[1:], " "), err, stderr.String())
	}
}

// backfillSessionsByTime sums the web_sessions_total samples of an
// OpenMetrics file by timestamp (Unix seconds).
func backfillSessionsByTime(t *testing.T, path string) map[int64]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := map[int64]float64{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, "web_sessions_total{") {
			continue
		}
		fields := strings.Fields(l[strings.LastIndexByte(l, '}')+1:])
		if len(fields) != 2 {
			t.Fatalf("bad sample %q", l)
		}
		v, err1 := strconv.ParseFloat(fields[0], 64)
		ts, err2 := strconv.ParseFloat(fields[1], 64) // seconds, as OpenMetrics writes them
		if err1 != nil || err2 != nil {
			t.Fatalf("bad sample %q", l)
		}
		sums[int64(ts)] += v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return sums
}

// backfillStartPrometheus runs Prometheus on dataDir with no scrape target,
// a retention long enough for the backfilled range, and returns its address
// once it is ready. It is stopped when the test ends.
func backfillStartPrometheus(t *testing.T, prometheus, dir, dataDir string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := filepath.Join(dir, "prometheus-backfill.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "prometheus-backfill.log")
	logF, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(prometheus,
		"--config.file="+cfg,
		"--storage.tsdb.path="+dataDir,
		"--storage.tsdb.retention.time=100y",
		"--web.listen-address="+addr,
	)
	cmd.Stdout, cmd.Stderr = logF, logF
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logF.Close()
		t.Fatalf("start prometheus: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logF.Close()
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		select {
		case err := <-done:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("prometheus exited: %v\n%s", err, b)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("prometheus not ready in 60s\n%s", b)
		}
	}
}

// backfillQuery runs an instant query at ts (Unix seconds) and returns its
// single value.
func backfillQuery(addr, query string, ts int64) (float64, error) {
	u := "http://" + addr + "/api/v1/query?" + url.Values{
		"query": {query},
		"time":  {strconv.FormatInt(ts, 10)},
	}.Encode()
	resp, err := http.Get(u)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, fmt.Errorf("decode: %w", err)
	}
	if r.Status != "success" {
		return 0, fmt.Errorf("query failed: %s", r.Error)
	}
	if len(r.Data.Result) != 1 {
		return 0, fmt.Errorf("%d results, want 1", len(r.Data.Result))
	}
	s, ok := r.Data.Result[0].Value[1].(string)
	if !ok {
		return 0, fmt.Errorf("value %v", r.Data.Result[0].Value)
	}
	return strconv.ParseFloat(s, 64)
}
