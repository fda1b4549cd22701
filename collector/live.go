package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/session-exporter/session-exporter/collector/accesslog"
	"github.com/session-exporter/session-exporter/collector/session"
	"github.com/session-exporter/session-exporter/collector/state"
	"github.com/session-exporter/session-exporter/collector/tail"
	"github.com/session-exporter/session-exporter/collector/telemetry"
)

// RunOptions adjust Run. Zero values get defaults.
type RunOptions struct {
	// Listener serves /metrics instead of listening on the configured
	// address (tests pass a 127.0.0.1:0 listener).
	Listener net.Listener
	// Waker drives the tailer (tests inject a manual one).
	Waker tail.Waker
	// Ready is called once the server listens and the state is loaded.
	Ready func(addr net.Addr)
	// Serve replaces http.Server.Serve, e.g. to add TLS and basic auth
	// from a web config file.
	Serve func(srv *http.Server, ln net.Listener) error
	// Stdin is read for a log with path "-" (nil: os.Stdin).
	Stdin io.Reader
}

// Run follows the configured logs and serves metrics until ctx is done, then
// saves its state and shuts the server down. It resumes from the state file
// when there is one: no line counted twice, none lost.
func (c *Collector) Run(ctx context.Context, ro RunOptions) error {
	now := c.opts.Now
	c.removeStaleState()
	st, err := c.loadState()
	if err != nil {
		return err
	}
	started := now()
	if st != nil && !st.SavedAt.IsZero() {
		// An event clock past the wall clock of the save: a wild line
		// moved it, in a build without the clock guard. Set it back.
		// Live, no accepted line is more than max_future past the wall
		// clock, and the idle clock adds at most max_delay to it.
		limit := st.SavedAt.Add(c.cfg.Session.MaxFuture.D() + c.cfg.Session.MaxDelay.D()).UnixNano()
		wild := st.Sessions.Watermark
		if v, e, ok := st.Sessions.DropFuture(limit); ok {
			c.log.Warn("saved event clock was past the wall clock of the save; set back to the newest real time",
				"saved_clock", time.Unix(0, wild).UTC(), "clock", time.Unix(0, st.Sessions.Watermark).UTC(),
				"visitors_dropped", v, "held_events_dropped", e)
			st.Guard = nil // restarted from the repaired clock
		}
	}
	if st != nil {
		// Sessions, counters and offsets are restored together or not at
		// all: a partial restore would count lines twice or never close
		// sessions.
		probe, err := session.New(c.sessionConfig(), c.metrics)
		if err == nil {
			err = probe.Restore(st.Sessions)
		}
		if err != nil {
			c.log.Warn("saved sessions cannot be restored; starting fresh", "err", err)
			c.moveStateAside(err)
			st = nil
		}
	}
	if st != nil {
		c.opts.Secret = st.Secret
		if !st.Started.IsZero() {
			started = st.Started
		}
		c.metrics.Restore(st.Metrics)
	}
	p, err := c.newPipeline()
	if err != nil {
		return err
	}
	sz := p.sessions
	var positions []tail.Position
	if st != nil {
		if err := sz.Restore(st.Sessions); err != nil {
			return fmt.Errorf("restore sessions: %w", err) // restored once above: cannot happen
		}
		if err := sz.RestoreWarning(); err != nil {
			c.log.Warn("past visitors not restored", "err", err)
		}
		if st.Guard != nil {
			if n := p.guard.Restore(*st.Guard, len(c.cfg.Logs)); n > 0 {
				c.log.Warn("held lines of logs no longer configured dropped", "lines", n)
			}
		} else {
			p.guard.RestoreClock(sz.Watermark())
		}
		positions = st.Positions
		c.log.Info("resuming from state", "file", c.cfg.StateFile, "saved_at", st.SavedAt,
			"visitors", sz.Visitors(), "files", len(positions), "held_lines", p.guard.Holding())
	}
	if newest, ok := p.guard.Newest(); ok {
		p.newest = newest
	}
	sources := make([]*source, len(c.cfg.Logs))
	var paths []string
	var tailed []int // tail pattern -> source
	for i, l := range c.cfg.Logs {
		p, err := accesslog.New(l.Format)
		if err != nil {
			return fmt.Errorf("logs[%d].format: %w", i, err)
		}
		src := &source{name: l.Name(), parser: p, site: c.siteIndex(l.Site), file: i,
			unwrap: newUnwrapper(l, c.cfg.MaxLineBytes)}
		switch {
		case l.Syslog != "":
			src.kind = inputSyslog
		case l.Path == "-":
			src.kind = inputStdin
		default:
			paths = append(paths, l.Path)
			tailed = append(tailed, i)
		}
		sources[i] = src
	}
	p.srcs, p.wall = sources, now
	var tl *tail.Tailer
	if len(paths) > 0 {
		tl, err = tail.New(tail.Config{
			Paths:        paths,
			StartAtEnd:   c.cfg.StartAt == "end",
			MaxLineBytes: c.cfg.MaxLineBytes,
			PollInterval: c.cfg.PollInterval.D(),
			Waker:        ro.Waker,
			Now:          now,
			Logger:       c.log,
		}, positions)
		if err != nil {
			return fmt.Errorf("follow logs: %w", err)
		}
	}
	// Syslog sockets are open before the exporter says it is ready, so
	// nothing sent from then on is lost.
	sockets, err := c.listenSyslog(sources)
	if err != nil {
		return err
	}
	defer closeSockets(sockets)

	// One producer for both sides: /metrics and the OTLP push.
	prod := telemetry.NewProducer(c.metrics, c.opts.Build, started, c.opts.Now)
	exp, err := telemetry.NewExporter(prod)
	if err != nil {
		return err
	}
	defer exp.Shutdown(context.Background())
	stopOTLP, err := c.startOTLP(ctx, prod)
	if err != nil {
		return err
	}
	defer func() { // on early returns; a no-op after the last push below
		sctx, done := context.WithTimeout(context.Background(), otlpShutdownTimeout)
		defer done()
		_ = stopOTLP(sctx)
	}()
	ln := ro.Listener
	if ln == nil {
		ln, err = net.Listen("tcp", c.cfg.Listen)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", c.cfg.Listen, err)
		}
	}
	srv := &http.Server{
		Handler:           c.httpHandler(exp.Registry),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(c.log.Handler(), slog.LevelWarn),
	}
	serve := ro.Serve
	if serve == nil {
		serve = func(s *http.Server, l net.Listener) error { return s.Serve(l) }
	}
	h := &liveHandler{c: c, p: p, sz: sz, t: tl, tailed: tailed,
		sources: sources, started: started, now: now, ticked: make(chan struct{}),
		health: newHealthWatch(c.log, c.metrics, sources)}
	h.health.check(now(), true) // a wrong path is reported at once
	// Until a line is read, quiet time counts from the start (the event
	// clock restored from the state, if any).
	h.lastWall = now()
	h.base, _ = sz.Watermark()
	// The first checkpoint is written as soon as the first pass has found
	// the files (at its first line or when it goes idle), so a kill before
	// the first state_interval resumes there instead of starting over.
	h.nextSave = h.lastWall
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	tailErr := make(chan error, 1)
	if tl != nil {
		go func() { tailErr <- tl.Run(runCtx, h) }()
	} else {
		go func() { tailErr <- idleLoop(runCtx, ro.Waker, c.cfg.PollInterval.D(), h) }()
	}
	var inputs sync.WaitGroup
	defer func() { // on every return: the inputs below stop
		cancel()
		closeSockets(sockets)
		inputs.Wait()
	}()
	for i, pc := range sockets {
		if pc != nil {
			inputs.Add(1)
			go func() { defer inputs.Done(); h.readSyslog(runCtx, sources[i], pc) }()
		}
	}
	for _, src := range sources {
		if src.kind == inputStdin {
			stdin := ro.Stdin
			if stdin == nil {
				stdin = os.Stdin
			}
			c.metrics.SetFileUp(src.file, true)
			go h.readStdin(runCtx, src, stdin) // not waited for: a read from a terminal cannot be cancelled
		}
	}
	// Serve once the first pass has found the files and the first
	// checkpoint is written: from then on a kill resumes there.
	var early error
	tailDone := false
	select {
	case <-h.ticked:
	case early = <-tailErr:
		tailDone = true
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- serve(srv, ln) }()
	c.log.Info("serving metrics", "address", ln.Addr().String(), "path", c.cfg.TelemetryPath,
		"logs", len(paths), "start_at", c.cfg.StartAt)
	if ro.Ready != nil {
		ro.Ready(ln.Addr())
	}

	var failure error
	if tailDone {
		tailErr <- early
	}
	select {
	case err := <-tailErr:
		if err != nil && !errors.Is(err, context.Canceled) {
			failure = fmt.Errorf("follow logs: %w", err)
		}
	case err := <-serveErr:
		cancel()
		<-tailErr
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			failure = fmt.Errorf("serve metrics: %w", err)
		}
	}
	// The tailer has returned: its positions match what was counted.
	cancel()
	closeSockets(sockets)
	inputs.Wait()
	saved := false
	if c.cfg.StateFile != "" {
		h.mu.Lock()
		err := h.save()
		h.mu.Unlock()
		if err != nil {
			failure = errors.Join(failure, fmt.Errorf("final state save to %s failed (the lines since the last checkpoint will be read again at the next start): %w", c.cfg.StateFile, err))
		} else {
			saved = true
		}
	}
	// The last OTLP push carries the counts just saved.
	otlpCtx, otlpDone := context.WithTimeout(context.Background(), otlpShutdownTimeout)
	if err := stopOTLP(otlpCtx); err != nil {
		c.log.Warn("last OTLP push not confirmed", "err", err)
	}
	otlpDone()
	shutdownCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	if err := srv.Shutdown(shutdownCtx); err != nil && failure == nil {
		failure = fmt.Errorf("shut down metrics server: %w", err)
	}
	if c.cfg.StateFile == "" {
		c.log.Info("stopped", "state_saved", false, "state_file", "none")
	} else {
		c.log.Info("stopped", "state_saved", saved, "state_file", c.cfg.StateFile)
	}
	return failure
}

