package collector

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestLiveFileAndStdinTogether: with standard input beside a followed
// file, the tailer's lines and standard input's arrive on two goroutines
// and the handler serialises them (the race detector checks it); every
// line of both is counted once.
func TestLiveFileAndStdinTogether(t *testing.T) {
	fileLines, stdinLines := genLines(51, 3000), genLines(52, 3000)
	logPath := filepath.Join(t.TempDir(), "access.log")
	if err := os.WriteFile(logPath, join(fileLines), 0o644); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf("logs: [{path: %q, format: combined}, {path: \"-\", format: combined}]\nown_hosts: [www.example.com]\nstart_at: beginning\npoll_interval: 1h\n", logPath)
	clock := &fakeClock{t: time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)}
	c := newLiveCollector(t, yaml, clock)
	r := runWithStdin(t, c, clock, bytes.NewReader(join(stdinLines)))
	want := uint64(len(fileLines) + len(stdinLines))
	r.waitLines(want)
	r.step()
	read, _ := c.Metrics().LinesRead()
	r.shutdown()
	if read != want {
		t.Errorf("%d lines read, want %d", read, want)
	}
}
