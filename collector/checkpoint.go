package collector

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/session-exporter/session-exporter/collector/state"
	"github.com/session-exporter/session-exporter/collector/tail"
)

// Checkpoints: the state file live mode loads at start and saves every
// state_interval and at the end (see collector/state for its format).

// loadState reads the state file. A missing file starts fresh; an unusable
// one is reported, moved aside, and the exporter starts fresh. A file that
// exists but cannot be read is an error: starting fresh would overwrite it.
func (c *Collector) loadState() (*state.State, error) {
	path := c.cfg.StateFile
	if path == "" {
		return nil, nil
	}
	st, err := state.Load(path)
	switch {
	case err == nil:
		if st.Migrated != 0 {
			c.log.Info("state file converted from an older format; it is written in the new one at the next save",
				"file", path, "from_version", st.Migrated, "to_version", state.Version)
		}
		return st, nil
	case errors.Is(err, fs.ErrNotExist):
		c.log.Info("no state file yet; starting fresh", "file", path)
		return nil, nil
	}
	var bad *state.Error
	if errors.As(err, &bad) {
		c.moveStateAside(err)
		return nil, nil
	}
	return nil, fmt.Errorf("state file %s cannot be read (fix its permissions, or move it away to start fresh): %w", path, err)
}

// removeStaleState deletes the temporary files a save interrupted by a
// crash left beside the state file.
func (c *Collector) removeStaleState() {
	if c.cfg.StateFile == "" {
		return
	}
	removed, err := state.RemoveStale(c.cfg.StateFile)
	if len(removed) > 0 {
		c.log.Info("removed temporary state files left by an interrupted save", "file", c.cfg.StateFile, "removed", len(removed))
	}
	if err != nil {
		c.log.Warn("temporary state files could not be removed", "file", c.cfg.StateFile, "err", err)
	}
}

// moveStateAside renames an unusable state file so the exporter can start
// fresh without destroying it.
func (c *Collector) moveStateAside(why error) {
	moved, err := state.MoveAside(c.cfg.StateFile, c.opts.Now())
	if err != nil {
		c.log.Error("unusable state file could not be moved aside; starting fresh", "err", why, "move_err", err)
		return
	}
	c.log.Warn("unusable state file moved aside; starting fresh", "err", why, "moved_to", moved)
}

// save writes the checkpoint: positions, sessions, the clock guard and
// counters together. session_exporter_state_saves_total counts attempts and
// session_exporter_state_save_failures_total the failed ones.
func (h *liveHandler) save() error {
	path := h.c.cfg.StateFile
	h.c.metrics.StateSaved() // counted before the snapshot, so the saved count includes this save
	g := h.p.guard.Snapshot()
	var positions []tail.Position
	if h.t != nil {
		positions = h.t.Positions()
	}
	st := &state.State{
		SavedAt:   h.now(),
		Started:   h.started,
		Secret:    h.secret,
		Positions: positions,
		Sessions:  h.sz.Snapshot(),
		Metrics:   h.c.metrics.Snapshot(),
		Guard:     &g,
	}
	if err := state.Save(path, st); err != nil {
		h.c.metrics.StateSaveFailed()
		return err
	}
	return nil
}
