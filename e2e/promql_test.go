//go:build e2e

package e2e

// One scenario in many steps: the recording and alerting rules evaluated by a
// real Prometheus over scraped series, each step checked in turn.

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// expression is one PromQL expression of the dashboards, and where it is.
type expression struct {
	where string
	expr  string
}

// grafanaBuiltins are the values Grafana's own variables get in the check.
var grafanaBuiltins = map[string]string{
	"__rate_interval": "1m",
	"__interval":      "1m",
	"__interval_ms":   "60000",
	"__range":         "1h",
	"__range_s":       "3600",
	"__range_ms":      "3600000",
}

// grafanaVar matches $name, ${name}, ${name:format} and [[name]].
var grafanaVar = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)(?::[^\]]*)?\]\]`)

// substitute replaces Grafana variables in expr: the dashboard's own
// variables (names in vars) by ".*" (All), the built-in ones by
// grafanaBuiltins. Any other variable is an error.
func substitute(expr string, vars map[string]bool) (string, error) {
	var bad []string
	out := grafanaVar.ReplaceAllStringFunc(expr, func(m string) string {
		sm := grafanaVar.FindStringSubmatch(m)
		name := sm[1] + sm[2] + sm[3]
		if strings.Trim(name, "0123456789") == "" {
			return m // $1: a label_replace group, not a variable
		}
		if v, ok := grafanaBuiltins[name]; ok {
			return v
		}
		if vars[name] {
			return ".*"
		}
		bad = append(bad, m)
		return m
	})
	if len(bad) > 0 {
		return "", fmt.Errorf("unknown variable(s) %s", strings.Join(bad, ", "))
	}
	return out, nil
}

// dashboardExprs returns every target expression of a Grafana dashboard
// (panels at any depth, rows included) and the metric selectors of its
// query variables, with variables substituted.
func dashboardExprs(path string) ([]expression, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var d struct {
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	var out []expression
	var errs []string
	add := func(where, expr string) {
		s, err := substitute(expr, vars)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", where, err))
			return
		}
		out = append(out, expression{where: where, expr: s})
	}

	// Panel targets, wherever they are nested.
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	var walk func(v any, title string)
	walk = func(v any, title string) {
		switch v := v.(type) {
		case map[string]any:
			if t, ok := v["title"].(string); ok {
				title = fmt.Sprintf("%q", t)
				if id, ok := v["id"].(float64); ok {
					title = fmt.Sprintf("%d %q", int(id), t)
				}
			}
			if targets, ok := v["targets"].([]any); ok {
				for i, tg := range targets {
					m, _ := tg.(map[string]any)
					expr, _ := m["expr"].(string)
					if strings.TrimSpace(expr) == "" {
						continue
					}
					ref, _ := m["refId"].(string)
					if ref == "" {
						ref = fmt.Sprint(i)
					}
					add(fmt.Sprintf("panel %s target %s", title, ref), expr)
				}
			}
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if k != "targets" && k != "templating" {
					walk(v[k], title)
				}
			}
		case []any:
			for _, e := range v {
				walk(e, title)
			}
		}
	}
	walk(doc, "")

	// Query variables: label_values(selector, label) and query_result(expr).
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q := ""
		switch qq := v.Query.(type) {
		case string:
			q = qq
		case map[string]any:
			q, _ = qq["query"].(string)
		}
		q = strings.TrimSpace(q)
		where := fmt.Sprintf("variable %q", v.Name)
		switch {
		case strings.HasPrefix(q, "label_values(") && strings.HasSuffix(q, ")"):
			args := q[len("label_values(") : len(q)-1]
			if i := strings.LastIndexByte(args, ','); i >= 0 {
				add(where, strings.TrimSpace(args[:i]))
			}
		case strings.HasPrefix(q, "query_result(") && strings.HasSuffix(q, ")"):
			add(where, q[len("query_result("):len(q)-1])
		}
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%s: %s", path, strings.Join(errs, "; "))
	}
	return out, nil
}

// ruleFile is the part of a Prometheus rule file the test reads.
type ruleFile struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Rules    []struct {
			Record string `yaml:"record"`
			Alert  string `yaml:"alert"`
			Expr   string `yaml:"expr"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// ruleExprs returns every rule expression of a rule file, the names its
