// Package state saves and loads the exporter's checkpoint: file offsets, open
// sessions, the visitor-key secret and the cumulative metric values, written
// together and atomically so a restart resumes exactly where the last save was.
package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/session-exporter/session-exporter/collector/session"
	"github.com/session-exporter/session-exporter/collector/tail"
	"github.com/session-exporter/session-exporter/collector/telemetry"
)

// Version is the state file format written by this build. Version 1 files
// (no checksum; duration sums in nanoseconds in the oldest builds,
// "duration_sum_ns", in milliseconds later, "duration_sum_ms") are read and
// converted; files of any other version are refused (and moved aside by the
// caller).
//
// Version 2 on disk is an envelope: {"kind", "version", "checksum", "state"},
// where checksum is "sha256:" and the hex SHA-256 of the exact bytes of the
// "state" value. A file whose state does not match its checksum (edited by
// hand, even into valid JSON, or damaged) is refused.
const Version = 2

// Kind marks a file as ours.
const Kind = "session-exporter-state"

// State is everything a restart needs.
type State struct {
	Kind    string    `json:"-"` // set by Load and Save
	Version int       `json:"-"` // set by Load and Save
	SavedAt time.Time `json:"saved_at"`
	// Started is when the counters began (the StartTime of every cumulative
	// series); it survives restarts.
	Started   time.Time          `json:"counters_started"`
	Secret    []byte             `json:"secret"` // visitor-key secret
	Positions []tail.Position    `json:"positions"`
	Sessions  session.Snapshot   `json:"sessions"`
	Metrics   telemetry.Snapshot `json:"metrics"`
	// Guard is the clock guard: the newest accepted time and the lines it
	// holds until the next line of their log confirms them. Absent in
	// version 1 files: the guard then starts at the sessions' event clock.
	Guard *session.GuardSnapshot `json:"clock_guard,omitempty"`

	// Migrated is the version the file was converted from, 0 when it was
	// read as it is.
	Migrated int `json:"-"`
}

// envelope is the version 2 file.
type envelope struct {
	Kind     string          `json:"kind"`
	Version  int             `json:"version"`
	Checksum string          `json:"checksum"`
	State    json.RawMessage `json:"state"`
}

// v1 is the version 1 file: the State fields at the top level, no checksum.
type v1 struct {
	Kind      string           `json:"kind"`
	Version   int              `json:"version"`
	SavedAt   time.Time        `json:"saved_at"`
	Started   time.Time        `json:"counters_started"`
	Secret    []byte           `json:"secret"`
	Positions []tail.Position  `json:"positions"`
	Sessions  session.Snapshot `json:"sessions"`
	Metrics   v1Metrics        `json:"metrics"`
}

// v1Metrics is the version 1 metric snapshot, with either duration sum.
type v1Metrics struct {
	telemetry.Snapshot
	DurSumNs []int64 `json:"duration_sum_ns"`
}

// Error is returned by Load for a file that exists but cannot be used: not
// JSON, not ours, of another version, or not matching its checksum.
type Error struct {
	Path string
	Why  string
}

func (e *Error) Error() string { return fmt.Sprintf("state file %s: %s", e.Path, e.Why) }

// Load reads the state at path. A missing file returns an error satisfying
// errors.Is(err, fs.ErrNotExist); a file that is not a usable state returns
// an *Error. A version 1 file is converted (Migrated is then 1).
func Load(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	var probe struct {
		Kind    string `json:"kind"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, &Error{Path: path, Why: "not a state file (corrupt or truncated JSON)"}
	}
	if probe.Kind != Kind {
		return nil, &Error{Path: path, Why: fmt.Sprintf("not a session-exporter state file (kind %q)", probe.Kind)}
	}
	var s *State
	switch probe.Version {
	case 1:
		s, err = loadV1(b)
	case Version:
		s, err = loadV2(b)
	default:
		return nil, &Error{Path: path, Why: fmt.Sprintf("format version %d, this build reads versions 1 and %d", probe.Version, Version)}
	}
	if err != nil {
		return nil, &Error{Path: path, Why: err.Error()}
	}
	if len(s.Secret) < 16 {
		return nil, &Error{Path: path, Why: "visitor-key secret missing or too short"}
	}
	s.Kind, s.Version = Kind, Version
	return s, nil
}

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("unreadable: %w", err)
	}
	return nil
}

func loadV2(b []byte) (*State, error) {
	var env envelope
	if err := decodeStrict(b, &env); err != nil {
		return nil, err
	}
	if len(env.State) == 0 {
		return nil, errors.New("no state in the file")
	}
	if got := checksum(env.State); env.Checksum != got {
		return nil, errors.New("checksum does not match the content (edited by hand or damaged)")
	}
	var s State
	if err := decodeStrict(env.State, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// loadV1 converts a version 1 file: duration sums kept in nanoseconds are
// turned into milliseconds (truncated, as each session's duration is).
func loadV1(b []byte) (*State, error) {
	var old v1
	if err := decodeStrict(b, &old); err != nil {
		return nil, err
	}
	m := old.Metrics.Snapshot
	switch {
	case old.Metrics.DurSumNs != nil && m.DurSum != nil:
		return nil, errors.New("both duration_sum_ns and duration_sum_ms")
	case old.Metrics.DurSumNs != nil:
		m.DurSum = make([]int64, len(old.Metrics.DurSumNs))
		for i, ns := range old.Metrics.DurSumNs {
			m.DurSum[i] = ns / int64(time.Millisecond)
		}
	}
	return &State{
		SavedAt:   old.SavedAt,
		Started:   old.Started,
		Secret:    old.Secret,
		Positions: old.Positions,
		Sessions:  old.Sessions,
		Metrics:   m,
		Migrated:  1,
	}, nil
}

func checksum(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// MoveAside renames an unusable state file out of the way, keeping it for
// inspection, and returns its new name.
func MoveAside(path string, now time.Time) (string, error) {
	dst := fmt.Sprintf("%s.bad-%s", path, now.UTC().Format("20060102T150405Z"))
	if err := os.Rename(path, dst); err != nil {
		return "", fmt.Errorf("move aside unusable state file: %w", err)
	}
	return dst, nil
}

// Save writes s to path atomically: a temporary file in the same directory
// (mode 0600), fsync, rename over path, fsync of the directory. A crash at
// any point leaves either the old state or the new one, never a mix (and
// perhaps a temporary file, which RemoveStale deletes at the next start).
func Save(path string, s *State) error {
	s.Kind, s.Version = Kind, Version
	body, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	b, err := json.Marshal(envelope{Kind: Kind, Version: Version, Checksum: checksum(body), State: body})
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	return writeAtomic(path, b, 0o600)
}

// tempPattern is the name of Save's temporary files beside path.
func tempPattern(path string) string { return "." + filepath.Base(path) + ".tmp-*" }

// RemoveStale deletes the temporary files an interrupted Save left beside
// path (a kill between their creation and the rename) and returns their
// names. Only one exporter may use a state file, so none is being written.
func RemoveStale(path string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(filepath.Dir(path), tempPattern(path)))
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, m := range matches {
		if fi, err := os.Lstat(m); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if err := os.Remove(m); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, m)
	}
	return removed, errors.Join(errs...)
}

// writeAtomic writes data to path through a synced temporary file and a rename.
func writeAtomic(path string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, tempPattern(path))
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("sync state: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("close state: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename state: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync state directory: %w", err)
	}
	defer d.Close()
	if err = d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync state directory: %w", err)
	}
	return nil
}
