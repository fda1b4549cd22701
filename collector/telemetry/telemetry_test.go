package telemetry

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/session-exporter/session-exporter/collector/accesslog"
	"github.com/session-exporter/session-exporter/collector/classify"
	"github.com/session-exporter/session-exporter/collector/session"
)

var update = flag.Bool("update", false, "rewrite testdata/metrics.golden")

// fill records a fixed set of events into m.
func fill(m *Metrics) {
	search := session.Labels{Channel: classify.OrganicSearch, Device: classify.Mobile, Landing: 1}
	direct := session.Labels{Channel: classify.Direct, Device: classify.Desktop}
	back := session.Labels{Channel: classify.Direct, Device: classify.Desktop, Landing: 2, Returning: true}
	m.SessionStarted(search)
	m.Pageview(search)
	m.Pageview(search)
	m.SessionEngaged(search)
	m.GoalReached(search, 0)
	m.ConversionValue(search, 0, 59_900_000)
	m.ValuesRejected(1)
	m.SessionClosed(search, session.Closed{Duration: 95 * time.Second, Pageviews: 2, Engaged: true})
	m.SessionStarted(direct)
	m.Pageview(direct)
	m.SessionClosed(direct, session.Closed{Duration: 0, Pageviews: 1})
	m.SessionStarted(back) // still open
	m.Pageview(back)
	m.VisitorSeen(search, 1, 100)
	m.VisitorSeen(direct, 2, 100)
	m.VisitorSeen(back, 3, 100)
	ai := session.Labels{Channel: classify.AIAssistant, Device: classify.Desktop}
	m.SessionStarted(ai) // one page, bounced
	m.Pageview(ai)
	m.SessionClosed(ai, session.Closed{Duration: 0, Pageviews: 1})
	m.BotRequest(0)
	m.LineRead(0, 200)
	m.LineRead(0, 180)
	m.LineRejected(0, accesslog.ReasonSyntax)
	m.Rotation(0)
	m.LateEvent()
	m.StateSaved()
	m.SetVisitors(1)
	m.SetReadLag(1500 * time.Millisecond)
	m.SetFileUp(0, true)
}

func exposition(t *testing.T, m *Metrics) string {
	t.Helper()
	at := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	e, err := NewExporter(NewProducer(m, BuildInfo{Version: "v1.2.3", Revision: "abc"}, at, func() time.Time { return at }))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown(t.Context())
	var b bytes.Buffer
	if err := e.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(b.String(), `goversion="`+runtime.Version()+`"`, `goversion="GO"`)
}

// TestGoldenMetrics guards every metric name, type, label and bucket across
// dependency upgrades. Run with -update after an intended change.
func TestGoldenMetrics(t *testing.T) {
	m := New(Dims{Goals: []string{"purchase"}, Valued: []bool{true}, Landings: []string{"blog", "pricing"},
		Files: []string{"/var/log/nginx/access.log"}})
	fill(m)
	got := exposition(t, m)
	golden := filepath.Join("testdata", "metrics.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("/metrics changed (-golden +got):\n%s", diff)
	}
}

// TestRuleEightNames checks the names and types of docs/rules.md rule 8.
func TestRuleEightNames(t *testing.T) {
	m := New(Dims{Goals: []string{"purchase"}, Valued: []bool{true}})
	fill(m)
	got := exposition(t, m)
	for name, typ := range map[string]string{
		"web_conversion_value_total": "counter", "session_exporter_conversion_values_rejected_total": "counter",
		"web_sessions_total": "counter", "web_sessions_active": "gauge", "web_pageviews_total": "counter",
		"web_sessions_engaged_total": "counter", "web_sessions_bounced_total": "counter",
		"web_session_duration_seconds": "histogram", "web_session_pageviews": "histogram",
		"web_conversions_total": "counter", "web_bot_requests_total": "counter",
	} {
		if !strings.Contains(got, "# TYPE "+name+" "+typ+"\n") {
			t.Errorf("missing %s %s", typ, name)
		}
	}
	if regexp.MustCompile(`otel_scope|target_info`).MatchString(got) {
		t.Error("scope labels or target_info exported")
	}
	for _, want := range []string{
		`web_session_duration_seconds_bucket{channel="organic_search",device="mobile",le="60"} 0`,
		`web_session_duration_seconds_bucket{channel="organic_search",device="mobile",le="120"} 1`,
		`web_session_duration_seconds_sum{channel="organic_search",device="mobile"} 95`,
		`web_session_pageviews_bucket{channel="direct",device="desktop",le="1"} 1`,
		`web_sessions_active{channel="direct",device="desktop"} 1`,
		`web_sessions_bounced_total{channel="direct",device="desktop",visitor_type="new"} 1`,
		`web_conversions_total{channel="organic_search",device="mobile",goal="purchase",visitor_type="new"} 1`,
		`web_conversion_value_total{channel="organic_search",device="mobile",goal="purchase"} 59.9`,
		`web_conversion_value_total{channel="direct",device="desktop",goal="purchase"} 0`,
		`session_exporter_conversion_values_rejected_total 1`,
		// The channel added last (value 19) is a channel like the others.
		`web_sessions_total{channel="ai_assistant",device="desktop",visitor_type="new"} 1`,
		`web_pageviews_total{channel="ai_assistant",device="desktop"} 1`,
		`web_sessions_bounced_total{channel="ai_assistant",device="desktop",visitor_type="new"} 1`,
		`web_sessions_engaged_total{channel="ai_assistant",device="desktop",visitor_type="new"} 0`,
		`web_sessions_active{channel="ai_assistant",device="desktop"} 0`,
		`web_session_duration_seconds_bucket{channel="ai_assistant",device="desktop",le="0"} 1`,
		`web_session_duration_seconds_count{channel="ai_assistant",device="desktop"} 1`,
		`web_session_pageviews_bucket{channel="ai_assistant",device="desktop",le="1"} 1`,
		`web_session_pageviews_sum{channel="ai_assistant",device="desktop"} 1`,
		`web_conversions_total{channel="ai_assistant",device="desktop",goal="purchase",visitor_type="new"} 0`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("missing line %q", want)
		}
	}
}

