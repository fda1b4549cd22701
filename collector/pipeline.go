package collector

import (
	"time"

	"github.com/session-exporter/session-exporter/collector/accesslog"
	"github.com/session-exporter/session-exporter/collector/classify"
	"github.com/session-exporter/session-exporter/collector/session"
	"github.com/session-exporter/session-exporter/collector/telemetry"
)

// source is one configured input: its parser, its site and its index in the
// per-file metrics.
type source struct {
	name   string // the configured path (a bounded label value)
	format string // the format name or log_format string parser was built from
	parser accesslog.Parser
	site   uint8
	file   int
	kind   inputKind
	unwrap *unwrapper // container runtime wrapper around each line, or nil
}

// inputKind is where a live source's lines come from.
type inputKind uint8

const (
	inputFile inputKind = iota
	inputStdin
	inputSyslog
)

// pipeline carries one line from text to the sessionizer. It is the only
// counting path: replay and the live exporter both feed it. Not safe for
// concurrent use.
type pipeline struct {
	classifier *classify.Classifier
	sessions   *session.Sessionizer
	metrics    *telemetry.Metrics
	sampler    *rejectSampler

	req accesslog.Request
	res classify.Result
	ev  session.Event

	guard  *session.Guard
	srcs   []*source        // by input index, for the guard's verdicts
	wall   func() time.Time // live: the wall clock lines are checked against; nil in replay
	newest int64            // newest event time accepted, Unix nanoseconds

	// Replay steps (backfill): onStep is called at every multiple of every
	// that the event clock passes.
	every  int64
	next   int64
	onStep func(time.Time) error
	err    error
}

// stepTo takes the backfill steps that a line at event time t passes: the
// sessions are advanced to each boundary and onStep sees the metrics as they
// stand there, before the line itself is counted.
func (p *pipeline) stepTo(t int64) {
	if p.next == 0 {
		p.next = (t/p.every + 1) * p.every
	}
	for t >= p.next && p.err == nil {
		p.sessions.Advance(p.next)
		p.err = p.onStep(time.Unix(0, p.next).UTC())
		p.next += p.every
	}
}

// newPipeline returns the counting path of c: its classifier and a new
// sessionizer, reporting to its metrics.
func (c *Collector) newPipeline() (*pipeline, error) {
	cl, err := c.classifier()
	if err != nil {
		return nil, err
	}
	sz, err := session.New(c.sessionConfig(), c.metrics)
	if err != nil {
		return nil, err
	}
	g, err := c.newGuard()
	if err != nil {
		return nil, err
	}
	return &pipeline{classifier: cl, sessions: sz, guard: g, metrics: c.metrics, sampler: c.sampler}, nil
}

// newGuard returns the clock guard of the configured session rules.
func (c *Collector) newGuard() (*session.Guard, error) {
	return session.NewGuard(c.cfg.Session.Timeout.D(), c.cfg.Session.MaxFuture.D())
}

// line handles one complete line (without its newline) of src; n is the
// number of bytes it took in the file, newline included.
func (p *pipeline) line(src *source, line []byte, n int) {
	p.metrics.LineRead(src.file, n)
	if src.unwrap != nil {
		p.wrapped(src, nil, line)
		return
	}
	p.count(src, line)
}

// wrapped handles one container log record of src (read and counted as
// read already): the line inside it is counted once complete; key tells
// apart the files whose partial records are joined separately.
func (p *pipeline) wrapped(src *source, key any, record []byte) {
	line, ok, tooLong := src.unwrap.unwrap(key, record)
	switch {
	case tooLong:
		p.reject(src, accesslog.ReasonTooLong, nil)
	case ok:
		p.count(src, line)
	}
}

// count parses, classifies and counts one line of src.
func (p *pipeline) count(src *source, line []byte) {
	if err := src.parser.Parse(line, &p.req); err != nil {
		if err != accesslog.ErrComment {
			p.reject(src, reasonOf(err), line)
		}
		return
	}
	p.classifier.Classify(&p.req, &p.res)
	var wall int64
	if p.wall != nil {
		wall = p.wall().UnixNano()
	}
	p.ev = eventOf(p.req.Time.UnixNano(), &p.res, src.site) // a field: a local would escape through the sink
	p.guard.Line(&p.ev, src.file, wall, p)
}

// Accept implements session.GuardSink: a line whose time the clock guard
// lets through is counted.
func (p *pipeline) Accept(e *session.Event, _ int) {
	if e.Time > p.newest {
		p.newest = e.Time
	}
	if p.onStep != nil {
		p.stepTo(e.Time)
	}
	switch e.Kind {
	case classify.KindBot:
		p.metrics.BotRequest(e.Site)
	case classify.KindPageview, classify.KindRedirect:
		p.sessions.Add(*e)
	}
}

// Reject implements session.GuardSink: a line whose time the clock guard
// refused is counted as rejected (future_time).
func (p *pipeline) Reject(_ *session.Event, input int) {
	if input >= 0 && input < len(p.srcs) {
		p.reject(p.srcs[input], accesslog.ReasonFutureTime, nil)
	}
}

// eventOf is the sessionizer's event for a request at time t classified as r.
func eventOf(t int64, r *classify.Result, site uint8) session.Event {
	return session.Event{
		Time:    t,
		Visitor: r.Visitor,
		Source:  r.Source,
		Goals:   r.Goals,
		Kind:    r.Kind,
		Channel: r.Channel,
		Device:  r.Device,
		Tagged:  r.Tagged,
		Site:    site,
		Landing: r.Landing,

		ValueGoals: r.ValueGoals,
		Value:      r.Value,
		ValueBad:   r.ValueBad,
	}
}

// tooLong counts a line skipped for exceeding max_line_bytes.
func (p *pipeline) tooLong(src *source, n int) {
	p.metrics.LineRead(src.file, n)
	p.reject(src, accesslog.ReasonTooLong, nil)
}

func (p *pipeline) reject(src *source, r accesslog.Reason, line []byte) {
	p.metrics.LineRejected(src.file, r)
	if p.sampler != nil {
		p.sampler.sample(src.name, r, line)
	}
}

func reasonOf(err error) accesslog.Reason {
	if e, ok := err.(*accesslog.Error); ok {
		return e.Reason
	}
	return accesslog.ReasonSyntax
}
