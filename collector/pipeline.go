package collector

import (
	"time"

	"github.com/session-exporter/session-exporter/collector/accesslog"
	"github.com/session-exporter/session-exporter/collector/classify"
	"github.com/session-exporter/session-exporter/collector/session"
	"github.com/session-exporter/session-exporter/collector/telemetry"
)

// The counting path has two halves. The per-line step (decoder) turns one
// line into an event: it counts the line as read, parses it, counts and
// samples a rejected one, and classifies a parsed one. It is the only code
// that calls a parser or the classifier. The counting half (pipeline) puts
// each event through the clock guard and hands what the guard accepts to
// the one sessionizer. Live and sequential replay run both halves on one
// goroutine; the parallel replay runs decoders on its workers, and the
// counting half on one worker at a time, in input order (see parallel.go).

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

// decoder is the per-line step. Not safe for concurrent use: each
// goroutine that decodes has its own, with its own classifier and parsers.
type decoder struct {
	classifier *classify.Classifier
	metrics    *telemetry.Metrics
	sampler    *rejectSampler
	// parsers, by source file index, when the decoder does not use the
	// sources' own parsers (a parallel worker's; parsers keep scratch state).
	parsers []accesslog.Parser
	own     bool // parse with src.parser

	req accesslog.Request
	res classify.Result
	ev  session.Event // the event of the last line decoded
}

// newDecoder returns a decoder with classifier cl; own says whether it
// parses with the sources' parsers (only one decoder may) or its own.
func newDecoder(cl *classify.Classifier, m *telemetry.Metrics, s *rejectSampler, own bool) *decoder {
	return &decoder{classifier: cl, metrics: m, sampler: s, own: own}
}

// line decodes one complete line (without its newline) of src; n is the
// number of bytes it took in the input, newline included. It reports
// whether the line gave an event (in d.ev).
func (d *decoder) line(src *source, line []byte, n int) bool {
	d.metrics.LineRead(src.file, n)
	return d.lineCounted(src, line)
}

// lineCounted is line for a line already counted as read: a parallel
// replay's worker counts a chunk's lines once, at its end, rather than
// each line on counters the other workers write too.
func (d *decoder) lineCounted(src *source, line []byte) bool {
	if src.unwrap != nil {
		return d.unwrapped(src, nil, line)
	}
	return d.decode(src, line)
}

// record decodes one container log record of src that took n bytes: the
// line inside it is decoded once complete; key tells apart the files whose
// partial records are joined separately.
func (d *decoder) record(src *source, key any, record []byte, n int) bool {
	d.metrics.LineRead(src.file, n)
	return d.unwrapped(src, key, record)
}

func (d *decoder) unwrapped(src *source, key any, record []byte) bool {
	line, ok, tooLong := src.unwrap.unwrap(key, record)
	switch {
	case tooLong:
		d.reject(src, accesslog.ReasonTooLong, nil)
	case ok:
		return d.decode(src, line)
	}
	return false
}

// decode parses and classifies one line of src (read and counted as read
// already).
func (d *decoder) decode(src *source, line []byte) bool {
	pr := src.parser
	if !d.own {
		pr = d.parser(src)
	}
	if err := pr.Parse(line, &d.req); err != nil {
		if err != accesslog.ErrComment {
			r := accesslog.ReasonOf(err)
			if r == "" {
				r = accesslog.ReasonSyntax
			}
			d.reject(src, r, line)
		}
		return false
	}
	d.classifier.Classify(&d.req, &d.res)
	d.ev = eventOf(d.req.Time.UnixNano(), &d.res, src.site)
	return true
}

// prime lets the decoder's parser for src read a header line that another
// decoder read and counted (a CloudFront "#Fields:" line before a chunk).
func (d *decoder) prime(src *source, header []byte) {
	_ = d.parser(src).Parse(header, &d.req)
}

func (d *decoder) parser(src *source) accesslog.Parser {
	if d.own {
		return src.parser
	}
	if src.file < len(d.parsers) && d.parsers[src.file] != nil {
		return d.parsers[src.file]
	}
	for len(d.parsers) <= src.file {
		d.parsers = append(d.parsers, nil)
	}
	// The format was checked when src was built.
	p, _ := accesslog.New(src.format)
	d.parsers[src.file] = p
	return p
}

// tooLong counts a line skipped for exceeding max_line_bytes that took n
// bytes.
func (d *decoder) tooLong(src *source, n int) {
	d.metrics.LineRead(src.file, n)
	d.reject(src, accesslog.ReasonTooLong, nil)
}

