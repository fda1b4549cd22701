//go:build e2e

package e2e

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestPromtool checks and unit-tests the rules with the promtool of the
// Prometheus the end-to-end test runs. It runs beside TestEndToEnd.
func TestPromtool(t *testing.T) {
	t.Parallel()
	promtool := requireTool(t, "promtool")
	for _, args := range [][]string{
		{"check", "rules", filepath.Join(dashboardsDir, "alerts.yml")},
		{"test", "rules", filepath.Join(dashboardsDir, "alerts_test.yml")},
	} {
		began := time.Now()
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
			continue
		}
		t.Logf("promtool %v: ok in %v", args, time.Since(began).Round(time.Millisecond))
	}
}
