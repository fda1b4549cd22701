package session

import (
	"fmt"

	"github.com/session-exporter/session-exporter/collector/classify"
)

// Snapshot is the sessionizer's whole state: open sessions, pending redirect
// sources, held events and the event clock. It holds visitor keys (keyed
// hashes), never addresses or user agents.
type Snapshot struct {
	Watermark int64          `json:"watermark"`
	Started   bool           `json:"started"`
	Seq       uint64         `json:"seq"`
	Visitors  []VisitorState `json:"visitors"` // least recently active first
	Pending   []Event        `json:"pending"`  // held events, any order
	// Returning is the memory of past visitors; absent when none is kept
	// (and in files of earlier builds).
	Returning *ReturningSnapshot `json:"returning,omitempty"`
}

// VisitorState is one visitor in a Snapshot.
type VisitorState struct {
	Key         uint64 `json:"k"`
	Open        bool   `json:"open,omitempty"`
	First       int64  `json:"first,omitempty"`
	Last        int64  `json:"last,omitempty"`
	Pageviews   uint32 `json:"pv,omitempty"`
	Day         int32  `json:"day,omitempty"` // calendar day of the session's first pageview
	Goals       uint64 `json:"goals,omitempty"`
	Source      uint64 `json:"src,omitempty"`
	Channel     string `json:"ch,omitempty"`
	Device      string `json:"dev,omitempty"`
	Site        uint8  `json:"site,omitempty"`
	Landing     uint8  `json:"landing,omitempty"`
	Returning   bool   `json:"returning,omitempty"`
	Engaged     bool   `json:"engaged,omitempty"`
	Carry       bool   `json:"carry,omitempty"`
	CarrySource uint64 `json:"carry_src,omitempty"`
	CarryCh     string `json:"carry_ch,omitempty"`
	CarryUntil  int64  `json:"carry_until,omitempty"`
}

// Snapshot returns a copy of the state.
func (s *Sessionizer) Snapshot() Snapshot {
	snap := Snapshot{
		Watermark: s.watermark,
		Started:   s.started,
		Seq:       s.seq,
		Visitors:  make([]VisitorState, 0, s.t.n),
		Pending:   s.pending.events(),
	}
	for i := s.head; i != none; i = s.t.rec(i).next {
		v := s.t.rec(i)
		c, carry := s.pendingCarry(i, v)
		vs := VisitorState{Key: v.key, Open: v.open(), Carry: carry}
		if v.open() {
			vs.First, vs.Last, vs.Pageviews, vs.Goals, vs.Day = v.first, v.last, v.pageviews, v.goals, v.day
			vs.Source, vs.Engaged, vs.Site = v.source, v.engaged(), v.site
			vs.Landing, vs.Returning = v.landing, v.flags&flagReturning != 0
			vs.Channel, vs.Device = v.channel.String(), v.device.String()
		}
		if carry {
			vs.CarrySource, vs.CarryCh, vs.CarryUntil = c.src, c.ch.String(), c.until
		}
		snap.Visitors = append(snap.Visitors, vs)
	}
	if s.returning != nil {
		snap.Returning = s.returning.Snapshot()
	}
	return snap
}

// Restore replaces the state with snap. Sessions restored are not reported
// to the sink again: their start was counted before the snapshot. Visitors
// beyond MaxVisitors (a smaller limit than when saved) are dropped, least
// recently active first, and their sessions reported closed as evicted.
func (s *Sessionizer) Restore(snap Snapshot) error {
	fresh, err := New(s.cfg, s.sink)
	if err != nil {
		return err
	}
	*s = *fresh
	s.watermark, s.started, s.seq = snap.Watermark, snap.Started, snap.Seq
	for _, vs := range snap.Visitors {
		if s.t.find(vs.Key) != none {
			return fmt.Errorf("restore sessions: visitor %x appears twice", vs.Key)
		}
		i := s.lookup(vs.Key)
		v := s.t.rec(i)
		if vs.Open {
			ch, ok1 := classify.ParseChannel(vs.Channel)
			dev, ok2 := classify.ParseDevice(vs.Device)
			if !ok1 || !ok2 {
				return fmt.Errorf("restore sessions: unknown channel %q or device %q", vs.Channel, vs.Device)
			}
			v.flags |= flagOpen
			v.first, v.last, v.pageviews, v.goals = vs.First, vs.Last, vs.Pageviews, vs.Goals
			v.source = vs.Source
			v.site, v.channel, v.device, v.landing = vs.Site, ch, dev, vs.Landing
			if vs.Returning {
				v.flags |= flagReturning
			}
			v.day = vs.Day
			if v.day == 0 {
				v.day = s.days.day(vs.First)
			}
		}
		var c carryOver
		if vs.Carry {
			ch, ok := classify.ParseChannel(vs.CarryCh)
			if !ok {
				return fmt.Errorf("restore sessions: unknown channel %q", vs.CarryCh)
			}
			c = carryOver{src: vs.CarrySource, ch: ch, until: vs.CarryUntil}
			if c.src != 0 {
				s.setCarry(i, v, c)
			}
		}
		// Visitors come least recently active first: appending keeps the
		// list sorted. An open session's activity is its last pageview.
		if !vs.Open {
			v.last = c.until - int64(s.cfg.CarryOver)
		}
	}
	for _, e := range snap.Pending {
		s.pending.push(e)
	}
	if snap.Returning != nil && s.returning != nil {
		// Not fatal: past visitors are only forgotten, the counts stay.
		s.warning = s.returning.Restore(snap.Returning)
	}
	return nil
}

// DropFuture repairs a snapshot whose event clock a wild line moved past
// limit (saved by a build without the clock guard): held events after
// limit are dropped, sessions that began after it are dropped (their start
// was counted; they are never closed), sessions that a later time only
// extended are cut back to their first pageview, and the event clock is
// set back to the newest time left. It returns how many visitors and held
// events it dropped, and whether anything changed.
func (snap *Snapshot) DropFuture(limit int64) (visitors, pending int, changed bool) {
	if !snap.Started || snap.Watermark <= limit {
		return 0, 0, false
	}
	var newest int64
	kept := snap.Visitors[:0]
	for _, v := range snap.Visitors {
		if v.Carry && v.CarryUntil > limit {
			v.Carry, v.CarrySource, v.CarryCh, v.CarryUntil = false, 0, "", 0
		}
		if v.Open && v.First > limit {
			visitors++
			continue
		}
		if v.Open && v.Last > limit {
			v.Last = v.First
		}
		if !v.Open && !v.Carry {
			visitors++
			continue
		}
		newest = max(newest, v.Last, v.CarryUntil)
		kept = append(kept, v)
	}
	snap.Visitors = kept
	held := snap.Pending[:0]
	for _, e := range snap.Pending {
		if e.Time > limit {
			pending++
			continue
		}
		newest = max(newest, e.Time)
		held = append(held, e)
	}
	snap.Pending = held
	snap.Watermark = min(newest, limit)
	if newest == 0 {
		snap.Watermark = limit
	}
	return visitors, pending, true
}

// RestoreWarning reports what the last Restore could not bring back (the
// memory of past visitors, saved at another capacity), or nil.
func (s *Sessionizer) RestoreWarning() error { return s.warning }
