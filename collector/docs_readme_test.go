package collector

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/session-exporter/session-exporter/collector/accesslog"
	"github.com/session-exporter/session-exporter/collector/config"
)

func readDoc(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section returns the text of the "## title" section of a Markdown page.
func section(t *testing.T, doc, title string) string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, "\n## "+title+"\n")
	if !ok {
		t.Fatalf("no section %q", title)
	}
	if i := strings.Index(rest, "\n## "); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// TestReadmeQuickStart: the README's configuration is valid as written and
// its nginx log_format is the text of the sessions preset it names.
func TestReadmeQuickStart(t *testing.T) {
	doc := section(t, readDoc(t, "README.md"), "Beside nginx or Caddy in five minutes")
	blocks := strings.Split(doc, "```")
	yamls, nginx := 0, 0
	for i := 1; i < len(blocks); i += 2 {
		lang, body, _ := strings.Cut(blocks[i], "\n")
		switch lang {
		case "yaml":
			yamls++
			c, err := config.Parse([]byte(body))
			if err != nil {
				t.Errorf("README YAML block %d: %v\n%s", yamls, err, body)
				continue
			}
			for _, l := range c.Logs {
				if strings.Contains(l.Path, "nginx") && l.Format != "sessions" {
					t.Errorf("README: the nginx log is read as %q, want the sessions preset", l.Format)
				}
			}
		case "nginx":
			nginx++
			i := strings.Index(body, "log_format sessions ")
			j := strings.Index(body[max(i, 0):], ";")
			if i < 0 || j < 0 {
				t.Fatalf("README nginx block has no log_format sessions ...;\n%s", body)
			}
			var f strings.Builder
			for _, m := range regexp.MustCompile(`'([^']*)'`).FindAllStringSubmatch(body[i:i+j], -1) {
				f.WriteString(m[1])
			}
			if f.String() != accesslog.SessionsFormat {
				t.Errorf("README log_format sessions:\n  %s\nthe sessions preset:\n  %s", f.String(), accesslog.SessionsFormat)
			}
		}
	}
	if yamls != 1 || nginx != 1 {
		t.Errorf("found %d YAML and %d nginx blocks in the quick start, want 1 and 1", yamls, nginx)
	}
}

// TestReadmeMetrics: the README's metric table names every metric of the
// exposition golden file, with its type, and nothing else.
func TestReadmeMetrics(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("telemetry", "testdata", "metrics.golden"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (\S+) (\S+)$`).FindAllStringSubmatch(string(b), -1) {
		want[m[1]] = m[2]
	}
	if len(want) < 20 {
		t.Fatalf("only %d metrics in the golden file", len(want))
	}
	got := map[string]string{}
	name := regexp.MustCompile("`((?:web|session_exporter)_[a-z_]+)`")
	for _, line := range strings.Split(section(t, readDoc(t, "README.md"), "Metrics"), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || strings.Contains(cells[1], "---") {
			continue
		}
		for _, m := range name.FindAllStringSubmatch(cells[1], -1) {
			if _, dup := got[m[1]]; dup {
				t.Errorf("README lists %s twice", m[1])
			}
			got[m[1]] = strings.TrimSpace(cells[2])
		}
	}
	for n, typ := range want {
		switch g, ok := got[n]; {
		case !ok:
			t.Errorf("README's metric table lacks %s (%s)", n, typ)
		case g != typ:
			t.Errorf("README says %s is a %s; /metrics says %s", n, g, typ)
		}
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			t.Errorf("README's metric table lists %s, which /metrics does not have", n)
		}
	}
}

// configKeys lists the YAML keys of t, nested keys as "parent.key" and
// the fields of list items as "parent[].key".
func configKeys(t reflect.Type, prefix string) []string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		key := prefix + tag
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct:
			keys = append(keys, configKeys(ft, key+".")...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			keys = append(keys, configKeys(ft.Elem(), key+"[].")...)
		default:
			keys = append(keys, key)
		}
	}
	return keys
}

// TestConfigurationDocKeys: docs/configuration.md documents every key of
// the configuration, in a table row of its own or in its list's row
// ("`goals[]` ... `{name, path, value_param}`"), and no key that does not
// exist.
func TestConfigurationDocKeys(t *testing.T) {
	doc := readDoc(t, filepath.Join("docs", "configuration.md"))
	keys := configKeys(reflect.TypeFor[config.Config](), "")
	if !slices.Contains(keys, "session.timeout") || !slices.Contains(keys, "logs[].path") {
		t.Fatalf("configKeys found %v", keys)
	}
	rows := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_.\\[\\]]+)` \\|(.*)$").FindAllStringSubmatch(doc, -1) {
		rows[m[1]] = m[2]
	}
	for _, k := range keys {
		if _, ok := rows[k]; ok {
			continue
		}
		parent, field, ok := strings.Cut(k, "[].")
		if row, found := rows[parent+"[]"]; ok && found && strings.Contains(row, field) {
			continue
		}
		t.Errorf("docs/configuration.md has no row for %s", k)
	}
	for r := range rows {
		if !slices.ContainsFunc(keys, func(k string) bool { return k == r || strings.HasPrefix(k, r+".") }) {
			t.Errorf("docs/configuration.md documents %s, which is no configuration key", r)
		}
	}
}

// TestDocLinks: every relative link of the README and of docs/ names a file
// of the repository, and none leaves it.
func TestDocLinks(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join("..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, filepath.Join("..", "README.md"))
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	n := 0
	for _, page := range pages {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			n++
			p, err := filepath.Abs(filepath.Join(filepath.Dir(page), target))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(p, root+string(filepath.Separator)) {
				t.Errorf("%s links to %s, outside the repository", page, m[1])
				continue
			}
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s links to %s: %v", page, m[1], err)
				continue
			}
			if _, anchor, ok := strings.Cut(m[1], "#"); ok && strings.HasSuffix(p, ".md") {
				target, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Contains(anchors(string(target)), anchor) {
					t.Errorf("%s links to %s: no such heading", page, m[1])
				}
			}
		}
	}
	if n < 20 {
		t.Errorf("found only %d relative links in README.md and docs/", n)
	}
}

// anchors returns the link anchors of a Markdown page's headings, as the
// usual renderers make them: lower case, punctuation dropped, spaces as
// hyphens.
func anchors(doc string) []string {
	var out []string
	inCode := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
		}
		if inCode || !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteByte('-')
			}
		}
		out = append(out, b.String())
	}
	return out
}
