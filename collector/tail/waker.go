package tail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Waker tells the tailer when to look at its files again. Run calls all
// three methods from its own goroutine and closes the Waker before it
// returns.
type Waker interface {
	// Wait blocks until the files may have changed or ctx is done, and
	// then returns ctx.Err(). A wake-up that arrives while the tailer is
	// busy must not be lost: Wait returns at once if one is pending.
	Wait(ctx context.Context) error
	// Watch gives the directories the tailer currently cares about, after
	// every pass. A Waker that watches the file system adjusts its watches
	// to exactly this set.
	Watch(dirs []string)
	// Close releases the Waker's resources and stops its goroutines.
	Close() error
}

// Settle is the shortest time between two wake-ups of a NotifyWaker caused
// by file changes. A log written every few milliseconds is then read in
// one pass per Settle, not one per write: fewer wake-ups, system calls and
// larger reads, for at most Settle more delay. A change after a quiet
// spell wakes the tailer at once.
const Settle = 20 * time.Millisecond

// NotifyWaker is the production Waker: it watches the parent directories of
// the followed files with fsnotify (inotify on Linux) and also wakes every
// poll interval, so that changes fsnotify misses (network file systems,
// overflowing event queues, directories that do not exist yet) are still
// seen. It holds one inotify instance and one watch per directory,
// whatever the number of files or rotations. Changes within Settle of the
// last wake-up are coalesced into one.
type NotifyWaker struct {
	watcher *fsnotify.Watcher
	events  <-chan fsnotify.Event
	errs    <-chan error
	ticker  *time.Ticker
	logger  *slog.Logger
	failed  map[string]bool // directories whose watch failed, logged once

	settle time.Duration
	last   time.Time // when Wait last returned
	now    func() time.Time
	after  func(time.Duration) <-chan time.Time

	closeOnce sync.Once
	closeErr  error
}

// newNotifyWaker returns a NotifyWaker that also wakes every interval
// (DefaultPollInterval if interval is not positive). logger may be nil.
func newNotifyWaker(interval time.Duration, logger *slog.Logger) (*NotifyWaker, error) {
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("start file watcher: %w", err)
	}
	return &NotifyWaker{
		watcher: w,
		events:  w.Events,
		errs:    w.Errors,
		ticker:  time.NewTicker(interval),
		logger:  logger,
		failed:  make(map[string]bool),
		settle:  Settle,
		now:     time.Now,
		after:   time.After,
	}, nil
}

// Wait blocks until a watched directory changes, the poll interval passes
// or ctx is done. A change less than Settle after the previous return
// waits until Settle has passed. Events that are already queued then are
// consumed with the first, so a burst of writes causes one pass, not one
// per write.
func (n *NotifyWaker) Wait(ctx context.Context) error {
	defer func() { n.last = n.now() }()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-n.ticker.C:
	case _, ok := <-n.events:
		if !ok {
			n.events = nil
		}
		if d := n.last.Add(n.settle).Sub(n.now()); d > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-n.after(d):
			}
		}
	case err, ok := <-n.errs:
		if !ok {
			n.errs = nil
		} else {
			// Usually an overflowing event queue: the next pass reads
			// everything anyway.
			n.logger.Debug("file watcher error", "err", err)
		}
	}
	for {
		select {
		case _, ok := <-n.events:
			if !ok {
				n.events = nil
			}
		case _, ok := <-n.errs:
			if !ok {
				n.errs = nil
			}
		default:
			return ctx.Err()
		}
	}
}

