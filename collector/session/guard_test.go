package session

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// verdicts records a guard's decisions as "+HH:MM" (accepted) and "-HH:MM"
// (rejected), with the input when it is not 0.
type verdicts []string

func (v *verdicts) note(sign string, e *Event, input int) {
	s := sign + time.Unix(0, e.Time).UTC().Format("01-02T15:04")
	if input != 0 {
		s += fmt.Sprintf("@%d", input)
	}
	*v = append(*v, s)
}
func (v *verdicts) Accept(e *Event, input int) { v.note("+", e, input) }
func (v *verdicts) Reject(e *Event, input int) { v.note("-", e, input) }

func guardAt(s string) int64 {
	t, err := time.Parse("2006-01-02T15:04", s)
	if err != nil {
		panic(err)
	}
	return t.UnixNano()
}

func newTestGuard(t *testing.T) *Guard {
	t.Helper()
	g, err := NewGuard(30*time.Minute, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// feed passes lines "input:2006-01-02T15:04" (input optional) through g in
// replay and ends every input.
func feed(g *Guard, wall int64, lines ...string) string {
	var v verdicts
	inputs := map[int]bool{}
	for _, l := range lines {
		input := 0
		if i := strings.IndexByte(l, ':'); i == 1 {
			input = int(l[0] - '0')
			l = l[2:]
		}
		inputs[input] = true
		e := Event{Time: guardAt(l)}
		g.Line(&e, input, wall, &v)
	}
	if wall == 0 {
		for i := range 10 {
			if inputs[i] {
				g.End(i, &v)
			}
		}
	} else {
		g.Idle(&v)
	}
	return strings.Join(v, " ")
}

func TestGuardReplay(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		want  string
	}{
		{"steady", []string{"2026-11-02T10:00", "2026-11-02T10:05", "2026-11-02T10:10"},
			"+11-02T10:00 +11-02T10:05 +11-02T10:10"},
		{"a 2099 line is rejected once the next line returns",
			[]string{"2026-11-02T10:00", "2026-11-02T10:05", "2099-01-01T00:00", "2026-11-02T10:06"},
			"+11-02T10:00 +11-02T10:05 -01-01T00:00 +11-02T10:06"},
		{"one day ahead is rejected",
			[]string{"2026-11-02T10:00", "2026-11-03T10:01", "2026-11-02T10:02"},
			"+11-02T10:00 -11-03T10:01 +11-02T10:02"},
		{"the current time labelled -12:00 is twelve hours ahead: rejected",
			[]string{"2026-11-02T10:00", "2026-11-02T22:01", "2026-11-02T10:02"},
			"+11-02T10:00 -11-02T22:01 +11-02T10:02"},
		{"a site down for a day resumes at the new time",
			[]string{"2026-11-02T10:00", "2026-11-02T10:05", "2026-11-03T10:00", "2026-11-03T10:02", "2026-11-03T10:03"},
			"+11-02T10:00 +11-02T10:05 +11-03T10:00 +11-03T10:02 +11-03T10:03"},
		{"a jump within the timeout is no jump",
			[]string{"2026-11-02T10:00", "2026-11-02T10:30"},
			"+11-02T10:00 +11-02T10:30"},
		{"a line far in the past passes (it is only late)",
			[]string{"2026-11-02T10:00", "2026-11-02T10:01", "2026-10-01T10:00", "2026-11-02T10:02"},
			"+11-02T10:00 +11-02T10:01 +10-01T10:00 +11-02T10:02"},
		{"a first line followed by a far older one: the older starts the clock, the next line confirms the first",
			[]string{"2026-11-02T10:00", "2026-10-01T10:00", "2026-11-02T10:01"},
			"+10-01T10:00 +11-02T10:00 +11-02T10:01"},
		{"a jump confirmed by a line that goes on past it",
			[]string{"2026-11-02T10:00", "2026-11-03T10:00", "2026-11-03T10:29"},
			"+11-02T10:00 +11-03T10:00 +11-03T10:29"},
		{"two jumps that disagree: the first is rejected, the second waits",
			[]string{"2026-11-02T10:00", "2099-01-01T00:00", "2026-11-03T10:00", "2026-11-03T10:01"},
			"+11-02T10:00 -01-01T00:00 +11-03T10:00 +11-03T10:01"},
		{"a jump nothing confirms is rejected at the end of its input",
			[]string{"2026-11-02T10:00", "2026-11-03T10:00"},
			"+11-02T10:00 -11-03T10:00"},
		{"a wild first line is rejected by the next",
			[]string{"2099-01-01T00:00", "2026-11-02T10:00", "2026-11-02T10:01"},
			"+11-02T10:00 -01-01T00:00 +11-02T10:01"},
		{"a first line followed by a later jump stands, the jump waits",
			[]string{"2026-11-02T10:00", "2026-11-03T10:00", "2026-11-03T10:01"},
			"+11-02T10:00 +11-03T10:00 +11-03T10:01"},
		{"a lone first line is applied at the end",
			[]string{"2026-11-02T10:00"},
			"+11-02T10:00"},
		{"another log's lines neither confirm nor deny",
			[]string{"0:2026-11-02T10:00", "0:2026-11-03T10:00", "1:2026-11-02T10:01", "0:2026-11-03T10:01", "1:2026-11-02T10:02"},
			"+11-02T10:00 +11-02T10:01@1 +11-03T10:00 +11-03T10:01 +11-02T10:02@1"},
		{"a jump of another log is applied once the clock has caught up",
			[]string{"0:2026-11-02T10:00", "0:2026-11-03T10:00", "1:2026-11-03T10:00", "0:2026-11-03T10:01"},
			"+11-02T10:00 +11-03T10:00 +11-03T10:01 +11-03T10:00@1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := feed(newTestGuard(t), 0, tc.lines...); got != tc.want {
				t.Errorf("verdicts\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

func TestGuardLive(t *testing.T) {
	wall := guardAt("2026-11-02T10:10")
	for _, tc := range []struct {
		name  string
		lines []string
		want  string
	}{
		{"a 2099 line is rejected at once",
			[]string{"2026-11-02T10:00", "2026-11-02T10:01", "2099-01-01T00:00"},
			"+11-02T10:00 +11-02T10:01 -01-01T00:00"},
		{"one day ahead of the wall clock is rejected at once",
			[]string{"2026-11-02T10:00", "2026-11-02T10:01", "2026-11-03T10:01"},
			"+11-02T10:00 +11-02T10:01 -11-03T10:01"},
		{"the current time labelled -12:00 is rejected at once",
			[]string{"2026-11-02T10:00", "2026-11-02T10:01", "2026-11-02T22:10"},
			"+11-02T10:00 +11-02T10:01 -11-02T22:10"},
		{"up to max_future ahead of the wall clock passes",
			[]string{"2026-11-02T10:00", "2026-11-02T10:20"},
			"+11-02T10:00 +11-02T10:20"},
		{"a wild first line is rejected at once; the next waits for a line or the idle exporter",
			[]string{"2099-01-01T00:00", "2026-11-02T10:00"},
			"-01-01T00:00 +11-02T10:00"},
		{"a backlog with a day's outage resumes at the new time",
			[]string{"2026-11-01T10:00", "2026-11-01T10:05", "2026-11-02T10:00", "2026-11-02T10:01"},
			"+11-01T10:00 +11-01T10:05 +11-02T10:00 +11-02T10:01"},
		{"within the margin, an unconfirmed jump is still rejected",
			[]string{"2026-11-01T10:00", "2026-11-02T10:00", "2026-11-01T10:01"},
			"+11-01T10:00 -11-02T10:00 +11-01T10:01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := feed(newTestGuard(t), wall, tc.lines...); got != tc.want {
				t.Errorf("verdicts\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

// TestGuardLiveIdle: live, a first line stands once the files are idle; a
// held jump is applied once the idle clock has caught up with it.
func TestGuardLiveIdle(t *testing.T) {
	g := newTestGuard(t)
	var v verdicts
	e := Event{Time: guardAt("2026-11-02T10:00")}
	g.Line(&e, 0, guardAt("2026-11-02T10:00"), &v)
	if len(v) != 0 || g.Holding() != 1 {
		t.Fatalf("first line: %v, %d held; want it held", v, g.Holding())
	}
	g.Idle(&v)
	if got := strings.Join(v, " "); got != "+11-02T10:00" {
		t.Fatalf("after idle: %s", got)
	}
	e = Event{Time: guardAt("2026-11-02T11:00")} // 60 minutes on, as a backlog
	g.Line(&e, 0, guardAt("2026-11-02T11:00"), &v)
	if g.Holding() != 1 {
		t.Fatalf("jump not held: %v", v)
	}
	g.Advance(guardAt("2026-11-02T10:20"), &v) // still more than the timeout behind it
	if g.Holding() != 1 {
		t.Fatalf("applied too early: %v", v)
	}
	g.Advance(guardAt("2026-11-02T10:31"), &v)
	if got := strings.Join(v, " "); got != "+11-02T10:00 +11-02T11:00" || g.Holding() != 0 {
		t.Errorf("after the idle clock caught up: %s, %d held", got, g.Holding())
	}
	if n, _ := g.Newest(); n != guardAt("2026-11-02T11:00") {
		t.Errorf("newest %v", time.Unix(0, n).UTC())
	}
}

// TestGuardSnapshotKeepsHeldLines: a held line survives a restart and is
// decided by the next line after it.
func TestGuardSnapshotKeepsHeldLines(t *testing.T) {
	g := newTestGuard(t)
	var v verdicts
	for _, s := range []string{"2026-11-02T10:00", "2026-11-02T10:01", "2026-11-03T10:00"} {
		e := Event{Time: guardAt(s)}
		g.Line(&e, 0, 0, &v)
	}
	snap := g.Snapshot()
	if len(snap.Held) != 1 || snap.Newest != guardAt("2026-11-02T10:01") {
		t.Fatalf("snapshot %+v", snap)
	}
	g2 := newTestGuard(t)
	if n := g2.Restore(snap, 1); n != 0 {
		t.Fatalf("dropped %d", n)
	}
	e := Event{Time: guardAt("2026-11-03T10:02")}
	g2.Line(&e, 0, 0, &v)
	if got := strings.Join(v, " "); got != "+11-02T10:00 +11-02T10:01 +11-03T10:00 +11-03T10:02" {
		t.Errorf("verdicts %s", got)
	}
	if n := newTestGuard(t).Restore(snap, 0); n != 1 {
		t.Errorf("held line of a log no longer configured: dropped %d, want 1", n)
	}
}

func TestNewGuardRejectsBadLimits(t *testing.T) {
	if _, err := NewGuard(0, time.Minute); err == nil {
		t.Error("zero timeout accepted")
	}
	if _, err := NewGuard(time.Minute, 0); err == nil {
		t.Error("zero max_future accepted")
	}
}

func BenchmarkGuardLine(b *testing.B) {
	g, _ := NewGuard(30*time.Minute, 10*time.Minute)
	var sink guardNopSink
	e := Event{Time: guardAt("2026-11-02T10:00")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e.Time += int64(time.Second)
		g.Line(&e, 0, 0, &sink)
	}
}

type guardNopSink struct{}

func (guardNopSink) Accept(*Event, int) {}
func (guardNopSink) Reject(*Event, int) {}

// TestSnapshotDropFuture: a snapshot whose clock a 2099 line moved is set
// back to the newest real time; the wild session and held event go, a real
// session a wild pageview extended is cut back to its first pageview.
func TestSnapshotDropFuture(t *testing.T) {
	real1, real2 := guardAt("2026-11-02T10:00"), guardAt("2026-11-02T10:05")
	wild := guardAt("2099-01-01T00:00")
	limit := guardAt("2026-11-02T11:00")
	snap := Snapshot{Watermark: wild, Started: true, Visitors: []VisitorState{
		{Key: 1, Open: true, First: real1, Last: real1},
		{Key: 2, Open: true, First: real2, Last: wild}, // extended by the wild line
		{Key: 3, Open: true, First: wild, Last: wild},  // begun by it
		{Key: 4, Carry: true, CarryUntil: wild},        // a wild redirect
	}, Pending: []Event{{Time: real2}, {Time: wild}}}
	v, e, ok := snap.DropFuture(limit)
	if !ok || v != 2 || e != 1 {
		t.Fatalf("dropped %d visitors, %d events (%v); want 2 and 1", v, e, ok)
	}
	if snap.Watermark != real2 {
		t.Errorf("clock %v, want the newest real time %v", time.Unix(0, snap.Watermark).UTC(), time.Unix(0, real2).UTC())
	}
	if len(snap.Visitors) != 2 || snap.Visitors[0].Key != 1 || snap.Visitors[1].Key != 2 || snap.Visitors[1].Last != real2 {
		t.Errorf("visitors %+v", snap.Visitors)
	}
	if len(snap.Pending) != 1 || snap.Pending[0].Time != real2 {
		t.Errorf("pending %+v", snap.Pending)
	}
	sane := Snapshot{Watermark: real2, Started: true}
	if _, _, ok := sane.DropFuture(limit); ok {
		t.Error("a clock within the limit was changed")
	}
}

// TestGuardPassAgrees judges random lines of three inputs twice: through
// Line (which tries Pass first) and through line, the judgement without
// the common case taken out. Jumps forward and back, lines far in the
// future of a live wall clock and quiet spells (Advance) are mixed in;
// both guards must give the same verdicts in the same order, and Pass must
// have taken most lines, or the common case is not the common one.
func TestGuardPassAgrees(t *testing.T) {
	for _, live := range []bool{false, true} {
		a, b := newTestGuard(t), newTestGuard(t)
		var va, vb verdicts
		rng := rand.New(rand.NewPCG(11, 12))
		now := guardAt("2026-11-02T10:00")
		passed := 0
		const n = 20_000
		for i := range n {
			switch r := rng.IntN(200); {
			case r == 0:
				now += int64(25 * time.Hour) // a day's jump
			case r == 1:
				now -= int64(2 * time.Hour) // back past the timeout
			case r == 2 && live:
				a.Advance(now+int64(time.Hour), &va)
				b.Advance(now+int64(time.Hour), &vb)
			default:
				now += int64(rng.IntN(90)) * int64(time.Second)
			}
			e := Event{Time: now}
			if rng.IntN(50) == 0 {
				e.Time += int64(40 * time.Minute) // one odd clock
			}
			var wall int64
			if live {
				wall = now - int64(rng.IntN(15))*int64(time.Minute)
			}
			input := rng.IntN(3)
			if a.Pass(&e, wall) {
				passed++
				va.Accept(&e, input)
			} else {
				a.Line(&e, input, wall, &va)
			}
			b.line(&e, input, wall, &vb)
			if len(va) != len(vb) || len(va) > 0 && va[len(va)-1] != vb[len(vb)-1] {
				t.Fatalf("live %v, line %d: verdicts %v, without Pass %v", live, i, va[max(0, len(va)-3):], vb[max(0, len(vb)-3):])
			}
		}
		if !live {
			for i := range 3 {
				a.End(i, &va)
				b.End(i, &vb)
			}
		}
		if strings.Join(va, " ") != strings.Join(vb, " ") {
			t.Fatalf("live %v: verdicts differ at the end", live)
		}
		if passed < n/2 {
			t.Fatalf("live %v: Pass took %d of %d lines", live, passed, n)
		}
		t.Logf("live %v: Pass took %d of %d lines, %d verdicts", live, passed, n, len(va))
	}
}
