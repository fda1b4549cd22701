// Package collector ties the counting path together for one configuration:
// tail -> accesslog -> classify -> session -> telemetry. Replay runs it over
// files; Run runs it live beside a web server.
package collector

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"time"

	"github.com/session-exporter/session-exporter/collector/accesslog"
	"github.com/session-exporter/session-exporter/collector/classify"
	"github.com/session-exporter/session-exporter/collector/config"
	"github.com/session-exporter/session-exporter/collector/session"
	"github.com/session-exporter/session-exporter/collector/telemetry"
)

// Options are the collector's dependencies. Zero values get defaults.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time // wall clock
	Build  telemetry.BuildInfo
	Secret []byte // visitor-key secret; nil draws a random one (live mode loads it from state)
}

// Collector counts sessions for one configuration.
type Collector struct {
	cfg     *config.Config
	opts    Options
	log     *slog.Logger
	metrics *telemetry.Metrics
	cl      *classify.Classifier
	sampler *rejectSampler

	replayed []*source // the inputs of the last Replay
}

// New returns a Collector for cfg, which must have been validated.
func New(cfg *config.Config, opts Options) (*Collector, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Secret == nil {
		opts.Secret = make([]byte, 32)
		if _, err := rand.Read(opts.Secret); err != nil {
			return nil, fmt.Errorf("draw visitor-key secret: %w", err)
		}
	}
	files := make([]string, len(cfg.Logs))
	for i, l := range cfg.Logs {
		files[i] = l.Name()
	}
	c := &Collector{
		cfg:  cfg,
		opts: opts,
		log:  opts.Logger,
	}
	c.metrics = c.newMetrics(files)
	c.sampler = newRejectSampler(c.log, 10*time.Second, opts.Now)
	return c, nil
}

// newMetrics lays out metrics for the configured sites and goals and the
// given file labels.
func (c *Collector) newMetrics(files []string) *telemetry.Metrics {
	goals := make([]string, len(c.cfg.Goals))
	var valued []bool
	for i, g := range c.cfg.Goals {
		goals[i] = g.Name
		if g.ValueParam != "" {
			if valued == nil {
				valued = make([]bool, len(c.cfg.Goals))
			}
			valued[i] = true
		}
	}
	var landings []string
	for _, l := range c.cfg.LandingPages {
		landings = append(landings, l.Name)
	}
	return telemetry.New(telemetry.Dims{Sites: c.cfg.Sites, Goals: goals, Valued: valued, Landings: landings, Files: files})
}

// Metrics returns the collector's metrics.
func (c *Collector) Metrics() *telemetry.Metrics { return c.metrics }

// NewExporter returns a Prometheus registry serving the collector's metrics.
func (c *Collector) NewExporter(start time.Time) (*telemetry.Exporter, error) {
	return telemetry.NewExporter(telemetry.NewProducer(c.metrics, c.opts.Build, start, c.opts.Now))
}

// classifier returns the collector's classifier, built on first use (with
// the visitor-key secret known by then) and kept, so its user-agent cache
// stays warm across replays.
func (c *Collector) classifier() (*classify.Classifier, error) {
	if c.cl != nil {
		return c.cl, nil
	}
	cl, err := classify.New(classify.Config{
		OwnHosts:       c.cfg.OwnHosts,
		TrustedProxies: c.cfg.Proxies,
		ExcludePaths:   c.cfg.ExcludeRegex,
		Goals:          c.cfg.GoalRegex,
		GoalValues:     c.goalValues(),
		Landings:       c.cfg.LandingRegex,
		Secret:         c.opts.Secret,
		SplitSites:     len(c.cfg.Sites) > 1,
		CacheSize:      c.cfg.UACacheSize,
	})
	if err != nil {
		return nil, err
	}
	c.cl = cl
	return cl, nil
}

