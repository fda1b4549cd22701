package collector

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/session-exporter/session-exporter/collector/loggen"
)

// syncBuffer is a log destination safe for the exporter's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) count(substr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.b.String(), substr)
}

// TestLiveHealthWarnings: a configured path that is missing, and a log in
// the wrong format, are warned about at start (the format once lines come),
// again only after healthRepeat while they last, and shown by
// session_exporter_file_up.
func TestLiveHealthWarnings(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nginx", "access.log") // the directory is missing too
	wrong := filepath.Join(dir, "caddy.log")
	g := loggen.New(loggen.Options{Seed: 3, Format: loggen.Caddy, Visitors: 50})
	caddyLines := func(n int) []byte {
		var b []byte
		for range n {
			b = append(g.Next(b), '\n')
		}
		return b
	}
	appendFile(t, wrong, caddyLines(50))
	yaml := fmt.Sprintf(`
logs: [{path: %q, format: combined}, {path: %q, format: combined}]
start_at: beginning
poll_interval: 1h
`, missing, wrong)
	clock := &fakeClock{t: time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)}
	var logs syncBuffer
	c, err := New(mustConfig(t, yaml), Options{Now: clock.Now,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r := runCollector(t, c, clock)
	defer r.shutdown()

	const down, rejects = "configured log cannot be read", "most lines of a log are rejected"
	if n := logs.count(down); n != 1 || logs.count(`path=`+missing) == 0 {
		t.Fatalf("missing path: %d warnings at start, want 1:\n%s", n, logs.b.String())
	}
	up := func(path string) string { return fmt.Sprintf("session_exporter_file_up{file=%q}", path) }
	m := r.scrape()
	if !strings.Contains(m, up(missing)+" 0") || !strings.Contains(m, up(wrong)+" 1") {
		t.Fatalf("file_up gauges wrong:\n%s", grepLines(m, "file_up"))
	}

	// The next check sees the rejected lines: one warning naming the path
	// and the format.
	r.clock.Add(healthEvery + time.Second)
	r.step()
	if n := logs.count(rejects); n != 1 || logs.count("format=combined") == 0 {
		t.Fatalf("wrong format: %d warnings, want 1:\n%s", n, logs.b.String())
	}
	// Still wrong a check later: not repeated before healthRepeat.
	appendFile(t, wrong, caddyLines(50))
	r.clock.Add(healthEvery + time.Second)
	r.step()
	if logs.count(rejects) != 1 || logs.count(down) != 1 {
		t.Errorf("warnings repeated before %s: %d rejects, %d down", healthRepeat, logs.count(rejects), logs.count(down))
	}
	// After healthRepeat both are repeated.
	appendFile(t, wrong, caddyLines(50))
	r.clock.Add(healthRepeat)
	r.step()
	if logs.count(rejects) != 2 || logs.count(down) != 2 {
		t.Errorf("after %s: %d rejects, %d down warnings, want 2 and 2", healthRepeat, logs.count(rejects), logs.count(down))
	}

	// The missing log appears: up, and said so.
	if err := os.MkdirAll(filepath.Dir(missing), 0o755); err != nil {
		t.Fatal(err)
	}
	appendFile(t, missing, join(genLines(4, 10)))
	r.clock.Add(healthEvery + time.Second)
	r.step()
	if m := r.scrape(); !strings.Contains(m, up(missing)+" 1") {
		t.Errorf("file_up after the log appeared:\n%s", grepLines(m, "file_up"))
	}
	if logs.count("configured log can be read again") != 1 {
		t.Errorf("recovery not logged:\n%s", logs.b.String())
	}
}

func TestProbePath(t *testing.T) {
	dir := t.TempDir()
	file := writeTemp(t, dir, "a.log")
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{file, true},
		{filepath.Join(dir, "*.log"), true},
		{filepath.Join(dir, "*.txt"), false},
		{filepath.Join(dir, "none.log"), false},
		{dir, false}, // a directory
		{"-", true},
	} {
		if err := probePath(tc.path); (err == nil) != tc.ok {
			t.Errorf("probePath(%q) = %v, want ok %v", tc.path, err, tc.ok)
		}
	}
	if os.Geteuid() != 0 {
		if err := os.Chmod(file, 0); err != nil {
			t.Fatal(err)
		}
		if err := probePath(file); err == nil {
			t.Errorf("probePath of an unreadable file = nil")
		}
	}
}

func writeTemp(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
