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
		Guard:     &session.GuardSnapshot{Newest: 99, Started: true, Held: []session.Held{{Input: 0, Old: 99, Event: session.Event{Time: 9e18, Visitor: 5}}}},
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
		"garbage":        "\x00\x01not json",
		"truncated":      `{"kind":"session-exporter-state","version":1,"secret":"MDEy`,
		"foreign":        `{"kind":"something-else","version":1}`,
		"future":         `{"kind":"session-exporter-state","version":99}`,
		"nosecret":       `{"kind":"session-exporter-state","version":1}`,
		"unknown":        `{"kind":"session-exporter-state","version":1,"secret":"MDEyMzQ1Njc4OWFiY2RlZg==","extra":1}`,
		"both sums":      `{"kind":"session-exporter-state","version":1,"secret":"MDEyMzQ1Njc4OWFiY2RlZg==","metrics":{"duration_sum_ns":[1],"duration_sum_ms":[1]}}`,
		"v2 no state":    `{"kind":"session-exporter-state","version":2,"checksum":"sha256:00"}`,
		"v2 no checksum": `{"kind":"session-exporter-state","version":2,"state":{"secret":"MDEyMzQ1Njc4OWFiY2RlZg=="}}`,
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

// TestEditedStateIsDetected: a saved file edited into other valid JSON (an
// offset changed by hand) no longer matches its checksum and is refused.
func TestEditedStateIsDetected(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state.json")
	if err := Save(p, sample()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(b), `"offset":1234`, `"offset":1235`, 1)
	if edited == string(b) {
		t.Fatalf("offset not found in %s", b)
	}
	if err := os.WriteFile(p, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(p)
	var se *Error
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "checksum does not match") {
		t.Errorf("Load(edited) = %v, want a checksum *state.Error", err)
	}
}

// TestLoadVersion1 converts both version 1 layouts: duration sums in
// nanoseconds (the oldest builds) and in milliseconds.
func TestLoadVersion1(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		metrics string
		want    []int64
	}{
		// 300 s and 61.5 s of sessions: 300000 ms and 61500 ms.
		"ns": {`{"sessions":[2,1],"duration_sum_ns":[300000000000,61500000000],"duration_count":[2,1]}`, []int64{300000, 61500}},
		"ms": {`{"sessions":[2,1],"duration_sum_ms":[300000,61500],"duration_count":[2,1]}`, []int64{300000, 61500}},
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name+".json")
			doc := `{"kind":"session-exporter-state","version":1,"saved_at":"2026-11-02T00:00:00Z",` +
				`"counters_started":"2026-11-01T00:00:00Z","secret":"MDEyMzQ1Njc4OWFiY2RlZg==",` +
				`"positions":[{"path":"/var/log/nginx/access.log","dev":1,"inode":42,"fingerprint":7,"fingerprint_len":256,"offset":1234}],` +
				`"sessions":{"watermark":99,"started":true,"seq":3,"visitors":[{"k":5,"open":true,"first":90,"last":99,"pv":2,"ch":"direct","dev":"mobile","engaged":true}],"pending":null},` +
				`"metrics":` + tc.metrics + `}`
			if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Load(p)
			if err != nil {
				t.Fatal(err)
			}
			if s.Migrated != 1 || s.Version != Version {
				t.Errorf("migrated %d version %d, want 1 and %d", s.Migrated, s.Version, Version)
			}
			if diff := cmp.Diff(tc.want, s.Metrics.DurSum); diff != "" {
				t.Errorf("duration sums (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]uint64{2, 1}, s.Metrics.Sessions); diff != "" {
				t.Errorf("sessions (-want +got):\n%s", diff)
			}
			if len(s.Sessions.Visitors) != 1 || !s.Sessions.Visitors[0].Open || s.Sessions.Watermark != 99 || s.Positions[0].Offset != 1234 {
				t.Errorf("sessions or positions not kept: %+v %+v", s.Sessions, s.Positions)
			}
			if s.Guard != nil {
				t.Errorf("version 1 has no clock guard, got %+v", s.Guard)
			}
			// Saved again, it is a version 2 file that loads as it is.
			if err := Save(p, s); err != nil {
				t.Fatal(err)
			}
			again, err := Load(p)
			if err != nil {
				t.Fatal(err)
			}
			if again.Migrated != 0 || cmp.Diff(s.Metrics, again.Metrics) != "" {
				t.Errorf("resaved: migrated %d, metrics differ: %s", again.Migrated, cmp.Diff(s.Metrics, again.Metrics))
			}
		})
	}
}

// TestRemoveStale deletes what an interrupted save leaves, and nothing else.
func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	if err := Save(p, sample()); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{".state.json.tmp-123", ".state.json.tmp-456", ".other.json.tmp-1", "state.json.bad-20261102T030405Z"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("{"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := RemoveStale(p)
	if err != nil || len(removed) != 2 {
		t.Fatalf("removed %v, %v; want the two temporary files", removed, err)
	}
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if diff := cmp.Diff([]string{".other.json.tmp-1", "state.json", "state.json.bad-20261102T030405Z"}, left); diff != "" {
		t.Errorf("left (-want +got):\n%s", diff)
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