// goalValues are the goals' value parameters, nil when none has one.
func (c *Collector) goalValues() []string {
	var out []string
	for i, g := range c.cfg.Goals {
		if g.ValueParam != "" {
			if out == nil {
				out = make([]string, len(c.cfg.Goals))
			}
			out[i] = g.ValueParam
		}
	}
	return out
}

func (c *Collector) sessionConfig() session.Config {
	s := c.cfg.Session
	return session.Config{
		Timeout:             s.Timeout.D(),
		Location:            s.Location,
		SplitAtMidnight:     s.SplitAtMidnight,
		SplitOnSourceChange: s.SplitOnSourceChange,
		MaxDelay:            s.MaxDelay.D(),
		CarryOver:           s.RedirectCarryOver.D(),
		MaxVisitors:         c.cfg.MaxVisitors,
		ReturningWindow:     c.cfg.Visitors.ReturningWindow.D(),
		ReturningCapacity:   c.cfg.Visitors.Capacity,
	}
}

// Input is one file given to Replay.
type Input struct {
	Path   string    // "-" for standard input
	Reader io.Reader // used instead of opening Path when set
}

// ReplayOptions adjust Replay.
type ReplayOptions struct {
	Format string // overrides the configured format for every input ("" = by config, else auto)
	// Every, with OnStep, calls OnStep(t) each time the event clock passes
	// a multiple of Every (t is that multiple), with the metrics as they
	// stand then: the series of a backfill. The replay is sequential then.
	Every  time.Duration
	OnStep func(t time.Time) error
	// Workers parse and classify in parallel, and as many sessionizer
	// shards count (0: GOMAXPROCS; 1: one goroutine does everything).
	Workers int
}

// Replay reads every input in order through the counting path and closes
// every session at the end. Unparsable lines are counted, never fatal; an
// unreadable input is an error (nothing is counted after it).
func (c *Collector) Replay(ctx context.Context, inputs []Input, ro ReplayOptions) error {
	names := make([]string, len(inputs))
	srcs := make([]*source, len(inputs))
	for i, in := range inputs {
		src, err := c.replaySource(in.Path, ro.Format)
		if err != nil {
			return err
		}
		names[i] = inputName(in.Path)
		src.file, src.name = i, names[i]
		srcs[i] = src
	}
	c.metrics = c.newMetrics(names)
	c.replayed = srcs
	workers := ro.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	for _, src := range srcs {
		if src.unwrap != nil {
			workers = 1 // partial container records are joined in order
		}
	}
	if workers > 1 && ro.OnStep == nil {
		return c.replayParallel(ctx, inputs, srcs, workers, workers)
	}

	p, err := c.newPipeline()
	if err != nil {
		return err
	}
	sz := p.sessions
	p.srcs = srcs
	if ro.Every > 0 && ro.OnStep != nil {
		p.every, p.onStep = int64(ro.Every), ro.OnStep
	}
	for i, in := range inputs {
		r, closeFn, err := openInput(in)
		if err != nil {
			return err
		}
		err = c.readAll(ctx, p, srcs[i], r)
		closeFn()
		if err != nil {
			return fmt.Errorf("read %s: %w", in.Path, err)
		}
		p.guard.End(i, p) // no later line of this input can confirm a held jump
		if p.err != nil {
			return p.err
		}
	}
	sz.CloseAll()
	c.metrics.SetVisitors(sz.Visitors())
	if p.onStep != nil && p.err == nil && p.next != 0 {
		// The closing of the last sessions, one step after the last line.
		p.err = p.onStep(time.Unix(0, p.next).UTC())
	}
	return p.err
}

// Unparsed is an input of which lines were read but none parsed.
type Unparsed struct {
	Path    string
	Format  string // the format it was read in: a preset name, or "custom log_format"
	Lines   uint64 // read and rejected
	Reason  accesslog.Reason
	WasAuto bool // read with auto
}

