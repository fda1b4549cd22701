package telemetry

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// backfilled are the metrics a backfill writes: the session metrics and the
// bot requests. The exporter's health metrics describe a process, not the
// traffic, and are left out.
var backfilled = map[string]bool{
	nameSessions: true, nameActive: true, namePageviews: true, nameEngaged: true, nameBounced: true,
	nameDuration: true, namePVHist: true, nameConversions: true, nameBots: true,
	nameValue: true, nameVisitorsDay: true,
}

// DefaultMemoryLimit is the memory OpenMetrics keeps samples in before it
// moves them to a temporary file.
const DefaultMemoryLimit = 16 << 20

// OpenMetricsOptions adjust NewOpenMetrics. Zero values get defaults.
type OpenMetricsOptions struct {
	// MemoryLimit is how many bytes of encoded samples are held in memory;
	// past it they move to a temporary file. 0 means DefaultMemoryLimit.
	MemoryLimit int
	// TempDir holds that file; "" means os.TempDir().
	TempDir string
}

// OpenMetrics writes the session metrics over time, with timestamps, in the
// OpenMetrics text format that `promtool tsdb create-blocks-from openmetrics`
// imports. Step records every series as it stands at one time; Finish writes
// them all and "# EOF".
//
// Names, HELP and TYPE are those of /metrics under OpenMetrics: a counter's
// family is its name without `_total`, its samples end in `_total`. Sample
// lines, `le` values included, are written as the text /metrics serves, so
// backfilled series are the same series a scrape stores.
//
// OpenMetrics wants the samples of a series together and the series of a
// family together, while a replay yields every series one step at a time. So
// samples are kept per series, each value as the varint of its difference
// from the previous one: one byte per counter or gauge that did not change,
// up to ten when it did (a histogram is its buckets, count and sum); on
// generated traffic that is 1.1 bytes per sample line, against about 90 in
// the text. Past MemoryLimit the buffers move to one temporary file
// (unlinked at once where the system allows, removed by Close), so memory
// stays under about twice MemoryLimit, plus 8 bytes per step and 16 per
// series and move, however long the replay: measured, 41 days of one-minute
// steps over 1,189 series (6.4 GB of text, 80 MB of temporary file) ran in
// 100 MB, the user-agent parser included. Not safe for concurrent use.
type OpenMetrics struct {
	w     io.Writer
	limit int
	dir   string

	steps    []int64 // step times, Unix milliseconds
	families []*omFamily
	byName   map[string]*omFamily
	series   map[omKey][]*omSeries

	buffered int // encoded bytes held in memory
	spill    *os.File
	spillOff int64
	words    []uint64
	err      error
	finished bool
}

type omKind uint8

const (
	omCounter omKind = iota
	omGauge
	omHistogram
	omFloatCounter // a counter whose values are not whole numbers
)

type omFamily struct {
	otelName string
	name     string // OpenMetrics family name
	sample   string // sample name of counters and gauges: name, or name_total
	expo     string // name on /metrics in the text format, the sort key
	help     string
	kind     omKind
	bounds   []float64
	les      []string // rendered bounds, then "+Inf"
	bucket   string   // histogram sample names
	sum      string
	count    string
	series   []*omSeries
}

// width is the number of words per sample: a value, or a histogram's
// bucket counts, count and sum.
func (f *omFamily) width() int {
	if f.kind == omHistogram {
		return len(f.bounds) + 3
	}
	return 1
}

type omKey struct {
	fam *omFamily
	set attribute.Distinct
}

type omSeries struct {
	attrs  attribute.Set
	labels string // `a="x",b="y"`, sorted by name
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
		o.MemoryLimit = DefaultMemoryLimit
	}
	return &OpenMetrics{
		w: w, limit: o.MemoryLimit, dir: o.TempDir,
		byName: map[string]*omFamily{},
		series: map[omKey][]*omSeries{},
	}
}

