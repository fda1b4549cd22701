package telemetry

// Backfill output: the gather at each step, the compact per-series store with
// its spill file and the rendering through expfmt share the omFamily and
// omSeries layouts, so they stay in one file.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/bits"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// backfilled reports whether the family of that name is written by a
// backfill: the session metrics and the bot requests, which are all the
// web_ families. The exporter's health metrics (session_exporter_)
// describe a process, not the traffic, and are left out.
func backfilled(name string) bool { return strings.HasPrefix(name, "web_") }

// defaultMemoryLimit is the memory OpenMetrics keeps samples in before it
// moves them to a temporary file.
const defaultMemoryLimit = 16 << 20

// OpenMetricsOptions adjust NewOpenMetrics. Zero values get defaults.
type OpenMetricsOptions struct {
	// MemoryLimit is how many bytes of encoded samples are held in memory;
	// past it they move to a temporary file. 0 means defaultMemoryLimit.
	MemoryLimit int
	// TempDir holds that file; "" means os.TempDir().
	TempDir string
}

// OpenMetrics writes the session metrics over time, with timestamps, in the
// OpenMetrics text format that `promtool tsdb create-blocks-from openmetrics`
// imports. Step records every series as it stands at one time; Finish writes
// them all and "# EOF".
//
// Step gathers the Prometheus registry that serves /metrics (Exporter's),
// and Finish renders what it gathered with expfmt, the encoder /metrics
// uses under OpenMetrics. So names, HELP, TYPE, label escaping and number
// formats are not derived here: backfilled series are the series a scrape
// stores, whatever version of the OpenTelemetry exporter made them.
//
// OpenMetrics wants the samples of a series together and the series of a
// family together, while a replay yields every series one step at a time. So
// samples are kept per series, each value encoded against the previous one:
// a count (histogram buckets and count) as the varint of the difference, a
// float (counters, gauges, sums) as the varint of the bit-reversed XOR of
// the two values, which is one byte for an unchanged value and two or three
// for a count-like counter that moved. Past MemoryLimit the buffers move to
// one temporary file (unlinked at once where the system allows, removed by
// Close), so memory stays under about twice MemoryLimit, plus 8 bytes per
// step and 16 per series and move, however long the replay. Not safe for
// concurrent use.
type OpenMetrics struct {
	w     io.Writer
	limit int
	dir   string

	steps    []int64 // step times, Unix milliseconds
	families map[string]*omFamily
	key      []byte // scratch: a series' map key

	buffered int // encoded bytes held in memory
	spill    *os.File
	spillOff int64
	words    []uint64
	err      error
	finished bool
}

type omFamily struct {
	name, help, unit *string // as gathered
	typ              dto.MetricType
	bounds           []float64 // histogram bucket upper bounds, as gathered
	series           []*omSeries
	byKey            map[string]*omSeries
}

// width is the number of words per sample: a value, or a histogram's
// bucket counts, count and sum.
func (f *omFamily) width() int {
	if f.typ == dto.MetricType_HISTOGRAM {
		return len(f.bounds) + 2
	}
	return 1
}

// isFloat reports whether word i of a sample is a float64's bits (else a
// count).
func (f *omFamily) isFloat(i int) bool {
	return f.typ != dto.MetricType_HISTOGRAM || i == len(f.bounds)+1
}

type omSeries struct {
	key    string // label names and values, the sort key
	labels []*dto.LabelPair
	prev   []uint64
	buf    []byte
	chunks []omChunk
	runs   []omRun
}

// omChunk is a piece of a series' samples moved to the temporary file.
type omChunk struct {
	off int64
	n   int
}

// omRun is a run of samples at consecutive steps.
type omRun struct{ first, n int }

// NewOpenMetrics returns an OpenMetrics writing to w.
func NewOpenMetrics(w io.Writer, o OpenMetricsOptions) *OpenMetrics {
	if o.MemoryLimit <= 0 {
		o.MemoryLimit = defaultMemoryLimit
	}
	return &OpenMetrics{w: w, limit: o.MemoryLimit, dir: o.TempDir, families: map[string]*omFamily{}}
}

