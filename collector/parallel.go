package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/session-exporter/session-exporter/collector/accesslog"
	"github.com/session-exporter/session-exporter/collector/classify"
	"github.com/session-exporter/session-exporter/collector/decompress"
	"github.com/session-exporter/session-exporter/collector/session"
	"github.com/session-exporter/session-exporter/collector/telemetry"
)

// The parallel replay: a reader cuts the input into chunks of whole lines;
// workers parse and classify chunks at the same time; a sequencer puts their
// events back in input order, numbers them and stamps each with the input's
// newest event time before and after it, and hands each to the shard of its
// visitor. Shards are sessionizers fed with AddOrdered, so every visitor's
// events are applied exactly as by one sessionizer: the counts equal a
// sequential replay's (TestParallelReplayEqualsSequential), except that
// max_visitors is split evenly between the shards.

const chunkBytes = 256 << 10

type chunk struct {
	seq     int
	src     *source
	input   int
	data    []byte // whole lines, each ending in '\n'
	sizes   []int  // bytes each line took in the file (a last line may lack its newline)
	tooLong []int  // sizes of skipped over-long lines
	events  []session.Event
	// header is the last CloudFront "#Fields:" line of the input before
	// the chunk: a worker that did not read it lays out its columns first.
	header []byte
}

type shardItem struct {
	e             session.Event
	before, after int64
}