func TestSiteLabelOnlyWithSeveralSites(t *testing.T) {
	one := New(Dims{Sites: []string{"shop"}})
	one.SessionStarted(session.Labels{})
	if strings.Contains(exposition(t, one), "site=") {
		t.Error("site label exported with a single site")
	}
	two := New(Dims{Sites: []string{"shop", "blog"}})
	two.SessionStarted(session.Labels{Site: 1})
	if !strings.Contains(exposition(t, two), `web_sessions_total{channel="direct",device="desktop",site="blog",visitor_type="new"} 1`) {
		t.Error("site label missing with two sites")
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	m := New(Dims{Goals: []string{"purchase"}, Files: []string{"a.log"}})
	fill(m)
	b, err := json.Marshal(m.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	m2 := New(Dims{Goals: []string{"purchase"}, Files: []string{"a.log"}})
	m2.Restore(s)
	if diff := cmp.Diff(m.Snapshot(), m2.Snapshot()); diff != "" {
		t.Errorf("restored metrics differ (-want +got):\n%s", diff)
	}
}

func TestRestoreRemapsByName(t *testing.T) {
	m := New(Dims{Goals: []string{"signup", "purchase"}, Files: []string{"a.log", "b.log"}})
	fill(m) // goal 0 = signup, file 0 = a.log
	m.GoalReached(session.Labels{Channel: classify.OrganicSearch, Device: classify.Mobile}, 1)
	m2 := New(Dims{Goals: []string{"purchase"}, Files: []string{"b.log", "a.log"}})
	m2.Restore(m.Snapshot())
	got := exposition(t, m2)
	for _, want := range []string{
		`web_conversions_total{channel="organic_search",device="mobile",goal="purchase",visitor_type="new"} 1`,
		`session_exporter_lines_read_total{file="a.log"} 2`,
		`session_exporter_lines_read_total{file="b.log"} 0`,
		`web_sessions_total{channel="organic_search",device="mobile",visitor_type="new"} 1`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("missing %q after remap", want)
		}
	}
}

// BenchmarkSink measures the per-event cost of counting.
//
//	go test -run=^$ -bench=Sink -benchmem ./collector/telemetry/
func BenchmarkSink(b *testing.B) {
	m := New(Dims{Goals: []string{"purchase"}})
	l := session.Labels{Channel: classify.Email, Device: classify.Tablet}
	b.ReportAllocs()
	for b.Loop() {
		m.SessionStarted(l)
		m.Pageview(l)
		m.SessionClosed(l, session.Closed{Duration: 42 * time.Second, Pageviews: 3, Engaged: true})
	}
}

// TestDurationSumDoesNotOverflow: a cell's sum of session durations is kept
// in milliseconds, so centuries of accumulated session time still add up.
func TestDurationSumDoesNotOverflow(t *testing.T) {
	m := New(Dims{})
	l := session.Labels{}
	const century = 100 * 365 * 24 * time.Hour
	for range 10 { // 1,000 years: past an int64 of nanoseconds (292 years)
		m.SessionStarted(l)
		m.SessionClosed(l, session.Closed{Duration: century, Pageviews: 2, Engaged: true})
	}
	if got, want := m.Rows()[0].DurationSum, 10*century.Seconds(); got != want {
		t.Errorf("duration sum %v s, want %v s", got, want)
	}
}

// TestRowsInRuleOrder: report rows follow the channel order of rule 5, not
// the channels' numeric values (ai_assistant, added last, sits between
// organic_search and email).
func TestRowsInRuleOrder(t *testing.T) {
	m := New(Dims{})
	for _, ch := range []classify.Channel{classify.Unassigned, classify.Email, classify.AIAssistant, classify.OrganicSearch, classify.Direct} {
		m.SessionStarted(session.Labels{Channel: ch, Device: classify.Mobile})
	}
	var got []string
	for _, r := range m.Rows() {
		got = append(got, r.Channel)
	}
	want := []string{"direct", "organic_search", "ai_assistant", "email", "unassigned"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("row order (-want +got):\n%s", diff)
	}
}

// BenchmarkLineRead is the per-line cost of LineRead's atomic counters.
func BenchmarkLineRead(b *testing.B) {
	m := New(Dims{Files: []string{"a.log"}})
	b.ReportAllocs()
	for b.Loop() {
		m.LineRead(0, 240)
	}
}
