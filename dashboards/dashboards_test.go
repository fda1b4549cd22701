package dashboards

// The dashboard and the alerting rules checked against the metrics the code
// exports and against promtool: one file, since every check reads the same
// parsed dashboard and rule files.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// Files under test, relative to this package's directory.
const (
	dashboardFile = "sessions.json"
	rulesFile     = "alerts.yml"
	rulesTestFile = "alerts_test.yml"

	// goldenFile is the golden /metrics output of the exporter. When it
	// exists, its # TYPE lines are the list of metrics queries may use.
	goldenFile = "../collector/telemetry/testdata/metrics.golden"
)

// exporterMetrics is every metric family session-exporter exposes, as the
// # TYPE lines of its /metrics page (docs/rules.md rule 8). This is the only
// copy of the list in this package. The source of truth is the golden
// /metrics test in collector/telemetry: once goldenFile exists, knownMetrics
// reads the names from it and this list is not used.
const exporterMetrics = `
# TYPE web_sessions_total counter
# TYPE web_sessions_active gauge
# TYPE web_pageviews_total counter
# TYPE web_sessions_engaged_total counter
# TYPE web_sessions_bounced_total counter
# TYPE web_session_duration_seconds histogram
# TYPE web_session_pageviews histogram
# TYPE web_conversions_total counter
# TYPE web_bot_requests_total counter
# TYPE session_exporter_lines_read_total counter
# TYPE session_exporter_lines_rejected_total counter
# TYPE session_exporter_bytes_read_total counter
# TYPE session_exporter_lines_late_total counter
# TYPE session_exporter_read_lag_seconds gauge
# TYPE session_exporter_visitors gauge
# TYPE session_exporter_sessions_evicted_total counter
# TYPE session_exporter_state_saves_total counter
# TYPE session_exporter_state_save_failures_total counter
# TYPE session_exporter_rotations_total counter
# TYPE session_exporter_truncations_total counter
# TYPE session_exporter_lost_files_total counter
# TYPE session_exporter_build_info gauge
`

// scrapeMetrics are the series Prometheus itself adds for every target.
var scrapeMetrics = []string{"up"}

// knownMetrics returns the metric names queries may select: the exporter's
// (from goldenFile if it exists, else exporterMetrics) and scrapeMetrics.
func knownMetrics(t *testing.T) map[string]bool {
	t.Helper()
	var (
		names map[string]bool
		err   error
	)
	f, openErr := os.Open(goldenFile)
	switch {
	case openErr == nil:
		defer f.Close()
		names, err = namesFromExposition(f)
		if err == nil && len(names) == 0 {
			err = errors.New("no # TYPE lines")
		}
		if err != nil {
			t.Fatalf("%s: %v", goldenFile, err)
		}
		t.Logf("metric names from %s", goldenFile)
	case errors.Is(openErr, os.ErrNotExist):
		names, err = namesFromExposition(strings.NewReader(exporterMetrics))
		if err != nil {
			t.Fatalf("exporterMetrics: %v", err)
		}
	default:
		t.Fatal(openErr)
	}
	for _, n := range scrapeMetrics {
		names[n] = true
	}
	return names
}

// namesFromExposition returns the series names the # TYPE lines of a
// Prometheus or OpenMetrics text exposition declare. A histogram is queried
// through its _bucket, _sum and _count series, a summary through its own name
// and _sum and _count; an OpenMetrics counter family drops the _total its
// samples carry.
func namesFromExposition(r io.Reader) (map[string]bool, error) {
	names := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[0] != "#" || fields[1] != "TYPE" {
			continue
		}
		if len(fields) != 4 {
			return nil, fmt.Errorf("line %d: want \"# TYPE name type\", got %q", line, sc.Text())
		}
		name, typ := fields[2], fields[3]
		switch typ {
		case "counter":
			names[name] = true
			if !strings.HasSuffix(name, "_total") {
				names[name+"_total"] = true
			}
		case "gauge", "untyped", "unknown", "stateset":
			names[name] = true
		case "info":
			names[name] = true
			names[name+"_info"] = true
		case "histogram":
			names[name+"_bucket"] = true
			names[name+"_sum"] = true
			names[name+"_count"] = true
		case "gaugehistogram":
			names[name+"_bucket"] = true
			names[name+"_gsum"] = true
			names[name+"_gcount"] = true
		case "summary":
			names[name] = true
			names[name+"_sum"] = true
			names[name+"_count"] = true
		default:
			return nil, fmt.Errorf("line %d: unknown metric type %q", line, typ)
		}
	}
	return names, sc.Err()
}

