package telemetry

import (
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/session-exporter/session-exporter/collector/accesslog"
	"github.com/session-exporter/session-exporter/collector/classify"
)

// Metric names as OpenTelemetry sees them. The Prometheus exporter adds
// `_total` to counters and `_seconds` to the duration histogram (unit "s"),
// giving the names of docs/rules.md rule 8; the golden /metrics test guards them.
const (
	nameSessions    = "web_sessions"
	nameActive      = "web_sessions_active"
	namePageviews   = "web_pageviews"
	nameEngaged     = "web_sessions_engaged"
	nameBounced     = "web_sessions_bounced"
	nameDuration    = "web_session_duration"
	namePVHist      = "web_session_pageviews"
	nameConversions = "web_conversions"
	nameBots        = "web_bot_requests"
	nameValue       = "web_conversion_value"
	nameVisitorsDay = "web_visitors"

	nameLinesRead   = "session_exporter_lines_read"
	nameBytesRead   = "session_exporter_bytes_read"
	nameRejected    = "session_exporter_lines_rejected"
	nameRotations   = "session_exporter_rotations"
	nameTruncations = "session_exporter_truncations"
	nameLostFiles   = "session_exporter_lost_files"
	nameLate        = "session_exporter_lines_late"
	nameEvicted     = "session_exporter_sessions_evicted"
	nameValuesBad   = "session_exporter_conversion_values_rejected"
	nameSaves       = "session_exporter_state_saves"
	nameSaveFail    = "session_exporter_state_save_failures"
	nameVisitors    = "session_exporter_visitors"
	nameLag         = "session_exporter_read_lag_seconds"
	nameFileUp      = "session_exporter_file_up"
	nameBuildInfo   = "session_exporter_build_info"
)

// BuildInfo labels session_exporter_build_info.
type BuildInfo struct {
	Version, Revision string
}

// Producer serves Metrics as OpenTelemetry metric data. It implements
// go.opentelemetry.io/otel/sdk/metric.Producer.
type Producer struct {
	m     *Metrics
	build BuildInfo
	start time.Time
	now   func() time.Time

	cellAttrs []attribute.Set   // per cell
	convAttrs [][]attribute.Set // per goal, per cell
	fileAttrs []attribute.Set
	rejAttrs  []attribute.Set // file*reasons + reason
	siteAttrs []attribute.Set

	mu    sync.Mutex
	xAttr map[int]attribute.Set // cell*nx + x, made when first exported
	xConv map[int]attribute.Set // (goal*cells + cell)*nx + x
}

// NewProducer returns a Producer for m. start is reported as the start time of
// cumulative series; now is the clock (time.Now in production).
func NewProducer(m *Metrics, build BuildInfo, start time.Time, now func() time.Time) *Producer {
	p := &Producer{m: m, build: build, start: start, now: now,
		xAttr: map[int]attribute.Set{}, xConv: map[int]attribute.Set{}}
	withSite := len(m.dims.Sites) > 1
	for s := 0; s < m.sites; s++ {
		var site []attribute.KeyValue
		if withSite {
			site = []attribute.KeyValue{attribute.String("site", m.dims.Sites[s])}
		}
		p.siteAttrs = append(p.siteAttrs, attribute.NewSet(site...))
		for c := 0; c < nc; c++ {
			for d := 0; d < nd; d++ {
				kv := append([]attribute.KeyValue{
					attribute.String("channel", classify.Channel(c).String()),
					attribute.String("device", classify.Device(d).String()),
				}, site...)
				p.cellAttrs = append(p.cellAttrs, attribute.NewSet(kv...))
			}
		}
	}
	for _, g := range m.dims.Goals {
		var row []attribute.Set
		for i := range p.cellAttrs {
			kv := append(p.cellAttrs[i].ToSlice(), attribute.String("goal", g))
			row = append(row, attribute.NewSet(kv...))
		}
		p.convAttrs = append(p.convAttrs, row)
	}
	for _, f := range m.dims.Files {
		p.fileAttrs = append(p.fileAttrs, attribute.NewSet(attribute.String("file", f)))
		for _, r := range accesslog.Reasons {
			p.rejAttrs = append(p.rejAttrs, attribute.NewSet(attribute.String("file", f), attribute.String("reason", string(r))))
		}
	}
	return p
}

