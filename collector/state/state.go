// Package state saves and loads the exporter's checkpoint: file offsets, open
// sessions, the visitor-key secret and the cumulative metric values, written
// together and atomically so a restart resumes exactly where the last save was.
package state

import (
	"bytes"
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

// Version is the state file format written by this build. Files of another
// version are refused (and moved aside by the caller).
const Version = 1

// Kind marks a file as ours.
const Kind = "session-exporter-state"

// State is everything a restart needs.
type State struct {
	Kind    string    `json:"kind"`
	Version int       `json:"version"`
	SavedAt time.Time `json:"saved_at"`
	// Started is when the counters began (the StartTime of every cumulative
	// series); it survives restarts.
	Started   time.Time          `json:"counters_started"`
	Secret    []byte             `json:"secret"` // visitor-key secret
	Positions []tail.Position    `json:"positions"`
	Sessions  session.Snapshot   `json:"sessions"`
	Metrics   telemetry.Snapshot `json:"metrics"`
}

// Error is returned by Load for a file that exists but cannot be used: not
// JSON, not ours, or of another version.
type Error struct {
	Path string
	Why  string
}

func (e *Error) Error() string { return fmt.Sprintf("state file %s: %s", e.Path, e.Why) }

// Load reads the state at path. A missing file returns an error satisfying
// errors.Is(err, fs.ErrNotExist); a file that is not a usable state returns
// an *Error.
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
	if probe.Version != Version {
		return nil, &Error{Path: path, Why: fmt.Sprintf("format version %d, this build reads version %d", probe.Version, Version)}
	}
	var s State
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, &Error{Path: path, Why: "unreadable: " + err.Error()}
	}
	if len(s.Secret) < 16 {
		return nil, &Error{Path: path, Why: "visitor-key secret missing or too short"}
	}
	return &s, nil
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
// any point leaves either the old state or the new one, never a mix.
func Save(path string, s *State) error {
	s.Kind, s.Version = Kind, Version
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	return WriteAtomic(path, b, 0o600)
}

// WriteAtomic writes data to path through a synced temporary file and a rename.
func WriteAtomic(path string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
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
