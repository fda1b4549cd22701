package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/session-exporter/session-exporter/collector"
	"github.com/session-exporter/session-exporter/collector/config"
	"github.com/session-exporter/session-exporter/collector/loggen"
)

// webFlags are the flags shared with other Prometheus exporters. When set
// they override the config file.
type webFlags struct {
	listen, path, webConfig string
}

func (w *webFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&w.listen, "web.listen-address", "", "address to serve metrics on (overrides listen in the config)")
	fs.StringVar(&w.path, "web.telemetry-path", "", "path of the metrics endpoint (overrides telemetry_path; default /metrics)")
	fs.StringVar(&w.webConfig, "web.config.file", "", "Prometheus web config file for TLS and basic auth")
}

func (w *webFlags) apply(c *config.Config) error {
	if w.listen != "" {
		c.Listen = w.listen
	}
	if w.path != "" {
		c.TelemetryPath = w.path
	}
	err := c.Validate()
	var ce *config.Error
	if errors.As(err, &ce) {
		switch ce.Field { // the config file was valid: the flag is wrong
		case "listen":
			return fmt.Errorf("-web.listen-address: %s", ce.Msg)
		case "telemetry_path":
			return fmt.Errorf("-web.telemetry-path: %s", ce.Msg)
		}
	}
	return err
}