// replayParallel is Replay with parsing and classification on workers
// goroutines and the sessionizer split into shards.
func (c *Collector) replayParallel(ctx context.Context, inputs []Input, srcs []*source, workers, shards int) error {
	base, err := c.classifier()
	if err != nil {
		return err
	}
	cfg := c.sessionConfig()
	cfg.MaxVisitors = (cfg.MaxVisitors + shards - 1) / shards
	cfg.ReturningCapacity = (cfg.ReturningCapacity + shards - 1) / shards
	sessionizers := make([]*session.Sessionizer, shards)
	perShard := make([]*telemetry.ShardVisitors, shards)
	for i := range sessionizers {
		perShard[i] = c.metrics.NewShardVisitors()
		if sessionizers[i], err = session.New(cfg, shardSink{c.metrics, perShard[i]}); err != nil {
			return err
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	free := make(chan *chunk, 4*workers)
	todo := make(chan *chunk, 2*workers)
	done := make(chan *chunk, 2*workers)
	var readErr error
	var wg sync.WaitGroup

	// Reader.
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(todo)
		readErr = c.readChunks(ctx, inputs, srcs, free, todo)
	}()

	// Workers: each with its own classifier and parsers.
	var workWG sync.WaitGroup
	for w := 0; w < workers; w++ {
		cl := base
		if w > 0 {
			cl = base.Clone()
		}
		workWG.Add(1)
		go func() {
			defer workWG.Done()
			w := &worker{c: c, cl: cl, parsers: map[*source]accesslog.Parser{}}
			for ch := range todo {
				w.process(ch)
				select {
				case done <- ch:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { workWG.Wait(); close(done) }()

	// Shards.
	shardIn := make([]chan []shardItem, shards)
	var shardWG sync.WaitGroup
	for i := range shardIn {
		shardIn[i] = make(chan []shardItem, 4)
		shardWG.Add(1)
		go func(sz *session.Sessionizer, in <-chan []shardItem) {
			defer shardWG.Done()
			for batch := range in {
				for j := range batch {
					sz.AddOrdered(batch[j].e, batch[j].before, batch[j].after)
				}
			}
			sz.CloseAll()
		}(sessionizers[i], shardIn[i])
	}

	// Sequencer (this goroutine): the clock guard sees every parsed line in
	// input order, as in a sequential replay.
	guard, err := c.newGuard()
	if err != nil {
		return err
	}
	sq := &sequencer{m: c.metrics, srcs: srcs, sampler: c.sampler, shards: shards, batches: make([][]shardItem, shards)}
	pending := map[int]*chunk{}
	next := 0
	input := -1
	for ch := range done {
		pending[ch.seq] = ch
		for {
			ch, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if ch.input != input {
				if input >= 0 {
					guard.End(input, sq)
				}
				input = ch.input
			}
			for i := range ch.events {
				guard.Line(&ch.events[i], ch.input, 0, sq)
			}
			sq.flush(shardIn)
			ch.events = ch.events[:0]
			select {
			case free <- ch:
			default:
			}
		}
	}
	if input >= 0 && len(pending) == 0 {
		guard.End(input, sq)
		sq.flush(shardIn)
	}
	for _, in := range shardIn {
		close(in)
	}
	if len(pending) > 0 && ctx.Err() == nil {
		// Cannot happen while chunks are numbered without gaps; fail loudly
		// rather than count part of the input.
		readErr = errors.Join(readErr, fmt.Errorf("replay: %d chunks out of sequence", len(pending)))
	}
	shardWG.Wait()
	c.metrics.MergeVisitors(perShard)
	wg.Wait()
	visitors := 0
	for _, sz := range sessionizers {
		visitors += sz.Visitors()
	}
	c.metrics.SetVisitors(visitors)
	if readErr != nil {
		return readErr
	}
	return ctx.Err()
}

// sequencer numbers the events the clock guard accepts and hands them to
// their visitor's shard; it counts bot requests and the lines the guard
// rejects.
type sequencer struct {
	m       *telemetry.Metrics
	srcs    []*source
	sampler *rejectSampler
	shards  int
	batches [][]shardItem
	seq     uint64
	wm      int64
	started bool
}

// Accept implements session.GuardSink.
func (q *sequencer) Accept(e *session.Event, _ int) {
	switch e.Kind {
	case classify.KindBot:
		q.m.BotRequest(e.Site)
		return
	case classify.KindPageview, classify.KindRedirect:
	default:
		return
	}
	q.seq++
	e.Seq = q.seq
	before := e.Time
	if q.started {
		before = q.wm
	}
	q.wm, q.started = max(before, e.Time), true
	k := int(e.Visitor % uint64(q.shards))
	q.batches[k] = append(q.batches[k], shardItem{e: *e, before: before, after: q.wm})
}

// Reject implements session.GuardSink.
func (q *sequencer) Reject(_ *session.Event, input int) {
	src := q.srcs[input]
	q.m.LineRejected(src.file, accesslog.ReasonFutureTime)
	q.sampler.sample(src.name, accesslog.ReasonFutureTime, nil)
}

func (q *sequencer) flush(shardIn []chan []shardItem) {
	for k := range q.batches {
		if len(q.batches[k]) > 0 {
			shardIn[k] <- q.batches[k]
			q.batches[k] = make([]shardItem, 0, cap(q.batches[k]))
		}
	}
}

// worker parses and classifies chunks.
type worker struct {
	c       *Collector
	cl      *classify.Classifier
	parsers map[*source]accesslog.Parser
	req     accesslog.Request
	res     classify.Result
}

func (w *worker) parser(src *source) accesslog.Parser {
	p, ok := w.parsers[src]
	if !ok {
		// Parsers keep scratch state: one per worker and source. The
		// format was checked when src was built.
		p, _ = accesslog.New(src.format)
		w.parsers[src] = p
	}
	return p
}

func (w *worker) process(ch *chunk) {
	m := w.c.metrics
	src := ch.src
	parser := w.parser(src)
	if len(ch.header) > 0 {
		_ = parser.Parse(ch.header, &w.req) // read and counted in its own chunk
	}
	for _, n := range ch.tooLong {
		m.LineRead(src.file, n)
		m.LineRejected(src.file, accesslog.ReasonTooLong)
	}
	data := ch.data
	for _, size := range ch.sizes {
		i := bytes.IndexByte(data, '\n')
		line := data[:i]
		data = data[i+1:]
		m.LineRead(src.file, size)
		if err := parser.Parse(line, &w.req); err != nil {
			if err == accesslog.ErrComment {
				continue
			}
			r := reasonOf(err)
			m.LineRejected(src.file, r)
			w.c.sampler.sample(src.name, r, line)
			continue
		}
		w.cl.Classify(&w.req, &w.res)
		// Every parsed line goes to the sequencer: the clock guard judges
		// them all in input order before a bot is counted or a pageview
		// reaches its shard.
		ch.events = append(ch.events, eventOf(w.req.Time.UnixNano(), &w.res, src.site))
	}
}

// readChunks cuts every input into chunks of whole lines, in order.
func (c *Collector) readChunks(ctx context.Context, inputs []Input, srcs []*source, free chan *chunk, todo chan<- *chunk) error {
	seq := 0
	var ch *chunk
	var fields []byte // the input's last "#Fields:" line so far
	next := func(src *source) {
		select {
		case ch = <-free:
		default:
			ch = &chunk{data: make([]byte, 0, chunkBytes+c.cfg.MaxLineBytes+2)}
		}
		ch.src = src
		ch.input = src.file
		ch.data, ch.sizes, ch.tooLong = ch.data[:0], ch.sizes[:0], ch.tooLong[:0]
		ch.header = fields
	}
	send := func() error {
		if len(ch.sizes) == 0 && len(ch.tooLong) == 0 {
			return nil
		}
		ch.seq = seq // numbered when sent: the sequencer needs no gaps
		seq++
		select {
		case todo <- ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		next(ch.src)
		return nil
	}
	for i, in := range inputs {
		r, closeFn, err := openInput(in)
		if err != nil {
			return err
		}
		fields = nil
		next(srcs[i])
		var sendErr error
		err = c.eachLine(ctx, r, func(line []byte, n int) {
			if len(line) > 0 && line[0] == '#' && bytes.HasPrefix(line, []byte("#Fields:")) {
				fields = bytes.Clone(line)
			}
			ch.data = append(append(ch.data, line...), '\n')
			ch.sizes = append(ch.sizes, n)
			if len(ch.data) >= chunkBytes && sendErr == nil {
				sendErr = send()
			}
		}, func(n int) { ch.tooLong = append(ch.tooLong, n) })
		closeFn()
		if err == nil {
			err = sendErr
		}
		if err == nil {
			err = send()
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", in.Path, err)
		}
	}
	return nil
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

// shardSink is the metrics a shard's sessionizer reports to: all shared,
// but for the visitors a day, which each shard counts alone (see
// telemetry.ShardVisitors).
type shardSink struct {
	*telemetry.Metrics
	visitors *telemetry.ShardVisitors
}

// VisitorSeen implements session.Sink.
func (s shardSink) VisitorSeen(l session.Labels, key uint64, day int32) {
	s.visitors.VisitorSeen(l, key, day)
}