func TestNamesFromExposition(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr bool
	}{
		{
			name: "prometheus text format",
			in: `# HELP web_sessions_total Sessions started.
# TYPE web_sessions_total counter
web_sessions_total{channel="direct",device="mobile"} 3
# TYPE session_exporter_visitors gauge
session_exporter_visitors 12
`,
			want: []string{"session_exporter_visitors", "web_sessions_total"},
		},
		{
			name: "histogram and summary",
			in: `# TYPE web_session_duration_seconds histogram
web_session_duration_seconds_bucket{le="0"} 1
# TYPE go_gc_duration_seconds summary
`,
			want: []string{
				"go_gc_duration_seconds", "go_gc_duration_seconds_count", "go_gc_duration_seconds_sum",
				"web_session_duration_seconds_bucket", "web_session_duration_seconds_count", "web_session_duration_seconds_sum",
			},
		},
		{
			name: "openmetrics counter and info",
			in: `# TYPE web_sessions counter
# TYPE target info
# EOF
`,
			want: []string{"target", "target_info", "web_sessions", "web_sessions_total"},
		},
		{
			name: "other comments are ignored",
			in:   "# HELP x a # TYPE in help text\n#TYPE y gauge\n",
			want: []string{},
		},
		{name: "unknown type", in: "# TYPE x widget\n", wantErr: true},
		{name: "missing type", in: "# TYPE x\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := namesFromExposition(strings.NewReader(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if diff := cmp.Diff(tt.want, sortedKeys(got)); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}
}

// selector is one vector selector of a PromQL expression.
type selector struct {
	Name     string // metric name
	Matchers string // text between the braces, "" when there are none
}

// Words that are never metric names. Aggregations are listed because they
// may be followed by "by (...)" instead of "(".
var promqlKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "atan2": true,
	"offset": true, "bool": true, "inf": true, "nan": true,
	"sum": true, "min": true, "max": true, "avg": true, "group": true,
	"stddev": true, "stdvar": true, "count": true, "count_values": true,
	"bottomk": true, "topk": true, "quantile": true, "limitk": true, "limit_ratio": true,
}

// Keywords followed by a parenthesised list of label names.
var promqlLabelListKeywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true,
	"group_left": true, "group_right": true,
}

// promqlSelectors returns the vector selectors of a PromQL expression in
// order of appearance. It is a tokenizer, not a parser: an identifier is a
// metric name unless it is a keyword, is followed by "(" (a function), or
// stands inside braces, brackets, strings or the label list of by, without,
// on, ignoring, group_left or group_right. A selector without a name takes
// it from an equality matcher on __name__ or from a quoted name. Grafana
// variables ($name, ${name}, [[name]]) are skipped. Whether the expression
// is otherwise valid PromQL is left to promtool.
func promqlSelectors(expr string) ([]selector, error) {
	var sels []selector
	s := expr
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isSpace(c):
			i++
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'' || c == '`':
			j, err := skipString(s, i)
			if err != nil {
				return nil, err
			}
			i = j
		case c == '$':
			i = skipVariable(s, i)
		case c == '[':
			j, err := skipGroup(s, i, '[', ']')
			if err != nil {
				return nil, err
			}
			i = j
		case c == '{':
			j, sel, err := scanMatchers(s, i)
			if err != nil {
				return nil, err
			}
			if sel.Name == "" {
				return nil, fmt.Errorf("selector {%s} at offset %d: no metric name to check", sel.Matchers, i)
			}
			sels = append(sels, sel)
			i = j
		case isDigit(c) || c == '.' && i+1 < len(s) && isDigit(s[i+1]):
			i = skipNumber(s, i)
		case isIdentStart(c):
			j := i + 1
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			word := s[i:j]
			k := j
			for k < len(s) && isSpace(s[k]) {
				k++
			}
			next := byte(0)
			if k < len(s) {
				next = s[k]
			}
			lower := strings.ToLower(word)
			switch {
			case promqlLabelListKeywords[lower]:
				if next == '(' {
					end, err := skipGroup(s, k, '(', ')')
					if err != nil {
						return nil, err
					}
					j = end
				}
			case promqlKeywords[lower], next == '(':
				// keyword, function or aggregation
			case next == '{':
				end, sel, err := scanMatchers(s, k)
				if err != nil {
					return nil, err
				}
				if sel.Name != "" && sel.Name != word {
					return nil, fmt.Errorf("selector %s{%s}: two metric names", word, sel.Matchers)
				}
				sel.Name = word
				sels = append(sels, sel)
				j = end
			default:
				sels = append(sels, selector{Name: word})
			}
			i = j
		default:
			i++
		}
	}
	return sels, nil
}