// Watch makes the set of watched directories equal to dirs. A directory
// that cannot be watched (it does not exist yet, say) is retried on the
// next call and logged once at debug level; polling covers it meanwhile.
// A directory that was removed and created again is watched again, because
// the current watches are read back from the watcher on every call.
func (n *NotifyWaker) Watch(dirs []string) {
	have := n.watcher.WatchList()
	for _, d := range have {
		if !slices.Contains(dirs, d) {
			// The watch may already be gone with its directory.
			_ = n.watcher.Remove(d)
		}
	}
	for _, d := range dirs {
		if slices.Contains(have, d) {
			continue
		}
		if err := n.watcher.Add(d); err != nil {
			if !n.failed[d] {
				n.failed[d] = true
				n.logger.Debug("cannot watch directory, polling it", "dir", d, "err", err)
			}
			continue
		}
		delete(n.failed, d)
	}
}

// Dirs returns the directories being watched, sorted. It is safe to call
// from any goroutine, and returns nil once the waker is closed.
func (n *NotifyWaker) Dirs() []string {
	d := n.watcher.WatchList()
	slices.Sort(d)
	return d
}

// Close removes every watch, closes the inotify instance and waits for the
// watcher's goroutine to stop.
func (n *NotifyWaker) Close() error {
	n.closeOnce.Do(func() {
		n.ticker.Stop()
		if err := n.watcher.Close(); err != nil {
			n.closeErr = fmt.Errorf("close file watcher: %w", err)
		}
	})
	return n.closeErr
}

// pollWaker wakes every interval and nothing else. Run falls back to it
// when fsnotify cannot be started (for example when the inotify instance
// limit is reached).
type pollWaker struct {
	ticker *time.Ticker
}

func newPollWaker(interval time.Duration) *pollWaker {
	return &pollWaker{ticker: time.NewTicker(interval)}
}

func (p *pollWaker) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-p.ticker.C:
		return nil
	}
}

func (p *pollWaker) Watch([]string) {}

func (p *pollWaker) Close() error {
	p.ticker.Stop()
	return nil
}

// ErrWakerClosed is returned by ManualWaker.Step once the tailer has
// stopped.
var ErrWakerClosed = errors.New("waker closed")

// ManualWaker is a Waker driven by hand, for tests: the tailer only looks
// at its files when Step is called, and Step returns once it has caught up,
// so a test never sleeps waiting for the tailer.
type ManualWaker struct {
	steps   chan chan struct{}
	closed  chan struct{}
	pending chan struct{} // closed when the tailer next waits; Run goroutine only
	once    sync.Once

	mu   sync.Mutex
	dirs []string
}

// NewManualWaker returns a ManualWaker.
func NewManualWaker() *ManualWaker {
	return &ManualWaker{
		steps:  make(chan chan struct{}),
		closed: make(chan struct{}),
	}
}

// Step wakes the tailer and returns when the pass it caused, and any passes
// needed to read every file to its end, are done and the handler's Idle has
// been called. It returns ctx.Err() if ctx ends first, and ErrWakerClosed if
// the tailer has stopped. Step must not be called from the handler.
func (w *ManualWaker) Step(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case w.steps <- done:
	case <-w.closed:
		return ErrWakerClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wait implements Waker: it blocks until Step is called.
func (w *ManualWaker) Wait(ctx context.Context) error {
	if w.pending != nil {
		close(w.pending)
		w.pending = nil
	}
	select {
	case done := <-w.steps:
		w.pending = done
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Watch implements Waker by remembering dirs for Dirs.
func (w *ManualWaker) Watch(dirs []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dirs = append(w.dirs[:0], dirs...)
}

// Dirs returns the directories last passed to Watch.
func (w *ManualWaker) Dirs() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.dirs)
}

// Close implements Waker. A Step in progress returns.
func (w *ManualWaker) Close() error {
	w.once.Do(func() {
		close(w.closed)
		if w.pending != nil {
			close(w.pending)
			w.pending = nil
		}
	})
	return nil
}

// cleanDirs sorts dirs, cleans them and drops duplicates, in place.
func cleanDirs(dirs []string) []string {
	for i, d := range dirs {
		dirs[i] = filepath.Clean(d)
	}
	slices.Sort(dirs)
	return slices.Compact(dirs)
}
