package deploy

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/session-exporter/session-exporter/collector"
	"github.com/session-exporter/session-exporter/collector/accesslog"
	"github.com/session-exporter/session-exporter/collector/config"
	"github.com/session-exporter/session-exporter/collector/loggen"
	"github.com/session-exporter/session-exporter/collector/telemetry"
)

// These tests back docs/scaling.md: one access log is split across several
// "servers" the way a load balancer would split the traffic, each part is
// counted by its own exporter (a replay), and the parts' counters are summed
// as `sum without (instance) (...)` would sum them in Prometheus.

const scalingConfig = `
own_hosts: [www.example.com]
goals: [{name: purchase, path: ^/checkout/thank-you}]
`

// totals is what Prometheus sees after summing every exporter's series of
// one (channel, device) cell.
type totals = telemetry.Row

type cell struct{ channel, device string }

// counted is the sum of every exporter's rows, per cell and overall.
type counted struct {
	cells map[cell]totals
	all   totals
}

func (c counted) share(channel string) float64 {
	var n uint64
	for k, v := range c.cells {
		if k.channel == channel {
			n += v.Sessions
		}
	}
	return float64(n) / float64(c.all.Sessions)
}

func (c counted) bounceRate() float64 { return float64(c.all.Bounced) / float64(c.all.Closed) }
func (c counted) pagesPerSession() float64 {
	return float64(c.all.Pageviews) / float64(c.all.Sessions)
}