// Step records the backfilled families g gathers as they stand at t. Steps
// must come in increasing time order.
func (o *OpenMetrics) Step(g prometheus.Gatherer, t time.Time) error {
	if o.err != nil {
		return o.err
	}
	if o.finished {
		return errors.New("openmetrics: step after finish")
	}
	ms := t.UnixMilli()
	if n := len(o.steps); n > 0 && ms <= o.steps[n-1] {
		return fmt.Errorf("openmetrics: step %s is not after the previous one", t.UTC().Format(time.RFC3339Nano))
	}
	mfs, err := g.Gather()
	if err != nil {
		return fmt.Errorf("openmetrics: gather metrics: %w", err)
	}
	k := len(o.steps)
	o.steps = append(o.steps, ms)
	for _, mf := range mfs {
		if !backfilled(mf.GetName()) {
			continue
		}
		if err := o.record(mf, k); err != nil {
			o.err = err
			return err
		}
	}
	if o.buffered > o.limit {
		if err := o.spillAll(); err != nil {
			o.err = err
			return err
		}
	}
	return nil
}

func (o *OpenMetrics) record(mf *dto.MetricFamily, k int) error {
	f, err := o.family(mf)
	if err != nil {
		return err
	}
	for _, m := range mf.Metric {
		w := o.words[:0]
		switch f.typ {
		case dto.MetricType_COUNTER:
			if m.Counter == nil {
				return fmt.Errorf("openmetrics: %s: a sample without a counter value", *f.name)
			}
			w = append(w, math.Float64bits(m.Counter.GetValue()))
		case dto.MetricType_GAUGE:
			if m.Gauge == nil {
				return fmt.Errorf("openmetrics: %s: a sample without a gauge value", *f.name)
			}
			w = append(w, math.Float64bits(m.Gauge.GetValue()))
		case dto.MetricType_HISTOGRAM:
			h := m.Histogram
			if h != nil && f.bounds == nil && len(f.series) == 0 {
				for _, b := range h.Bucket {
					f.bounds = append(f.bounds, b.GetUpperBound())
				}
			}
			if h == nil || len(h.Bucket) != len(f.bounds) {
				return fmt.Errorf("openmetrics: %s: bucket bounds changed", *f.name)
			}
			for i, b := range h.Bucket {
				if b.GetUpperBound() != f.bounds[i] {
					return fmt.Errorf("openmetrics: %s: bucket bounds changed", *f.name)
				}
				w = append(w, b.GetCumulativeCount())
			}
			w = append(w, h.GetSampleCount(), math.Float64bits(h.GetSampleSum()))
		}
		if err := o.add(f, m.Label, k, w); err != nil {
			return err
		}
	}
	return nil
}

// family returns the family of mf, made on first sight.
func (o *OpenMetrics) family(mf *dto.MetricFamily) (*omFamily, error) {
	if f := o.families[mf.GetName()]; f != nil {
		if f.typ != mf.GetType() {
			return nil, fmt.Errorf("openmetrics: %s changed type", mf.GetName())
		}
		return f, nil
	}
	f := &omFamily{name: mf.Name, help: mf.Help, unit: mf.Unit, typ: mf.GetType(), byKey: map[string]*omSeries{}}
	switch f.typ {
	case dto.MetricType_COUNTER, dto.MetricType_GAUGE:
	case dto.MetricType_HISTOGRAM: // bounds are taken from the first sample
	default:
		return nil, fmt.Errorf("openmetrics: %s: type %s is not backfilled", mf.GetName(), f.typ)
	}
	o.families[mf.GetName()] = f
	return f, nil
}

// add appends one sample of the series (f, labels) at step k.
func (o *OpenMetrics) add(f *omFamily, labels []*dto.LabelPair, k int, words []uint64) error {
	o.words = words[:0]
	o.key = o.key[:0]
	for _, l := range labels {
		o.key = append(o.key, l.GetName()...)
		o.key = append(o.key, 0xfe)
		o.key = append(o.key, l.GetValue()...)
		o.key = append(o.key, 0xff)
	}
	s := f.byKey[string(o.key)]
	if s == nil {
		s = &omSeries{key: string(o.key), labels: slices.Clone(labels), prev: make([]uint64, f.width())}
		f.byKey[s.key] = s
		f.series = append(f.series, s)
	}
	if n := len(s.runs); n == 0 || s.runs[n-1].first+s.runs[n-1].n < k {
		s.runs = append(s.runs, omRun{first: k})
	} else if s.runs[n-1].first+s.runs[n-1].n > k {
		return fmt.Errorf("openmetrics: %s{%s} twice in one step", *f.name, strings.NewReplacer("\xfe", "=", "\xff", ",").Replace(s.key))
	}
	s.runs[len(s.runs)-1].n++
	before := len(s.buf)
	for i, w := range words {
		if f.isFloat(i) {
			s.buf = binary.AppendUvarint(s.buf, bits.Reverse64(w^s.prev[i]))
		} else {
			d := int64(w - s.prev[i])
			s.buf = binary.AppendUvarint(s.buf, uint64(d<<1)^uint64(d>>63))
		}
		s.prev[i] = w
	}
	o.buffered += len(s.buf) - before
	return nil
}

