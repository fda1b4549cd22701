package tail

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestNotifyWakerEndToEnd follows a file through 100 rotations with the real
// fsnotify waker, the writer racing the tailer, and checks that lines come
// in order: those written to the renamed file before the new one was
// created come first. The poll interval is an hour, so every line after the
// first pass arrives because fsnotify woke the tailer. Waits are bounded;
// none is a sleep.
func TestNotifyWakerEndToEnd(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	writeFile(t, path, "line-0\n")
	w, err := newNotifyWaker(time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := New(Config{Paths: []string{path}, Waker: w}, nil)
	if err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	idle := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- tl.Run(ctx, HandlerFuncs{
			LineFunc: func(_ *File, line []byte, _ int64) { lines <- string(line) },
			IdleFunc: func() {
				select {
				case idle <- struct{}{}:
				default:
				}
			},
		})
	}()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(stop)
	expect := func(want ...string) {
		t.Helper()
		for _, wl := range want {
			select {
			case got := <-lines:
				if got != wl {
					t.Fatalf("line = %q, want %q", got, wl)
				}
			case <-time.After(stepTimeout):
				t.Fatalf("no line %q within %v", wl, stepTimeout)
			}
		}
	}
	expect("line-0")
	// Idle follows the first Watch: from here on, writes wake the tailer.
	select {
	case <-idle:
	case <-time.After(stepTimeout):
		t.Fatal("never idle")
	}
	for i := range 100 {
		writeFile(t, path, fmt.Sprintf("gen-%d-a\n", i))
		expect(fmt.Sprintf("gen-%d-a", i))
		if err := os.Rename(path, path+".1"); err != nil {
			t.Fatal(err)
		}
		writeFile(t, path+".1", fmt.Sprintf("gen-%d-b\n", i))
		writeFile(t, path, fmt.Sprintf("gen-%d-c\n", i))
		expect(fmt.Sprintf("gen-%d-b", i), fmt.Sprintf("gen-%d-c", i))
		if diff := cmp.Diff([]string{dir}, w.Dirs()); diff != "" {
			t.Fatalf("rotation %d: watched dirs (-want +got):\n%s", i, diff)
		}
	}
	stop()
	if d := w.Dirs(); d != nil {
		t.Errorf("after Run: still watching %v", d)
	}
}

func TestNotifyWakerWatch(t *testing.T) {
	base := t.TempDir()
	a, b, missing := filepath.Join(base, "a"), filepath.Join(base, "b"), filepath.Join(base, "missing")
	for _, d := range []string{a, b} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	w, err := newNotifyWaker(time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	w.Watch([]string{a, b, missing})
	if diff := cmp.Diff([]string{a, b}, w.Dirs()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	w.Watch([]string{b, missing})
	if diff := cmp.Diff([]string{b}, w.Dirs()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if err := os.Mkdir(missing, 0o755); err != nil {
		t.Fatal(err)
	}
	w.Watch([]string{b, missing})
	if diff := cmp.Diff([]string{b, missing}, w.Dirs()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	// A write in a watched directory wakes the waker.
	writeFile(t, filepath.Join(missing, "x.log"), "x\n")
	ctx, cancel := context.WithTimeout(t.Context(), stepTimeout)
	defer cancel()
	if err := w.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v (no wake-up from fsnotify)", err)
	}

	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if d := w.Dirs(); d != nil {
		t.Errorf("after Close: watching %v", d)
	}
}

// inotifyInstances counts this process's open inotify descriptors.
func inotifyInstances(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot list file descriptors: %v", err)
	}
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.Contains(target, "inotify") {
			n++
		}
	}
	return n
}

// TestNoInotifyLeak starts and stops many tailers with the default waker and
// checks that every inotify instance (and with it every watch) is released.
func TestNoInotifyLeak(t *testing.T) {
	before := inotifyInstances(t)
	dir := t.TempDir()
	writeFile(t, dir+"/access.log", "a\n")
	for i := range 20 {
		tl, err := New(Config{Paths: []string{dir + "/access.log", dir + "/*.log"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), stepTimeout)
		var once sync.Once
		err = tl.Run(ctx, HandlerFuncs{IdleFunc: func() { once.Do(cancel) }})
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		if ctx.Err() == context.DeadlineExceeded {
			t.Fatalf("run %d: never idle", i)
		}
		cancel()
	}
	if after := inotifyInstances(t); after != before {
		t.Errorf("inotify instances: %d before, %d after 20 tailers", before, after)
	}
}

func TestManualWakerClosed(t *testing.T) {
	h := start(t, t.TempDir(), Config{Paths: []string{"access.log"}}, nil)
	h.stop()
	err := h.waker.Step(t.Context())
	if !errors.Is(err, ErrWakerClosed) {
		t.Errorf("Step after Run returned: %v, want ErrWakerClosed", err)
	}
}

func TestPollWaker(t *testing.T) {
	w := newPollWaker(time.Millisecond)
	defer w.Close()
	w.Watch([]string{t.TempDir()})
	ctx, cancel := context.WithTimeout(t.Context(), stepTimeout)
	defer cancel()
	if err := w.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	cancel()
	if err := w.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait after cancel: %v", err)
	}
}

// TestNotifyWakerSettles: a change soon after a wake-up waits until Settle
// has passed since it, then wakes once for everything queued; a change
// after a quiet spell wakes at once. The clock and the timer are the
// test's.
func TestNotifyWakerSettles(t *testing.T) {
	dir := t.TempDir()
	w, err := newNotifyWaker(time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	clock := newFakeClock()
	w.now = clock.Now
	asked := make(chan time.Duration, 1)
	fire := make(chan time.Time)
	w.after = func(d time.Duration) <-chan time.Time { asked <- d; return fire }
	w.Watch([]string{dir})
	ctx, cancel := context.WithTimeout(t.Context(), stepTimeout)
	defer cancel()
	wait := func() <-chan error {
		done := make(chan error, 1)
		go func() { done <- w.Wait(ctx) }()
		return done
	}

	// The first change: no wake-up before it, so at once.
	writeFile(t, filepath.Join(dir, "a.log"), "a\n")
	if err := <-wait(); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-asked:
		t.Fatalf("first wake-up waited %v", d)
	default:
	}

	// 5 ms later, two changes: they wait for the rest of Settle.
	clock.Advance(5 * time.Millisecond)
	writeFile(t, filepath.Join(dir, "a.log"), "b\n")
	done := wait()
	select {
	case d := <-asked:
		if d != Settle-5*time.Millisecond {
			t.Errorf("waited %v, want %v", d, Settle-5*time.Millisecond)
		}
	case err := <-done:
		t.Fatalf("woke at once (%v), want a wait for Settle", err)
	case <-ctx.Done():
		t.Fatal("no wake-up")
	}
	writeFile(t, filepath.Join(dir, "a.log"), "c\n")
	select {
	case err := <-done:
		t.Fatalf("woke (%v) before Settle passed", err)
	default:
	}
	clock.Advance(Settle)
	fire <- time.Time{}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// A quiet spell longer than Settle: at once again.
	clock.Advance(time.Second)
	writeFile(t, filepath.Join(dir, "b.log"), "d\n")
	if err := <-wait(); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-asked:
		t.Fatalf("wake-up after a quiet spell waited %v", d)
	default:
	}
}
