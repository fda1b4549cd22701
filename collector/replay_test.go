package collector

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/session-exporter/session-exporter/collector/config"
)

func mustConfig(t testing.TB, yaml string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type truthRow struct {
	Channel     string  `json:"channel"`
	Device      string  `json:"device"`
	Sessions    float64 `json:"sessions"`
	Pageviews   float64 `json:"pageviews"`
	Engaged     float64 `json:"engaged"`
	Bounced     float64 `json:"bounced"`
	Conversions float64 `json:"conversions"`
	DurationSum float64 `json:"duration_sum"`
}

// TestReplayMatchesSharedTruth replays the sample logs with ground truth
// (testdata/samples, compressed as a user's rotated logs would be) and
// compares every (channel, device) cell with their truth: counts exactly,
// duration sums within 1%.
func TestReplayMatchesSharedTruth(t *testing.T) {
	dir := filepath.Join("..", "testdata", "samples")
	for _, name := range []string{"sample-combined", "sample-caddy"} {
		t.Run(name, func(t *testing.T) {
			var truth struct {
				Format string     `json:"format"`
				By     []truthRow `json:"by"`
			}
			b, err := os.ReadFile(filepath.Join(dir, name+".truth.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &truth); err != nil {
				t.Fatal(err)
			}
			cfg := mustConfig(t, `
own_hosts: [www.example.com, example.com]
goals: [{name: purchase, path: ^/checkout/thank-you}]
session: {timeout: 30m, timezone: UTC, split_at_midnight: true, split_on_source_change: true}
`)
			c, err := New(cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			// The format is detected ("auto"), as a user replaying a file would.
			if err := c.Replay(t.Context(), []Input{{Path: filepath.Join(dir, name+".log.gz")}}, ReplayOptions{}); err != nil {
				t.Fatal(err)
			}
			sum := Summarize(c.Metrics())
			if r := sum.Rejected; len(r) != 0 {
				t.Errorf("rejected lines: %v", r)
			}
			got := map[[2]string]truthRow{}
			for _, r := range sum.Rows {
				if r.Active != 0 {
					t.Errorf("%s/%s: %d sessions still active after replay", r.Channel, r.Device, r.Active)
				}
				got[[2]string{r.Channel, r.Device}] = truthRow{Channel: r.Channel, Device: r.Device,
					Sessions: float64(r.Sessions), Pageviews: float64(r.Pageviews), Engaged: float64(r.Engaged),
					Bounced: float64(r.Bounced), Conversions: float64(r.Conversions), DurationSum: r.DurationSum}
			}
			for _, w := range truth.By {
				k := [2]string{w.Channel, w.Device}
				g := got[k]
				delete(got, k)
				if g.Sessions != w.Sessions || g.Pageviews != w.Pageviews || g.Engaged != w.Engaged ||
					g.Bounced != w.Bounced || g.Conversions != w.Conversions {
					t.Errorf("%s/%s: got %+v, want %+v", w.Channel, w.Device, g, w)
				}
				if math.Abs(g.DurationSum-w.DurationSum) > 0.01*math.Max(w.DurationSum, 1) {
					t.Errorf("%s/%s: duration sum %.3f, want %.3f within 1%%", w.Channel, w.Device, g.DurationSum, w.DurationSum)
				}
			}
			for k, g := range got {
				t.Errorf("%s/%s: %v sessions not in the truth", k[0], k[1], g.Sessions)
			}
		})
	}
}

// TestParallelReplayEqualsSequential: parsing and classifying on several
// workers with a sharded sessionizer gives exactly the sequential counts,
// on lines out of order (some later than max_delay) and with junk.
func TestParallelReplayEqualsSequential(t *testing.T) {
	lines := genLines(31, 20_000)
	// Swap neighbours here and there, and move some lines far back.
	r := rand.New(rand.NewPCG(3, 4))
	for i := 1; i < len(lines); i++ {
		switch r.IntN(40) {
		case 0:
			lines[i], lines[i-1] = lines[i-1], lines[i]
		case 1:
			if i > 200 {
				lines[i], lines[i-200] = lines[i-200], lines[i]
			}
		case 2:
			lines[i] = []byte("garbage that is not a log line\n")
		}
	}
	data := join(lines)
	cfg := mustConfig(t, `
own_hosts: [www.example.com]
goals: [{name: purchase, path: ^/checkout/thank-you}]
`)
	run := func(workers int) (Summary, string) {
		c, err := New(cfg, Options{Secret: []byte("0123456789abcdef")})
		if err != nil {
			t.Fatal(err)
		}
		in := []Input{{Path: "a.log", Reader: bytes.NewReader(data[:len(data)/2])}, {Path: "b.log", Reader: bytes.NewReader(data[len(data)/2:])}}
		if err := c.Replay(t.Context(), in, ReplayOptions{Workers: workers}); err != nil {
			t.Fatal(err)
		}
		exp, err := c.NewExporter(time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := exp.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		return Summarize(c.Metrics()), regexp.MustCompile(`(?m)^session_exporter_visitors .*$`).ReplaceAllString(b.String(), "")
	}
	wantSum, wantText := run(1)
	if wantSum.Late == 0 || len(wantSum.Rejected) == 0 || wantSum.Total.Sessions == 0 {
		t.Fatalf("test input lacks late lines, junk or sessions: %+v", wantSum)
	}
	for _, workers := range []int{2, 3, 4} {
		gotSum, gotText := run(workers)
		if diff := cmp.Diff(wantSum, gotSum); diff != "" {
			t.Errorf("%d workers: summary differs (-sequential +parallel):\n%s", workers, diff)
		}
		if diff := cmp.Diff(wantText, gotText); diff != "" {
			t.Errorf("%d workers: /metrics differs (-sequential +parallel):\n%s", workers, diff)
		}
	}
}

// TestReplayStepsShowTheStateAtTheirTime: a backfill step is taken before
// the line that passes it, so a quiet gap shows the session open, then
// closed by the timeout, and the later visit only after its line.
func TestReplayStepsShowTheStateAtTheirTime(t *testing.T) {
	line := func(at string) string {
		ts, _ := time.Parse(time.RFC3339, at)
		return `198.51.100.7 - - [` + ts.Format("02/Jan/2006:15:04:05 -0700") + `] "GET / HTTP/1.1" 200 5 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"` + "\n"
	}
	// The 12:01 line confirms the clock's jump to 12:00 (docs/rules.md rule 1).
	data := line("2026-11-02T10:00:00Z") + line("2026-11-02T12:00:00Z") + line("2026-11-02T12:01:00Z")
	c, err := New(mustConfig(t, "own_hosts: [www.example.com]\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]uint64{} // time -> sessions, active
	err = c.Replay(t.Context(), []Input{{Path: "a.log", Reader: strings.NewReader(data)}}, ReplayOptions{
		Every: 5 * time.Minute,
		OnStep: func(at time.Time) error {
			s := Summarize(c.Metrics())
			got[at.Format("15:04")] = [2]uint64{s.Total.Sessions, s.Total.Active}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for at, want := range map[string][2]uint64{
		"10:05": {1, 1}, // open: not yet idle for the timeout
		"10:30": {1, 1},
		"10:40": {1, 0}, // closed by the timeout
		"12:00": {1, 0}, // the 12:00 line is counted after its step
		"12:05": {2, 0}, // the last step: every session closed
	} {
		if got[at] != want {
			t.Errorf("step %s: sessions, active = %v, want %v", at, got[at], want)
		}
	}
}
