package session

import (
	"fmt"
	"time"
)

// Guard keeps one line's clock from hurting the others (docs/rules.md rule
// 1). Every parsed line passes it, in input order, before its time reaches
// the event clock:
//
//   - Live (wall clock given), a line dated more than MaxFuture after the
//     wall clock is rejected at once.
//   - A line more than Timeout past the guard's clock (the newest time
//     accepted, or the clock the live exporter advanced while its files were
//     quiet) is held. The next line of the same input decides: when it is
//     also more than Timeout past that old clock and within Timeout of the
//     held line, the jump is confirmed and the held line is applied before
//     it (a site that was down for a day resumes at the new time);
//     otherwise the held line is rejected and the next line is judged on
//     its own. Lines of other inputs are judged against the old clock
//     meanwhile and neither confirm nor deny it; once the clock moves (by
//     their confirmed jump, or the live idle clock), a held line no longer
//     past it by more than Timeout is applied.
//   - The very first line (nothing accepted yet) is held the same way: the
//     next line of its input confirms it when within Timeout of it, or
//     later (the first line was then the earlier of the two). When the next
//     line is more than Timeout earlier, that line starts the clock and the
//     first line becomes a jump from it, which the line after decides. A
//     first line that nothing follows is applied at the end of its input,
//     or when the live exporter is idle.
//   - At the end of a replayed input, a line it still holds is rejected: no
//     line confirmed the jump.
//   - A line far in the past passes: it is only late (rule 6).
//
// A rejected time never reaches the sink's Accept, so it never reaches the
// event clock, the read lag or the saved state. The guard is deterministic
// in the order of its lines, so sequential replay, parallel replay (which
// runs it in input order) and the live exporter agree.
type Guard struct {
	timeout   int64
	maxFuture int64

	newest  int64 // newest accepted time
	floor   int64 // clock advanced by the live exporter while quiet
	started bool
	held    []Held // at most one per input
	tmp     Held   // the held line being settled (a local would escape through the sink)
}

// Held is a line the guard holds until the next line of its input decides.
type Held struct {
	Input int   `json:"input"`
	Old   int64 `json:"old"` // the clock it jumped from; 0 with nothing accepted before it
	First bool  `json:"first,omitempty"`
	Event Event `json:"event"`
}

// GuardSnapshot is a Guard's saved state.
type GuardSnapshot struct {
	Newest  int64  `json:"newest"`
	Floor   int64  `json:"floor,omitempty"`
	Started bool   `json:"started"`
	Held    []Held `json:"held,omitempty"`
}

// GuardSink receives the guard's verdicts, in order. e is only valid during
// the call.
type GuardSink interface {
	Accept(e *Event, input int)
	Reject(e *Event, input int)
}

// NewGuard returns a guard for a session timeout and a live max_future.
func NewGuard(timeout, maxFuture time.Duration) (*Guard, error) {
	if timeout <= 0 {
		return nil, fmt.Errorf("session timeout must be positive, got %s", timeout)
	}
	if maxFuture <= 0 {
		return nil, fmt.Errorf("session max_future must be positive, got %s", maxFuture)
	}
	return &Guard{timeout: int64(timeout), maxFuture: int64(maxFuture)}, nil
}

// Newest returns the newest accepted time and whether a line was accepted.
func (g *Guard) Newest() (int64, bool) { return g.newest, g.started }

// Holding returns the number of lines held.
func (g *Guard) Holding() int { return len(g.held) }

func (g *Guard) clock() int64 { return max(g.newest, g.floor) }

// TooFar reports whether a line dated t is more than MaxFuture past the
// wall clock reading wall (Unix nanoseconds): the lines Line rejects.
func (g *Guard) TooFar(t, wall int64) bool { return t > wall+g.maxFuture }

// Pass is the common case of Line, for a caller that counts what it
// accepts itself: when nothing is held and line e is within Timeout of the
// clock (and, live, not too far past wall), the guard accepts e (its clock
// moves to it) and Pass returns true; the caller then treats e as its sink's
// Accept would. Otherwise Pass changes nothing and returns false, and the
// caller passes e to Line. Pass then Line judges exactly as Line alone.
func (g *Guard) Pass(e *Event, wall int64) bool {
	if len(g.held) != 0 || !g.started || e.Time > max(g.newest, g.floor)+g.timeout ||
		wall != 0 && e.Time > wall+g.maxFuture {
		return false
	}
	if e.Time > g.newest {
		g.newest = e.Time
	}
	return true
}

// Line judges one parsed line of input. wall is the wall clock in Unix
// nanoseconds (live), or 0 in replay, where no line is compared with it.
func (g *Guard) Line(e *Event, input int, wall int64, sink GuardSink) {
	if g.Pass(e, wall) {
		sink.Accept(e, input)
		return
	}
	g.line(e, input, wall, sink)
}

// line is Line past its common case.
func (g *Guard) line(e *Event, input int, wall int64, sink GuardSink) {
	if wall != 0 && g.TooFar(e.Time, wall) {
		sink.Reject(e, input)
		return
	}
	if len(g.held) > 0 {
		if i := g.heldOf(input); i >= 0 {
			g.tmp = g.held[i]
			g.held = append(g.held[:i], g.held[i+1:]...)
			if g.decide(&g.tmp, e, sink) {
				g.recheck(sink)
				return
			}
		}
	}
	g.judge(e, input, sink)
	if len(g.held) > 0 {
		g.recheck(sink)
	}
}

