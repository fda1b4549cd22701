package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/session-exporter/session-exporter/collector/session"
)

// The parallel replay. A reader reads the inputs in chunks of whole lines
// straight into the chunks' buffers; workers decode chunks at the same time,
// each with its own decoder (the per-line step of pipeline.go, with a clone
// of the classifier and parsers of its own); a sequencer, this goroutine,
// takes the decoded chunks back in input order and puts their events
// through the counting half of the pipeline: the clock guard, then the one
// sessionizer, fed with Add in input order. It is the sequential replay's
// counting with the decoding moved out, so the counts are the same however
// many workers there are, evictions by max_visitors included
// (TestReplayPathsAgree).
//
// Only decoding is spread: one sessionizer takes every event. A sharded
// sessionizer would split max_visitors and the returning-visitor capacity
// between the shards and evict other visitors than live does. Measured on
// the benchmark log (2-core machine, loaded by parallel work; CPU time, so
// the load counts little): decoding costs about 0.85 µs a line, the
// counting half, clock guard and sessionizer, 0.37 µs an event
// (BenchmarkCountingHalf: 2.7 million events a second on one core). With
// two workers the sequencer needs about a quarter of the CPU the replay
// uses, and it could take 2.7 million lines a second where the whole
// replay does at most 1.5 million on two cores: it is not what limits the
// parallel replay.
//
// Memory is bounded: at most 4 chunks per worker exist (read, waiting,
// decoding or waiting for their turn), each of chunkBytes plus
// max_line_bytes (1.3 MB a worker with the default 64 KiB lines). The
// reader waits for a free chunk, so one slow chunk holds up the reader, not
// an unbounded pile of decoded chunks behind it.

// chunkBytes is how much a chunk holds before it is cut at a newline.
const chunkBytes = 256 << 10

// chunkCap is the capacity of a chunk filled to fill bytes with lines of at
// most max bytes: an incomplete line kept from the chunk before, and room to
// read on until fill is reached.
func chunkCap(fill, max int) int { return fill + max + 2 }

// chunksPerWorker bounds the chunks in flight, per worker.
const chunksPerWorker = 4

type chunk struct {
	seq     int
	src     *source
	data    []byte // whole lines, each ending in '\n', but for an input's last line
	last    bool   // data ends with the input's last line, which may lack its newline
	tooLong []int  // sizes of over-long lines dropped while reading data
	events  []session.Event
	// header is the last CloudFront "#Fields:" line of the input before
	// the chunk: a worker that did not read it lays out its columns first.
	header []byte
}

// parallelHooks let tests watch and slow the parallel replay.
type parallelHooks struct {
	chunkBytes int                // instead of chunkBytes when not 0
	taken      func(inFlight int) // the reader took a chunk: inFlight chunks are out now
	process    func(seq int)      // a worker is about to decode chunk seq
}

// chunkPool hands out at most limit chunks at a time.
type chunkPool struct {
	free     chan *chunk
	made     int
	limit    int
	size     int
	inFlight atomic.Int64
	taken    func(int)
}

func newChunkPool(limit, size int, h *parallelHooks) *chunkPool {
	p := &chunkPool{free: make(chan *chunk, limit), limit: limit, size: size}
	if h != nil {
		p.taken = h.taken
	}
	return p
}