func runLive(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("session-exporter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfgPath string
	var lf logFlags
	var wf webFlags
	fs.StringVar(&cfgPath, "config", "", "configuration file (required)")
	fs.StringVar(&cfgPath, "config.file", "", "alias of -config")
	lf.register(fs)
	wf.register(fs)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fmt.Fprintln(stderr, "\nFlags:"); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		return fail(stderr, exitUsage, fmt.Errorf("unexpected argument %q (did you mean replay?)", fs.Arg(0)))
	}
	if cfgPath == "" {
		return fail(stderr, exitUsage, errors.New("no configuration: pass -config FILE (see config.example.yaml), or try: session-exporter demo"))
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return fail(stderr, exitUsage, err)
	}
	cfg, err := config.Load(cfgPath)
	if err == nil {
		err = wf.apply(cfg)
	}
	if err != nil {
		return fail(stderr, exitUsage, err)
	}
	if len(cfg.Logs) == 0 {
		return fail(stderr, exitUsage, fmt.Errorf("config %s: logs: no log to follow", cfgPath))
	}
	if err := checkLogsReadable(cfg); err != nil {
		return fail(stderr, exitUsage, err)
	}
	c, ro, code, err := newLive(cfg, wf, log)
	if err != nil {
		return fail(stderr, code, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := c.Run(ctx, ro); err != nil {
		return fail(stderr, exitFailure, err)
	}
	return exitOK
}

// newLive builds what the live commands run: the collector, and how to
// serve its metrics (plain HTTP, or TLS and basic auth from the web config
// file, checked now). On error it returns the exit code to use.
func newLive(cfg *config.Config, wf webFlags, log *slog.Logger) (*collector.Collector, collector.RunOptions, int, error) {
	serve, err := webServe(wf.webConfig, log)
	if err != nil {
		return nil, collector.RunOptions{}, exitUsage, err
	}
	c, err := collector.New(cfg, collector.Options{Logger: log, Build: buildInfo()})
	if err != nil {
		return nil, collector.RunOptions{}, exitFailure, err
	}
	return c, collector.RunOptions{Serve: serve}, exitOK, nil
}

// checkLogsReadable fails early on a configured log that exists but cannot
// be read: a missing file is fine (it may appear later), a permission
// problem is a mistake to fix now.
func checkLogsReadable(cfg *config.Config) error {
	for i, l := range cfg.Logs {
		paths := []string{l.Path}
		if m, err := filepath.Glob(l.Path); err == nil && len(m) > 0 {
			paths = m
		} else if err != nil {
			return fmt.Errorf("logs[%d].path: bad glob %q: %w", i, l.Path, err)
		}
		for _, p := range paths {
			// Stat first: opening a FIFO for reading blocks until a writer
			// comes, and a device or directory is no log to follow.
			fi, err := os.Stat(p)
			if err == nil && !fi.Mode().IsRegular() {
				return notRegularError(i, p, fi.Mode())
			}
			if err == nil {
				var f *os.File
				if f, err = os.Open(p); err == nil {
					f.Close()
				}
			}
			if err := readableError(i, p, err); err != nil {
				return err
			}
		}
	}
	return nil
}

// notRegularError refuses a configured log that is not a regular file: the
// tailer follows files by offset, inode and fingerprint, which a pipe,
// socket, device or directory does not have.
func notRegularError(i int, path string, mode os.FileMode) error {
	what := "not a regular file"
	switch {
	case mode&os.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case mode&os.ModeSocket != 0:
		what = "a socket"
	case mode&os.ModeDevice != 0:
		what = "a device"
	case mode.IsDir():
		what = "a directory"
	}
	return fmt.Errorf("logs[%d].path: %s is %s, not a regular file; follow the file the server writes, or pipe the stream to the exporter's standard input with path: \"-\"", i, path, what)
}

// readableError turns the error of opening logs[i] at path into the message
// a user sees; a missing file is fine (it may appear later).
func readableError(i int, path string, err error) error {
	switch {
	case err == nil, errors.Is(err, os.ErrNotExist):
		return nil
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("logs[%d].path: cannot read %s: permission denied (run as a user in the log's group, e.g. adm on Debian/Ubuntu, or adjust the file mode)", i, path)
	}
	return fmt.Errorf("logs[%d].path: cannot read %s: %w", i, path, err)
}

func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var lf logFlags
	var wf webFlags
	var rate float64
	var backlog time.Duration
	var dir string
	fs.Float64Var(&rate, "rate", 2, "new visits per second")
	fs.DurationVar(&backlog, "backlog", time.Hour, "event time of traffic written at start, before live traffic")
	fs.StringVar(&dir, "dir", "", "directory for the demo log and state (default: a new temporary directory)")
	lf.register(fs)
	wf.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if rate <= 0 || backlog < 0 {
		return fail(stderr, exitUsage, errors.New("demo: -rate must be positive and -backlog not negative"))
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return fail(stderr, exitUsage, err)
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "session-exporter-demo-")
		if err != nil {
			return fail(stderr, exitFailure, err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	logPath := filepath.Join(dir, "access.log")
	cfg, err := config.Parse(fmt.Appendf(nil, `
logs: [{path: %q, format: combined}]
start_at: beginning
own_hosts: [www.example.com, example.com]
goals: [{name: purchase, path: ^/checkout/thank-you}]
state_file: %q
`, logPath, filepath.Join(dir, "state.json")))
	if err == nil {
		err = wf.apply(cfg)
	}
	if err != nil {
		return fail(stderr, exitFailure, err)
	}
	c, ro, code, err := newLive(cfg, wf, log)
	if err != nil {
		return fail(stderr, code, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	genDone := make(chan error, 1)
	genCtx, stopGen := context.WithCancel(ctx)
	defer stopGen()
	go func() {
		genDone <- writeDemoTraffic(genCtx, logPath, rate, time.Now().Add(-backlog))
	}()
	ro.Ready = func(addr net.Addr) {
		fmt.Fprintf(stdout, "session-exporter demo: generated traffic in %s\n", logPath)
		fmt.Fprintf(stdout, "metrics: http://%s%s   (Ctrl-C to stop)\n", addr, cfg.TelemetryPath)
	}
	err = c.Run(ctx, ro)
	stopGen()
	if gerr := <-genDone; gerr != nil && !errors.Is(gerr, context.Canceled) && err == nil {
		err = gerr
	}
	if err != nil {
		return fail(stderr, exitFailure, err)
	}
	return exitOK
}

// writeDemoTraffic appends generated combined-format lines to path, first
// the backlog from start up to now, then in step with the wall clock.
func writeDemoTraffic(ctx context.Context, path string, rate float64, start time.Time) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("demo log: %w", err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	g := loggen.New(loggen.Options{Seed: uint64(start.UnixNano()), Start: start, Rate: rate})
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var line []byte
	for {
		now := time.Now()
		for g.Now().Before(now) {
			line = append(g.Next(line[:0]), '\n')
			if _, err := w.Write(line); err != nil {
				return fmt.Errorf("demo log: %w", err)
			}
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("demo log: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