func counter(name, desc string, pts []metricdata.DataPoint[int64]) metricdata.Metrics {
	return metricdata.Metrics{Name: name, Description: desc, Data: metricdata.Sum[int64]{
		DataPoints: pts, Temporality: metricdata.CumulativeTemporality, IsMonotonic: true}}
}

func gauge(name, desc, unit string, pts []metricdata.DataPoint[float64]) metricdata.Metrics {
	return metricdata.Metrics{Name: name, Description: desc, Unit: unit, Data: metricdata.Gauge[float64]{DataPoints: pts}}
}

// Produce implements sdkmetric.Producer.
func (p *Producer) Produce(context.Context) ([]metricdata.ScopeMetrics, error) {
	m := p.m
	now := p.now()
	pt := func(a attribute.Set, v uint64) metricdata.DataPoint[int64] {
		return metricdata.DataPoint[int64]{Attributes: a, StartTime: p.start, Time: now, Value: int64(v)}
	}
	// Session series exist for every cell that has seen a session.
	var live []int
	for i := range m.sessions {
		if m.sessions[i].Load() > 0 {
			live = append(live, i)
		}
	}
	cellCounter := func(name, desc string, a []atomic.Uint64) metricdata.Metrics {
		pts := make([]metricdata.DataPoint[int64], 0, len(live))
		for _, i := range live {
			pts = append(pts, pt(p.cellAttrs[i], a[i].Load()))
		}
		return counter(name, desc, pts)
	}
	active := make([]metricdata.DataPoint[float64], 0, len(live))
	for _, i := range live {
		started, closed := m.sessions[i].Load(), m.duration.count[i].Load()
		var v float64
		if started > closed {
			v = float64(started - closed)
		}
		active = append(active, metricdata.DataPoint[float64]{Attributes: p.cellAttrs[i], Time: now, Value: v})
	}
	// The session counters also by landing and visitor type: a series for
	// every (cell, landing, visitor type) that has seen a session.
	p.mu.Lock()
	defer p.mu.Unlock()
	var xlive []int
	for _, i := range live {
		for x := 0; x < m.nx; x++ {
			if m.xsessions[i*m.nx+x].Load() > 0 {
				xlive = append(xlive, i*m.nx+x)
			}
		}
	}
	xCounter := func(name, desc string, a []atomic.Uint64) metricdata.Metrics {
		pts := make([]metricdata.DataPoint[int64], 0, len(xlive))
		for _, j := range xlive {
			pts = append(pts, pt(p.xAttrs(j), a[j].Load()))
		}
		return counter(name, desc, pts)
	}
	var conv []metricdata.DataPoint[int64]
	for g := range m.dims.Goals {
		for _, j := range xlive {
			k := g*m.sites*cells*m.nx + j
			a, ok := p.xConv[k]
			if !ok {
				base := p.xAttrs(j)
				a = attribute.NewSet(append(base.ToSlice(), attribute.String("goal", m.dims.Goals[g]))...)
				p.xConv[k] = a
			}
			conv = append(conv, pt(a, m.xconversions[k].Load()))
		}
	}
	var value []metricdata.DataPoint[float64]
	for g := range m.dims.Goals {
		if !m.dims.valued(g) {
			continue
		}
		for _, i := range live {
			value = append(value, metricdata.DataPoint[float64]{Attributes: p.convAttrs[g][i], StartTime: p.start, Time: now,
				Value: float64(m.values[g*m.sites*cells+i].Load()) / 1e6})
		}
	}
	bots := make([]metricdata.DataPoint[int64], 0, m.sites)
	for s := 0; s < m.sites; s++ {
		bots = append(bots, pt(p.siteAttrs[s], m.bots[s].Load()))
	}

	sessionMetrics := []metricdata.Metrics{
		xCounter(nameSessions, "Sessions started.", m.xsessions),
		gauge(nameActive, "Sessions open now.", "", active),
		cellCounter(namePageviews, "Pageviews, labelled with their session's channel and device.", m.pageviews),
		xCounter(nameEngaged, "Sessions that became engaged (2+ pageviews or a goal).", m.xengaged),
		xCounter(nameBounced, "Sessions closed without becoming engaged.", m.xbounced),
		p.histogram(nameDuration, "Duration of closed sessions: last pageview minus first.", "s", &m.duration, live, now),
		p.histogram(namePVHist, "Pageviews per closed session.", "", &m.pvs, live, now),
		counter(nameConversions, "Sessions that reached a goal, counted once per session and goal.", conv),
		counter(nameBots, "Requests from bots, crawlers, previewers and HTTP tools.", bots),
	}
	if cs, est := m.visitorEstimates(); len(cs) > 0 {
		pts := make([]metricdata.DataPoint[float64], len(cs))
		for k, c := range cs {
			pts[k] = metricdata.DataPoint[float64]{Attributes: p.cellAttrs[c], Time: now, Value: math.Round(est[k])}
		}
		sessionMetrics = append(sessionMetrics, gauge(nameVisitorsDay,
			"Distinct visitors with a pageview today (session.timezone), by the channel of their first session today and device; a HyperLogLog estimate (0.8% standard error).", "", pts))
	}
	if value != nil {
		sessionMetrics = append(sessionMetrics, metricdata.Metrics{Name: nameValue,
			Description: "Value of conversions, from their goal's value parameter.",
			Data:        metricdata.Sum[float64]{DataPoints: value, Temporality: metricdata.CumulativeTemporality, IsMonotonic: true}})
	}

	fileCounter := func(name, desc string, a []atomic.Uint64) metricdata.Metrics {
		pts := make([]metricdata.DataPoint[int64], 0, len(p.fileAttrs))
		for i := range p.fileAttrs {
			pts = append(pts, pt(p.fileAttrs[i], a[i].Load()))
		}
		return counter(name, desc, pts)
	}
	rej := make([]metricdata.DataPoint[int64], 0, len(p.rejAttrs))
	for i := range p.rejAttrs {
		rej = append(rej, pt(p.rejAttrs[i], m.rejected[i].Load()))
	}
	one := func(v uint64) []metricdata.DataPoint[int64] {
		return []metricdata.DataPoint[int64]{pt(*attribute.EmptySet(), v)}
	}
	health := []metricdata.Metrics{
		fileCounter(nameLinesRead, "Lines read, per configured log.", m.linesRead),
		fileCounter(nameBytesRead, "Bytes read, per configured log.", m.bytesRead),
		counter(nameRejected, "Lines skipped because they could not be parsed, by reason.", rej),
		fileCounter(nameRotations, "Rotations (rename and create) seen.", m.rotations),
		fileCounter(nameTruncations, "Truncations (copytruncate) seen.", m.truncations),
		fileCounter(nameLostFiles, "Log files given up with lines unread (deleted before they were read, or past the bound of open rotated files).", m.lostFiles),
		counter(nameLate, "Events that arrived more than max_delay behind the newest event time.", one(m.late.Load())),
		counter(nameEvicted, "Sessions closed early to stay under max_visitors.", one(m.evicted.Load())),
		counter(nameValuesBad, "Conversion values skipped because they were malformed or negative.", one(m.valuesRejected.Load())),
		counter(nameSaves, "State file saves attempted, failed ones included (see session_exporter_state_save_failures_total).", one(m.stateSaves.Load())),
		counter(nameSaveFail, "State file saves that failed.", one(m.saveFailure.Load())),
		gauge(nameVisitors, "Visitors held in memory.", "", []metricdata.DataPoint[float64]{{Time: now, Value: float64(m.visitors.Load())}}),
		gauge(nameBuildInfo, "Build information; always 1.", "", []metricdata.DataPoint[float64]{{
			Attributes: attribute.NewSet(
				attribute.String("version", p.build.Version),
				attribute.String("revision", p.build.Revision),
				attribute.String("goversion", runtime.Version())),
			Time: now, Value: 1}}),
	}
	if m.lagKnown.Load() {
		health = append(health, gauge(nameLag, "Wall clock minus the newest event time read.", "", []metricdata.DataPoint[float64]{{
			Time: now, Value: time.Duration(m.lag.Load()).Seconds()}}))
	}
	if m.fileUpKnown.Load() {
		up := make([]metricdata.DataPoint[float64], len(p.fileAttrs))
		for i := range up {
			v := 0.0
			if m.fileUp[i].Load() {
				v = 1
			}
			up[i] = metricdata.DataPoint[float64]{Attributes: p.fileAttrs[i], Time: now, Value: v}
		}
		health = append(health, gauge(nameFileUp, "1 when the configured log path names a file that can be read (a glob: at least one), else 0.", "", up))
	}
	scope := instrumentation.Scope{Name: "github.com/session-exporter/session-exporter"}
	return []metricdata.ScopeMetrics{{Scope: scope, Metrics: append(sessionMetrics, health...)}}, nil
}