// countServers replays each server's log with an exporter of its own and
// sums their counters.
func countServers(t *testing.T, servers [][]byte) counted {
	t.Helper()
	out := counted{cells: map[cell]totals{}}
	for i, log := range servers {
		cfg, err := config.Parse([]byte(scalingConfig))
		if err != nil {
			t.Fatal(err)
		}
		c, err := collector.New(cfg, collector.Options{})
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("server-%d.log", i)
		res, err := c.Replay(t.Context(), []collector.Input{{Path: name, Reader: bytes.NewReader(log)}}, collector.ReplayOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s := collector.Summarize(res.Metrics)
		if len(s.Rejected) != 0 {
			t.Fatalf("%s: rejected lines: %v", name, s.Rejected)
		}
		for _, r := range s.Rows {
			k := cell{r.Channel, r.Device}
			v := out.cells[k]
			v.Add(r)
			out.cells[k] = v
			out.all.Add(r)
		}
	}
	return out
}

// router decides which server gets line i of the log.
type router func(i int, req *accesslog.Request) int

// split distributes the lines over n servers in log order, as a load
// balancer in front of n web servers would.
func split(t *testing.T, lines [][]byte, n int, route router) [][]byte {
	t.Helper()
	p, err := accesslog.New("combined")
	if err != nil {
		t.Fatal(err)
	}
	bufs := make([]bytes.Buffer, n)
	var req accesslog.Request
	for i, l := range lines {
		if err := p.Parse(l, &req); err != nil {
			t.Fatalf("line %d: %v: %s", i, err, l)
		}
		b := &bufs[route(i, &req)%n]
		b.Write(l)
		b.WriteByte('\n')
	}
	out := make([][]byte, n)
	for i := range bufs {
		out[i] = bufs[i].Bytes()
	}
	return out
}

func hashOf(parts ...[]byte) int {
	h := fnv.New32a()
	for _, p := range parts {
		h.Write(p)
		h.Write([]byte{0})
	}
	return int(h.Sum32() & math.MaxInt32)
}

var (
	// Per request, in turn: nginx's default upstream balancing.
	roundRobin router = func(i int, _ *accesslog.Request) int { return i }
	// By client address only: nginx "hash $remote_addr consistent" or
	// ip_hash, HAProxy "balance source", a Service with ClientIP affinity.
	byAddress router = func(_ int, r *accesslog.Request) int { return hashOf(r.RemoteAddr) }
	// By the visitor key's own fields, address and user agent: what a log
	// shipper can route on.
	byVisitor router = func(_ int, r *accesslog.Request) int { return hashOf(r.RemoteAddr, r.UserAgent) }
)

// TestSplitAcrossServers splits one generated log across two and three
// servers. Sticky routing (by client address, or by address and user
// agent) sends every line of a visitor to one server, so the summed counters
// equal one exporter reading the whole log, cell by cell. Round-robin splits
// visitors, and the sum counts more sessions than there were.
func TestSplitAcrossServers(t *testing.T) {
	// Few distinct user agents: a cold user-agent parse is slow under the
	// race detector. Few addresses: visitors come back, as they do.
	g := loggen.New(loggen.Options{Seed: 7, Visitors: 400, Rate: 0.5, UserAgents: 12})
	lines := make([][]byte, 30_000)
	var whole bytes.Buffer
	for i := range lines {
		lines[i] = g.Next(nil)
		whole.Write(lines[i])
		whole.WriteByte('\n')
	}
	one := countServers(t, [][]byte{whole.Bytes()})
	if one.all.Sessions < 1000 {
		t.Fatalf("only %d sessions in the generated log: too few to show anything", one.all.Sessions)
	}
	if one.all.Active != 0 {
		t.Fatalf("%d sessions still active after replay", one.all.Active)
	}
	t.Logf("one exporter, whole log: %d sessions, %.2f pages/session, bounce rate %.1f%%, direct %.1f%%",
		one.all.Sessions, one.pagesPerSession(), 100*one.bounceRate(), 100*one.share("direct"))

	roundRobinCounts := map[int]counted{}
	for _, tc := range []struct {
		name    string
		servers int
		route   router
		sticky  bool
	}{
		{"round_robin_2", 2, roundRobin, false},
		{"round_robin_3", 3, roundRobin, false},
		{"client_address_hash_2", 2, byAddress, true},
		{"client_address_hash_3", 3, byAddress, true},
		{"address_and_user_agent_hash_2", 2, byVisitor, true},
		{"address_and_user_agent_hash_3", 3, byVisitor, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parts := split(t, lines, tc.servers, tc.route)
			for i, p := range parts {
				if len(p) == 0 {
					t.Fatalf("server %d got no traffic", i)
				}
			}
			sum := countServers(t, parts)
			t.Logf("%d servers, summed: %d sessions (%+.1f%%), %.2f pages/session, bounce rate %.1f%%, direct %.1f%%",
				tc.servers, sum.all.Sessions, 100*(float64(sum.all.Sessions)/float64(one.all.Sessions)-1),
				sum.pagesPerSession(), 100*sum.bounceRate(), 100*sum.share("direct"))

			// Every pageview is counted exactly once whatever the routing:
			// only the grouping into sessions changes.
			if sum.all.Pageviews != one.all.Pageviews {
				t.Errorf("pageviews: summed %d, whole log %d", sum.all.Pageviews, one.all.Pageviews)
			}
			if !tc.sticky {
				roundRobinCounts[tc.servers] = sum
				if sum.all.Sessions <= one.all.Sessions {
					t.Errorf("round-robin: summed sessions %d do not exceed the whole log's %d", sum.all.Sessions, one.all.Sessions)
				}
				if sum.bounceRate() <= one.bounceRate() {
					t.Errorf("round-robin: bounce rate %.3f not above the whole log's %.3f", sum.bounceRate(), one.bounceRate())
				}
				return
			}
			if d := diffCells(one, sum); d != "" {
				t.Errorf("sticky split: summed counters differ from the whole log:\n%s", d)
			}
		})
	}

	// docs/scaling.md quotes these numbers.
	two, three := roundRobinCounts[2], roundRobinCounts[3]
	if two.all.Sessions == 0 || three.all.Sessions == 0 {
		return
	}
	over := func(c counted) float64 { return 100 * (float64(c.all.Sessions)/float64(one.all.Sessions) - 1) }
	doc, err := os.ReadFile(filepath.Join(repoRoot, "docs", "scaling.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(doc)), " ")
	for _, want := range []string{
		fmt.Sprintf("%s lines, %s sessions)", thousands(len(lines)), thousands(int(one.all.Sessions))),
		fmt.Sprintf("counts %.1f%% more sessions over two servers and %.1f%% more over three", over(two), over(three)),
		fmt.Sprintf("the bounce rate goes from %.1f%% to %.1f%% (two servers)", 100*one.bounceRate(), 100*two.bounceRate()),
		fmt.Sprintf("the direct share from %.1f%% to %.1f%%", 100*one.share("direct"), 100*two.share("direct")),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("docs/scaling.md should say %q (the numbers this test measures)", want)
		}
	}
}

// thousands formats n with comma separators, as the docs write numbers.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// diffCells compares two counts cell by cell: integers exactly, duration
// sums to a nanosecond per session (they are summed in another order).
func diffCells(want, got counted) string {
	keys := map[cell]bool{}
	for k := range want.cells {
		keys[k] = true
	}
	for k := range got.cells {
		keys[k] = true
	}
	sorted := make([]cell, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].channel != sorted[j].channel {
			return sorted[i].channel < sorted[j].channel
		}
		return sorted[i].device < sorted[j].device
	})
	var b strings.Builder
	for _, k := range sorted {
		w, g := want.cells[k], got.cells[k]
		wd, gd := w.DurationSum, g.DurationSum
		w.DurationSum, g.DurationSum = 0, 0
		if w != g || math.Abs(wd-gd) > 1e-9*float64(max(w.Closed, 1)) {
			w.DurationSum, g.DurationSum = wd, gd
			fmt.Fprintf(&b, "  %s/%s: got %+v, want %+v\n", k.channel, k.device, g, w)
		}
	}
	return b.String()
}