// take returns a free chunk, waiting for one when limit are out.
func (p *chunkPool) take(ctx context.Context) (*chunk, error) {
	var ch *chunk
	select {
	case ch = <-p.free:
	default:
		if p.made < p.limit {
			p.made++
			ch = &chunk{data: make([]byte, 0, p.size)}
			break
		}
		select {
		case ch = <-p.free:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	n := p.inFlight.Add(1)
	if p.taken != nil {
		p.taken(int(n))
	}
	return ch, nil
}

// put gives ch back. It never blocks: no more than limit chunks exist.
func (p *chunkPool) put(ch *chunk) {
	p.inFlight.Add(-1)
	p.free <- ch
}

// replayParallel is the sequential replay with decoding on workers
// goroutines; p is the counting half (its decoder is not used).
func (c *Collector) replayParallel(ctx context.Context, inputs []Input, srcs []*source, p *pipeline, workers int, hooks *parallelHooks) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fill := chunkBytes
	if hooks != nil && hooks.chunkBytes > 0 {
		fill = hooks.chunkBytes
	}
	pool := newChunkPool(chunksPerWorker*workers, chunkCap(fill, c.cfg.MaxLineBytes), hooks)
	todo := make(chan *chunk, pool.limit)
	done := make(chan *chunk, pool.limit)
	var readErr error
	var wg sync.WaitGroup

	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(todo)
		readErr = c.readChunks(ctx, inputs, srcs, pool, todo, fill)
	}()

	var workWG sync.WaitGroup
	for w := range workers {
		cl := p.classifier
		if w > 0 {
			cl = cl.Clone()
		}
		d := newDecoder(cl, p.metrics, p.sampler, false)
		workWG.Add(1)
		go func() {
			defer workWG.Done()
			for ch := range todo {
				if hooks != nil && hooks.process != nil {
					hooks.process(ch.seq)
				}
				decodeChunk(d, ch, c.cfg.MaxLineBytes)
				select {
				case done <- ch:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { workWG.Wait(); close(done) }()

	// The sequencer: chunks in input order through the clock guard and the
	// sessionizer, as the sequential replay counts lines.
	pending := make(map[int]*chunk, pool.limit)
	next, input := 0, -1
	for ch := range done {
		pending[ch.seq] = ch
		for {
			ch, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if ch.src.file != input {
				if input >= 0 {
					p.guard.End(input, p)
				}
				input = ch.src.file
			}
			for i := range ch.events {
				p.guard.Line(&ch.events[i], input, 0, p)
			}
			ch.events = ch.events[:0]
			pool.put(ch)
		}
	}
	wg.Wait()
	if len(pending) > 0 && ctx.Err() == nil && readErr == nil {
		// Cannot happen while chunks are numbered without gaps; fail loudly
		// rather than count part of the input.
		return fmt.Errorf("replay: %d chunks out of sequence", len(pending))
	}
	if readErr != nil {
		return readErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if input >= 0 {
		p.guard.End(input, p)
	}
	return nil
}

// decodeChunk runs d over the lines of ch and keeps their events.
func decodeChunk(d *decoder, ch *chunk, max int) {
	src := ch.src
	if len(ch.header) > 0 {
		d.prime(src, ch.header) // read and counted in its own chunk
	}
	for _, n := range ch.tooLong {
		d.tooLong(src, n)
	}
	// Every event goes to the sequencer: the clock guard judges them all
	// in input order before a bot is counted or a pageview is sessionized.
	// The chunk's lines are counted as read once, at its end: the
	// counters are shared by every worker, and one atomic add per line
	// on them kept moving their cache line between the cores.
	var lines, bytes int
	line := func(b []byte, n int) {
		lines++
		bytes += n
		if d.lineCounted(src, b) {
			ch.events = append(ch.events, d.ev)
		}
	}
	tooLong := func(n int) { d.tooLong(src, n) }
	rest := splitLines(ch.data, max, line, tooLong)
	if ch.last {
		lastLine(rest, max, line, tooLong)
	}
	d.metrics.ChunkRead(src.file, lines, bytes)
}

// chunkReader reads the inputs into chunks of whole lines, in order, and
// numbers them; every input has at least one chunk, so that the sequencer
// sees where each ends.
type chunkReader struct {
	pool   *chunkPool
	todo   chan<- *chunk
	max    int
	fill   int // bytes read into a chunk before it is cut
	seq    int
	ch     *chunk // the chunk being filled
	fields []byte // the input's last "#Fields:" line so far
}

func (c *Collector) readChunks(ctx context.Context, inputs []Input, srcs []*source, pool *chunkPool, todo chan<- *chunk, fill int) error {
	cr := &chunkReader{pool: pool, todo: todo, max: c.cfg.MaxLineBytes, fill: fill}
	for i, in := range inputs {
		r, closeFn, err := openInput(in)
		if err != nil {
			return err
		}
		cr.fields = nil
		err = cr.input(ctx, r, srcs[i])
		closeFn()
		if err != nil {
			return fmt.Errorf("read %s: %w", in.Path, err)
		}
	}
	return nil
}

// take returns a new chunk of src.
func (cr *chunkReader) take(ctx context.Context, src *source) (*chunk, error) {
	ch, err := cr.pool.take(ctx)
	if err != nil {
		return nil, err
	}
	ch.src, ch.header, ch.last = src, cr.fields, false
	ch.data, ch.tooLong = ch.data[:0], ch.tooLong[:0]
	return ch, nil
}

// send numbers the current chunk and hands it to the workers.
func (cr *chunkReader) send(ctx context.Context) error {
	ch := cr.ch
	cr.fields = lastFields(ch.data, cr.fields)
	ch.seq = cr.seq // numbered when sent: the sequencer needs no gaps
	cr.seq++
	select {
	case cr.todo <- ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// input reads one input into chunks.
func (cr *chunkReader) input(ctx context.Context, r io.Reader, src *source) error {
	// Over-long lines are dropped while reading; they are counted with
	// the chunk being filled when their end is found.
	br := newBlockReader(r, cr.max, func(n int) { cr.ch.tooLong = append(cr.ch.tooLong, n) })
	var err error
	if cr.ch, err = cr.take(ctx, src); err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ch := cr.ch
		data, err := br.read(ch.data)
		ch.data = data
		if errors.Is(err, io.EOF) {
			ch.last = true
			return cr.send(ctx)
		}
		if err != nil {
			return err
		}
		if len(data) < cr.fill {
			continue
		}
		// Full: cut after the last newline; the incomplete line goes on
		// to the next chunk.
		next, err := cr.take(ctx, src)
		if err != nil {
			return err
		}
		cut := bytes.LastIndexByte(data, '\n') + 1
		next.data = br.keep(next.data, data[cut:])
		ch.data = data[:cut]
		if err := cr.send(ctx); err != nil {
			return err
		}
		next.header = cr.fields // as of the end of ch
		cr.ch = next
	}
}

var fieldsPrefix = []byte("#Fields:")

// lastFields returns the last CloudFront "#Fields:" line of data (a copy,
// without its newline or CR), or prev when there is none.
func lastFields(data, prev []byte) []byte {
	var last []byte
	for i := 0; ; {
		j := bytes.Index(data[i:], fieldsPrefix)
		if j < 0 {
			break
		}
		j += i
		i = j + len(fieldsPrefix)
		if j > 0 && data[j-1] != '\n' {
			continue
		}
		end := bytes.IndexByte(data[j:], '\n')
		if end < 0 {
			end = len(data) - j
		}
		last = data[j : j+end]
	}
	if last == nil {
		return prev
	}
	return bytes.Clone(bytes.TrimSuffix(last, []byte{'\r'}))
}