// promqlMetricNames returns the metric names expr selects, sorted, without
// duplicates.
func promqlMetricNames(expr string) ([]string, error) {
	sels, err := promqlSelectors(expr)
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, sel := range sels {
		names = append(names, sel.Name)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// scanMatchers reads the matcher list that starts with the "{" at s[i]. It
// returns the offset after the closing "}" and the selector, named when a
// matcher is __name__="..." or a bare quoted name.
func scanMatchers(s string, i int) (int, selector, error) {
	start := i
	var sel selector
	i++
	for {
		for i < len(s) && (isSpace(s[i]) || s[i] == ',') {
			i++
		}
		if i >= len(s) {
			return 0, sel, fmt.Errorf("unclosed { at offset %d", start)
		}
		if s[i] == '}' {
			sel.Matchers = strings.TrimSpace(s[start+1 : i])
			return i + 1, sel, nil
		}
		// A label name, bare or quoted.
		var label string
		quoted := false
		switch {
		case isIdentStart(s[i]):
			j := i + 1
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			label, i = s[i:j], j
		case s[i] == '"' || s[i] == '\'' || s[i] == '`':
			j, err := skipString(s, i)
			if err != nil {
				return 0, sel, err
			}
			if label, err = strconv.Unquote(s[i:j]); err != nil {
				return 0, sel, fmt.Errorf("offset %d: %w", i, err)
			}
			quoted, i = true, j
		default:
			return 0, sel, fmt.Errorf("offset %d: unexpected %q in matchers", i, s[i])
		}
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) || s[i] == ',' || s[i] == '}' {
			if !quoted {
				return 0, sel, fmt.Errorf("offset %d: label %s without a matcher", i, label)
			}
			sel.Name = label // {"metric.name", ...}
			continue
		}
		op := ""
		for _, o := range []string{"=~", "!=", "!~", "="} {
			if strings.HasPrefix(s[i:], o) {
				op = o
				break
			}
		}
		if op == "" {
			return 0, sel, fmt.Errorf("offset %d: want a matcher operator after %s", i, label)
		}
		i += len(op)
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) || (s[i] != '"' && s[i] != '\'' && s[i] != '`') {
			return 0, sel, fmt.Errorf("offset %d: want a quoted value after %s%s", i, label, op)
		}
		j, err := skipString(s, i)
		if err != nil {
			return 0, sel, err
		}
		if label == "__name__" {
			if op != "=" {
				return 0, sel, fmt.Errorf("offset %d: __name__%s cannot be checked against the metric list", i, op)
			}
			if sel.Name, err = strconv.Unquote(s[i:j]); err != nil {
				return 0, sel, fmt.Errorf("offset %d: %w", i, err)
			}
		}
		i = j
	}
}

// skipString returns the offset after the string literal starting at s[i].
func skipString(s string, i int) (int, error) {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && q != '`':
			j++
		case s[j] == q:
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated string at offset %d", i)
}

// skipGroup returns the offset after the group that opens at s[i], skipping
// nested groups of the same kind and strings.
func skipGroup(s string, i int, open, close byte) (int, error) {
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '"', '\'', '`':
			end, err := skipString(s, j)
			if err != nil {
				return 0, err
			}
			j = end - 1
		case open:
			depth++
		case close:
			depth--
			if depth == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, fmt.Errorf("unclosed %c at offset %d", open, i)
}

// skipVariable returns the offset after the Grafana variable at s[i]:
// $name or ${name} / ${name:format}.
func skipVariable(s string, i int) int {
	j := i + 1
	if j < len(s) && s[j] == '{' {
		if end := strings.IndexByte(s[j:], '}'); end >= 0 {
			return j + end + 1
		}
		return len(s)
	}
	for j < len(s) && isIdentChar(s[j]) && s[j] != ':' {
		j++
	}
	return j
}

// skipNumber returns the offset after the number or duration at s[i]:
// 42, 0.5, 1e-3, 0x1F, 5m, 1h30m.
func skipNumber(s string, i int) int {
	j := i
	for j < len(s) {
		c := s[j]
		switch {
		case isDigit(c) || c == '.' || c == '_' || isLetter(c):
			j++
		case (c == '+' || c == '-') && (s[j-1] == 'e' || s[j-1] == 'E') && !strings.HasPrefix(strings.ToLower(s[i:j]), "0x"):
			j++
		default:
			return j
		}
	}
	return j
}