// spillAll moves every buffered sample to the temporary file.
func (o *OpenMetrics) spillAll() error {
	if o.spill == nil {
		f, err := os.CreateTemp(o.dir, "session-exporter-openmetrics-*")
		if err != nil {
			return fmt.Errorf("openmetrics: temporary file: %w", err)
		}
		o.spill = f
		_ = os.Remove(f.Name()) // kept open; where unlinking an open file fails, Close removes it
	}
	bw := bufio.NewWriterSize(o.spill, 1<<20)
	for _, f := range o.families {
		for _, s := range f.series {
			if len(s.buf) == 0 {
				continue
			}
			if _, err := bw.Write(s.buf); err != nil {
				return fmt.Errorf("openmetrics: write temporary file: %w", err)
			}
			s.chunks = append(s.chunks, omChunk{off: o.spillOff, n: len(s.buf)})
			o.spillOff += int64(len(s.buf))
			s.buf = s.buf[:0]
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("openmetrics: write temporary file: %w", err)
	}
	o.buffered = 0
	return nil
}

// Finish writes every recorded series, family by family in the order of
// /metrics, then "# EOF". Without a step it writes only "# EOF".
func (o *OpenMetrics) Finish() error {
	if o.err != nil {
		return o.err
	}
	if o.finished {
		return errors.New("openmetrics: finished twice")
	}
	o.finished = true
	bw := bufio.NewWriterSize(o.w, 256<<10)
	r := omRenderer{w: bw}
	r.enc = expfmt.NewEncoder(&r.scratch, expfmt.NewFormat(expfmt.TypeOpenMetrics))
	var chunk []byte
	for _, name := range slices.Sorted(maps.Keys(o.families)) {
		f := o.families[name]
		if len(f.series) == 0 {
			continue
		}
		r.start(f)
		series := slices.Clone(f.series)
		slices.SortFunc(series, func(a, b *omSeries) int { return strings.Compare(a.key, b.key) })
		for _, s := range series {
			d := omDecoder{f: f, s: s, steps: o.steps, prev: make([]uint64, f.width())}
			for _, c := range s.chunks {
				chunk = slices.Grow(chunk[:0], c.n)[:c.n]
				if _, err := o.spill.ReadAt(chunk, c.off); err != nil {
					o.err = fmt.Errorf("openmetrics: read temporary file: %w", err)
					return o.err
				}
				if o.err = d.decode(&r, chunk); o.err != nil {
					return o.err
				}
			}
			if o.err = d.decode(&r, s.buf); o.err != nil {
				return o.err
			}
		}
		if o.err = r.flush(); o.err != nil {
			return o.err
		}
	}
	if _, err := expfmt.FinalizeOpenMetrics(bw); err != nil {
		return fmt.Errorf("openmetrics: write: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("openmetrics: write: %w", err)
	}
	return nil
}

// Close removes the temporary file, if any. It does not write.
func (o *OpenMetrics) Close() error {
	if o.spill == nil {
		return nil
	}
	name := o.spill.Name()
	err := o.spill.Close()
	o.spill = nil
	if rerr := os.Remove(name); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
		err = rerr
	}
	return err
}

// omBatch is how many samples of a series are rendered at once.
const omBatch = 64

// omRenderer renders the samples of one family with expfmt in batches: a
// family made of the batch's samples (each with its labels and timestamp)
// is encoded, and every encoding after the family's first is written
// without its HELP and TYPE lines.
type omRenderer struct {
	w       *bufio.Writer
	enc     expfmt.Encoder
	scratch bytes.Buffer
	f       *omFamily
	mf      dto.MetricFamily
	slots   []*omSlot
	n       int  // slots filled
	headed  bool // the family's HELP and TYPE are written
}

// omSlot is one sample as expfmt reads it, with the storage its pointers
// point into.
type omSlot struct {
	m   dto.Metric
	c   dto.Counter
	g   dto.Gauge
	h   dto.Histogram
	bs  []dto.Bucket
	bp  []*dto.Bucket
	cum []uint64
	ts  int64
	v   float64 // counter or gauge value, histogram sum
	n   uint64  // histogram count
}

// start begins the family f.
func (r *omRenderer) start(f *omFamily) {
	r.f, r.n, r.headed = f, 0, false
	r.mf.Reset()
	r.mf.Name, r.mf.Help, r.mf.Unit, r.mf.Type = f.name, f.help, f.unit, f.typ.Enum()
	r.slots = r.slots[:0]
	for range omBatch {
		s := &omSlot{}
		s.m.TimestampMs = &s.ts
		switch f.typ {
		case dto.MetricType_COUNTER:
			s.m.Counter, s.c.Value = &s.c, &s.v
		case dto.MetricType_GAUGE:
			s.m.Gauge, s.g.Value = &s.g, &s.v
		case dto.MetricType_HISTOGRAM:
			s.m.Histogram, s.h.SampleSum, s.h.SampleCount = &s.h, &s.v, &s.n
			s.bs = make([]dto.Bucket, len(f.bounds))
			s.cum = make([]uint64, len(f.bounds))
			for i := range s.bs {
				s.bs[i].UpperBound, s.bs[i].CumulativeCount = &f.bounds[i], &s.cum[i]
				s.bp = append(s.bp, &s.bs[i])
			}
			s.h.Bucket = s.bp
		}
		r.slots = append(r.slots, s)
	}
}

// sample adds one sample of s: the words of a sample at ts (Unix ms).
func (r *omRenderer) sample(s *omSeries, words []uint64, ts int64) error {
	sl := r.slots[r.n]
	sl.m.Label, sl.ts = s.labels, ts
	switch r.f.typ {
	case dto.MetricType_HISTOGRAM:
		nb := len(r.f.bounds)
		copy(sl.cum, words[:nb])
		sl.n, sl.v = words[nb], math.Float64frombits(words[nb+1])
	default:
		sl.v = math.Float64frombits(words[0])
	}
	if r.n++; r.n == omBatch {
		return r.flush()
	}
	return nil
}

// flush renders the samples added since the last flush.
func (r *omRenderer) flush() error {
	if r.n == 0 {
		return nil
	}
	r.mf.Metric = r.mf.Metric[:0]
	for _, s := range r.slots[:r.n] {
		r.mf.Metric = append(r.mf.Metric, &s.m)
	}
	r.n = 0
	r.scratch.Reset()
	if err := r.enc.Encode(&r.mf); err != nil {
		return fmt.Errorf("openmetrics: encode %s: %w", r.mf.GetName(), err)
	}
	b := r.scratch.Bytes()
	if r.headed {
		for len(b) > 0 && b[0] == '#' {
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				return fmt.Errorf("openmetrics: encode %s: unterminated comment", r.mf.GetName())
			}
			b = b[i+1:]
		}
	}
	r.headed = true
	if _, err := r.w.Write(b); err != nil {
		return fmt.Errorf("openmetrics: write: %w", err)
	}
	return nil
}

// omDecoder turns one series' encoded samples back into values.
type omDecoder struct {
	f     *omFamily
	s     *omSeries
	steps []int64
	prev  []uint64
	run   int // index in s.runs
	i     int // sample within the run
}

func (d *omDecoder) decode(r *omRenderer, b []byte) error {
	for len(b) > 0 {
		for i := range d.prev {
			u, n := binary.Uvarint(b)
			if n <= 0 {
				return errors.New("openmetrics: corrupt sample buffer")
			}
			b = b[n:]
			if d.f.isFloat(i) {
				d.prev[i] ^= bits.Reverse64(u)
			} else {
				d.prev[i] += uint64(int64(u>>1) ^ -int64(u&1))
			}
		}
		if d.run >= len(d.s.runs) {
			return errors.New("openmetrics: more samples than steps")
		}
		run := d.s.runs[d.run]
		ts := d.steps[run.first+d.i]
		if d.i++; d.i == run.n {
			d.run, d.i = d.run+1, 0
		}
		if err := r.sample(d.s, d.prev, ts); err != nil {
			return err
		}
	}
	return nil
}
