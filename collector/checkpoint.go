package collector

import (
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/session-exporter/session-exporter/collector/session"
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
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the message names the path once
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

// startState removes what an interrupted save left, loads the state file,
// repairs an event clock a wild line moved, and checks that its sessions
// can be restored; an unusable state is moved aside (nil: start fresh).
func (c *Collector) startState() (*state.State, error) {
	c.removeStaleState()
	st, err := c.loadState()
	if err != nil {
		return nil, err
	}
	if st != nil && !st.SavedAt.IsZero() {
		// An event clock past the wall clock of the save: a wild line
		// moved it, in a build without the clock guard. Set it back.
		// Live, no accepted line is more than max_future past the wall
		// clock, and the idle clock adds at most max_delay to it.
		limit := st.SavedAt.Add(c.cfg.Session.MaxFuture.D() + c.cfg.Session.MaxDelay.D()).UnixNano()
		wild := st.Sessions.Watermark
		if v, e, ok := st.Sessions.DropFuture(limit); ok {
			c.log.Warn("saved event clock was past the wall clock of the save; set back to the newest real time",
				"saved_clock", time.Unix(0, wild).UTC(), "clock", time.Unix(0, st.Sessions.Watermark).UTC(),
				"visitors_dropped", v, "held_events_dropped", e)
			st.Guard = nil // restarted from the repaired clock
		}
	}
	if st != nil {
		// Sessions, counters and offsets are restored together or not at
		// all: a partial restore would count lines twice or never close
		// sessions.
		probe, err := session.New(c.sessionConfig(), c.metrics)
		if err == nil {
			err = probe.Restore(st.Sessions)
		}
		if err != nil {
			c.log.Warn("saved sessions cannot be restored; starting fresh", "err", err)
			c.moveStateAside(err)
			st = nil
		}
	}
	return st, nil
}

// resume restores st's sessions and clock guard into p and returns the
// saved read positions (nothing without a state).
func (c *Collector) resume(p *pipeline, st *state.State) ([]tail.Position, error) {
	sz := p.sessions
	var positions []tail.Position
	if st != nil {
		if err := sz.Restore(st.Sessions); err != nil {
			return nil, fmt.Errorf("restore sessions: %w", err) // restored once above: cannot happen
		}
		if err := sz.RestoreWarning(); err != nil {
			c.log.Warn("past visitors not restored", "err", err)
		}
		if st.Guard != nil {
			if n := p.guard.Restore(*st.Guard, len(c.cfg.Logs)); n > 0 {
				c.log.Warn("held lines of logs no longer configured dropped", "lines", n)
			}
		} else {
			p.guard.RestoreClock(sz.Watermark())
		}
		positions = st.Positions
		c.log.Info("resuming from state", "file", c.cfg.StateFile, "saved_at", st.SavedAt,
			"visitors", sz.Visitors(), "files", len(positions), "held_lines", p.guard.Holding())
	}
	return positions, nil
}