// httpHandler serves the metrics and a health check, GET and HEAD only.
func (c *Collector) httpHandler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	metrics := newScrapeHandler(reg, c.log)
	mux.Handle(c.cfg.TelemetryPath, getOnly(metrics))
	mux.Handle("/healthz", getOnly(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})))
	if c.cfg.TelemetryPath != "/" {
		mux.Handle("/{$}", getOnly(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, "<html><head><title>session-exporter</title></head><body><h1>session-exporter</h1>"+
				"<p><a href=%q>Metrics</a> &middot; <a href=\"/healthz\">Health</a></p></body></html>\n", c.cfg.TelemetryPath)
		})))
	}
	return mux
}

func getOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// loadState reads the state file. A missing file starts fresh; an unusable
// one is reported, moved aside, and the exporter starts fresh. A file that
// exists but cannot be read is an error: starting fresh would overwrite it.
func (c *Collector) loadState() (*state.State, error) {
	path := c.cfg.StateFile
	if path == "" {
		return nil, nil
	}
	st, err := state.Load(path)
	switch {
	case err == nil:
		if st.Migrated != 0 {
			c.log.Info("state file converted from an older format; it is written in the new one at the next save",
				"file", path, "from_version", st.Migrated, "to_version", state.Version)
		}
		return st, nil
	case errors.Is(err, fs.ErrNotExist):
		c.log.Info("no state file yet; starting fresh", "file", path)
		return nil, nil
	}
	var bad *state.Error
	if errors.As(err, &bad) {
		c.moveStateAside(err)
		return nil, nil
	}
	return nil, fmt.Errorf("state file %s cannot be read (fix its permissions, or move it away to start fresh): %w", path, err)
}