// Step records the backfilled metrics of p as they stand at t. Steps must
// come in increasing time order.
func (o *OpenMetrics) Step(ctx context.Context, p sdkmetric.Producer, t time.Time) error {
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
	sms, err := p.Produce(ctx)
	if err != nil {
		return fmt.Errorf("openmetrics: produce metrics: %w", err)
	}
	k := len(o.steps)
	o.steps = append(o.steps, ms)
	for _, sm := range sms {
		for _, m := range sm.Metrics {
			if !backfilled[m.Name] {
				continue
			}
			if err := o.record(m, k); err != nil {
				o.err = err
				return err
			}
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

func (o *OpenMetrics) record(m metricdata.Metrics, k int) error {
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		if !d.IsMonotonic || d.Temporality != metricdata.CumulativeTemporality {
			return fmt.Errorf("openmetrics: %s: only cumulative monotonic sums are counters", m.Name)
		}
		f, err := o.family(m, omCounter, nil)
		if err != nil {
			return err
		}
		for _, pt := range d.DataPoints {
			if err := o.add(f, pt.Attributes, k, append(o.words[:0], uint64(pt.Value))); err != nil {
				return err
			}
		}
	case metricdata.Sum[float64]:
		if !d.IsMonotonic || d.Temporality != metricdata.CumulativeTemporality {
			return fmt.Errorf("openmetrics: %s: only cumulative monotonic sums are counters", m.Name)
		}
		f, err := o.family(m, omFloatCounter, nil)
		if err != nil {
			return err
		}
		for _, pt := range d.DataPoints {
			if err := o.add(f, pt.Attributes, k, append(o.words[:0], math.Float64bits(pt.Value))); err != nil {
				return err
			}
		}
	case metricdata.Gauge[float64]:
		f, err := o.family(m, omGauge, nil)
		if err != nil {
			return err
		}
		for _, pt := range d.DataPoints {
			if err := o.add(f, pt.Attributes, k, append(o.words[:0], math.Float64bits(pt.Value))); err != nil {
				return err
			}
		}
	case metricdata.Histogram[float64]:
		if d.Temporality != metricdata.CumulativeTemporality {
			return fmt.Errorf("openmetrics: %s: only cumulative histograms", m.Name)
		}
		for _, pt := range d.DataPoints {
			f, err := o.family(m, omHistogram, pt.Bounds)
			if err != nil {
				return err
			}
			if !slices.Equal(pt.Bounds, f.bounds) || len(pt.BucketCounts) != len(f.bounds)+1 {
				return fmt.Errorf("openmetrics: %s: bucket bounds changed", m.Name)
			}
			w := append(o.words[:0], pt.BucketCounts...)
			w = append(w, pt.Count, math.Float64bits(pt.Sum))
			if err := o.add(f, pt.Attributes, k, w); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("openmetrics: %s: unsupported data %T", m.Name, m.Data)
	}
	return nil
}

// family returns the family of m, made on first sight.
func (o *OpenMetrics) family(m metricdata.Metrics, kind omKind, bounds []float64) (*omFamily, error) {
	if f := o.byName[m.Name]; f != nil {
		if f.kind != kind {
			return nil, fmt.Errorf("openmetrics: %s changed type", m.Name)
		}
		return f, nil
	}
	name := m.Name
	switch m.Unit {
	case "":
	case "s":
		if !strings.HasSuffix(name, "_seconds") {
			name += "_seconds"
		}
	default:
		return nil, fmt.Errorf("openmetrics: %s: unit %q has no Prometheus suffix here", m.Name, m.Unit)
	}
	f := &omFamily{otelName: m.Name, name: name, sample: name, expo: name, help: m.Description, kind: kind}
	if kind == omCounter || kind == omFloatCounter {
		f.name = strings.TrimSuffix(name, "_total")
		f.sample = f.name + "_total"
		f.expo = f.sample
	}
	if kind == omHistogram {
		f.bounds = slices.Clone(bounds)
		for _, b := range f.bounds {
			f.les = append(f.les, formatFloat(b))
		}
		f.les = append(f.les, "+Inf")
		f.bucket, f.sum, f.count = name+"_bucket", name+"_sum", name+"_count"
	}
	o.byName[m.Name] = f
	o.families = append(o.families, f)
	return f, nil
}

// add appends one sample of the series (f, a) at step k.
func (o *OpenMetrics) add(f *omFamily, a attribute.Set, k int, words []uint64) error {
	o.words = words[:0]
	key := omKey{f, a.Equivalent()}
	var s *omSeries
	for _, c := range o.series[key] {
		if c.attrs.Equals(&a) {
			s = c
			break
		}
	}
	if s == nil {
		s = &omSeries{attrs: a, labels: renderLabels(a), prev: make([]uint64, f.width())}
		o.series[key] = append(o.series[key], s)
		f.series = append(f.series, s)
	}
	if n := len(s.runs); n == 0 || s.runs[n-1].first+s.runs[n-1].n < k {
		s.runs = append(s.runs, omRun{first: k})
	} else if s.runs[n-1].first+s.runs[n-1].n > k {
		return fmt.Errorf("openmetrics: %s{%s} twice in one step", f.name, s.labels)
	}
	s.runs[len(s.runs)-1].n++
	before := len(s.buf)
	for i, w := range words {
		d := int64(w - s.prev[i])
		s.buf = binary.AppendUvarint(s.buf, uint64(d<<1)^uint64(d>>63))
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
	fams := slices.Clone(o.families)
	slices.SortFunc(fams, func(a, b *omFamily) int { return strings.Compare(a.expo, b.expo) })
	var line, chunk []byte
	for _, f := range fams {
		if len(f.series) == 0 {
			continue
		}
		kind := [...]string{omCounter: "counter", omGauge: "gauge", omHistogram: "histogram", omFloatCounter: "counter"}[f.kind]
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s %s\n", f.name, escapeHelp(f.help), f.name, kind)
		series := slices.Clone(f.series)
		slices.SortFunc(series, func(a, b *omSeries) int { return strings.Compare(a.labels, b.labels) })
		for _, s := range series {
			d := omDecoder{f: f, s: s, steps: o.steps, prev: make([]uint64, f.width())}
			for _, c := range s.chunks {
				chunk = slices.Grow(chunk[:0], c.n)[:c.n]
				if _, err := o.spill.ReadAt(chunk, c.off); err != nil {
					return fmt.Errorf("openmetrics: read temporary file: %w", err)
				}
				if line, o.err = d.decode(bw, chunk, line); o.err != nil {
					return o.err
				}
			}
			if line, o.err = d.decode(bw, s.buf, line); o.err != nil {
				return o.err
			}
		}
	}
	bw.WriteString("# EOF\n")
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

// omDecoder turns one series' encoded samples back into text lines.
type omDecoder struct {
	f     *omFamily
	s     *omSeries
	steps []int64
	prev  []uint64
	run   int // index in s.runs
	i     int // sample within the run
	ts    []byte
	num   []byte
}

func (d *omDecoder) decode(w *bufio.Writer, b []byte, line []byte) ([]byte, error) {
	for len(b) > 0 {
		for i := range d.prev {
			u, n := binary.Uvarint(b)
			if n <= 0 {
				return line, errors.New("openmetrics: corrupt sample buffer")
			}
			b = b[n:]
			d.prev[i] += uint64(int64(u>>1) ^ -int64(u&1))
		}
		if d.run >= len(d.s.runs) {
			return line, errors.New("openmetrics: more samples than steps")
		}
		r := d.s.runs[d.run]
		ts := d.steps[r.first+d.i]
		if d.i++; d.i == r.n {
			d.run, d.i = d.run+1, 0
		}
		line = d.lines(line[:0], ts)
		if _, err := w.Write(line); err != nil {
			return line, fmt.Errorf("openmetrics: write: %w", err)
		}
	}
	return line, nil
}

// lines appends the sample lines of the current values at ts (Unix
// milliseconds, written in seconds).
func (d *omDecoder) lines(b []byte, ts int64) []byte {
	f := d.f
	d.ts = strconv.AppendFloat(d.ts[:0], float64(ts)/1000, 'f', -1, 64)
	switch f.kind {
	case omCounter:
		d.num = strconv.AppendInt(d.num[:0], int64(d.prev[0]), 10)
		b = d.sample(b, f.sample, "")
	case omGauge, omFloatCounter:
		d.num = appendFloat(d.num[:0], math.Float64frombits(d.prev[0]))
		b = d.sample(b, f.sample, "")
	case omHistogram:
		nb := len(f.bounds) + 1
		var cum uint64
		for i := range nb {
			cum += d.prev[i]
			d.num = strconv.AppendUint(d.num[:0], cum, 10)
			b = d.sample(b, f.bucket, f.les[i])
		}
		d.num = appendFloat(d.num[:0], math.Float64frombits(d.prev[nb+1]))
		b = d.sample(b, f.sum, "")
		d.num = strconv.AppendUint(d.num[:0], d.prev[nb], 10)
		b = d.sample(b, f.count, "")
	}
	return b
}

// sample appends `name{labels,le="le"} value timestamp`.
func (d *omDecoder) sample(b []byte, name, le string) []byte {
	labels := d.s.labels
	b = append(b, name...)
	if labels != "" || le != "" {
		b = append(b, '{')
		b = append(b, labels...)
		if le != "" {
			if labels != "" {
				b = append(b, ',')
			}
			b = append(b, `le="`...)
			b = append(b, le...)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = append(b, d.num...)
	b = append(b, ' ')
	b = append(b, d.ts...)
	return append(b, '\n')
}

// appendFloat formats v as the Prometheus text format does.
func appendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, +1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

func formatFloat(v float64) string { return string(appendFloat(nil, v)) }

// renderLabels writes a's pairs sorted by name, values escaped.
func renderLabels(a attribute.Set) string {
	var b strings.Builder
	for i, kv := range a.ToSlice() { // sorted by key
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(kv.Key))
		b.WriteString(`="`)
		b.WriteString(labelEscaper.Replace(kv.Value.String()))
		b.WriteByte('"')
	}
	return b.String()
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
)

func escapeHelp(s string) string { return helpEscaper.Replace(s) }
