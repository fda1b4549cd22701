package collector

import (
	"errors"
	"io/fs"
	"sync"
	"time"

	"github.com/session-exporter/session-exporter/collector/session"
	"github.com/session-exporter/session-exporter/collector/tail"
)

// liveHandler receives the tailer's lines on the tailer's goroutine, so the
// counting path, the sessionizer and the tailer's positions are only ever
// touched from that goroutine and a checkpoint taken there is consistent.
type liveHandler struct {
	// mu serialises the tailer's calls with the lines of standard input
	// and syslog sockets, which arrive on goroutines of their own. Line
	// takes it only if there are such inputs (shared): otherwise every
	// call comes from the tailer's goroutine, and the final save after it
	// has returned.
	mu      sync.Mutex
	shared  bool
	tailed  []int // tail pattern -> index in sources
	c       *Collector
	p       *pipeline
	sz      *session.Sessionizer
	t       *tail.Tailer
	sources []*source
	started time.Time
	now     func() time.Time
	secret  []byte // the visitor-key secret, saved with the state

	n        int
	dirty    bool      // lines read since the last tick
	applied  int64     // p.newest at the last tick
	lastWall time.Time // wall clock when lines were last read
	base     int64     // event-time watermark then
	nextSave time.Time
	failing  bool
	ticked   chan struct{} // closed after the first tick
	caughtUp bool          // a pass went idle since the start
	health   *healthWatch
}

// Line implements tail.Handler.
func (h *liveHandler) Line(f *tail.File, line []byte, _ int64) {
	if h.shared {
		h.mu.Lock()
		defer h.mu.Unlock()
	}
	src := h.sources[h.tailed[f.Pattern]]
	if src.unwrap != nil {
		h.p.record(src, f, line, len(line)+1)
	} else {
		h.p.line(src, line, len(line)+1)
	}
	h.counted()
}

// counted does what follows every line: the periodic work, every 1024 lines.
func (h *liveHandler) counted() {
	h.dirty = true
	if h.n++; h.n&1023 == 0 || h.n == 1 {
		h.tick(false)
	}
}

// Event implements tail.Handler.
func (h *liveHandler) Event(e tail.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	log := h.c.log
	switch e.Kind {
	case tail.EventRotated:
		h.c.metrics.Rotation(h.tailed[e.File.Pattern])
		log.Info("log rotated; draining the old file", "path", e.File.Path)
	case tail.EventTruncated:
		h.c.metrics.Truncation(h.tailed[e.File.Pattern])
		log.Info("log truncated; reading from the start", "path", e.File.Path)
	case tail.EventTooLong:
		h.p.tooLong(h.sources[h.tailed[e.File.Pattern]], int(e.Bytes)+1)
	case tail.EventReadError:
		attrs := []any{"path", e.Path, "err", e.Err}
		if errors.Is(e.Err, fs.ErrPermission) {
			attrs = append(attrs, "hint", "the exporter's user cannot read this log: add it to the log's group (adm on Debian/Ubuntu) or adjust the file mode")
		}
		log.Warn("cannot read log; retrying", attrs...)
	case tail.EventLost:
		if e.File != nil {
			h.c.metrics.LostFile(e.File.Pattern)
		}
		log.Warn("log file given up with lines unread (deleted before it was read, or too many rotated files open)",
			"path", e.Path, "offset", e.Offset)
	case tail.EventOpened:
		log.Debug("following log", "path", e.Path, "offset", e.Offset)
	case tail.EventClosed:
		log.Debug("closed log", "path", e.Path, "offset", e.Offset)
		if e.File != nil {
			if u := h.sources[h.tailed[e.File.Pattern]].unwrap; u != nil {
				u.forget(e.File)
			}
		}
	}
}

// Idle implements tail.Handler: every file is read to its end.
func (h *liveHandler) Idle() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tick(true)
	// The tailer waits now: the next line reads the clock again.
	h.p.dropWall()
}

// tick runs the periodic work: the event clock, gauges and the checkpoint.
func (h *liveHandler) tick(idle bool) {
	now := h.now()
	h.p.readWall(now)
	if idle {
		// A first line nothing has followed: nothing contradicts it.
		h.p.guard.Idle(h.p)
	}
	wm, ok := h.sz.Watermark()
	// Lines read, or held lines the clock guard has let through since (the
	// first line waits for the next one, or for an idle pass): the quiet
	// time counts from now.
	if h.dirty || h.p.newest != h.applied {
		h.dirty, h.applied = false, h.p.newest
		h.lastWall, h.base = now, wm
		if ok {
			h.c.metrics.SetReadLag(now.Sub(time.Unix(0, h.p.newest)))
		}
	}
	if idle && ok {
		// Quiet files: event time advances with the wall clock from the
		// moment the last line was read, so idle sessions close.
		target := h.base + int64(now.Sub(h.lastWall))
		// Every file is read to its end and the newest line is older than
		// max_delay by the wall clock (a backlog, or a quiet site): a line
		// written from now on carries a newer time, so nothing can still
		// come before the held events. Apply them now, without moving the
		// clock further than that.
		// Measured from the newest line, not from the event clock, so
		// that idle passes do not push the clock on by max_delay each.
		if maxDelay := int64(h.c.cfg.Session.MaxDelay.D()); now.UnixNano()-h.p.newest > maxDelay {
			target = max(target, h.p.newest+maxDelay)
		}
		h.p.guard.Advance(target, h.p)
		h.sz.Advance(target)
	}
	h.c.metrics.SetVisitors(h.sz.Visitors())
	h.health.check(now, false)
	// Checkpoint at start-up, then once the backlog found at start is
	// read (the first idle pass), then every state_interval.
	if h.c.cfg.StateFile != "" && (!now.Before(h.nextSave) || idle && !h.caughtUp) {
		h.caughtUp = h.caughtUp || idle
		if err := h.save(); err != nil {
			if !h.failing {
				h.c.log.Error("state save failed; will retry", "file", h.c.cfg.StateFile, "err", err)
			}
			h.failing = true
		} else if h.failing {
			h.c.log.Info("state saves work again", "file", h.c.cfg.StateFile)
			h.failing = false
		}
		h.nextSave = now.Add(h.c.cfg.StateInterval.D())
	}
	select {
	case <-h.ticked:
	default:
		close(h.ticked)
	}
}