// Error is the one-line message for an unparsed input, naming the file and
// the format and what to try instead.
func (u Unparsed) Error() string {
	hint := "try -format auto, or give the log_format with -format"
	if u.WasAuto {
		hint = "give its log_format with -format (see docs/formats.md)"
	}
	return fmt.Sprintf("no line of %s parses as %s (%d lines rejected, mostly %s): %s", u.Path, u.Format, u.Lines, u.Reason, hint)
}

// Unparsed returns the inputs of the last Replay that had lines of which
// none parsed: a wrong format, not a few bad lines. Empty inputs, and
// inputs of header lines only, are not among them.
func (c *Collector) Unparsed() []Unparsed {
	var out []Unparsed
	for _, src := range c.replayed {
		read, rejected, top := c.metrics.FileLines(src.file)
		if read == 0 || rejected != read {
			continue
		}
		f := src.parser.Name()
		if f == "custom" {
			f = "custom log_format"
		}
		out = append(out, Unparsed{Path: src.name, Format: f, Lines: read, Reason: top, WasAuto: f == "auto"})
	}
	return out
}

// replaySource finds the configured log a replayed file belongs to (by path
// or glob) for its format and site. With a single configured log every file
// is taken to be in its format; other files are read with "auto".
func (c *Collector) replaySource(path, format string) (*source, error) {
	src := &source{}
	fmtName := "auto"
	matched := false
	for _, l := range c.cfg.Logs {
		if l.Path == path || matchGlob(l.Path, path) {
			fmtName, src.site, matched = l.Format, c.siteIndex(l.Site), true
			src.unwrap = newUnwrapper(l, c.cfg.MaxLineBytes)
			break
		}
	}
	if !matched && len(c.cfg.Logs) == 1 {
		l := c.cfg.Logs[0]
		fmtName, src.site = l.Format, c.siteIndex(l.Site)
		src.unwrap = newUnwrapper(l, c.cfg.MaxLineBytes)
	}
	if format != "" {
		fmtName = format
	}
	p, err := accesslog.New(fmtName)
	if err != nil {
		return nil, err
	}
	src.parser, src.format = p, fmtName
	return src, nil
}

func inputName(path string) string {
	if path == "-" {
		return "stdin"
	}
	return path
}

func (c *Collector) siteIndex(name string) uint8 {
	for i, s := range c.cfg.Sites {
		if s == name {
			return uint8(i)
		}
	}
	return 0
}

func matchGlob(pattern, path string) bool {
	ok, err := filepath.Match(pattern, path)
	return err == nil && ok
}

// readAll feeds r line by line to p.
func (c *Collector) readAll(ctx context.Context, p *pipeline, src *source, r io.Reader) error {
	return c.eachLine(ctx, r,
		func(line []byte, n int) { p.line(src, line, n) },
		func(n int) { p.tooLong(src, n) })
}

// eachLine splits r into lines for line (without newline or CR; n is the
// bytes it took in the input). Lines longer than max_line_bytes go to
// tooLong whole; a last line without newline is still a line.
func (c *Collector) eachLine(ctx context.Context, r io.Reader, line func(b []byte, n int), tooLong func(n int)) error {
	br := bufio.NewReaderSize(r, c.cfg.MaxLineBytes+1)
	skipping, skipped := false, 0
	for n := 0; ; n++ {
		if n&4095 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		b, err := br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			skipping = true
			skipped += len(b)
			continue
		case err != nil && !errors.Is(err, io.EOF):
			return err
		}
		if skipping {
			tooLong(skipped + len(b)) // even when the input ends right after the buffer-full part
			skipping, skipped = false, 0
		} else if len(b) > 0 {
			l := bytes.TrimSuffix(bytes.TrimSuffix(b, []byte{'\n'}), []byte{'\r'})
			if len(l) > c.cfg.MaxLineBytes {
				tooLong(len(b))
			} else {
				line(l, len(b))
			}
		}
		if err != nil { // io.EOF
			return nil
		}
	}
}
