package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/session-exporter/session-exporter/collector/accesslog"
	"github.com/session-exporter/session-exporter/collector/session"
)

// The parallel replay. A reader reads the inputs in chunks of whole lines
// straight into the chunks' buffers; workers decode chunks at the same time,
// each with its own decoder (the per-line step of pipeline.go, with a clone
// of the classifier and parsers of its own); the decoded chunks are then
// counted in input order, one at a time, by whichever worker is free: their
// events go through the counting half of the pipeline, the clock guard,
// then the one sessionizer, fed with Add in input order. It is the
// sequential replay's counting with the decoding moved out, so the counts
// are the same however many workers there are, evictions by max_visitors
// included (TestReplayPathsAgree).
//
// Only decoding is spread: one sessionizer takes every event. A sharded
// sessionizer would split max_visitors and the returning-visitor capacity
// between the shards and evict other visitors than live does. The counting
// half is about a third of a line's cost on one core, so two workers, each
// decoding and taking its turn at counting, keep both cores busy. Counting
// had a goroutine of its own before, woken for every chunk: with the reader
// and two workers, four goroutines on two cores, preempted and rescheduled
// against each other (see docs/performance.md, "The parallel replay").
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
	var readErr error
	var wg sync.WaitGroup

	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(todo)
		readErr = c.readChunks(ctx, inputs, srcs, pool, todo, fill)
	}()

	// The counting: chunks in input order through the clock guard and the
	// sessionizer, as the sequential replay counts lines. It has no
	// goroutine of its own: a worker that has decoded a chunk leaves it
	// with the ones waiting for their turn and, unless another worker is
	// counting already, counts every chunk whose turn has come, its own
	// among them, then goes back to decoding. The counting moves between
	// the workers, never runs twice at once, and takes the chunks in
	// order; the worker holding it is busy while another decodes, with no
	// goroutine of the counting's own to wake or to preempt them (the
	// reader, the other goroutine, mostly waits in read or for a chunk).
	cnt := &counter{p: p, pool: pool, pending: make(map[int]*chunk, pool.limit), input: -1}
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
				if ctx.Err() != nil {
					return
				}
				if hooks != nil && hooks.process != nil {
					hooks.process(ch.seq)
				}
				decodeChunk(d, ch, c.cfg.MaxLineBytes)
				cnt.done(ch)
			}
		}()
	}
	workWG.Wait()
	wg.Wait()
	if len(cnt.pending) > 0 && ctx.Err() == nil && readErr == nil {
		// Cannot happen while chunks are numbered without gaps; fail loudly
		// rather than count part of the input.
		return fmt.Errorf("replay: %d chunks out of sequence", len(cnt.pending))
	}
	if readErr != nil {
		return readErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if cnt.input >= 0 {
		p.guard.End(cnt.input, p)
	}
	return nil
}

// counter takes decoded chunks from the workers and counts them in input
// order on whichever worker is free to.
type counter struct {
	p    *pipeline
	pool *chunkPool

	mu       sync.Mutex
	pending  map[int]*chunk // decoded, waiting for their turn
	next     int            // the chunk whose turn it is
	counting bool           // a worker is counting

	input int // the input of the last chunk counted; only the counting worker uses it
}

// done hands over decoded chunk ch and counts the chunks whose turn has
// come, unless another worker is counting them.
func (c *counter) done(ch *chunk) {
	c.mu.Lock()
	c.pending[ch.seq] = ch
	if c.counting {
		c.mu.Unlock()
		return // the counting worker takes it when its turn comes
	}
	c.counting = true
	for {
		ch, ok := c.pending[c.next]
		if !ok {
			break
		}
		delete(c.pending, c.next)
		c.next++
		c.mu.Unlock()
		c.count(ch)
		c.mu.Lock()
	}
	c.counting = false
	c.mu.Unlock()
}

// count puts ch's events through the counting half and frees ch.
func (c *counter) count(ch *chunk) {
	p := c.p
	if ch.src.file != c.input {
		if c.input >= 0 {
			p.guard.End(c.input, p)
		}
		c.input = ch.src.file
	}
	for i := range ch.events {
		p.guard.Line(&ch.events[i], c.input, 0, p)
	}
	ch.events = ch.events[:0]
	c.pool.put(ch)
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
	// Every event goes to the counting: the clock guard judges them all
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
	d.metrics.ChunkRead(src.file, uint64(lines), uint64(bytes))
}

// chunkReader reads the inputs into chunks of whole lines, in order, and
// numbers them; every input has at least one chunk, so that the counting
// sees where each ends.
type chunkReader struct {
	pool   *chunkPool
	todo   chan<- *chunk
	max    int
	fill   int // bytes read into a chunk before it is cut
	seq    int
	ch     *chunk // the chunk being filled
	fields []byte // the input's last "#Fields:" line so far
	// headers: the input's format reads "#Fields:" lines; when it does
	// not, its chunks are not searched for them (2% of the CPU).
	headers bool
}

func (c *Collector) readChunks(ctx context.Context, inputs []Input, srcs []*source, pool *chunkPool, todo chan<- *chunk, fill int) error {
	cr := &chunkReader{pool: pool, todo: todo, max: c.cfg.MaxLineBytes, fill: fill}
	for i, in := range inputs {
		r, closeFn, err := openInput(in)
		if err != nil {
			return err
		}
		cr.fields, cr.headers = nil, accesslog.ReadsHeaders(srcs[i].format)
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
	if cr.headers {
		cr.fields = lastFields(ch.data, cr.fields)
	}
	ch.seq = cr.seq // numbered when sent: the counting needs no gaps
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
