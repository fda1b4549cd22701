package main

// TestRotation's scenarios against the built binary (storm, gzip at once,
// stopped across rotations, kill loop, FIFO) share the rot* helpers above
// them; one file keeps each scenario beside what it relies on.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestRotation runs the built binary through rotation storms, compressed
// rotations, a stopped process and a kill -9 loop, and checks that the
// scraped totals end exactly at a replay of the same lines; and refuses a
// FIFO as log path.
func TestRotation(t *testing.T) {
	bin := buildBinary(t)
	t.Run("storm", func(t *testing.T) { rotStorm(t, bin) })
	t.Run("gzip at once", func(t *testing.T) { rotGzipAtOnce(t, bin) })
	t.Run("while stopped", func(t *testing.T) { rotWhileStopped(t, bin) })
	t.Run("kill loop", func(t *testing.T) { rotKillLoop(t, bin) })
	t.Run("fifo", func(t *testing.T) { rotFIFO(t, bin) })
}

// rotConfig writes the exporter's config for logPath in dir; extra is
// appended (e.g. a state_interval or start_at).
func rotConfig(t *testing.T, dir, logPath, extra string) string {
	t.Helper()
	return writeFile(t, filepath.Join(dir, "c.yaml"), fmt.Sprintf(`
logs: [{path: %q, format: combined}]
own_hosts: [www.example.com]
goals: [{name: purchase, path: ^/checkout/thank-you}]
state_file: %q
poll_interval: 100ms
session: {max_delay: 0s}
%s
`, logPath, filepath.Join(dir, "state.json"), extra))
}

// rotCheck waits until p has read every line of src, then checks the
// scraped totals equal a replay of src and that nothing was given up.
func rotCheck(t *testing.T, p *proc, cfg, src string, n int) {
	t.Helper()
	rotWait(t, p, n)
	code, out, stderr := runCLI("replay", "-config", cfg, "-o", "json", src)
	if code != 0 {
		t.Fatal(stderr)
	}
	var want struct {
		Total struct{ Sessions, Pageviews float64 }
	}
	if err := json.Unmarshal([]byte(out), &want); err != nil {
		t.Fatal(err)
	}
	lines := p.metric(t, "session_exporter_lines_read_total")
	sessions := p.metric(t, "web_sessions_total")
	pageviews := p.metric(t, "web_pageviews_total")
	t.Logf("lines %v of %d, sessions %v of %v, pageviews %v of %v", lines, n, sessions, want.Total.Sessions, pageviews, want.Total.Pageviews)
	if lines != float64(n) {
		t.Errorf("lines read %v, want %d", lines, n)
	}
	if sessions != want.Total.Sessions || pageviews != want.Total.Pageviews {
		t.Errorf("sessions %v pageviews %v, replay %v and %v", sessions, pageviews, want.Total.Sessions, want.Total.Pageviews)
	}
	if lost := p.metric(t, "session_exporter_lost_files_total"); lost != 0 {
		t.Errorf("lost files %v, want 0", lost)
	}
}

