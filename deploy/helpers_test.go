package deploy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// repoRoot is the repository, seen from this package's directory.
const repoRoot = ".."

// yamlDocs returns every non-empty document of a YAML file.
func yamlDocs(t *testing.T, path string) []*yaml.Node {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := parseYAMLDocs(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return docs
}

func parseYAMLDocs(b []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(n.Content) > 0 && !(n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null") {
			docs = append(docs, &n)
		}
	}
}

// decodeYAMLFile decodes a single-document YAML file into v.
func decodeYAMLFile(t *testing.T, path string, v any) {
	t.Helper()
	docs := yamlDocs(t, path)
	if len(docs) != 1 {
		t.Fatalf("%s: %d YAML documents, want 1", path, len(docs))
	}
	if err := docs[0].Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// strictDecode decodes n into v and fails on keys v does not declare: a
// misspelt field would otherwise be dropped without a word, by this test as
// by the tool that reads the file.
func strictDecode(n *yaml.Node, v any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	return dec.Decode(v)
}

// requireTool returns the path of a command. Without it the test is
// skipped, or fails when CI is set and required is true.
func requireTool(t *testing.T, name string, required bool, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if _, ci := os.LookupEnv("CI"); ci && required {
		t.Fatalf("CI is set but %s is not on PATH: install it (%s)", name, install)
	}
	t.Skipf("%s not on PATH (%s); skipping", name, install)
	return ""
}

// run runs a command with a deadline and returns its combined output.
func run(t *testing.T, dir string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// nginxLogFormat returns the string of the named log_format in an nginx
// configuration: its quoted parts joined, as nginx joins them.
func nginxLogFormat(t *testing.T, conf, name string) string {
	t.Helper()
	re := regexp.MustCompile(`(?s)\blog_format\s+` + regexp.QuoteMeta(name) + `\s+((?:'[^']*'\s*)+);`)
	m := re.FindStringSubmatch(conf)
	if m == nil {
		t.Fatalf("no log_format %s in the nginx configuration", name)
	}
	var b strings.Builder
	for _, p := range regexp.MustCompile(`'([^']*)'`).FindAllStringSubmatch(m[1], -1) {
		b.WriteString(p[1])
	}
	return b.String()
}

// nginxAccessLogs returns the (path, format) of every access_log directive
// that writes to a file.
func nginxAccessLogs(conf string) [][2]string {
	var out [][2]string
	for _, m := range regexp.MustCompile(`(?m)^\s*access_log\s+(\S+)(?:\s+(\S+?))?\s*;`).FindAllStringSubmatch(conf, -1) {
		if m[1] == "off" || strings.HasPrefix(m[1], "/dev/") {
			continue
		}
		out = append(out, [2]string{m[1], m[2]})
	}
	return out
}

// sampleLogPath turns an nginx log path with variables into a file name
// nginx could write ($sessions_log_day -> 2026-11-02).
func sampleLogPath(p string) string {
	return regexp.MustCompile(`\$[a-z_]+`).ReplaceAllString(p, "2026-11-02")
}

// underDir reports whether path is dir or inside it.
func underDir(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}
