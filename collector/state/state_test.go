package state

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/session-exporter/session-exporter/collector/session"
	"github.com/session-exporter/session-exporter/collector/tail"
	"github.com/session-exporter/session-exporter/collector/telemetry"
)

func sample() *State {
	return &State{
		Started:   time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		SavedAt:   time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC),
		Secret:    []byte("0123456789abcdef0123456789abcdef"),
		Positions: []tail.Position{{Path: "/var/log/nginx/access.log", Inode: 42, Fingerprint: 7, FingerprintLen: 256, Offset: 1234}},
		Sessions:  session.Snapshot{Watermark: 99, Started: true, Visitors: []session.VisitorState{{Key: 5, Open: true, Channel: "direct", Device: "mobile"}}},
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state.json")
	s := sample()
	if err := Save(p, s); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	got, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, got); diff != "" {
		t.Errorf("(-saved +loaded):\n%s", diff)
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestLoadRefusesUnusableFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"garbage":   "\x00\x01not json",
		"truncated": `{"kind":"session-exporter-state","version":1,"secret":"MDEy`,
		"foreign":   `{"kind":"something-else","version":1}`,
		"future":    `{"kind":"session-exporter-state","version":99}`,
		"nosecret":  `{"kind":"session-exporter-state","version":1}`,
		"unknown":   `{"kind":"session-exporter-state","version":1,"secret":"MDEyMzQ1Njc4OWFiY2RlZg==","extra":1}`,
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p)
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("Load = %v, want *state.Error", err)
			}
			moved, err := MoveAside(p, time.Date(2026, 11, 2, 3, 4, 5, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(moved, ".bad-20261102T030405Z") {
				t.Errorf("moved to %s", moved)
			}
			if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("original still there: %v", err)
			}
		})
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.json"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
}

func TestSaveReplacesAtomically(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state.json")
	s := sample()
	for i := range 3 {
		s.Positions[0].Offset = int64(i)
		if err := Save(p, s); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if got.Positions[0].Offset != 2 {
		t.Errorf("offset %d, want the last save's 2", got.Positions[0].Offset)
	}
}

func TestSaveIntoMissingDirectoryFails(t *testing.T) {
	if err := Save(filepath.Join(t.TempDir(), "no", "such", "state.json"), sample()); err == nil {
		t.Error("save into a missing directory succeeded")
	}
}

// TestRestoreStateOfEarlierBuild loads a state file written before the
// ai_assistant channel existed (testdata/state-v1-19-channels.json: 19
// channels; two held events carry their channel as the numbers 18,
// unassigned, and 12, email) and checks that every count and session comes
// back under the channel it was saved with.
func TestRestoreStateOfEarlierBuild(t *testing.T) {
	st, err := Load(filepath.Join("testdata", "state-v1-19-channels.json"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(st.Metrics.Channels); n != 19 {
		t.Fatalf("fixture has %d channels, want the 19 of the earlier build", n)
	}
	m := telemetry.New(telemetry.Dims{Goals: []string{"purchase"}, Files: []string{"/var/log/nginx/access.log"}})
	m.Restore(st.Metrics)
	sz, err := session.New(session.DefaultConfig(), m)
	if err != nil {
		t.Fatal(err)
	}
	if err := sz.Restore(st.Sessions); err != nil {
		t.Fatal(err)
	}
	sz.CloseAll() // applies the held events, then closes every session

	type cell struct {
		Channel, Device       string
		Sessions, Conversions uint64
	}
	var got []cell
	for _, r := range m.Rows() {
		got = append(got, cell{r.Channel, r.Device, r.Sessions, r.Conversions})
	}
	want := []cell{
		{"direct", "desktop", 3, 0},
		{"organic_search", "mobile", 2, 0},
		{"email", "tablet", 2, 1}, // one saved, one from the held event valued 12
		{"referral", "desktop", 5, 0},
		{"unassigned", "desktop", 1, 0}, // the held event valued 18
		{"unassigned", "mobile", 1, 0},
		{"unassigned", "other", 5, 0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("restored rows (-want +got):\n%s", diff)
	}
}
