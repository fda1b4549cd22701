package telemetry

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"

	"github.com/session-exporter/session-exporter/collector/classify"
	"github.com/session-exporter/session-exporter/collector/session"
)

// omExposition returns the sample lines of the web_ families that /metrics
// serves under OpenMetrics: what a scrape stores.
func omExposition(t *testing.T, g prometheus.Gatherer) []string {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToOpenMetrics(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(l, "web_") {
			out = append(out, l)
		}
	}
	return out
}

// omHeaders returns the HELP and TYPE lines /metrics serves under OpenMetrics
// for the web_ metrics.
func omHeaders(t *testing.T, m *Metrics) []string {
	t.Helper()
	at := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	e, err := NewExporter(NewProducer(m, BuildInfo{}, at, func() time.Time { return at }))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown(t.Context())
	mfs, err := e.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToOpenMetrics(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(l, "# HELP web_") || strings.HasPrefix(l, "# TYPE web_") {
			out = append(out, l)
		}
	}
	return out
}

type omParsed struct {
	headers []string
	byTime  map[int64][]string // sample lines without timestamp, by timestamp in seconds
	eof     bool
}

func parseOM(t *testing.T, text string) omParsed {
	t.Helper()
	p := omParsed{byTime: map[int64][]string{}}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	for i, l := range lines {
		switch {
		case l == "# EOF":
			if i != len(lines)-1 {
				t.Errorf("# EOF on line %d of %d", i+1, len(lines))
			}
			p.eof = true
		case strings.HasPrefix(l, "#"):
			p.headers = append(p.headers, l)
		default:
			j := strings.LastIndexByte(l, ' ')
			if j < 0 {
				t.Fatalf("line without timestamp: %q", l)
			}
			ts, err := strconv.ParseFloat(l[j+1:], 64)
			if err != nil {
				t.Fatalf("timestamp of %q: %v", l, err)
			}
			p.byTime[int64(ts)] = append(p.byTime[int64(ts)], l[:j])
		}
	}
	if !p.eof {
		t.Error("no # EOF")
	}
	return p
}

// registryOf returns the registry /metrics serves m from.
func registryOf(t testing.TB, m *Metrics) prometheus.Gatherer {
	t.Helper()
	at := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	e, err := NewExporter(NewProducer(m, BuildInfo{}, at, time.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Shutdown(context.Background()) })
	return e.Registry
}

// TestOpenMetricsAsServed: every step's samples are the lines /metrics
// serves under OpenMetrics at that moment, and so are the HELP and TYPE
// lines.
func TestOpenMetricsAsServed(t *testing.T) {
	m := New(Dims{Goals: []string{"purchase"}, Files: []string{"a.log"}})
	var out bytes.Buffer
	om := NewOpenMetrics(&out, OpenMetricsOptions{})
	defer om.Close()
	g := registryOf(t, m)
	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

	want := map[int64][]string{}
	step := func(at time.Time) {
		t.Helper()
		if err := om.Step(g, at); err != nil {
			t.Fatal(err)
		}
		want[at.Unix()] = omExposition(t, g)
	}
	step(t0) // only web_bot_requests_total 0
	fill(m)
	step(t0.Add(time.Minute))
	email := session.Labels{Channel: classify.Email, Device: classify.Tablet}
	m.SessionStarted(email)
	m.Pageview(email)
	m.SessionClosed(email, session.Closed{Duration: 1234567 * time.Millisecond, Pageviews: 1})
	m.BotRequest(0)
	step(t0.Add(2 * time.Minute))
	if err := om.Finish(); err != nil {
		t.Fatal(err)
	}

	got := parseOM(t, out.String())
	if diff := cmp.Diff(want, got.byTime); diff != "" {
		t.Errorf("samples differ from /metrics (-/metrics +backfill):\n%s", diff)
	}
	if diff := cmp.Diff(omHeaders(t, m), got.headers); diff != "" {
		t.Errorf("HELP and TYPE differ from /metrics under OpenMetrics (-want +got):\n%s", diff)
	}
	for _, l := range []string{
		// OpenMetrics writes every float with a point or an exponent, and
		// timestamps in seconds: 10:02 on 2 November 2026 is 1793613720.
		"# TYPE web_sessions counter\n",
		`web_sessions_total{channel="email",device="tablet",visitor_type="new"} 1.0 1.79361372e+09` + "\n",
		`web_session_duration_seconds_bucket{channel="email",device="tablet",le="1200.0"} 0 1.79361372e+09` + "\n",
		`web_session_duration_seconds_bucket{channel="email",device="tablet",le="1800.0"} 1 1.79361372e+09` + "\n",
		`web_session_duration_seconds_sum{channel="email",device="tablet"} 1234.567 1.79361372e+09` + "\n",
		"web_bot_requests_total 0.0 1.7936136e+09\nweb_bot_requests_total 1.0 1.79361366e+09\nweb_bot_requests_total 2.0 1.79361372e+09\n",
	} {
		if !strings.Contains(out.String(), l) {
			t.Errorf("missing %q", l)
		}
	}
	if strings.Contains(out.String(), "session_exporter_") {
		t.Error("health metrics backfilled")
	}
}