func isSpace(c byte) bool      { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isLetter(c byte) bool     { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isIdentStart(c byte) bool { return isLetter(c) || c == '_' || c == ':' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDigit(c) }

func TestPromQLMetricNames(t *testing.T) {
	tests := []struct {
		name    string
		expr    string
		want    []string
		wantErr bool
	}{
		{name: "bare selector", expr: "up", want: []string{"up"}},
		{name: "matchers hold label names", expr: `web_sessions_total{channel=~"direct|email", device!="other"}`, want: []string{"web_sessions_total"}},
		{name: "space before braces", expr: `web_sessions_total {site="a"}`, want: []string{"web_sessions_total"}},
		{name: "range and function", expr: "rate(web_sessions_total[5m])", want: []string{"web_sessions_total"}},
		{name: "aggregation with by before", expr: "sum by (channel, device) (rate(web_pageviews_total[5m]))", want: []string{"web_pageviews_total"}},
		{name: "aggregation with without after", expr: "sum(rate(web_pageviews_total[5m])) without (instance, job)", want: []string{"web_pageviews_total"}},
		{name: "upper-case keywords", expr: "SUM BY (job) (web_sessions_active) AND ON (job) up", want: []string{"up", "web_sessions_active"}},
		{
			name: "vector matching",
			expr: "a / on (job, site) group_left (goal) b + ignoring(x) group_right c - on() d * on (job) group_left e",
			want: []string{"a", "b", "c", "d", "e"},
		},
		{name: "set operators and bool", expr: "a > bool 1 and b or c unless d", want: []string{"a", "b", "c", "d"}},
		{name: "atan2", expr: "a atan2 b", want: []string{"a", "b"}},
		{name: "offset and @", expr: "rate(a[1h] offset 1w) @ end() + b offset -5m + c @ 1609746000", want: []string{"a", "b", "c"}},
		{name: "subquery", expr: "max_over_time(rate(a[5m])[1d:5m])", want: []string{"a"}},
		{name: "numbers and durations", expr: "a * 3600 >= 1e-3 + 0x1F - 1h30m + .5 + 2.5E+3", want: []string{"a"}},
		{name: "histogram quantile", expr: "histogram_quantile(0.9, sum by (le) (rate(web_session_duration_seconds_bucket[5m])))", want: []string{"web_session_duration_seconds_bucket"}},
		{name: "string arguments", expr: `label_replace(a, "dst", "$1", "src", "(.*)") or count_values("version", b) or topk(5, c)`, want: []string{"a", "b", "c"}},
		{name: "escaped quotes", expr: `a{path="\"x{y}\""} + b{s='it\'s'} + c{r=` + "`[a-z]+`" + `}`, want: []string{"a", "b", "c"}},
		{name: "grafana variables", expr: `sum(rate(a{site=~"$site"}[$__rate_interval])) * $factor / ${divisor:raw} + b * [[legacy]]`, want: []string{"a", "b"}},
		{name: "recording rule names", expr: "job:web_sessions:rate1h offset 1w / job_goal:web_conversions:ratio_rate1h", want: []string{"job:web_sessions:rate1h", "job_goal:web_conversions:ratio_rate1h"}},
		{name: "__name__ matcher", expr: `{__name__="web_pageviews_total", site="a"}`, want: []string{"web_pageviews_total"}},
		{name: "quoted metric name", expr: `{"web.pageviews", "site.name"="a"}`, want: []string{"web.pageviews"}},
		{name: "comments", expr: "a # b{c}\n+ d", want: []string{"a", "d"}},
		{name: "functions only", expr: "vector(1) + time() + scalar(pi())", want: []string{}},
		{name: "Inf and NaN", expr: "a > Inf or b != NaN", want: []string{"a", "b"}},
		{name: "duplicates", expr: "a / (a + b)", want: []string{"a", "b"}},
		{name: "unclosed braces", expr: `a{b="c"`, wantErr: true},
		{name: "unclosed bracket", expr: "rate(a[5m)", wantErr: true},
		{name: "unterminated string", expr: `a{b="c}`, wantErr: true},
		{name: "regex on __name__", expr: `{__name__=~"web_.*"}`, wantErr: true},
		{name: "no metric name", expr: `{site="a"}`, wantErr: true},
		{name: "two metric names", expr: `a{__name__="b"}`, wantErr: true},
		{name: "unclosed label list", expr: "sum by (job a", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := promqlMetricNames(tt.expr)
			if (err != nil) != tt.wantErr {
				t.Fatalf("promqlMetricNames(%q) err = %v, want error: %v", tt.expr, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); !tt.wantErr && diff != "" {
				t.Errorf("promqlMetricNames(%q) (-want +got):\n%s", tt.expr, diff)
			}
		})
	}
}

func TestPromQLSelectorMatchers(t *testing.T) {
	got, err := promqlSelectors(`sum(rate(a{ site=~"$site", channel="x" }[5m])) / b + {__name__="c"}`)
	if err != nil {
		t.Fatal(err)
	}
	want := []selector{
		{Name: "a", Matchers: `site=~"$site", channel="x"`},
		{Name: "b"},
		{Name: "c", Matchers: `__name__="c"`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("selectors (-want +got):\n%s", diff)
	}
}

// grafanaVariableQuery returns the PromQL inside a Grafana Prometheus
// variable query: label_values(expr, label) -> expr, query_result(expr) ->
// expr, label_names(expr) -> expr. It returns "" when the query selects no
// metric (label_values(label), label_names()).
func grafanaVariableQuery(q string) (string, error) {
	q = strings.TrimSpace(q)
	fn, args, ok := strings.Cut(q, "(")
	fn = strings.TrimSpace(fn)
	if !ok || !strings.HasSuffix(q, ")") {
		return q, nil
	}
	args = strings.TrimSpace(args[:len(args)-1])
	switch fn {
	case "label_values":
		comma, err := lastTopLevelComma(args)
		if err != nil {
			return "", err
		}
		if comma < 0 {
			return "", nil // label_values(label)
		}
		return strings.TrimSpace(args[:comma]), nil
	case "query_result", "label_names":
		return args, nil
	case "metrics":
		return "", fmt.Errorf("%s: a metric name regex cannot be checked against the metric list", q)
	}
	return q, nil
}

// lastTopLevelComma returns the offset of the last comma of s that is not
// inside a string, braces, brackets or parentheses, or -1.
func lastTopLevelComma(s string) (int, error) {
	last, depth := -1, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"', '\'', '`':
			end, err := skipString(s, i)
			if err != nil {
				return 0, err
			}
			i = end - 1
		case '(', '{', '[':
			depth++
		case ')', '}', ']':
			depth--
		case ',':
			if depth == 0 {
				last = i
			}
		}
	}
	return last, nil
}

func TestGrafanaVariableQuery(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: `label_values(web_sessions_total{site=~"$site", x="a,b"}, channel)`, want: `web_sessions_total{site=~"$site", x="a,b"}`},
		{in: "label_values(sum by (a, b) (c), a)", want: "sum by (a, b) (c)"},
		{in: "label_values(site)", want: ""},
		{in: "label_names()", want: ""},
		{in: "query_result(topk(5, sum by (site) (rate(web_sessions_total[1h]))))", want: "topk(5, sum by (site) (rate(web_sessions_total[1h])))"},
		{in: "up", want: "up"},
		{in: "metrics(web_.*)", wantErr: true},
	}
	for _, tt := range tests {
		got, err := grafanaVariableQuery(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("grafanaVariableQuery(%q) err = %v, want error: %v", tt.in, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("grafanaVariableQuery(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The parts of a Grafana dashboard these tests read.
type dashboard struct {
	SchemaVersion int        `json:"schemaVersion"`
	UID           string     `json:"uid"`
	Title         string     `json:"title"`
	Panels        []panel    `json:"panels"`
	Templating    templating `json:"templating"`
}

type templating struct {
	List []variable `json:"list"`
}

type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Datasource *datasourceRef  `json:"datasource"`
	Query      json.RawMessage `json:"query"`
	Definition string          `json:"definition"`
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
}

type panel struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Datasource *datasourceRef `json:"datasource"`
	Targets    []panelTarget  `json:"targets"`
	Panels     []panel        `json:"panels"` // a collapsed row's panels
}

type panelTarget struct {
	RefID      string         `json:"refId"`
	Expr       string         `json:"expr"`
	Datasource *datasourceRef `json:"datasource"`
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// promQuery is one PromQL expression and where it came from.
type promQuery struct {
	where string
	expr  string
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// allPanels returns the dashboard's panels, rows' nested panels included.
func (d dashboard) allPanels() []panel {
	var out []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// query returns the variable's query text, which Grafana stores either as a
// string or as an object with a "query" field.
func (v variable) query() (string, error) {
	if len(v.Query) == 0 {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v.Query, &s); err == nil {
		return s, nil
	}
	var obj struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal(v.Query, &obj); err != nil {
		return "", fmt.Errorf("variable %s: query is neither a string nor an object: %w", v.Name, err)
	}
	return obj.Query, nil
}

// queries returns every PromQL expression of the dashboard: panel targets
// and the queries of query variables.
func (d dashboard) queries(t *testing.T) []promQuery {
	t.Helper()
	var qs []promQuery
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		raw, err := v.query()
		if err != nil {
			t.Fatal(err)
		}
		expr, err := grafanaVariableQuery(raw)
		if err != nil {
			t.Fatalf("variable %s: %v", v.Name, err)
		}
		if expr != "" {
			qs = append(qs, promQuery{where: "variable " + v.Name, expr: expr})
		}
	}
	for _, p := range d.allPanels() {
		for _, tg := range p.Targets {
			qs = append(qs, promQuery{where: fmt.Sprintf("panel %q target %s", p.Title, tg.RefID), expr: tg.Expr})
		}
	}
	return qs
}

// The parts of a Prometheus rule file these tests read. Decoding is strict,
// so a misspelt key is an error here rather than a silently ignored field.
type ruleFile struct {
	Groups []ruleGroup `yaml:"groups"`
}

type ruleGroup struct {
	Name     string `yaml:"name"`
	Interval string `yaml:"interval"`
	Rules    []rule `yaml:"rules"`
}

type rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func loadRules(t *testing.T) ruleFile {
	t.Helper()
	data, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var rf ruleFile
	if err := dec.Decode(&rf); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	return rf
}

func (rf ruleFile) rules() []rule {
	var out []rule
	for _, g := range rf.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

func (rf ruleFile) queries() []promQuery {
	var qs []promQuery
	for _, r := range rf.rules() {
		qs = append(qs, promQuery{where: "rule " + r.Record + r.Alert, expr: r.Expr})
	}
	return qs
}

// recorded returns the names of the recording rules.
func (rf ruleFile) recorded() map[string]bool {
	names := map[string]bool{}
	for _, r := range rf.rules() {
		if r.Record != "" {
			names[r.Record] = true
		}
	}
	return names
}

// checkMetricNames reports every metric a query selects that is not in known.
func checkMetricNames(t *testing.T, qs []promQuery, known map[string]bool) {
	t.Helper()
	if len(qs) == 0 {
		t.Fatal("no queries found")
	}
	for _, q := range qs {
		names, err := promqlMetricNames(q.expr)
		if err != nil {
			t.Errorf("%s: %v\n%s", q.where, err, q.expr)
			continue
		}
		if len(names) == 0 {
			t.Errorf("%s selects no metric:\n%s", q.where, q.expr)
		}
		for _, n := range names {
			if !known[n] {
				t.Errorf("%s: unknown metric %s (not exposed by session-exporter, not a recording rule of %s, not up)", q.where, n, rulesFile)
			}
		}
	}
}

func TestDashboardQueriesUseKnownMetrics(t *testing.T) {
	known := knownMetrics(t)
	for n := range loadRules(t).recorded() {
		known[n] = true
	}
	checkMetricNames(t, loadDashboard(t).queries(t), known)
}

func TestRuleQueriesUseKnownMetrics(t *testing.T) {
	rf := loadRules(t)
	known := knownMetrics(t)
	for n := range rf.recorded() {
		known[n] = true
	}
	checkMetricNames(t, rf.queries(), known)
}

// Every web_* selector in the dashboard must follow the site variable: with
// several sites configured, every web_* series carries a site label. The
// site variable's own query, which lists the sites, is the exception.
func TestDashboardFiltersBySite(t *testing.T) {
	for _, q := range loadDashboard(t).queries(t) {
		if q.where == "variable site" {
			continue
		}
		sels, err := promqlSelectors(q.expr)
		if err != nil {
			t.Errorf("%s: %v", q.where, err)
			continue
		}
		for _, s := range sels {
			if strings.HasPrefix(s.Name, "web_") && !strings.Contains(s.Matchers, `site=~"$site"`) {
				t.Errorf("%s: %s{%s} does not filter on site=~\"$site\"", q.where, s.Name, s.Matchers)
			}
		}
	}
}

func TestDashboardStructure(t *testing.T) {
	d := loadDashboard(t)
	if d.SchemaVersion < 39 {
		t.Errorf("schemaVersion = %d, want 39 or later", d.SchemaVersion)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q, title %q: both must be set", d.UID, d.Title)
	}

	vars := map[string]variable{}
	for _, v := range d.Templating.List {
		if _, dup := vars[v.Name]; dup {
			t.Errorf("variable %s defined twice", v.Name)
		}
		vars[v.Name] = v
	}
	if ds, ok := vars["datasource"]; !ok {
		t.Error("no datasource variable")
	} else if q, _ := ds.query(); ds.Type != "datasource" || q != "prometheus" {
		t.Errorf("datasource variable: type %q query %q, want datasource / prometheus", ds.Type, q)
	}
	wantDS := datasourceRef{Type: "prometheus", UID: "${datasource}"}
	for _, name := range []string{"site", "channel", "device"} {
		v, ok := vars[name]
		if !ok {
			t.Errorf("no %s variable", name)
			continue
		}
		q, err := v.query()
		if err != nil {
			t.Error(err)
		}
		if v.Type != "query" || !strings.HasPrefix(q, "label_values(") || !v.Multi || !v.IncludeAll || v.AllValue != ".*" {
			t.Errorf("variable %s: type %q, query %q, multi %v, includeAll %v, allValue %q; want a multi-value label_values query with All = .*",
				name, v.Type, q, v.Multi, v.IncludeAll, v.AllValue)
		}
		if v.Datasource == nil || *v.Datasource != wantDS {
			t.Errorf("variable %s: datasource %+v, want %+v", name, v.Datasource, wantDS)
		}
	}

	ids := map[int]string{}
	for _, p := range d.allPanels() {
		if other, dup := ids[p.ID]; dup {
			t.Errorf("panels %q and %q share id %d", other, p.Title, p.ID)
		}
		ids[p.ID] = p.Title
		if p.Title == "" {
			t.Errorf("panel %d has no title", p.ID)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || *p.Datasource != wantDS {
			t.Errorf("panel %q: datasource %+v, want %+v", p.Title, p.Datasource, wantDS)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if refs[tg.RefID] || tg.RefID == "" {
				t.Errorf("panel %q: refId %q empty or repeated", p.Title, tg.RefID)
			}
			refs[tg.RefID] = true
			if tg.Datasource != nil && *tg.Datasource != wantDS {
				t.Errorf("panel %q target %s: datasource %+v, want %+v", p.Title, tg.RefID, tg.Datasource, wantDS)
			}
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("panel %q target %s has no expression", p.Title, tg.RefID)
			}
		}
	}
}

func TestRuleConventions(t *testing.T) {
	rf := loadRules(t)
	seen := map[string]bool{}
	for _, r := range rf.rules() {
		name := r.Record + r.Alert
		if (r.Record == "") == (r.Alert == "") {
			t.Errorf("rule %q: want exactly one of record and alert", name)
			continue
		}
		if seen[name] {
			t.Errorf("rule %s defined twice", name)
		}
		seen[name] = true
		if r.Record != "" {
			if !regexp.MustCompile(`^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$`).MatchString(r.Record) {
				t.Errorf("recording rule %s: want level:metric:operations", r.Record)
			}
			continue
		}
		if r.For == "" {
			t.Errorf("alert %s has no for:", r.Alert)
		}
		if s := r.Labels["severity"]; s != "warning" && s != "critical" {
			t.Errorf("alert %s: severity %q, want warning or critical", r.Alert, s)
		}
		for _, a := range []string{"summary", "description"} {
			if strings.TrimSpace(r.Annotations[a]) == "" {
				t.Errorf("alert %s has no %s annotation", r.Alert, a)
			}
		}
	}
}

// Alert descriptions send the operator to dashboard panels by their quoted
// title; every such title must exist.
func TestAlertsNamePanelsThatExist(t *testing.T) {
	var titles []string
	for _, p := range loadDashboard(t).allPanels() {
		titles = append(titles, p.Title)
	}
	quoted := regexp.MustCompile(`"([A-Z][^"]*)"`)
	for _, r := range loadRules(t).rules() {
		for _, m := range quoted.FindAllStringSubmatch(r.Annotations["description"], -1) {
			ref := m[1]
			if !slices.ContainsFunc(titles, func(title string) bool { return strings.HasPrefix(title, ref) }) {
				t.Errorf("alert %s refers to panel %q, which %s does not have", r.Alert, ref, dashboardFile)
			}
		}
	}
}

// The parts of a promtool rule test file these tests read.
type ruleTestFile struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name          string `yaml:"name"`
		AlertRuleTest []struct {
			EvalTime  string `yaml:"eval_time"`
			Alertname string `yaml:"alertname"`
			ExpAlerts []struct {
				ExpLabels map[string]string `yaml:"exp_labels"`
			} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// Every alert must be shown both firing and staying quiet.
func TestEveryAlertIsTested(t *testing.T) {
	data, err := os.ReadFile(rulesTestFile)
	if err != nil {
		t.Fatal(err)
	}
	var tf ruleTestFile
	if err := yaml.Unmarshal(data, &tf); err != nil {
		t.Fatalf("%s: %v", rulesTestFile, err)
	}
	if !slices.Contains(tf.RuleFiles, rulesFile) {
		t.Errorf("%s: rule_files = %v, want it to include %s", rulesTestFile, tf.RuleFiles, rulesFile)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tg := range tf.Tests {
		for _, c := range tg.AlertRuleTest {
			if len(c.ExpAlerts) > 0 {
				fires[c.Alertname] = true
			} else {
				quiet[c.Alertname] = true
			}
		}
	}
	alerts := map[string]bool{}
	for _, r := range loadRules(t).rules() {
		if r.Alert == "" {
			continue
		}
		alerts[r.Alert] = true
		if !fires[r.Alert] {
			t.Errorf("%s has no case where %s fires", rulesTestFile, r.Alert)
		}
		if !quiet[r.Alert] {
			t.Errorf("%s has no case where %s stays quiet", rulesTestFile, r.Alert)
		}
	}
	for name := range fires {
		if !alerts[name] {
			t.Errorf("%s tests alert %s, which %s does not define", rulesTestFile, name, rulesFile)
		}
	}
}

// promtoolPath returns the promtool binary. Without one, the test fails when
// CI is set and is skipped otherwise.
func promtoolPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err == nil {
		return path
	}
	if _, ci := os.LookupEnv("CI"); ci {
		t.Fatalf("CI is set but promtool is not on PATH (%v): install it (Debian/Ubuntu: apt-get install prometheus)", err)
	}
	t.Skip("promtool not on PATH; install it (Debian/Ubuntu: apt-get install prometheus) to run the rule checks")
	return ""
}

func runPromtool(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, promtoolPath(t), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
}

func TestPromtoolCheckRules(t *testing.T) {
	t.Parallel()
	runPromtool(t, "check", "rules", rulesFile)
}

func TestPromtoolTestRules(t *testing.T) {
	t.Parallel()
	runPromtool(t, "test", "rules", rulesTestFile)
}

// grafanaVar matches $name, ${name} and ${name:format}.
var grafanaVar = regexp.MustCompile(`\$(?:\{([A-Za-z_]\w*)(?::\w+)?\}|([A-Za-z_]\w*))`)

// expandGrafanaVariables replaces the Grafana variables of a panel query with
// values Prometheus accepts: time ranges become 5m, dashboard variables .*
// (their All value). A variable the dashboard does not define is an error.
func expandGrafanaVariables(expr string, defined map[string]bool) (string, error) {
	var err error
	out := grafanaVar.ReplaceAllStringFunc(expr, func(m string) string {
		sub := grafanaVar.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		switch {
		case name == "__rate_interval" || name == "__interval" || name == "__range":
			return "5m"
		case defined[name]:
			return ".*"
		}
		err = errors.Join(err, fmt.Errorf("unknown variable $%s", name))
		return m
	})
	return out, err
}

// The dashboard's queries must be valid PromQL: promtool checks them as the
// expressions of a generated rule file.
func TestPromtoolCheckDashboardQueries(t *testing.T) {
	t.Parallel()
	promtoolPath(t)
	d := loadDashboard(t)
	defined := map[string]bool{}
	for _, v := range d.Templating.List {
		defined[v.Name] = true
	}
	type genRule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []genRule
	for i, q := range d.queries(t) {
		expr, err := expandGrafanaVariables(q.expr, defined)
		if err != nil {
			t.Errorf("%s: %v", q.where, err)
			continue
		}
		rules = append(rules, genRule{Record: fmt.Sprintf("dashboard:query:%d", i), Expr: expr})
		t.Logf("dashboard:query:%d is %s", i, q.where)
	}
	out, err := yaml.Marshal(map[string]any{
		"groups": []map[string]any{{"name": "dashboard", "rules": rules}},
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboard_queries.yml")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	runPromtool(t, "check", "rules", path)
}

func TestExpandGrafanaVariables(t *testing.T) {
	defined := map[string]bool{"site": true}
	got, err := expandGrafanaVariables(`rate(a{site=~"$site", x=~"${site:regex}"}[$__rate_interval]) @ ${__range}`, defined)
	if err != nil {
		t.Fatal(err)
	}
	if want := `rate(a{site=~".*", x=~".*"}[5m]) @ 5m`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got, err := expandGrafanaVariables(`label_replace(a, "d", "$1", "s", "(.*)")`, defined); err != nil || !strings.Contains(got, `"$1"`) {
		t.Errorf("regex group reference: got %s, %v; want it untouched", got, err)
	}
	if _, err := expandGrafanaVariables(`a{x=~"$undefined"}`, defined); err == nil {
		t.Error("undefined variable: want an error")
	}
}

func sortedKeys(m map[string]bool) []string {
	return append([]string{}, slices.Sorted(maps.Keys(m))...)
}
