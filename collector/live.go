package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/session-exporter/session-exporter/collector/accesslog"
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
	st, err := c.startState()
	if err != nil {
		return err
	}
	started := now()
	// The visitor keys go on with the saved secret.
	secret, cl := c.opts.Secret, c.cl
	if st != nil {
		if !bytes.Equal(st.Secret, secret) {
			secret = st.Secret
			if cl, err = c.newClassifier(secret); err != nil {
				return err
			}
		}
		if !st.Started.IsZero() {
			started = st.Started
		}
		c.metrics.Restore(st.Metrics)
	}
	p, err := c.newPipeline(cl, c.metrics)
	if err != nil {
		return err
	}
	sz := p.sessions
	positions, err := c.resume(p, st)
	if err != nil {
		return err
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
	stopOTLP, err := telemetry.StartOTLP(ctx, c.cfg.OTLP, c.opts.Build.Version, c.log, prod)
	if err != nil {
		return err
	}
	defer func() { // on early returns; a no-op after the last push below
		sctx, done := context.WithTimeout(context.Background(), telemetry.OTLPShutdownTimeout)
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
	h := &liveHandler{c: c, p: p, sz: sz, t: tl, tailed: tailed, secret: secret,
		sources: sources, shared: len(tailed) < len(sources), started: started, now: now, ticked: make(chan struct{}),
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
	otlpCtx, otlpDone := context.WithTimeout(context.Background(), telemetry.OTLPShutdownTimeout)
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
