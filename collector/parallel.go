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

// The parallel replay. Workers take turns reading the inputs, a chunk of
// whole lines at a time, each into a buffer of its own, and decode the
// chunk they read while the other workers read and decode theirs, each
// with its own decoder (the per-line step of pipeline.go, with a clone of
// the classifier and parsers of its own); the decoded chunks are then
// counted in input order, one at a time, by whichever worker is free:
// their events go through the counting half of the pipeline, the clock
// guard, then the one sessionizer, fed with Add in input order. It is the
// sequential replay's counting with the decoding moved out, so the counts
// are the same however many workers there are, evictions by max_visitors
// included (TestReplayPathsAgree).
//
// A worker decodes the lines it read itself, from a buffer it reuses: the
// read writes them into its core's cache and the parser finds them there.
// Before, a reader goroutine of its own filled chunks that a worker, often
// on the other core, then parsed; profiles of the two-core replay showed
// its extra CPU in the kernel's copy into the chunks and in the parser's
// first look at each line (see docs/performance.md, "The parallel
// replay").
//
// Only decoding is spread: one sessionizer takes every event. A sharded
// sessionizer would split max_visitors and the returning-visitor capacity
// between the shards and evict other visitors than live does. The counting
// half is about a third of a line's cost on one core, so two workers, each
// reading, decoding and taking its turn at counting, keep both cores busy.
// Counting once had a goroutine of its own, woken for every chunk: with
// the reader goroutine of the time and two workers, that made four
// goroutines on two cores, preempted and rescheduled against each other.
//
// Memory is bounded: every worker has one buffer of chunkBytes plus
// max_line_bytes (320 KiB with the default 64 KiB lines), the reading one
// of max_line_bytes for the incomplete line between chunks, and at most 4
// decoded chunks per worker, their events (64 bytes a line) without their
// lines, exist at once (being read, decoded or waiting for their turn). A
// worker waits for a free chunk before it reads, so one slow chunk holds
// up the reading, not an unbounded pile of decoded chunks behind it.

// chunkBytes is how much a chunk holds before it is cut at a newline.
const chunkBytes = 256 << 10

// chunkCap is the capacity of a chunk filled to fill bytes with lines of at
// most max bytes: an incomplete line kept from the chunk before, and room to
// read on until fill is reached.
func chunkCap(fill, max int) int { return fill + max + 2 }

// chunksPerWorker bounds the chunks in flight, per worker.
const chunksPerWorker = 4

type chunk struct {
	seq int
	src *source
	// data: whole lines, each ending in '\n', but for an input's last
	// line; they are in the buffer of the worker that read them, and only
	// while it decodes them.
	data    []byte
	last    bool  // data ends with the input's last line, which may lack its newline
	tooLong []int // sizes of over-long lines dropped while reading data
	events  []session.Event
	// header is the last CloudFront "#Fields:" line of the input before
	// the chunk: a worker that did not read it lays out its columns first.
	header []byte
}

// parallelHooks let tests watch and slow the parallel replay.
type parallelHooks struct {
	chunkBytes int                // instead of chunkBytes when not 0
	taken      func(inFlight int) // a worker took a chunk to read into: inFlight chunks are out now
	waiting    func()             // a worker is about to wait for a free chunk
	process    func(seq int)      // a worker is about to decode chunk seq
}

// chunkPool hands out at most limit chunks at a time.
type chunkPool struct {
	free     chan *chunk
	made     int
	limit    int
	inFlight atomic.Int64
	taken    func(int)
	waiting  func()
}

