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
	"github.com/prometheus/client_golang/prometheus/promhttp"

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
	st, err := c.loadState()
	if err != nil {
		return err
	}
	started := now()
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
		positions = st.Positions
		c.log.Info("resuming from state", "file", c.cfg.StateFile, "saved_at", st.SavedAt,
			"visitors", sz.Visitors(), "files", len(positions))
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
	serveErr := make(chan error, 1)
	go func() { serveErr <- serve(srv, ln) }()
	c.log.Info("serving metrics", "address", ln.Addr().String(), "path", c.cfg.TelemetryPath,
		"logs", len(paths), "start_at", c.cfg.StartAt)

	h := &liveHandler{c: c, p: p, sz: sz, t: tl, tailed: tailed,
		sources: sources, started: started, now: now,
		health: newHealthWatch(c.log, c.metrics, sources)}
	h.health.check(now(), true) // a wrong path is reported at once
	// Until a line is read, quiet time counts from the start (the event
	// clock restored from the state, if any).
	h.lastWall = now()
	h.base, _ = sz.Watermark()
	h.nextSave = h.lastWall.Add(c.cfg.StateInterval.D())
	if ro.Ready != nil {
		ro.Ready(ln.Addr())
	}

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

	var failure error
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
	h.mu.Lock()
	h.save()
	h.mu.Unlock()
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
	c.log.Info("stopped", "state_saved", c.cfg.StateFile != "")
	return failure
}

// httpHandler serves the metrics and a health check, GET and HEAD only.
func (c *Collector) httpHandler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(c.log.Handler(), slog.LevelWarn),
		MaxRequestsInFlight: 4,
		Timeout:             20 * time.Second,
	})
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
	lastWall time.Time // wall clock when lines were last read
	base     int64     // event-time watermark then
	nextSave time.Time
	failing  bool
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
	if h.n++; h.n&1023 == 0 {
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
		log.Warn("saved position matches no file (deleted or compressed while stopped); its unread lines are lost",
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
	wm, ok := h.sz.Watermark()
	if h.dirty {
		h.dirty = false
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
		if maxDelay := int64(h.c.cfg.Session.MaxDelay.D()); now.UnixNano()-wm > maxDelay {
			target = max(target, wm+maxDelay)
		}
		h.sz.Advance(target)
	}
	h.c.metrics.SetVisitors(h.sz.Visitors())
	h.health.check(now, false)
	if h.c.cfg.StateFile != "" && !now.Before(h.nextSave) {
		h.save()
		h.nextSave = now.Add(h.c.cfg.StateInterval.D())
	}
}

// save writes the checkpoint: positions, sessions and counters together.
func (h *liveHandler) save() {
	path := h.c.cfg.StateFile
	if path == "" {
		return
	}
	h.c.metrics.StateSaved() // counted before the snapshot, so the saved count includes this save
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
	}
	err := state.Save(path, st)
	if err != nil {
		h.c.metrics.StateSaveFailed()
		if !h.failing {
			h.c.log.Error("state save failed; will retry", "file", path, "err", err)
		}
		h.failing = true
		return
	}
	if h.failing {
		h.c.log.Info("state saves work again", "file", path)
	}
	h.failing = false
}