// rotWait polls p until it has read n lines. On a timeout it reports what
// was read and given up, stops p and shows its log.
func rotWait(t *testing.T, p *proc, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := p.metric(t, "session_exporter_lines_read_total")
		if got >= float64(n) {
			return
		}
		if time.Now().After(deadline) {
			lost := p.metric(t, "session_exporter_lost_files_total")
			p.cmd.Process.Kill()
			p.cmd.Wait()
			t.Fatalf("exporter read %v lines, want %d; %v files given up; stderr:\n%s", got, n, lost, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rotWarnings returns the warning and error lines of a stopped exporter's
// log.
func rotWarnings(p *proc) []string {
	var out []string
	for _, l := range strings.Split(p.stderr.String(), "\n") {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			out = append(out, l)
		}
	}
	return out
}

// rotGzip compresses path to path.gz and removes path, as logrotate's
// compress does.
func rotGzip(t *testing.T, path string) {
	t.Helper()
	plain, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(plain)
	zw.Close()
	if err := os.WriteFile(path+".gz", b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

func rotRename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

// rotWriter appends lines to a log and rotates it by rename and create.
type rotWriter struct {
	t    *testing.T
	path string
	f    *os.File
	n    int // rotations so far
}

func (w *rotWriter) write(lines [][]byte) {
	w.t.Helper()
	if w.f == nil {
		f, err := os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			w.t.Fatal(err)
		}
		w.f = f
	}
	for _, l := range lines {
		if _, err := w.f.Write(l); err != nil {
			w.t.Fatal(err)
		}
	}
}

// rotateStamped renames the log to PATH-2026NNNN (dateext style) and
// returns the new name; the next write creates the live file again.
func (w *rotWriter) rotateStamped() string {
	w.t.Helper()
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	w.n++
	name := fmt.Sprintf("%s-2026%04d", w.path, w.n)
	rotRename(w.t, w.path, name)
	return name
}

// rotStop stops p (SIGSTOP: CPU throttling, a paused VM, a loaded machine)
// or lets it go on (SIGCONT).
func rotStop(t *testing.T, p *proc, stop bool) {
	t.Helper()
	sig := syscall.SIGCONT
	if stop {
		sig = syscall.SIGSTOP
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// A busy writer rotating every 100 ms, the exporter throttled for 250 ms
// every second so that rotations happen while it is not looking: no
// rotation may be missed.
func rotStorm(t *testing.T, bin string) {
	dir := t.TempDir()
	src, lines := genLog(t, dir, 31, 30000)
	logPath := filepath.Join(dir, "access.log")
	cfg := rotConfig(t, dir, logPath, "start_at: beginning\nstate_interval: 1s")
	w := &rotWriter{t: t, path: logPath}
	const dur, every, tick = 6 * time.Second, 100 * time.Millisecond, 5 * time.Millisecond
	perTick := len(lines) / int(dur/tick)
	// The log exists before the exporter starts, and the exporter serves
	// only once its first pass has opened it: a file rotated away before
	// the exporter ever saw the log is one it cannot know of (a slow start
	// on a loaded machine would otherwise lose the first rotations).
	w.write(lines[:perTick])
	p := startExporter(t, bin, cfg, freeAddr(t))

	start := time.Now()
	next := start.Add(every)
	stopped, nextStop := false, start.Add(time.Second)
	for i := perTick; i < len(lines); i += perTick {
		w.write(lines[i:min(i+perTick, len(lines))])
		now := time.Now()
		if now.After(next) {
			w.rotateStamped()
			next = next.Add(every)
		}
		if now.After(nextStop) {
			rotStop(t, p, !stopped)
			stopped = !stopped
			if stopped {
				nextStop = now.Add(250 * time.Millisecond)
			} else {
				nextStop = now.Add(750 * time.Millisecond)
			}
		}
		time.Sleep(tick)
	}
	if stopped {
		rotStop(t, p, false)
	}
	t.Logf("%d rotations in %v", w.n, time.Since(start).Round(time.Millisecond))
	rotCheck(t, p, cfg, src, len(lines))
}

// Size-based logrotate without delaycompress: each burst's file is renamed
// and gzip'd at once, every 0.3 s, the older ones shifted. The exporter is
// held up (stopped) across one rotation, as on a loaded machine.
func rotGzipAtOnce(t *testing.T, bin string) {
	dir := t.TempDir()
	const bursts, per = 5, 6000
	src, lines := genLog(t, dir, 32, bursts*per)
	logPath := filepath.Join(dir, "access.log")
	cfg := rotConfig(t, dir, logPath, "start_at: beginning")
	writeFile(t, logPath, "")
	p := startExporter(t, bin, cfg, freeAddr(t))

	w := &rotWriter{t: t, path: logPath}
	next := time.Now()
	for b := range bursts {
		w.write(lines[b*per : (b+1)*per])
		next = next.Add(300 * time.Millisecond)
		time.Sleep(time.Until(next))
		if b == 1 {
			rotStop(t, p, true) // the file of burst 2 is never seen live
		}
		w.f.Close()
		w.f = nil
		for i := b; i >= 1; i-- {
			rotRename(t, fmt.Sprintf("%s.%d.gz", logPath, i), fmt.Sprintf("%s.%d.gz", logPath, i+1))
		}
		rotRename(t, logPath, logPath+".1")
		writeFile(t, logPath, "")
		rotGzip(t, logPath+".1")
		if b == 2 {
			rotStop(t, p, false)
		}
	}
	rotCheck(t, p, cfg, src, len(lines))
}

// The exporter is stopped (SIGSTOP: CPU throttling, a paused VM) while the
// log rotates twice, once plainly and once compressed.
func rotWhileStopped(t *testing.T, bin string) {
	dir := t.TempDir()
	src, lines := genLog(t, dir, 33, 10000)
	logPath := filepath.Join(dir, "access.log")
	cfg := rotConfig(t, dir, logPath, "start_at: beginning")
	p := startExporter(t, bin, cfg, freeAddr(t))

	w := &rotWriter{t: t, path: logPath}
	w.write(lines[:3000])
	rotWait(t, p, 3000)
	rotStop(t, p, true)
	w.write(lines[3000:5000])
	w.f.Close()
	w.f = nil
	rotRename(t, logPath, logPath+".1")
	w.write(lines[5000:8000]) // never seen before the next rotation
	w.f.Close()
	w.f = nil
	rotRename(t, logPath+".1", logPath+".2")
	rotRename(t, logPath, logPath+".1")
	rotGzip(t, logPath+".1")
	w.write(lines[8000:])
	rotStop(t, p, false)
	rotCheck(t, p, cfg, src, len(lines))
}

// SIGKILL at random moments while the log rotates (every other rotated file
// compressed), with lives shorter than the default state_interval (5 s):
// each life checkpoints at start-up, and every restart finds the rotated
// files it has not read.
func rotKillLoop(t *testing.T, bin string) {
	dir := t.TempDir()
	_, all := genLog(t, dir, 34, 20050)
	logPath := filepath.Join(dir, "access.log")
	cfg := rotConfig(t, dir, logPath, "start_at: end")
	// start_at: end skips what the log holds at the very first start; the
	// replay has the lines written after it.
	appendLines(t, logPath, all[:50])
	lines := all[50:]
	var b bytes.Buffer
	for _, l := range lines {
		b.Write(l)
	}
	src := writeFile(t, filepath.Join(dir, "after-start.txt"), b.String())
	addr := freeAddr(t)
	p := startExporter(t, bin, cfg, addr)
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	done := make(chan error, 1)
	var killed atomic.Int32
	go func() {
		// The writer: lines at a steady rate, a rotation every 300 ms, the
		// previous rotated file gzip'd (delaycompress).
		w := &rotWriter{t: t, path: logPath}
		defer func() {
			if w.f != nil {
				w.f.Close()
			}
		}()
		const chunk = 50
		next := time.Now().Add(300 * time.Millisecond)
		var prev string
		for i := 0; i < len(lines); i += chunk {
			if ctx.Err() != nil {
				done <- ctx.Err()
				return
			}
			if i+chunk >= len(lines) {
				// The last lines wait for the tenth kill: on a slow machine
				// the exporter's start-ups pace the kills, not the writer.
				for killed.Load() < 10 && ctx.Err() == nil {
					time.Sleep(20 * time.Millisecond)
				}
			}
			w.write(lines[i:min(i+chunk, len(lines))])
			if time.Now().After(next) {
				name := w.rotateStamped()
				if prev != "" && w.n%2 == 0 {
					rotGzip(t, prev)
				}
				prev = name
				next = next.Add(300 * time.Millisecond)
			}
			time.Sleep(20 * time.Millisecond)
		}
		done <- nil
	}()

	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	kills := 0
	var warnings []string
	defer func() {
		if t.Failed() {
			t.Logf("warnings of the killed lives:\n%s", strings.Join(warnings, "\n"))
		}
	}()
	var writerErr error
	writing := true
loop:
	for kills < 30 {
		if kills > 0 {
			p = startExporter(t, bin, cfg, addr)
		}
		select {
		case writerErr = <-done:
			writing = false
			p.cmd.Process.Signal(syscall.SIGKILL)
			p.cmd.Wait()
			warnings = append(warnings, rotWarnings(p)...)
			kills++
			break loop
		case <-time.After(time.Duration(rng.IntN(300)) * time.Millisecond):
		}
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
		warnings = append(warnings, rotWarnings(p)...)
		kills++
		killed.Store(int32(kills))
	}
	if writing {
		writerErr = <-done
	}
	if writerErr != nil {
		t.Fatal(writerErr)
	}
	t.Logf("%d kills (seed %d)", kills, seed)
	if kills < 10 {
		t.Errorf("only %d kills before the writer finished", kills)
	}
	p = startExporter(t, bin, cfg, addr)
	rotCheck(t, p, cfg, src, len(lines))
}

// A FIFO (or any other non-regular file) as log path is refused at once
// with one line and exit code 2, never a hang.
func rotFIFO(t *testing.T, bin string) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "access.log")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, tc := range []struct{ name, path string }{
		{"path", fifo},
		{"glob", filepath.Join(dir, "*.log")},
		{"directory", dir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := rotConfig(t, t.TempDir(), tc.path, "")
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "-config", cfg, "--web.listen-address", freeAddr(t))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("still running after 20 s; stderr:\n%s", stderr.String())
			}
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("exit %v, want code 2; stderr:\n%s", err, stderr.String())
			}
			msg := strings.TrimSpace(stderr.String())
			if strings.Contains(msg, "\n") || !strings.Contains(msg, "not a regular file") || !strings.Contains(msg, `path: "-"`) {
				t.Errorf("stderr is not the one-line refusal: %q", msg)
			}
			if tc.name != "directory" && !strings.Contains(msg, "named pipe (FIFO)") {
				t.Errorf("stderr does not name the FIFO: %q", msg)
			}
		})
	}
}