// xAttrs returns the labels of series j = cell*nx + x: the cell's, the
// visitor type and, with landing pages configured, the landing. Call with
// p.mu held.
func (p *Producer) xAttrs(j int) attribute.Set {
	if a, ok := p.xAttr[j]; ok {
		return a
	}
	m := p.m
	x := j % m.nx
	kv := append(p.cellAttrs[j/m.nx].ToSlice(), attribute.String("visitor_type", visitorTypes[x%2]))
	if len(m.dims.Landings) > 0 {
		kv = append(kv, attribute.String("landing", m.dims.landingNames()[x/2]))
	}
	a := attribute.NewSet(kv...)
	p.xAttr[j] = a
	return a
}

func (p *Producer) histogram(name, desc, unit string, h *histogram, live []int, now time.Time) metricdata.Metrics {
	nb := len(h.bounds) + 1
	pts := make([]metricdata.HistogramDataPoint[float64], 0, len(live))
	for _, i := range live {
		counts := make([]uint64, nb)
		for b := range counts {
			counts[b] = h.buckets[i*nb+b].Load()
		}
		pts = append(pts, metricdata.HistogramDataPoint[float64]{
			Attributes:   p.cellAttrs[i],
			StartTime:    p.start,
			Time:         now,
			Count:        h.count[i].Load(),
			Bounds:       h.bounds,
			BucketCounts: counts,
			Sum:          float64(h.sum[i].Load()) / h.scale,
		})
	}
	return metricdata.Metrics{Name: name, Description: desc, Unit: unit, Data: metricdata.Histogram[float64]{
		DataPoints: pts, Temporality: metricdata.CumulativeTemporality}}
}

// Exporter is the Prometheus side: a private registry fed by the
// OpenTelemetry Prometheus exporter reading our Producer.
type Exporter struct {
	Registry *prometheus.Registry
	provider *sdkmetric.MeterProvider
}

// NewExporter builds a registry that serves p through the OpenTelemetry
// Prometheus exporter, with no scope labels and no target_info.
func NewExporter(p sdkmetric.Producer) (*Exporter, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(
		otelprom.WithRegisterer(reg),
		otelprom.WithoutScopeInfo(),
		otelprom.WithoutTargetInfo(),
		otelprom.WithProducer(p),
	)
	if err != nil {
		return nil, fmt.Errorf("create prometheus exporter: %w", err)
	}
	return &Exporter{Registry: reg, provider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))}, nil
}

// WriteText writes the text exposition /metrics serves.
func (e *Exporter) WriteText(w io.Writer) error {
	mfs, err := e.Registry.Gather()
	if err != nil {
		return fmt.Errorf("gather metrics: %w", err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("encode metrics: %w", err)
		}
	}
	return nil
}

// Shutdown stops the meter provider.
func (e *Exporter) Shutdown(ctx context.Context) error { return e.provider.Shutdown(ctx) }
