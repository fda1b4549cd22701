package telemetry

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/expfmt"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/session-exporter/session-exporter/collector/classify"
	"github.com/session-exporter/session-exporter/collector/session"
)

// webLines returns the sample lines of the web_ metrics in a text exposition.
func webLines(expo string) []string {
	var out []string
	for _, l := range strings.Split(expo, "\n") {
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
	byTime  map[string][]string // sample lines without timestamp, by timestamp
	eof     bool
}

func parseOM(t *testing.T, text string) omParsed {
	t.Helper()
	p := omParsed{byTime: map[string][]string{}}
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
			p.byTime[l[j+1:]] = append(p.byTime[l[j+1:]], l[:j])
		}
	}
	if !p.eof {
		t.Error("no # EOF")
	}
	return p
}

func producerAt(m *Metrics) *Producer {
	at := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	return NewProducer(m, BuildInfo{}, at, time.Now)
}

// TestOpenMetricsAsServed: every step's samples are /metrics' lines at that
// moment, and the HELP and TYPE lines are those /metrics serves under
// OpenMetrics.
func TestOpenMetricsAsServed(t *testing.T) {
	m := New(Dims{Goals: []string{"purchase"}, Files: []string{"a.log"}})
	var out bytes.Buffer
	om := NewOpenMetrics(&out, OpenMetricsOptions{})
	defer om.Close()
	p := producerAt(m)
	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

	want := map[string][]string{}
	step := func(at time.Time) {
		t.Helper()
		if err := om.Step(t.Context(), p, at); err != nil {
			t.Fatal(err)
		}
		want[fmt.Sprint(at.Unix())] = webLines(exposition(t, m))
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
		t.Errorf("samples differ from /metrics (-/metrics +openmetrics):\n%s", diff)
	}
	if diff := cmp.Diff(omHeaders(t, m), got.headers); diff != "" {
		t.Errorf("HELP and TYPE differ from /metrics under OpenMetrics (-want +got):\n%s", diff)
	}
	for _, l := range []string{
		"# TYPE web_sessions counter\n",
		`web_sessions_total{channel="email",device="tablet",visitor_type="new"} 1 1793613720` + "\n",
		`web_session_duration_seconds_bucket{channel="email",device="tablet",le="1200"} 0 1793613720` + "\n",
		`web_session_duration_seconds_bucket{channel="email",device="tablet",le="1800"} 1 1793613720` + "\n",
		`web_session_duration_seconds_sum{channel="email",device="tablet"} 1234.567 1793613720` + "\n",
		"web_bot_requests_total 0 1793613600\nweb_bot_requests_total 1 1793613660\nweb_bot_requests_total 2 1793613720\n",
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
		p := producerAt(m)
		r := rand.New(rand.NewPCG(1, 2))
		var out bytes.Buffer
		om := NewOpenMetrics(&out, OpenMetricsOptions{MemoryLimit: limit, TempDir: t.TempDir()})
		defer func() {
			if err := om.Close(); err != nil {
				t.Error(err)
			}
		}()
		at := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
		for range 300 {
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
			if err := om.Step(t.Context(), p, at); err != nil {
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

// fakeProducer serves one counter whose series come and go.
type fakeProducer struct{ series []string }

func (f *fakeProducer) Produce(context.Context) ([]metricdata.ScopeMetrics, error) {
	var pts []metricdata.DataPoint[int64]
	for i, s := range f.series {
		pts = append(pts, metricdata.DataPoint[int64]{Attributes: attribute.NewSet(attribute.String("x", s)), Value: int64(10 * (i + 1))})
	}
	return []metricdata.ScopeMetrics{{Metrics: []metricdata.Metrics{
		counter(nameSessions, "Sessions started.", pts),
		counter("not_backfilled", "", pts),
	}}}, nil
}

func TestOpenMetricsSeriesContiguous(t *testing.T) {
	var out bytes.Buffer
	om := NewOpenMetrics(&out, OpenMetricsOptions{})
	f := &fakeProducer{}
	for i, s := range [][]string{{"a"}, {"a", "b"}, {"b"}, {"b", "a"}} {
		f.series = s
		if err := om.Step(t.Context(), f, time.Unix(int64(i+1), 500e6)); err != nil {
			t.Fatal(err)
		}
	}
	if err := om.Step(t.Context(), f, time.Unix(4, 0)); err == nil {
		t.Error("a step back in time was accepted")
	}
	if err := om.Finish(); err != nil {
		t.Fatal(err)
	}
	want := `# HELP web_sessions Sessions started.
# TYPE web_sessions counter
web_sessions_total{x="a"} 10 1.5
web_sessions_total{x="a"} 10 2.5
web_sessions_total{x="a"} 20 4.5
web_sessions_total{x="b"} 20 2.5
web_sessions_total{x="b"} 10 3.5
web_sessions_total{x="b"} 10 4.5
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