// decide settles held line h by e, the next line of its input. It returns
// true when it has taken e as well.
func (g *Guard) decide(h *Held, e *Event, sink GuardSink) bool {
	d := e.Time - h.Event.Time
	switch {
	case h.First && d >= -g.timeout:
		// Near it, or later: the first line stands.
		g.accept(&h.Event, h.Input, sink)
	case h.First:
		// The next line is far earlier: it starts the clock (at worst it
		// is old), and the first line becomes a jump from it, for the
		// line after to confirm or deny.
		g.accept(e, h.Input, sink)
		h.First, h.Old = false, g.clock()
		g.held = append(g.held, *h)
		return true
	case e.Time > h.Old+g.timeout && d >= -g.timeout && d <= g.timeout:
		// Also past the old clock, and near the held line: the jump is real.
		g.accept(&h.Event, h.Input, sink)
	default:
		sink.Reject(&h.Event, h.Input)
	}
	return false
}

// judge accepts e or holds it.
func (g *Guard) judge(e *Event, input int, sink GuardSink) {
	switch {
	case !g.started:
		g.held = append(g.held, Held{Input: input, First: true, Event: *e})
	case e.Time > g.clock()+g.timeout:
		g.held = append(g.held, Held{Input: input, Old: g.clock(), Event: *e})
	default:
		g.accept(e, input, sink)
	}
}

func (g *Guard) accept(e *Event, input int, sink GuardSink) {
	if !g.started || e.Time > g.newest {
		g.newest = e.Time
	}
	g.started = true
	sink.Accept(e, input)
}

// recheck applies held lines the clock has caught up with, and turns first
// lines held before anything was accepted into ordinary jumps.
func (g *Guard) recheck(sink GuardSink) {
	if !g.started {
		return
	}
	for i := 0; i < len(g.held); {
		h := &g.held[i]
		if h.Event.Time <= g.clock()+g.timeout {
			g.tmp = *h
			g.held = append(g.held[:i], g.held[i+1:]...)
			g.accept(&g.tmp.Event, g.tmp.Input, sink)
			i = 0 // the clock may have moved: look again from the start
			continue
		}
		if h.First {
			h.First, h.Old = false, g.clock()
		}
		i++
	}
}

// Advance moves the guard's clock to t (if later) without a line, as the
// live exporter's clock does while its files are quiet; held lines it has
// caught up with are applied.
func (g *Guard) Advance(t int64, sink GuardSink) {
	if !g.started {
		return
	}
	if t > g.floor {
		g.floor = t
	}
	g.recheck(sink)
}

// Idle applies a first line nothing has followed yet (the live exporter's
// files are all read to their end): no line contradicts it.
func (g *Guard) Idle(sink GuardSink) {
	for i := 0; i < len(g.held); i++ {
		if h := &g.held[i]; h.First && !g.started {
			g.tmp = *h
			g.held = append(g.held[:i], g.held[i+1:]...)
			g.accept(&g.tmp.Event, g.tmp.Input, sink)
			g.recheck(sink)
			return
		}
	}
}

// End settles the line input still holds at the end of a replayed input: a
// first line is applied, a jump nothing confirmed is rejected.
func (g *Guard) End(input int, sink GuardSink) {
	i := g.heldOf(input)
	if i < 0 {
		return
	}
	g.tmp = g.held[i]
	g.held = append(g.held[:i], g.held[i+1:]...)
	if g.tmp.First {
		g.accept(&g.tmp.Event, g.tmp.Input, sink)
		g.recheck(sink)
		return
	}
	sink.Reject(&g.tmp.Event, g.tmp.Input)
}

func (g *Guard) heldOf(input int) int {
	for i := range g.held {
		if g.held[i].Input == input {
			return i
		}
	}
	return -1
}

// Snapshot returns the guard's state.
func (g *Guard) Snapshot() GuardSnapshot {
	return GuardSnapshot{Newest: g.newest, Floor: g.floor, Started: g.started, Held: append([]Held(nil), g.held...)}
}

// Restore replaces the guard's state with s. Held lines of inputs at or
// past inputs (a configuration with fewer logs) are dropped and returned.
func (g *Guard) Restore(s GuardSnapshot, inputs int) (dropped int) {
	g.newest, g.floor, g.started = s.Newest, s.Floor, s.Started
	g.held = g.held[:0]
	for _, h := range s.Held {
		if h.Input < 0 || h.Input >= inputs || g.heldOf(h.Input) >= 0 {
			dropped++
			continue
		}
		g.held = append(g.held, h)
	}
	return dropped
}

// RestoreClock starts the guard at an event clock saved without a guard
// (an older state file): t is the newest time applied, ok whether any was.
func (g *Guard) RestoreClock(t int64, ok bool) {
	g.newest, g.floor, g.started = t, 0, ok
	g.held = g.held[:0]
}
