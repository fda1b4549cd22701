package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/session-exporter/session-exporter/collector"
	"github.com/session-exporter/session-exporter/collector/config"
	"github.com/session-exporter/session-exporter/collector/telemetry"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // a runtime failure
	exitUsage   = 2 // bad flags, bad config, unreadable input
	exitNoParse = 3 // replay: a file of which no line parses (wrong format)
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func buildInfo() telemetry.BuildInfo {
	b := telemetry.BuildInfo{Version: version, Revision: "unknown"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				b.Revision = s.Value
			}
		}
	}
	return b
}

const usage = `Usage:
  session-exporter [-config FILE] [flags]          run beside a web server: tail logs, serve /metrics
  session-exporter replay [-config FILE] [-o table|prometheus|json|openmetrics] [-step D] [-format F] FILE...
                                                  count sessions in log files ("-" is standard input)
  session-exporter demo [flags]                    generate traffic into a temporary log and serve its metrics
  session-exporter version                         print the version

Run "session-exporter COMMAND -h" for a command's flags.
`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "replay":
			return runReplay(args[1:], stdin, stdout, stderr)
		case "demo":
			return runDemo(args[1:], stdout, stderr)
		case "version", "--version", "-version":
			b := buildInfo()
			fmt.Fprintf(stdout, "session-exporter %s (revision %s, %s)\n", b.Version, b.Revision, goVersion())
			return exitOK
		case "help", "-h", "-help", "--help":
			// The commands, then the main command's flags, on standard output.
			return runLive([]string{"-h"}, stdout, stdout)
		case "run":
			args = args[1:]
		}
	}
	return runLive(args, stdout, stderr)
}

func goVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.GoVersion
	}
	return "unknown"
}

// logFlags are the logging flags every command shares.
type logFlags struct{ level, format string }

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.level, "log.level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&l.format, "log.format", "logfmt", "log format: logfmt or json")
}

func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(l.level)); err != nil {
		return nil, fmt.Errorf("-log.level: %q is not debug, info, warn or error", l.level)
	}
	o := &slog.HandlerOptions{Level: lv}
	switch l.format {
	case "logfmt", "text":
		return slog.New(slog.NewTextHandler(w, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	}
	return nil, fmt.Errorf("-log.format: %q is not logfmt or json", l.format)
}

func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Complete(config.Default())
	}
	return config.Load(path)
}

// fail prints a one-line error and returns code.
func fail(stderr io.Writer, code int, err error) int {
	fmt.Fprintf(stderr, "session-exporter: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
	return code
}

func runReplay(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfgPath, out, format string
	var step time.Duration
	var lf logFlags
	fs.StringVar(&cfgPath, "config", "", "configuration file (optional for replay)")
	fs.StringVar(&cfgPath, "config.file", "", "alias of -config")
	fs.StringVar(&out, "o", "table", "output: table, prometheus, json, or openmetrics (the session metrics over time, for promtool tsdb create-blocks-from openmetrics)")
	fs.DurationVar(&step, "step", time.Minute, "with -o openmetrics: time between samples (at least 1s)")
	fs.StringVar(&format, "format", "", "log format for every file, overriding the config (a preset such as combined, common, traefik, cloudfront; auto; or a log_format string)")
	lf.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: session-exporter replay [-config FILE] [-o table|prometheus|json|openmetrics] [-step D] [-format F] FILE...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	switch out {
	case "table", "prometheus", "json", "openmetrics":
	default:
		return fail(stderr, exitUsage, fmt.Errorf("-o: %q is not table, prometheus, json or openmetrics", out))
	}
	stepSet := false
	fs.Visit(func(f *flag.Flag) { stepSet = stepSet || f.Name == "step" })
	if stepSet && out != "openmetrics" {
		return fail(stderr, exitUsage, errors.New("-step: only with -o openmetrics"))
	}
	if step < time.Second {
		return fail(stderr, exitUsage, fmt.Errorf("-step: %s is less than 1s", step))
	}
	if fs.NArg() == 0 {
		return fail(stderr, exitUsage, errors.New("replay: no files given (use - for standard input)"))
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return fail(stderr, exitUsage, err)
	}
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return fail(stderr, exitUsage, err)
	}
	inputs := make([]collector.Input, 0, fs.NArg())
	for _, p := range collector.OrderRotated(fs.Args()) {
		in := collector.Input{Path: p}
		if p == "-" {
			in.Reader = stdin
		} else if fi, err := os.Stat(p); err != nil {
			return fail(stderr, exitUsage, fmt.Errorf("replay: %w", err))
		} else if fi.IsDir() {
			return fail(stderr, exitUsage, fmt.Errorf("replay: %s is a directory, not a log file", p))
		}
		inputs = append(inputs, in)
	}
	// Replay keys visitors with a fixed secret: nothing keyed leaves the
	// process (no state file is written), and the estimates built on the
	// keys (web_visitors) come out the same at every run of the same input.
	c, err := collector.New(cfg, collector.Options{Logger: log, Build: buildInfo(), Secret: []byte(replaySecret)})
	if err != nil {
		return fail(stderr, exitFailure, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	ro := collector.ReplayOptions{Format: format}
	var om *telemetry.OpenMetrics
	var stepErr error
	if out == "openmetrics" {
		om = telemetry.NewOpenMetrics(stdout, telemetry.OpenMetricsOptions{})
		defer om.Close()
		// The replay's metrics are laid out for its inputs: the exporter
		// that serves them, the one /metrics uses, is made for them at the
		// first step, and each step gathers its registry.
		var exp *telemetry.Exporter
		defer func() {
			if exp != nil {
				exp.Shutdown(context.Background())
			}
		}()
		ro.Every = step
		ro.OnStep = func(t time.Time, m *telemetry.Metrics) error {
			if exp == nil {
				if exp, stepErr = telemetry.NewExporter(telemetry.NewProducer(m, buildInfo(), start, time.Now)); stepErr != nil {
					return stepErr
				}
			}
			stepErr = om.Step(exp.Registry, t)
			return stepErr
		}
	}
	res, err := c.Replay(ctx, inputs, ro)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fail(stderr, exitFailure, errors.New("replay: interrupted"))
		}
		if stepErr != nil { // writing the output failed, not the input
			return fail(stderr, exitFailure, err)
		}
		return fail(stderr, exitUsage, err)
	}
	switch out {
	case "openmetrics":
		if err := om.Finish(); err != nil {
			return fail(stderr, exitFailure, err)
		}
	case "prometheus":
		exp, err := c.NewExporter(res.Metrics, start)
		if err != nil {
			return fail(stderr, exitFailure, err)
		}
		defer exp.Shutdown(context.Background())
		err = exp.WriteText(stdout)
		if err != nil {
			return fail(stderr, exitFailure, err)
		}
	case "json":
		if err := writeJSON(stdout, collector.Summarize(res.Metrics)); err != nil {
			return fail(stderr, exitFailure, err)
		}
	default:
		if err := writeTable(stdout, collector.Summarize(res.Metrics)); err != nil {
			return fail(stderr, exitFailure, err)
		}
	}
	if bad := res.Unparsed; len(bad) > 0 {
		for _, u := range bad {
			fmt.Fprintf(stderr, "session-exporter: replay: %s\n", u.Error())
		}
		return exitNoParse
	}
	return exitOK
}

// replaySecret keys replay's visitor hashes (see runReplay).
const replaySecret = "session-exporter replay: reproducible visitor keys"
