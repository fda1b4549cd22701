//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// productionValues fill the testdata placeholders for docs/running.md: the
// guide shows these files exactly as the end-to-end test runs them, with
// Debian's paths, default ports and the default session settings instead
// of the test's temporary directories, free ports and short timeouts.
var productionValues = map[string]string{
	"@NGINX_LOG_DIR@":     "/var/log/nginx",
	"@CADDY_LOG_DIR@":     "/var/log/caddy",
	"@EXPORTER_ADDR@":     "127.0.0.1:9464",
	"@START_AT@":          "end",
	"@TRUSTED_PROXIES@":   "",
	"@SESSION_TIMEOUT@":   "30m",
	"@SPLIT_AT_MIDNIGHT@": "true",
	"@MAX_DELAY@":         "5s",
	"@STATE_DIR@":         "/var/lib/session-exporter",
	"@SCRAPE_INTERVAL@":   "15s",
	"@RULES_DIR@":         "/etc/prometheus/session-exporter",
}

// docSnippets are the testdata files docs/running.md quotes in full.
var docSnippets = []string{
	"nginx-sessions.conf",
	"caddy-log.caddyfile",
	"session-exporter.yml",
	"prometheus.yml",
}

// TestRunningDocInSync checks that docs/running.md quotes every snippet
// file verbatim (with productionValues), so the guide shows what this test
// runs.
func TestRunningDocInSync(t *testing.T) {
	b, err := os.ReadFile(runningDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, name := range docSnippets {
		s, err := render(name, productionValues)
		if err != nil {
			t.Error(err)
			continue
		}
		if !strings.Contains(doc, "\n"+s+"```\n") {
			t.Errorf("%s does not quote testdata/%s as a whole code block; it should contain:\n%s", runningDoc, name, s)
		}
	}
	// The exporter configuration in the guide must be valid as written.
	s, err := render("session-exporter.yml", productionValues)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(s), &cfg); err != nil {
		t.Errorf("session-exporter.yml with production values is not YAML: %v", err)
	}
}

// quoted matches the single-quoted parts of an nginx directive.
var quoted = regexp.MustCompile(`'([^']*)'`)

// TestLogFormatsAgree checks that the exporter's format for the nginx log
// is the text of the log_format nginx writes with.
func TestLogFormatsAgree(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "nginx-sessions.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := string(b)
	i := strings.Index(conf, "log_format sessions ")
	j := strings.Index(conf[max(i, 0):], ";")
	if i < 0 || j < 0 {
		t.Fatal("testdata/nginx-sessions.conf: no log_format sessions ...;")
	}
	var nginxFormat strings.Builder
	for _, m := range quoted.FindAllStringSubmatch(conf[i:i+j], -1) {
		nginxFormat.WriteString(m[1])
	}
	s, err := render("session-exporter.yml", productionValues)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Logs []struct {
			Path, Format string
		}
	}
	if err := yaml.Unmarshal([]byte(s), &cfg); err != nil {
		t.Fatal(err)
	}
	for _, l := range cfg.Logs {
		if l.Path == "/var/log/nginx/sessions.log" {
			if l.Format != nginxFormat.String() {
				t.Errorf("format of %s:\n  %s\nnginx log_format sessions:\n  %s", l.Path, l.Format, nginxFormat.String())
			}
			return
		}
	}
	t.Error("session-exporter.yml has no log /var/log/nginx/sessions.log")
}