// TestOpenMetricsSpillIsInvisible: samples moved to the temporary file come
// back exactly as those kept in memory.
func TestOpenMetricsSpillIsInvisible(t *testing.T) {
	run := func(limit int) string {
		m := New(Dims{Goals: []string{"purchase", "signup"}, Sites: []string{"shop", "blog"}})
		g := registryOf(t, m)
		r := rand.New(rand.NewPCG(1, 2))
		var out bytes.Buffer
		om := NewOpenMetrics(&out, OpenMetricsOptions{MemoryLimit: limit, TempDir: t.TempDir()})
		defer func() {
			if err := om.Close(); err != nil {
				t.Error(err)
			}
		}()
		at := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
		for range 60 { // each step gathers the registry: slow under -race
			for range r.IntN(5) {
				l := session.Labels{Channel: classify.Channel(r.IntN(classify.NumChannels)),
					Device: classify.Device(r.IntN(classify.NumDevices)), Site: uint8(r.IntN(2))}
				m.SessionStarted(l)
				m.Pageview(l)
				if r.IntN(3) == 0 {
					m.GoalReached(l, r.IntN(2))
				}
				m.SessionClosed(l, session.Closed{Duration: time.Duration(r.Int64N(int64(3 * time.Hour))), Pageviews: 1 + r.IntN(60)})
			}
			at = at.Add(time.Second)
			if err := om.Step(g, at); err != nil {
				t.Fatal(err)
			}
		}
		if err := om.Finish(); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	inMemory, spilled := run(0), run(1)
	if inMemory != spilled {
		t.Errorf("output with a spill differs: %d bytes, %d in memory", len(spilled), len(inMemory))
	}
	if !strings.Contains(inMemory, `site="blog"`) || !strings.Contains(inMemory, `goal="signup"`) {
		t.Error("site or goal label missing")
	}
}

// fakeGatherer serves one counter whose series come and go, and one
// family that is not backfilled.
type fakeGatherer struct{ series []string }

func (f *fakeGatherer) Gather() ([]*dto.MetricFamily, error) {
	var ms []*dto.Metric
	for i, s := range f.series {
		ms = append(ms, &dto.Metric{
			Label:   []*dto.LabelPair{{Name: proto.String("x"), Value: proto.String(s)}},
			Counter: &dto.Counter{Value: proto.Float64(float64(10 * (i + 1)))},
		})
	}
	counter := dto.MetricType_COUNTER
	return []*dto.MetricFamily{
		{Name: proto.String("not_backfilled_total"), Help: proto.String(""), Type: &counter, Metric: ms},
		{Name: proto.String("web_sessions_total"), Help: proto.String("Sessions started."), Type: &counter, Metric: ms},
	}, nil
}

func TestOpenMetricsSeriesContiguous(t *testing.T) {
	var out bytes.Buffer
	om := NewOpenMetrics(&out, OpenMetricsOptions{})
	f := &fakeGatherer{}
	for i, s := range [][]string{{"a"}, {"a", "b"}, {"b"}, {"b", "a"}} {
		f.series = s
		if err := om.Step(f, time.Unix(int64(i+1), 500e6)); err != nil {
			t.Fatal(err)
		}
	}
	if err := om.Step(f, time.Unix(4, 0)); err == nil {
		t.Error("a step back in time was accepted")
	}
	if err := om.Finish(); err != nil {
		t.Fatal(err)
	}
	want := `# HELP web_sessions Sessions started.
# TYPE web_sessions counter
web_sessions_total{x="a"} 10.0 1.5
web_sessions_total{x="a"} 10.0 2.5
web_sessions_total{x="a"} 20.0 4.5
web_sessions_total{x="b"} 20.0 2.5
web_sessions_total{x="b"} 10.0 3.5
web_sessions_total{x="b"} 10.0 4.5
# EOF
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestOpenMetricsEmpty(t *testing.T) {
	var out bytes.Buffer
	om := NewOpenMetrics(&out, OpenMetricsOptions{})
	if err := om.Finish(); err != nil {
		t.Fatal(err)
	}
	if out.String() != "# EOF\n" {
		t.Errorf("got %q", out.String())
	}
}

// benchTraffic records sessions over every channel and device, so that a
// step gathers a realistic number of series (about 150 here).
func benchTraffic(m *Metrics, r *rand.Rand, n int) {
	for range n {
		l := session.Labels{Channel: classify.Channel(r.IntN(classify.NumChannels)), Device: classify.Device(r.IntN(classify.NumDevices))}
		m.SessionStarted(l)
		m.Pageview(l)
		if r.IntN(4) == 0 {
			m.GoalReached(l, 0)
		}
		m.SessionClosed(l, session.Closed{Duration: time.Duration(r.Int64N(int64(time.Hour))), Pageviews: 1 + r.IntN(20)})
	}
}

// BenchmarkOpenMetricsStep: one step (gathering the /metrics registry and
// recording its web_ families) after a little traffic.
func BenchmarkOpenMetricsStep(b *testing.B) {
	m := New(Dims{Goals: []string{"purchase"}, Files: []string{"a.log"}})
	g := registryOf(b, m)
	r := rand.New(rand.NewPCG(1, 2))
	benchTraffic(m, r, 2000)
	om := NewOpenMetrics(io.Discard, OpenMetricsOptions{TempDir: b.TempDir()})
	defer om.Close()
	at := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		benchTraffic(m, r, 5)
		at = at.Add(time.Minute)
		if err := om.Step(g, at); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}

// BenchmarkOpenMetricsFinish: rendering 200 recorded steps; lines/s are
// sample lines written.
func BenchmarkOpenMetricsFinish(b *testing.B) {
	m := New(Dims{Goals: []string{"purchase"}, Files: []string{"a.log"}})
	g := registryOf(b, m)
	r := rand.New(rand.NewPCG(1, 2))
	benchTraffic(m, r, 2000)
	var lines int
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		om := NewOpenMetrics(&lineCounter{n: &lines}, OpenMetricsOptions{TempDir: b.TempDir()})
		at := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
		for range 200 {
			benchTraffic(m, r, 5)
			at = at.Add(time.Minute)
			if err := om.Step(g, at); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if err := om.Finish(); err != nil {
			b.Fatal(err)
		}
		om.Close()
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
}

// lineCounter counts the lines written to it.
type lineCounter struct{ n *int }

func (c *lineCounter) Write(p []byte) (int, error) {
	*c.n += bytes.Count(p, []byte("\n"))
	return len(p), nil
}

// TestOpenMetricsRejectsChangedFamilies: a family whose type or bucket
// bounds change between steps is an error, not a silently wrong backfill.
func TestOpenMetricsRejectsChangedFamilies(t *testing.T) {
	histogram, gauge := dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE
	hist := func(bounds ...float64) *dto.MetricFamily {
		h := &dto.Histogram{SampleCount: proto.Uint64(1), SampleSum: proto.Float64(2)}
		for _, b := range bounds {
			h.Bucket = append(h.Bucket, &dto.Bucket{UpperBound: proto.Float64(b), CumulativeCount: proto.Uint64(1)})
		}
		return &dto.MetricFamily{Name: proto.String("web_h"), Type: &histogram, Metric: []*dto.Metric{{Histogram: h}}}
	}
	for name, steps := range map[string][]*dto.MetricFamily{
		"bounds": {hist(1, 2), hist(1, 3)},
		"count":  {hist(1, 2), hist(1)},
		"type":   {hist(1), {Name: proto.String("web_h"), Type: &gauge, Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(1)}}}}},
	} {
		om := NewOpenMetrics(io.Discard, OpenMetricsOptions{})
		var err error
		for i, mf := range steps {
			g := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return []*dto.MetricFamily{mf}, nil })
			if err = om.Step(g, time.Unix(int64(i+1), 0)); err != nil {
				break
			}
		}
		if err == nil {
			t.Errorf("%s: a changed family was accepted", name)
		}
	}
}
