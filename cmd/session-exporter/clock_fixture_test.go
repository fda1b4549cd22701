package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// The state upgrade fixtures (testdata/state-v1-*.json) were written by
// earlier builds of the exporter following the first clockUpgradeSplit lines
// of genLog(clockUpgradeSeed, clockUpgradeLines) under clockUpgradeConfig:
//
//	state-v1-ms.json  built from a94e826 (version 1, duration sums in ms)
//	state-v1-ns.json  built from b928249 (version 1, duration sums in ns)
//
// To write one again, build the old exporter and run
//
//	CLOCK_FIXTURE_BIN=/path/to/old/session-exporter CLOCK_FIXTURE_OUT=testdata/state-v1-ms.json \
//	  go test -run TestClockWriteUpgradeFixture ./cmd/session-exporter/
const (
	clockUpgradeSeed  = 41
	clockUpgradeLines = 5000
	clockUpgradeSplit = 2500
)

func clockUpgradeConfig(logPath, statePath string) string {
	return fmt.Sprintf(`
logs: [{path: %q, format: combined}]
start_at: beginning
own_hosts: [www.example.com]
goals: [{name: purchase, path: ^/checkout/thank-you}]
state_file: %q
state_interval: 50ms
poll_interval: 100ms
`, logPath, statePath)
}

func TestClockWriteUpgradeFixture(t *testing.T) {
	bin, out := os.Getenv("CLOCK_FIXTURE_BIN"), os.Getenv("CLOCK_FIXTURE_OUT")
	if bin == "" || out == "" {
		t.Skip("writes an upgrade fixture with an old build: set CLOCK_FIXTURE_BIN and CLOCK_FIXTURE_OUT")
	}
	dir := t.TempDir()
	_, lines := genLog(t, dir, clockUpgradeSeed, clockUpgradeLines)
	logPath := filepath.Join(dir, "access.log")
	statePath := filepath.Join(dir, "state.json")
	cfg := writeFile(t, filepath.Join(dir, "c.yaml"), clockUpgradeConfig(logPath, statePath))
	appendLines(t, logPath, lines[:clockUpgradeSplit])
	p := startExporter(t, bin, cfg, freeAddr(t))
	p.waitLines(t, clockUpgradeSplit)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("old exporter: %v\n%s", err, p.stderr)
	}
	b, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
