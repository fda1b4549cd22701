package collector

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/session-exporter/session-exporter/collector/config"
	"github.com/session-exporter/session-exporter/collector/input"
)

// TestInputsDocExamples: every YAML block of docs/inputs.md is a valid
// configuration, and every CRI and nginx syslog example is read.
func TestInputsDocExamples(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "inputs.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(b), "```")
	yamls, cri, nginx := 0, 0, 0
	for i := 1; i < len(blocks); i += 2 {
		lang, body, _ := strings.Cut(blocks[i], "\n")
		switch {
		case lang == "yaml":
			yamls++
			if _, err := config.Parse([]byte(body)); err != nil {
				t.Errorf("docs/inputs.md YAML block %d: %v\n%s", yamls, err, body)
			}
		case strings.Contains(body, " stdout F "):
			cri++
			var r input.Record
			if !input.CRI([]byte(strings.TrimSpace(body)), &r) || r.Stream != input.Stdout {
				t.Errorf("CRI example not read: %s", body)
			}
		case strings.Contains(body, "access_log syslog:"):
			for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
				nginx++
				addr := strings.TrimPrefix(strings.Fields(l)[1], "syslog:server=")
				addr, _, _ = strings.Cut(addr, ",")
				if !strings.Contains(string(b), "udp://"+addr) && !strings.Contains(string(b), "unixgram://"+strings.TrimPrefix(addr, "unix:")) {
					t.Errorf("nginx sends to %s, which no exporter example listens on", addr)
				}
			}
		}
	}
	if yamls < 4 || cri != 1 || nginx != 2 {
		t.Errorf("found %d YAML, %d CRI and %d nginx examples; the page has more", yamls, cri, nginx)
	}
}
