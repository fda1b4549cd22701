package main

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
)

// omSample is one sample line of an OpenMetrics exposition.
type omSample struct {
	name, labels string // labels without le
	le           string
	value        float64
	ts           float64
}

// parseOMSample splits `name{labels} value timestamp`.
func parseOMSample(t *testing.T, line string) omSample {
	t.Helper()
	var s omSample
	rest := line
	if i := strings.IndexByte(line, '{'); i >= 0 {
		j := strings.LastIndexByte(line, '}')
		if j < i {
			t.Fatalf("bad labels: %q", line)
		}
		s.name, rest = line[:i], line[j+1:]
		var kept []string
		for _, kv := range strings.Split(line[i+1:j], ",") {
			if v, ok := strings.CutPrefix(kv, "le="); ok {
				s.le = strings.Trim(v, `"`)
			} else {
				kept = append(kept, kv)
			}
		}
		s.labels = strings.Join(kept, ",")
	} else {
		sp := strings.IndexByte(line, ' ')
		if sp < 0 {
			t.Fatalf("bad sample: %q", line)
		}
		s.name, rest = line[:sp], line[sp:]
	}
	f := strings.Fields(rest)
	if len(f) != 2 {
		t.Fatalf("want value and timestamp: %q", line)
	}
	var err error
	if s.value, err = strconv.ParseFloat(f[0], 64); err != nil {
		t.Fatalf("value of %q: %v", line, err)
	}
	if s.ts, err = strconv.ParseFloat(f[1], 64); err != nil {
		t.Fatalf("timestamp of %q: %v", line, err)
	}
	return s
}

// TestReplayOpenMetrics replays a generated log with -o openmetrics and
// checks what promtool and OpenMetrics require: a family's samples together
// after its HELP and TYPE, a series' samples together in increasing time,
// counters that never go down, "# EOF" last; and that the last sample of
// every session counter is the total replay reports.
func TestReplayOpenMetrics(t *testing.T) {
	dir := t.TempDir()
	path, _ := genLog(t, dir, 21, 4000)
	code, out, stderr := runCLI("replay", "-o", "openmetrics", "-step", "10s", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	code, js, stderr := runCLI("replay", "-o", "json", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var want struct {
		Total       struct{ Sessions, Pageviews, Engaged, Bounced float64 }
		BotRequests float64 `json:"bot_requests"`
	}
	if err := json.Unmarshal([]byte(js), &want); err != nil {
		t.Fatal(err)
	}

	lines := strings.Split(out, "\n")
	if lines[len(lines)-1] != "" || lines[len(lines)-2] != "# EOF" {
		t.Fatalf("output does not end with # EOF and a newline: %q", lines[max(0, len(lines)-3):])
	}
	lines = lines[:len(lines)-2]
	type seriesState struct {
		ts, value float64
	}
	var (
		family, famType string
		seenFamily      = map[string]bool{}
		seenMetric      = map[string]bool{} // family + labels (without le)
		metric          string
		last            = map[string]seriesState{} // by sample name + labels + le
		final           = map[string]float64{}     // sample name -> sum over series of the last value
		steps           = map[float64]bool{}
	)
	for n, l := range lines {
		if name, ok := strings.CutPrefix(l, "# HELP "); ok {
			family, _, _ = strings.Cut(name, " ")
			if seenFamily[family] {
				t.Fatalf("line %d: family %s interleaved with another", n+1, family)
			}
			seenFamily[family] = true
			continue
		}
		if rest, ok := strings.CutPrefix(l, "# TYPE "); ok {
			name, typ, _ := strings.Cut(rest, " ")
			if name != family {
				t.Fatalf("line %d: TYPE of %s after HELP of %s", n+1, name, family)
			}
			famType = typ
			continue
		}
		if strings.HasPrefix(l, "#") || l == "" {
			t.Fatalf("line %d: unexpected %q", n+1, l)
		}
		s := parseOMSample(t, l)
		if !strings.HasPrefix(s.name, family) {
			t.Fatalf("line %d: %s outside its family (in %s)", n+1, s.name, family)
		}
		if m := family + "{" + s.labels + "}"; m != metric {
			if seenMetric[m] {
				t.Fatalf("line %d: series %s interleaved with another", n+1, m)
			}
			seenMetric[m], metric = true, m
		}
		if s.ts != math.Trunc(s.ts) || int64(s.ts)%10 != 0 {
			t.Fatalf("line %d: timestamp %v is not a multiple of the step", n+1, s.ts)
		}
		steps[s.ts] = true
		key := s.name + "{" + s.labels + "}" + s.le
		prev, ok := last[key]
		if ok && s.ts <= prev.ts {
			t.Fatalf("line %d: timestamp %v not after %v", n+1, s.ts, prev.ts)
		}
		monotonic := famType == "counter" || strings.HasSuffix(s.name, "_bucket") || strings.HasSuffix(s.name, "_count") ||
			(famType == "histogram" && strings.HasSuffix(s.name, "_sum"))
		if ok && monotonic && s.value < prev.value {
			t.Fatalf("line %d: counter went down from %v", n+1, prev.value)
		}
		last[key] = seriesState{s.ts, s.value}
	}
	for key, st := range last {
		name, _, _ := strings.Cut(key, "{")
		if !strings.HasSuffix(key, "}") { // a bucket
			continue
		}
		final[name] += st.value
	}
	if len(steps) < 30 {
		t.Errorf("only %d steps", len(steps))
	}
	for name, w := range map[string]float64{
		"web_sessions_total":         want.Total.Sessions,
		"web_pageviews_total":        want.Total.Pageviews,
		"web_sessions_engaged_total": want.Total.Engaged,
		"web_sessions_bounced_total": want.Total.Bounced,
		"web_bot_requests_total":     want.BotRequests,
		"web_sessions_active":        0,
	} {
		if final[name] != w {
			t.Errorf("last %s %v, replay reports %v", name, final[name], w)
		}
	}
	if want.Total.Sessions == 0 {
		t.Error("no sessions in the test log")
	}
	for _, f := range []string{"web_sessions", "web_session_duration_seconds", "web_session_pageviews", "web_sessions_active", "web_bot_requests"} {
		if !seenFamily[f] {
			t.Errorf("family %s missing", f)
		}
	}
	if seenFamily["session_exporter_lines_read"] {
		t.Error("health metrics in the backfill")
	}
}

func TestReplayStepFlag(t *testing.T) {
	log := writeFile(t, t.TempDir()+"/a.log", "")
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"replay", "-o", "openmetrics", "-step", "500ms", log}, 2, "-step: 500ms is less than 1s"},
		{[]string{"replay", "-o", "json", "-step", "5m", log}, 2, "-step: only with -o openmetrics"},
		{[]string{"replay", "-o", "openmetrics", log}, 0, ""},
	} {
		code, out, stderr := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.err) {
			t.Errorf("%v: exit %d %q, want %d %q", tc.args, code, stderr, tc.code, tc.err)
		}
		if code == 0 && out != "# EOF\n" {
			t.Errorf("%v: empty log gave %q", tc.args, out)
		}
	}
}
