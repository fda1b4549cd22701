package collector

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/session-exporter/session-exporter/collector/accesslog"
	"github.com/session-exporter/session-exporter/collector/classify"
	"github.com/session-exporter/session-exporter/collector/loggen"
)

const marketingSecret = "0123456789abcdef"

// marketingConfig is liveConfig with a valued goal.
const marketingConfig = `
logs: [{path: %q, format: combined}]
start_at: beginning
own_hosts: [www.example.com]
goals: [{name: purchase, path: ^/checkout/thank-you, value_param: value}]
landing_pages: [{name: blog, path: "^/blog/"}, {name: buying, path: "^/(cart|checkout/)"}]
state_file: %q
poll_interval: 1h
`

// marketingLines are generated lines whose thank-you pages carry values.
func marketingLines(seed uint64, n int) [][]byte {
	g := loggen.New(loggen.Options{Seed: seed, Visitors: 300, Rate: 0.5, UserAgents: 12, Values: true})
	out := make([][]byte, n)
	for i := range out {
		out[i] = append(g.Next(nil), '\n')
	}
	return out
}

// marketingReplay replays data under yaml (its log path replaced) and
// returns the summary and the /metrics text of the result.
func marketingReplay(t *testing.T, yaml string, data []byte) (Summary, string) {
	t.Helper()
	cfg := mustConfig(t, yaml)
	c, err := New(cfg, Options{Secret: []byte(marketingSecret)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Replay(t.Context(), []Input{{Path: cfg.Logs[0].Path, Reader: bytes.NewReader(data)}}, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := c.NewExporter(res.Metrics, c.opts.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown(t.Context())
	var b bytes.Buffer
	if err := e.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return Summarize(res.Metrics), b.String()
}

// startMarketing runs a live collector with the fixed secret (used when no
// state file holds one).
func startMarketing(t *testing.T, yaml string, clock *fakeClock) *liveRun {
	t.Helper()
	c, err := New(mustConfig(t, yaml), Options{Now: clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Secret: []byte(marketingSecret)})
	if err != nil {
		t.Fatal(err)
	}
	return runCollector(t, c, clock)
}

// seriesOf returns the sample lines of the named metrics, sorted.
func seriesOf(text string, names ...string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		for _, n := range names {
			if strings.HasPrefix(l, n+"{") || strings.HasPrefix(l, n+" ") {
				out = append(out, l)
			}
		}
	}
	slices.Sort(out)
	return out
}

var marketingSeries = []string{
	"web_conversion_value_total", "web_conversions_total", "web_sessions_total",
	"web_sessions_engaged_total", "web_sessions_bounced_total",
	"session_exporter_conversion_values_rejected_total", "web_visitors",
}

// TestLiveMarketingSeriesAcrossRestart: a live exporter stopped and
// started in the middle of the log reports exactly the conversion values
// (and every other new series) a replay of the whole log does.
func TestLiveMarketingSeriesAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	statePath := filepath.Join(dir, "state.json")
	yaml := fmt.Sprintf(marketingConfig, logPath, statePath)
	lines := marketingLines(11, 6000)
	clock := newClock()
	r := startMarketing(t, yaml, clock)
	appendFile(t, logPath, join(lines[:2500]))
	r.step()
	r.shutdown()
	appendFile(t, logPath, join(lines[2500:4000]))
	r2 := startMarketing(t, yaml, clock)
	appendFile(t, logPath, join(lines[4000:]))
	r2.step()
	r2.closeSessions()
	live := r2.scrape()
	got := Summarize(r2.c.Metrics())
	r2.shutdown()

	want, text := marketingReplay(t, fmt.Sprintf(marketingConfig, "replay.log", ""), join(lines))
	sameRows(t, want, got)
	if want.Total.Value <= 0 || want.ValuesRejected == 0 {
		t.Fatalf("test data has no values (%v) or no malformed ones (%d)", want.Total.Value, want.ValuesRejected)
	}
	if got.ValuesRejected != want.ValuesRejected {
		t.Errorf("values rejected: live %d, replay %d", got.ValuesRejected, want.ValuesRejected)
	}
	for _, l := range []string{`landing="blog"`, `landing="other"`, `visitor_type="returning"`, `visitor_type="new"`, "web_visitors{"} {
		if !strings.Contains(text, l) {
			t.Errorf("replay has no series with %s: the test does not exercise it", l)
		}
	}
	if d := cmp.Diff(seriesOf(text, marketingSeries...), seriesOf(live, marketingSeries...)); d != "" {
		t.Errorf("live /metrics differs from replay (-replay +live):\n%s", d)
	}
}

// TestConversionValueSum checks the value total of a hand-written log
// against the sum worked out by hand.
func TestConversionValueSum(t *testing.T) {
	const ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
	line := func(ip, at, uri string) string {
		return fmt.Sprintf("%s - - [02/Nov/2026:10:%s +0000] \"GET %s HTTP/1.1\" 200 512 \"-\" \"%s\"\n", ip, at, uri, ua)
	}
	log := line("192.0.2.1", "00:00", "/checkout/thank-you?order=1&value=59.90") + // 59.90
		line("192.0.2.1", "01:00", "/checkout/thank-you?value=10") + // same session: not a new conversion
		line("192.0.2.2", "02:00", "/checkout/thank-you?value=abc&value=12.5") + // 12.50, one rejected
		line("192.0.2.3", "03:00", "/checkout/thank-you?value=-4") + // a conversion without value, one rejected
		line("192.0.2.4", "04:00", "/product?value=100") // not a goal
	sum, text := marketingReplay(t, fmt.Sprintf(marketingConfig, "replay.log", ""), []byte(log))
	if sum.Total.Conversions != 3 || sum.ValuesRejected != 2 {
		t.Errorf("conversions %d, values rejected %d; want 3 and 2", sum.Total.Conversions, sum.ValuesRejected)
	}
	if d := sum.Total.Value - 72.40; d > 1e-9 || d < -1e-9 {
		t.Errorf("conversion value %v, want 72.40", sum.Total.Value)
	}
	if want := 72.40 / 4; sum.ValuePerSession-want > 1e-9 || want-sum.ValuePerSession > 1e-9 {
		t.Errorf("value per session %v, want %v", sum.ValuePerSession, want)
	}
	for _, want := range []string{
		`web_conversion_value_total{channel="direct",device="desktop",goal="purchase"} 72.4`,
		`session_exporter_conversion_values_rejected_total 2`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestVisitorsTodayOnGeneratedTraffic compares web_visitors, summed over
// its cells, with the exact number of distinct visitor keys with a
// pageview in the log (all of one day), worked out with the same
// classifier line by line.
func TestVisitorsTodayOnGeneratedTraffic(t *testing.T) {
	n := 60_000
	if testing.Short() {
		n = 15_000
	}
	g := loggen.New(loggen.Options{Seed: 4, Visitors: 20_000, Rate: 2, UserAgents: 40})
	var data []byte
	for range n {
		data = append(g.Next(data), '\n')
	}
	if g.Now().Day() != 2 {
		t.Fatalf("generated traffic spans more than a day (ends %s)", g.Now())
	}
	_, text := marketingReplay(t, fmt.Sprintf(marketingConfig, "replay.log", ""), data)
	cfg := mustConfig(t, fmt.Sprintf(marketingConfig, "replay.log", ""))
	c, err := New(cfg, Options{Secret: []byte(marketingSecret)})
	if err != nil {
		t.Fatal(err)
	}
	cl := c.cl
	parser, err := accesslog.New("combined")
	if err != nil {
		t.Fatal(err)
	}
	exact := map[uint64]bool{}
	var req accesslog.Request
	var res classify.Result
	for _, l := range bytes.Split(data, []byte("\n")) {
		if len(l) == 0 || parser.Parse(l, &req) != nil {
			continue
		}
		if cl.Classify(&req, &res); res.Kind == classify.KindPageview {
			exact[res.Visitor] = true
		}
	}
	var est float64
	cells := 0
	for _, l := range seriesOf(text, "web_visitors") {
		var v float64
		fmt.Sscan(l[strings.LastIndexByte(l, ' ')+1:], &v)
		est += v
		cells++
	}
	e := (est - float64(len(exact))) / float64(len(exact))
	t.Logf("%d distinct visitors, estimate %.0f over %d cells (%+.2f%%)", len(exact), est, cells, 100*e)
	if cells < 10 || e >= 0.02 || e <= -0.02 {
		t.Errorf("web_visitors sums to %.0f over %d cells, exact %d (%+.2f%%)", est, cells, len(exact), 100*e)
	}
}