func (d *decoder) reject(src *source, r accesslog.Reason, line []byte) {
	d.metrics.LineRejected(src.file, r)
	if d.sampler != nil {
		d.sampler.sample(src.name, r, line)
	}
}

// eventOf is the sessionizer's event for a request at time t classified as r.
// Of a request that is neither a pageview nor a redirect (most lines: assets,
// bots, errors) only the time, kind and site are read, by the clock guard
// and the bot count: the rest is left zero.
func eventOf(t int64, r *classify.Result, site uint8) session.Event {
	if r.Kind != classify.KindPageview && r.Kind != classify.KindRedirect {
		return session.Event{Time: t, Kind: r.Kind, Site: site}
	}
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

// pipeline is the counting path of one goroutine: a decoder for its lines
// and the counting half, which judges events with the clock guard and
// counts the accepted ones. Not safe for concurrent use.
type pipeline struct {
	*decoder
	sessions *session.Sessionizer

	guard  *session.Guard
	srcs   []*source        // by input index, for the guard's verdicts
	wall   func() time.Time // live: the wall clock lines are checked against; nil in replay
	newest int64            // newest event time accepted, Unix nanoseconds

	// Live, the wall clock is not read per line: wallAt is a reading the
	// live handler takes every 1024 lines and drops (zero) when the logs
	// go quiet.
	wallAt int64

	// Replay steps (backfill): onStep is called at every multiple of every
	// that the event clock passes.
	every  int64
	next   int64
	onStep func(time.Time) error
	err    error
}

// newPipeline returns a counting path with classifier cl and a new
// sessionizer and clock guard, reporting to m.
func (c *Collector) newPipeline(cl *classify.Classifier, m *telemetry.Metrics) (*pipeline, error) {
	sz, err := session.New(c.sessionConfig(), m)
	if err != nil {
		return nil, err
	}
	g, err := c.newGuard()
	if err != nil {
		return nil, err
	}
	return &pipeline{decoder: newDecoder(cl, m, c.sampler, true), sessions: sz, guard: g}, nil
}

// newGuard returns the clock guard of the configured session rules.
func (c *Collector) newGuard() (*session.Guard, error) {
	return session.NewGuard(c.cfg.Session.Timeout.D(), c.cfg.Session.MaxFuture.D())
}

// line counts one complete line (without its newline) of src; n is the
// number of bytes it took in the input, newline included.
func (p *pipeline) line(src *source, line []byte, n int) {
	p.metrics.LineRead(src.file, n)
	p.counted(src, line)
}

// counted is line for a line already counted as read.
func (p *pipeline) counted(src *source, line []byte) {
	if p.lineCounted(src, line) {
		p.judge(src.file)
	}
}

// record counts one container log record of src (see decoder.record).
func (p *pipeline) record(src *source, key any, record []byte, n int) {
	if p.decoder.record(src, key, record, n) {
		p.judge(src.file)
	}
}

// judge puts the event just decoded from input through the clock guard.
// Live, the guard checks the line against wallAt. That reading is older
// than the line, so the bound it gives is at most stricter than the clock
// now: a line it would reject (or with no reading) is judged against a
// fresh one. A line is thus rejected only against a reading taken as it
// is judged. Accepted lines are not re-checked: if the system clock is
// stepped back after a reading, lines up to the step past the margin pass
// until the next reading (at most 1024 lines, or the next quiet spell),
// and the guard's jump check still holds them.
func (p *pipeline) judge(input int) {
	var wall int64
	if p.wall != nil {
		if p.wallAt == 0 || p.guard.TooFar(p.ev.Time, p.wallAt) {
			p.wallAt = p.wall().UnixNano()
		}
		wall = p.wallAt
	}
	if p.guard.Pass(&p.ev, wall) {
		p.Accept(&p.ev, input) // an in-order line: what Line would do, in fewer calls
		return
	}
	p.guard.Line(&p.ev, input, wall, p)
}

// readWall sets wallAt to now (live).
func (p *pipeline) readWall(now time.Time) { p.wallAt = now.UnixNano() }

// dropWall forgets wallAt, so that the next line reads the clock: after a
// quiet spell a reading could be far from the time now, either way.
func (p *pipeline) dropWall() { p.wallAt = 0 }

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
		p.sessions.Put(e)
	}
}

// Reject implements session.GuardSink: a line whose time the clock guard
// refused is counted as rejected (future_time).
func (p *pipeline) Reject(_ *session.Event, input int) {
	if input >= 0 && input < len(p.srcs) {
		p.reject(p.srcs[input], accesslog.ReasonFutureTime, nil)
	}
}
