package collector

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/session-exporter/session-exporter/collector/accesslog"
	"github.com/session-exporter/session-exporter/collector/decompress"
	"github.com/session-exporter/session-exporter/collector/telemetry"
)

// Input is one file given to Replay.
type Input struct {
	Path   string    // "-" for standard input
	Reader io.Reader // used instead of opening Path when set
}

// ReplayOptions adjust Replay.
type ReplayOptions struct {
	Format string // overrides the configured format for every input ("" = by config, else auto)
	// Every, with OnStep, calls OnStep(t, m) each time the event clock
	// passes a multiple of Every (t is that multiple), with the replay's
	// metrics m as they stand then: the series of a backfill. The replay
	// is sequential then.
	Every  time.Duration
	OnStep func(t time.Time, m *telemetry.Metrics) error
	// Workers decode (parse and classify) in parallel (0: GOMAXPROCS; 1:
	// one goroutine does everything). The counts are the same whatever
	// their number.
	Workers int

	hooks *parallelHooks // tests
}

// ReplayResult is what a replay counted.
type ReplayResult struct {
	// Metrics are the replay's own, laid out for its inputs (the file
	// label of each is its path, "stdin" for standard input).
	Metrics *telemetry.Metrics
	// Unparsed are the inputs that had lines of which none parsed: a
	// wrong format, not a few bad lines. Empty inputs, and inputs of
	// header lines only, are not among them.
	Unparsed []Unparsed
	// Visitors is the number of visitors remembered at the end (for
	// returning-visitor detection), as session_exporter_visitors shows.
	Visitors int
}

// Replay reads every input in order through the counting path and closes
// every session at the end. Unparsable lines are counted, never fatal; an
// unreadable input is an error (nothing is counted after it). Replay does
// not touch the collector's live metrics; calls may run at the same time.
func (c *Collector) Replay(ctx context.Context, inputs []Input, ro ReplayOptions) (*ReplayResult, error) {
	names := make([]string, len(inputs))
	srcs := make([]*source, len(inputs))
	for i, in := range inputs {
		src, err := c.replaySource(in.Path, ro.Format)
		if err != nil {
			return nil, err
		}
		names[i] = inputName(in.Path)
		src.file, src.name = i, names[i]
		srcs[i] = src
	}
	m := c.newMetrics(names)
	// A replay has a classifier of its own (a clone shares the compiled
	// rules and keeps a cache of its own), so replays can run at once.
	p, err := c.newPipeline(c.cl.Clone(), m)
	if err != nil {
		return nil, err
	}
	p.srcs = srcs
	workers := ro.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	for _, src := range srcs {
		if src.unwrap != nil {
			workers = 1 // partial container records are joined in order
		}
	}
	if ro.Every > 0 && ro.OnStep != nil {
		p.every, p.onStep = int64(ro.Every), func(t time.Time) error { return ro.OnStep(t, m) }
		workers = 1 // a step sees the lines before it counted, and no other
	}
	if workers > 1 {
		err = c.replayParallel(ctx, inputs, srcs, p, workers, ro.hooks)
	} else {
		err = c.replaySequential(ctx, inputs, srcs, p)
	}
	if err != nil {
		return nil, err
	}
	p.sessions.CloseAll()
	visitors := p.sessions.Visitors()
	m.SetVisitors(visitors)
	if p.onStep != nil && p.next != 0 {
		// The closing of the last sessions, one step after the last line.
		if err := p.onStep(time.Unix(0, p.next).UTC()); err != nil {
			return nil, err
		}
	}
	return &ReplayResult{Metrics: m, Unparsed: unparsed(m, srcs), Visitors: visitors}, nil
}

// replaySequential counts the inputs on this goroutine.
func (c *Collector) replaySequential(ctx context.Context, inputs []Input, srcs []*source, p *pipeline) error {
	for i, in := range inputs {
		r, closeFn, err := openInput(in)
		if err != nil {
			return err
		}
		src := srcs[i]
		line := func(b []byte, n int) { p.line(src, b, n) }
		var lines, bytes uint64 // an input can hold more than 2 GiB, int is 32 bits on some builds
		if p.onStep == nil {
			// Nothing reads the counters before the input ends, so its
			// lines are counted as read once, at its end, rather than
			// with two atomic additions each (a step does read them).
			line = func(b []byte, n int) {
				lines++
				bytes += uint64(n)
				p.counted(src, b)
			}
		}
		err = eachLine(ctx, r, c.cfg.MaxLineBytes, line, func(n int) { p.tooLong(src, n) })
		p.metrics.ChunkRead(src.file, lines, bytes)
		closeFn()
		if err != nil {
			return fmt.Errorf("read %s: %w", in.Path, err)
		}
		p.guard.End(i, p) // no later line of this input can confirm a held jump
		if p.err != nil {
			return p.err
		}
	}
	return nil
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

// unparsed returns the inputs of which every line read was rejected.
func unparsed(m *telemetry.Metrics, srcs []*source) []Unparsed {
	var out []Unparsed
	for _, src := range srcs {
		read, rejected, top := m.FileLines(src.file)
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

func matchGlob(pattern, path string) bool {
	ok, err := filepath.Match(pattern, path)
	return err == nil && ok
}

// openInput opens an input and reads it through its decompressor: gzip,
// bzip2 and zstd files (rotated logs) are read as the text they hold,
// recognised by their first bytes whatever their name.
func openInput(in Input) (io.Reader, func(), error) {
	if in.Reader != nil || in.Path == "-" {
		r := in.Reader
		if r == nil {
			r = os.Stdin
		}
		dr, _, err := decompress.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", inputName(in.Path), err)
		}
		return dr, func() { dr.Close() }, nil
	}
	f, err := decompress.Open(in.Path)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", in.Path, err)
	}
	return f, func() { f.Close() }, nil
}