func newChunkPool(limit int, h *parallelHooks) *chunkPool {
	p := &chunkPool{free: make(chan *chunk, limit), limit: limit}
	if h != nil {
		p.taken, p.waiting = h.taken, h.waiting
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
			ch = &chunk{}
			break
		}
		if p.waiting != nil {
			p.waiting()
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
	pool := newChunkPool(chunksPerWorker*workers, hooks)
	cr := newChunkReader(inputs, srcs, pool, c.cfg.MaxLineBytes, fill)
	defer cr.close()

	// The counting: chunks in input order through the clock guard and the
	// sessionizer, as the sequential replay counts lines. It has no
	// goroutine of its own: a worker that has decoded a chunk leaves it
	// with the ones waiting for their turn and, unless another worker is
	// counting already, counts every chunk whose turn has come, its own
	// among them, then goes back to reading and decoding. The counting
	// moves between the workers, never runs twice at once, and takes the
	// chunks in order; the worker holding it is busy while another reads
	// or decodes, with no goroutine of the counting's own to wake or to
	// preempt them.
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
			buf := make([]byte, 0, chunkCap(fill, c.cfg.MaxLineBytes))
			for {
				ch := cr.read(ctx, buf)
				if ch == nil {
					return
				}
				if hooks != nil && hooks.process != nil {
					hooks.process(ch.seq)
				}
				decodeChunk(d, ch, c.cfg.MaxLineBytes)
				buf, ch.data = ch.data[:0], nil
				cnt.done(ch)
			}
		}()
	}
	workWG.Wait()
	if cr.err != nil {
		return cr.err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(cnt.pending) > 0 {
		// Cannot happen while chunks are numbered without gaps; fail loudly
		// rather than count part of the input.
		return fmt.Errorf("replay: %d chunks out of sequence", len(cnt.pending))
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

// chunkReader reads the inputs into chunks of whole lines, in order, for
// the workers, which take turns at it, and numbers them; every input has at
// least one chunk, so that the counting sees where each ends.
type chunkReader struct {
	mu     sync.Mutex
	inputs []Input
	srcs   []*source
	pool   *chunkPool
	max    int
	fill   int // bytes read into a chunk before it is cut

	next    int // the input to open when the open one ends
	src     *source
	br      *blockReader // the open input; nil between inputs
	closeFn func()
	carry   []byte // the incomplete line after the last chunk's last newline
	cur     *chunk // the chunk being read: over-long lines found meanwhile are its
	seq     int
	fields  []byte // the input's last "#Fields:" line so far
	// headers: the input's format reads "#Fields:" lines; when it does
	// not, its chunks are not searched for them (2% of the CPU).
	headers bool
	err     error // why reading stopped before the end; set under mu
}

func newChunkReader(inputs []Input, srcs []*source, pool *chunkPool, max, fill int) *chunkReader {
	return &chunkReader{inputs: inputs, srcs: srcs, pool: pool, max: max, fill: fill, carry: make([]byte, 0, max+1)}
}

// read fills buf, a worker's own buffer of chunkCap(fill, max) bytes, with
// the next chunk's lines and returns the chunk, its data in buf; nil when
// every input was read or reading stopped (err says why).
func (cr *chunkReader) read(ctx context.Context, buf []byte) *chunk {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if cr.err != nil {
		return nil
	}
	ch, err := cr.fill1(ctx, buf)
	if err != nil {
		cr.err = err
		cr.close()
		return nil
	}
	return ch
}

// fill1 reads the next chunk into buf; under mu.
func (cr *chunkReader) fill1(ctx context.Context, buf []byte) (*chunk, error) {
	if cr.br == nil {
		if cr.next == len(cr.inputs) {
			return nil, nil // every input was read
		}
		if err := cr.open(); err != nil {
			return nil, err
		}
	}
	ch, err := cr.fill2(ctx, buf)
	if err != nil {
		// As the sequential replay says it, cancellation included.
		return nil, fmt.Errorf("read %s: %w", cr.inputs[cr.next-1].Path, err)
	}
	return ch, nil
}

// fill2 reads the next chunk of the open input into buf; under mu.
func (cr *chunkReader) fill2(ctx context.Context, buf []byte) (*chunk, error) {
	ch, err := cr.pool.take(ctx)
	if err != nil {
		return nil, err
	}
	ch.src, ch.header, ch.last = cr.src, cr.fields, false
	ch.tooLong = ch.tooLong[:0]
	cr.cur = ch
	data := append(buf[:0], cr.carry...)
	for {
		if err := ctx.Err(); err != nil {
			cr.pool.put(ch)
			return nil, err
		}
		data, err = cr.br.read(data)
		if errors.Is(err, io.EOF) {
			ch.data, ch.last = data, true
			cr.close()
			cr.number(ch)
			return ch, nil
		}
		if err != nil {
			cr.pool.put(ch)
			return nil, err
		}
		if len(data) < cr.fill {
			continue
		}
		// Full: cut after the last newline; the incomplete line goes on
		// to the next chunk.
		cut := bytes.LastIndexByte(data, '\n') + 1
		cr.carry = cr.br.keep(cr.carry, data[cut:])
		ch.data = data[:cut]
		cr.number(ch)
		return ch, nil
	}
}

// open opens the next input.
func (cr *chunkReader) open() error {
	in, src := cr.inputs[cr.next], cr.srcs[cr.next]
	r, closeFn, err := openInput(in)
	if err != nil {
		return err
	}
	cr.next++
	cr.src, cr.closeFn = src, closeFn
	cr.br = newBlockReader(r, cr.max, func(n int) { cr.cur.tooLong = append(cr.cur.tooLong, n) })
	cr.carry, cr.fields, cr.headers = cr.carry[:0], nil, accesslog.ReadsHeaders(src.format)
	return nil
}

// close closes the open input, if any.
func (cr *chunkReader) close() {
	if cr.br != nil {
		cr.closeFn()
		cr.br, cr.closeFn = nil, nil
	}
}

// number numbers ch, read whole, for the counting, which needs no gaps.
func (cr *chunkReader) number(ch *chunk) {
	if cr.headers {
		cr.fields = lastFields(ch.data, cr.fields)
	}
	ch.seq = cr.seq
	cr.seq++
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
