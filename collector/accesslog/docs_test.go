package accesslog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsFormatSamples parses every sample in docs/formats.md (a code block
// named after its preset) with that preset and with auto, and checks that
// every preset has one.
func TestDocsFormatSamples(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "formats.md"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	blocks := strings.Split(string(b), "```")
	for i := 1; i < len(blocks); i += 2 {
		name, body, _ := strings.Cut(blocks[i], "\n")
		if name == "" {
			continue // not a sample
		}
		seen[name] = true
		for _, format := range []string{name, "auto"} {
			p := mustNew(t, format)
			n := 0
			for _, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
				var r Request
				err := p.Parse([]byte(line), &r)
				if err == ErrComment {
					continue
				}
				if err != nil {
					t.Errorf("docs sample for %s, parsed as %s: %v: %s", name, format, err, line)
				}
				n++
			}
			if n == 0 {
				t.Errorf("docs sample for %s has no request line", name)
			}
		}
	}
	for _, name := range presets {
		if name != "auto" && !seen[name] {
			t.Errorf("docs/formats.md has no sample for preset %s", name)
		}
	}
}