// TestAlternatingServersWorkedExample is the example of docs/scaling.md:
// 1,000 visits from search, 400 of one page, 300 of two and 300 of four,
// one minute apart; each visitor's pageviews alternate between two servers.
func TestAlternatingServersWorkedExample(t *testing.T) {
	const ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var whole bytes.Buffer
	servers := make([]bytes.Buffer, 2)
	visit := 0
	for _, group := range []struct{ visits, pages int }{{400, 1}, {300, 2}, {300, 4}} {
		for range group.visits {
			addr := fmt.Sprintf("198.51.%d.%d", visit/250, 1+visit%250)
			begin := start.Add(time.Duration(visit) * 7 * time.Second)
			for p := range group.pages {
				ref := "https://www.google.com/"
				if p > 0 {
					ref = "https://www.example.com/page-" + fmt.Sprint(p-1)
				}
				line := fmt.Sprintf("%s - - [%s] \"GET /page-%d HTTP/1.1\" 200 5120 %q %q\n",
					addr, begin.Add(time.Duration(p)*time.Minute).Format("02/Jan/2006:15:04:05 -0700"), p, ref, ua)
				whole.WriteString(line)
				servers[p%2].WriteString(line)
			}
			visit++
		}
	}
	// The lines of a server must be in time order, as a server writes them.
	sortLines := func(b []byte) []byte {
		ls := strings.SplitAfter(string(b), "\n")
		sort.SliceStable(ls, func(i, j int) bool { return lineTime(t, ls[i]).Before(lineTime(t, ls[j])) })
		return []byte(strings.Join(ls, ""))
	}
	one := countServers(t, [][]byte{sortLines(whole.Bytes())})
	two := countServers(t, [][]byte{sortLines(servers[0].Bytes()), sortLines(servers[1].Bytes())})

	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"one server: sessions", float64(one.all.Sessions), 1000},
		{"one server: pages per session", one.pagesPerSession(), 2.2},
		{"one server: bounce rate", one.bounceRate(), 0.40},
		{"one server: direct share", one.share("direct"), 0},
		{"two servers: sessions", float64(two.all.Sessions), 1600},
		{"two servers: pageviews", float64(two.all.Pageviews), 2200},
		{"two servers: pages per session", two.pagesPerSession(), 1.375},
		{"two servers: bounce rate", two.bounceRate(), 0.625},
		{"two servers: direct share", two.share("direct"), 0.375},
	} {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	// The table of docs/scaling.md.
	doc, err := os.ReadFile(filepath.Join(repoRoot, "docs", "scaling.md"))
	if err != nil {
		t.Fatal(err)
	}
	pct := func(f float64) string {
		return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", 100*f), "0"), ".") + "%"
	}
	for _, row := range []string{
		fmt.Sprintf("| sessions | %s | %s (+%.0f%%) |", thousands(int(one.all.Sessions)), thousands(int(two.all.Sessions)),
			100*(float64(two.all.Sessions)/float64(one.all.Sessions)-1)),
		fmt.Sprintf("| pageviews | %s | %s |", thousands(int(one.all.Pageviews)), thousands(int(two.all.Pageviews))),
		fmt.Sprintf("| pages per session | %g | %g |", one.pagesPerSession(), two.pagesPerSession()),
		fmt.Sprintf("| bounce rate | %s | %s |", pct(one.bounceRate()), pct(two.bounceRate())),
		fmt.Sprintf("| direct share | %s | %s |", pct(one.share("direct")), pct(two.share("direct"))),
	} {
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/scaling.md's table should have the row %q", row)
		}
	}
}

func lineTime(t *testing.T, line string) time.Time {
	if line == "" {
		return time.Time{}
	}
	i, j := strings.IndexByte(line, '['), strings.IndexByte(line, ']')
	tm, err := time.Parse("02/Jan/2006:15:04:05 -0700", line[i+1:j])
	if err != nil {
		t.Fatal(err)
	}
	return tm
}
