package classify

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusStats judges one corpus file of testdata/ua (see its README).
type corpusStats struct {
	bots, botsFound     int
	humans, humansAsBot int
	byClass, rightClass [NumDevices]int
}

func judgeCorpus(t *testing.T, name string) corpusStats {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "ua", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, err := engine()
	if err != nil {
		t.Fatal(err)
	}
	var st corpusStats
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		verdict, ua, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("%s: line without a tab: %q", name, sc.Text())
		}
		bot, dev := e.classify([]byte(ua))
		switch verdict {
		case "bot":
			st.bots++
			if bot {
				st.botsFound++
			}
			continue
		case "human":
			st.humans++
			if bot {
				st.humansAsBot++
			}
			continue
		}
		want, ok := ParseDevice(verdict)
		if !ok {
			t.Fatalf("%s: unknown verdict %q", name, verdict)
		}
		st.humans++
		if bot {
			st.humansAsBot++
			continue
		}
		st.byClass[want]++
		if dev == want {
			st.rightClass[want]++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if st.bots+st.humans == 0 {
		t.Fatalf("%s is empty", name)
	}
	return st
}

func rate(a, b int) float64 { return float64(a) / float64(b) }

// TestCorpusBots holds the bot rules to the targets of
// docs/classification.md on public crawler lists and human agents
// (testdata/ua/README.md says where each file comes from). go run ./tools/uaeval prints the same figures.
func TestCorpusBots(t *testing.T) {
	recall := []struct {
		file string
		min  float64
	}{
		{"crawler-user-agents.tsv", 0.97},
		{"device-detector-bots.tsv", 0.95},
		{"isbot-crawlers.tsv", 0.95},
		{"isbot-downloaded.tsv", 0.95},
	}
	for _, r := range recall {
		st := judgeCorpus(t, r.file)
		got := rate(st.botsFound, st.bots)
		t.Logf("%s: bot recall %d/%d = %.2f%%", r.file, st.botsFound, st.bots, 100*got)
		if got < r.min {
			t.Errorf("%s: bot recall %.2f%%, want at least %.0f%%", r.file, 100*got, 100*r.min)
		}
	}
	humans := []struct {
		file string
		max  float64
	}{
		{"device-detector-browsers.tsv", 0.002},
		{"isbot-browsers.tsv", 0.01},
		{"user-agents.tsv", 0},
	}
	for _, h := range humans {
		st := judgeCorpus(t, h.file)
		got := rate(st.humansAsBot, st.humans)
		t.Logf("%s: humans called bots %d/%d = %.2f%%", h.file, st.humansAsBot, st.humans, 100*got)
		if got > h.max {
			t.Errorf("%s: %.2f%% of humans called bots, want at most %.1f%%", h.file, 100*got, 100*h.max)
		}
	}
}

// TestCorpusDevices holds the device rules to per-class recall floors:
// the targets of docs/classification.md.
func TestCorpusDevices(t *testing.T) {
	tests := []struct {
		file string
		min  [NumDevices]float64
	}{
		{"device-detector-browsers.tsv", [NumDevices]float64{Desktop: 0.90, Mobile: 0.95, Tablet: 0.90, OtherDevice: 0.75}},
		{"user-agents.tsv", [NumDevices]float64{Desktop: 0.995, Mobile: 0.995, Tablet: 0.995}},
	}
	for _, tt := range tests {
		st := judgeCorpus(t, tt.file)
		for d := 0; d < NumDevices; d++ {
			if tt.min[d] == 0 {
				continue
			}
			if st.byClass[d] == 0 {
				t.Errorf("%s: no %s agents", tt.file, Device(d))
				continue
			}
			got := rate(st.rightClass[d], st.byClass[d])
			t.Logf("%s: %s %d/%d = %.2f%%", tt.file, Device(d), st.rightClass[d], st.byClass[d], 100*got)
			if got < tt.min[d] {
				t.Errorf("%s: %s recall %.2f%%, want at least %.1f%%", tt.file, Device(d), 100*got, 100*tt.min[d])
			}
		}
	}
}