// recording rules define and its group names.
func ruleExprs(path string) (exprs []expression, recorded, groups []string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil, err
	}
	var f ruleFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, g := range f.Groups {
		groups = append(groups, g.Name)
		for _, r := range g.Rules {
			name := r.Record
			kind := "record"
			if name == "" {
				name, kind = r.Alert, "alert"
			} else {
				recorded = append(recorded, name)
			}
			exprs = append(exprs, expression{where: fmt.Sprintf("%s %s (group %s)", kind, name, g.Name), expr: r.Expr})
		}
	}
	return exprs, recorded, groups, nil
}

// Words of PromQL that are not metric names.
var (
	promqlKeywords = map[string]bool{
		"and": true, "or": true, "unless": true, "bool": true, "offset": true,
		"inf": true, "nan": true, "atan2": true,
	}
	// Modifiers followed by a parenthesised list of label names.
	promqlLabelLists = map[string]bool{
		"by": true, "without": true, "on": true, "ignoring": true,
		"group_left": true, "group_right": true,
	}
)

// metricNames returns the metric names expr selects: identifiers that are
// not functions, keywords or label names, and __name__="..." matchers. It
// is a lexer, not a parser: enough for the dashboards, whose expressions
// Prometheus itself validates separately.
func metricNames(expr string) ([]string, error) {
	var names []string
	seen := map[string]bool{}
	addName := func(n string) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	s := expr
	i := 0
	// skipSpace skips white space and comments from j.
	skipSpace := func(j int) int {
		for j < len(s) {
			switch {
			case s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r':
				j++
			case s[j] == '#':
				for j < len(s) && s[j] != '\n' {
					j++
				}
			default:
				return j
			}
		}
		return j
	}
	for {
		i = skipSpace(i)
		if i >= len(s) {
			break
		}
		c := s[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			_, j, err := scanString(s, i)
			if err != nil {
				return nil, err
			}
			i = j
		case c == '{':
			j, ns, err := scanMatchers(s, i)
			if err != nil {
				return nil, err
			}
			for _, n := range ns {
				addName(n)
			}
			i = j
		case c == '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unclosed [ at %d", i)
			}
			i += j + 1
		case isDigit(c) || (c == '.' && i+1 < len(s) && isDigit(s[i+1])):
			for i < len(s) && (isIdent(s[i]) || s[i] == '.') && s[i] != ':' {
				if (s[i] == 'e' || s[i] == 'E') && i+1 < len(s) && (s[i+1] == '+' || s[i+1] == '-') {
					i++
				}
				i++
			}
		case isIdentStart(c):
			j := i
			for j < len(s) && isIdent(s[j]) {
				j++
			}
			word := s[i:j]
			lower := strings.ToLower(word)
			next := skipSpace(j)
			switch {
			case promqlLabelLists[lower]:
				if next < len(s) && s[next] == '(' {
					k := strings.IndexByte(s[next:], ')')
					if k < 0 {
						return nil, fmt.Errorf("unclosed label list after %s", word)
					}
					j = next + k + 1
				}
			case promqlKeywords[lower]:
			case next < len(s) && s[next] == '(':
				// A function or aggregation.
			case modifierAt(s, next):
				// An aggregation: sum by (...) (...).
			default:
				addName(word)
			}
			i = j
		case c == '$':
			return nil, fmt.Errorf("unsubstituted variable at %q", s[i:min(len(s), i+20)])
		default:
			i++
		}
	}
	return names, nil
}

// modifierAt reports whether the word at s[i] is by or without.
func modifierAt(s string, i int) bool {
	j := i
	for j < len(s) && isIdent(s[j]) {
		j++
	}
	w := strings.ToLower(s[i:j])
	return w == "by" || w == "without"
}

// scanString returns the content of the quoted string at s[i] and the
// offset just past it.
func scanString(s string, i int) (string, int, error) {
	q := s[i]
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && q != '`' && j+1 < len(s):
			j++
			b.WriteByte(s[j])
		case s[j] == q:
			return b.String(), j + 1, nil
		default:
			b.WriteByte(s[j])
		}
	}
	return "", 0, fmt.Errorf("unclosed string at %d", i)
}