// removeStaleState deletes the temporary files a save interrupted by a
// crash left beside the state file.
func (c *Collector) removeStaleState() {
	if c.cfg.StateFile == "" {
		return
	}
	removed, err := state.RemoveStale(c.cfg.StateFile)
	if len(removed) > 0 {
		c.log.Info("removed temporary state files left by an interrupted save", "file", c.cfg.StateFile, "removed", len(removed))
	}
	if err != nil {
		c.log.Warn("temporary state files could not be removed", "file", c.cfg.StateFile, "err", err)
	}
}

// moveStateAside renames an unusable state file so the exporter can start
// fresh without destroying it.
func (c *Collector) moveStateAside(why error) {
	moved, err := state.MoveAside(c.cfg.StateFile, c.opts.Now())
	if err != nil {
		c.log.Error("unusable state file could not be moved aside; starting fresh", "err", why, "move_err", err)
		return
	}
	c.log.Warn("unusable state file moved aside; starting fresh", "err", why, "moved_to", moved)
}

// liveHandler receives the tailer's lines on the tailer's goroutine, so the
// counting path, the sessionizer and the tailer's positions are only ever
// touched from that goroutine and a checkpoint taken there is consistent.
type liveHandler struct {
	// mu serialises the tailer's calls with the lines of standard input
	// and syslog sockets, which arrive on goroutines of their own.
	mu      sync.Mutex
	tailed  []int // tail pattern -> index in sources
	c       *Collector
	p       *pipeline
	sz      *session.Sessionizer
	t       *tail.Tailer
	sources []*source
	started time.Time
	now     func() time.Time

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
	h.mu.Lock()
	defer h.mu.Unlock()
	src := h.sources[h.tailed[f.Pattern]]
	if src.unwrap != nil {
		h.p.metrics.LineRead(src.file, len(line)+1)
		h.p.wrapped(src, f, line)
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
}

// tick runs the periodic work: the event clock, gauges and the checkpoint.
func (h *liveHandler) tick(idle bool) {
	now := h.now()
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

// save writes the checkpoint: positions, sessions, the clock guard and
// counters together. session_exporter_state_saves_total counts attempts and
// session_exporter_state_save_failures_total the failed ones.
func (h *liveHandler) save() error {
	path := h.c.cfg.StateFile
	h.c.metrics.StateSaved() // counted before the snapshot, so the saved count includes this save
	g := h.p.guard.Snapshot()
	var positions []tail.Position
	if h.t != nil {
		positions = h.t.Positions()
	}
	st := &state.State{
		SavedAt:   h.now(),
		Started:   h.started,
		Secret:    h.c.opts.Secret,
		Positions: positions,
		Sessions:  h.sz.Snapshot(),
		Metrics:   h.c.metrics.Snapshot(),
		Guard:     &g,
	}
	if err := state.Save(path, st); err != nil {
		h.c.metrics.StateSaveFailed()
		return err
	}
	return nil
}