// scanMatchers scans the label matchers {...} at s[i] and returns the
// offset past the closing brace and the metric names they select
// (__name__="x", or a bare quoted name as Prometheus 3 allows).
func scanMatchers(s string, i int) (int, []string, error) {
	var names []string
	j := i + 1
	for {
		for j < len(s) && strings.IndexByte(" \t\r\n,", s[j]) >= 0 {
			j++
		}
		if j >= len(s) {
			return 0, nil, fmt.Errorf("unclosed { at %d", i)
		}
		if s[j] == '}' {
			return j + 1, names, nil
		}
		// Label name.
		var label string
		quoted := false
		if s[j] == '"' || s[j] == '\'' || s[j] == '`' {
			v, k, err := scanString(s, j)
			if err != nil {
				return 0, nil, err
			}
			label, j, quoted = v, k, true
		} else {
			k := j
			for k < len(s) && isIdent(s[k]) {
				k++
			}
			if k == j {
				return 0, nil, fmt.Errorf("unexpected %q in label matchers at %d", s[j], j)
			}
			label, j = s[j:k], k
		}
		for j < len(s) && strings.IndexByte(" \t\r\n", s[j]) >= 0 {
			j++
		}
		if j < len(s) && (s[j] == ',' || s[j] == '}') {
			if !quoted {
				return 0, nil, fmt.Errorf("label %s without a matcher", label)
			}
			names = append(names, label)
			continue
		}
		// Operator, then the quoted value.
		op := ""
		for _, o := range []string{"!=", "=~", "!~", "="} {
			if strings.HasPrefix(s[j:], o) {
				op = o
				break
			}
		}
		if op == "" {
			return 0, nil, fmt.Errorf("no matcher operator after label %s", label)
		}
		j += len(op)
		for j < len(s) && strings.IndexByte(" \t\r\n", s[j]) >= 0 {
			j++
		}
		if j >= len(s) || strings.IndexByte("\"'`", s[j]) < 0 {
			return 0, nil, fmt.Errorf("label %s: value is not a string", label)
		}
		v, k, err := scanString(s, j)
		if err != nil {
			return 0, nil, err
		}
		j = k
		if label == "__name__" && op == "=" {
			names = append(names, v)
		}
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isIdent(c byte) bool { return isIdentStart(c) || isDigit(c) }

// TestMetricNames checks the lexer on the shapes the dashboards use.
func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`up{job="session-exporter"} == 0`, []string{"up"}},
		{`absent(up{job="session-exporter"})`, []string{"up"}},
		{`sum by (job, site) (rate(web_sessions_total[5m]))`, []string{"web_sessions_total"}},
		{`sum(rate(x_total{a=~"$site"}[1m])) by (le) * 60`, []string{"x_total"}},
		{"job:web_bot_requests:rate5m\n/ on (job)\n((job:web_bot_requests:rate5m + on (job) sum by (job) (job:web_pageviews:rate5m)) > 0)",
			[]string{"job:web_bot_requests:rate5m", "job:web_pageviews:rate5m"}},
		{`a / on (job, site) group_left () (b > 0) and on (job, site) c * 3600 >= 1.8e+2`, []string{"a", "b", "c"}},
		{`rate(m[1h] offset 1w) > bool 0 unless n`, []string{"m", "n"}},
		{`histogram_quantile(0.9, sum by (le) (rate(h_bucket{device=~".*", channel="a,b}"}[1m])))`, []string{"h_bucket"}},
		{`{__name__="by_name", job!="x"} or {"quoted.name"}`, []string{"by_name", "quoted.name"}},
		{`label_replace(v, "dst", "$1", "src", "(.*)") # a comment naming not_a_metric`, []string{"v"}},
		{`max by (job, instance, version) (session_exporter_build_info) - Inf`, []string{"session_exporter_build_info"}},
		{`sum_over_time(x[5m:1m]) @ start()`, []string{"x"}},
	} {
		got, err := metricNames(tc.expr)
		if err != nil {
			t.Errorf("metricNames(%q): %v", tc.expr, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("metricNames(%q) (-want +got):\n%s", tc.expr, diff)
		}
	}
	if _, err := metricNames(`sum(x{a="b"}) * $factor`); err == nil {
		t.Error("an unsubstituted variable was not reported")
	}
	got, err := substitute(`rate(x{site=~"$site", d=~"${device}", c=~"[[channel]]"}[$__rate_interval]) * ${__range_s}`,
		map[string]bool{"site": true, "device": true, "channel": true})
	if want := `rate(x{site=~".*", d=~".*", c=~".*"}[1m]) * 3600`; err != nil || got != want {
		t.Errorf("substitute = %q, %v; want %q", got, err, want)
	}
	if got, err := substitute(`label_replace(x, "d", "$1", "s", "(.*)")`, nil); err != nil || !strings.Contains(got, `"$1"`) {
		t.Errorf("substitute touched a regex group reference: %q, %v", got, err)
	}
	if _, err := substitute(`x{a="$unknown"}`, nil); err == nil {
		t.Error("substitute accepted an unknown variable")
	}
}
