// Package session groups pageviews into web-analytics sessions by event time
// (docs/rules.md rule 6). It is pure: no I/O, no clocks, no metrics. Session
// events go to a Sink, so replay and the live exporter count with the same code.
package session

// The session rules (docs/rules.md rule 6) applied event by event: Add,
// release, expire and apply read in order. The visitor table is in
// table.go, the reorder heap in heap.go.

import (
	"fmt"
	"time"
	"unsafe"

	"github.com/session-exporter/session-exporter/collector/classify"
)

// Event is one classified request the sessionizer acts on: a pageview, or a
// redirect whose campaign may carry over to the visitor's next pageview.
type Event struct {
	Time    int64  // event time, Unix nanoseconds
	Seq     uint64 // arrival order; set by Add, breaks ties between equal times
	Visitor uint64 // visitor key (never 0 in practice; 0 is allowed)
	Source  uint64 // source identity hash; 0 = no source
	Goals   uint64 // bit i: goal i matched
	Kind    classify.Kind
	Channel classify.Channel
	Device  classify.Device
	Tagged  bool // source from utm_* or a click id
	Site    uint8
	Landing uint8 // landing group of the path: 1 + index in landing_pages, 0 other
	// ValueGoals: bit i set when goal i's conversion is worth Value
	// (millionths); ValueBad counts the malformed values skipped. (ValueBad
	// sits with the other bytes: an event is 64 bytes, one cache line.)
	ValueBad   uint8  `json:",omitempty"`
	ValueGoals uint64 `json:",omitempty"`
	Value      int64  `json:",omitempty"`
}

// Labels are the label values every session metric carries.
type Labels struct {
	Site    uint8
	Channel classify.Channel
	Device  classify.Device
	// Landing and Returning label the session counters only (not the
	// pageviews, the active gauge or the histograms).
	Landing   uint8 // 1 + index of the landing group, 0 other
	Returning bool  // the visitor had a session in the returning window before
}

// Closed describes a session at its close.
type Closed struct {
	Duration  time.Duration // last pageview minus first pageview
	Pageviews int
	Engaged   bool
	Evicted   bool // closed early to keep memory under max_visitors
}

// Sink receives session events. Implementations must not call back into the
// Sessionizer.
type Sink interface {
	SessionStarted(l Labels)
	Pageview(l Labels)
	SessionEngaged(l Labels)
	GoalReached(l Labels, goal int)
	// ConversionValue follows GoalReached when the goal's pageview carried
	// a value (in millionths) for it.
	ConversionValue(l Labels, goal int, micros int64)
	// ValuesRejected counts n malformed or negative values on the pageview
	// of a conversion whose goal names a value parameter.
	ValuesRejected(n int)
	// VisitorSeen reports visitor key's first session of calendar day day
	// (ordered numbers) with labels l, for the count of visitors a day.
	VisitorSeen(l Labels, key uint64, day int32)
	SessionClosed(l Labels, c Closed)
	// LateEvent is called for an event older than max_delay behind the newest
	// event time; it is applied all the same.
	LateEvent()
}

// VisitorPrefetcher is implemented by a Sink whose VisitorSeen reads
// memory worth reading ahead: VisitorAddr returns the address
// VisitorSeen(l, key, ·) will read, or 0. It is called from the
// Sessionizer's goroutine, between the Sink's other calls.
type VisitorPrefetcher interface {
	VisitorAddr(l Labels, key uint64) uintptr
}

// Config holds the session rules. The zero value is not useful: start from
// DefaultConfig.
type Config struct {
	Timeout             time.Duration  // inactivity that ends a session (30m)
	Location            *time.Location // zone of the midnight split (UTC)
	SplitAtMidnight     bool
	SplitOnSourceChange bool
	MaxDelay            time.Duration // how long events are held for reordering (5s)
	CarryOver           time.Duration // redirect source hand-over window (10s)
	MaxVisitors         int           // visitors kept in memory (1,000,000)
	// ReturningWindow and ReturningCapacity size the memory of past
	// visitors (see Returning); a capacity of 0 keeps none, and every
	// session that does not continue another is then new.
	ReturningWindow   time.Duration // 30 days
	ReturningCapacity int
}

// DefaultConfig returns the defaults of docs/rules.md.
func DefaultConfig() Config {
	return Config{
		Timeout:             30 * time.Minute,
		Location:            time.UTC,
		SplitAtMidnight:     true,
		SplitOnSourceChange: true,
		MaxDelay:            5 * time.Second,
		CarryOver:           10 * time.Second,
		MaxVisitors:         1_000_000,
		ReturningWindow:     30 * 24 * time.Hour,
	}
}

func (c Config) validate() error {
	switch {
	case c.Timeout <= 0:
		return fmt.Errorf("session timeout must be positive, got %s", c.Timeout)
	case c.Location == nil:
		return fmt.Errorf("session timezone is not set")
	case c.MaxDelay < 0:
		return fmt.Errorf("session max_delay must not be negative, got %s", c.MaxDelay)
	case c.CarryOver < 0:
		return fmt.Errorf("redirect carry-over window must not be negative, got %s", c.CarryOver)
	case c.MaxVisitors <= 0:
		return fmt.Errorf("max_visitors must be positive, got %d", c.MaxVisitors)
	case c.ReturningCapacity < 0:
		return fmt.Errorf("visitors.capacity must not be negative, got %d", c.ReturningCapacity)
	}
	return nil
}

const none = int32(-1)

// Sessionizer turns events into sessions. It is not safe for concurrent use.
type Sessionizer struct {
	cfg  Config
	sink Sink
	seen VisitorPrefetcher // sink's, if it is one

	t          table
	head, tail int32               // activity list, least recent first
	carry      map[int32]carryOver // pending redirect sources by record

	pending   eventHeap
	seq       uint64
	watermark int64 // newest event time seen
	started   bool

	days      dayCache
	returning *Returning // nil: no memory of past visitors
	warning   error      // see RestoreWarning
}

// New returns a Sessionizer for cfg that reports to sink.
func New(cfg Config, sink Sink) (*Sessionizer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Sessionizer{
		cfg:  cfg,
		sink: sink,
		t:    newTable(),
		head: none,
		tail: none,
		days: dayCache{loc: cfg.Location},
	}
	s.seen, _ = sink.(VisitorPrefetcher)
	if cfg.ReturningCapacity > 0 {
		r, err := newReturning(cfg.ReturningCapacity, cfg.ReturningWindow)
		if err != nil {
			return nil, err
		}
		s.returning = r
	}
	return s, nil
}

// Add takes one event. Events are held up to MaxDelay behind the newest event
// time and applied in (time, arrival) order; an event older than that is
// applied at once and reported as late.
func (s *Sessionizer) Add(e Event) { s.Put(&e) }

// Put is Add of *e without copying it on the way: *e is read, neither
// changed (the held copy gets its arrival order) nor kept.
func (s *Sessionizer) Put(e *Event) {
	if e.Kind != classify.KindPageview && e.Kind != classify.KindRedirect {
		return
	}
	s.seq++
	if !s.started || e.Time > s.watermark {
		s.watermark = e.Time
		s.started = true
	}
	h := hashKey(e.Visitor)
	if e.Time < s.frontier() {
		s.sink.LateEvent()
		s.apply(e, &hint{hash: h, rec: none})
		return
	}
	s.pending.insert(e, s.seq, h)
	s.release()
}

// How far ahead of the event being applied the held events' memory is
// read, in events: the index slot first, then the record the slot names,
// then the record's neighbours in the activity list (and, when the event
// is likely to start a session, the returning-visitor buckets and the
// sink's register of the day's visitors), each step reading what the one
// before brought in.
// Applying an event then finds its memory in cache instead of waiting for
// it, several events' worth of reads in flight at once.
const (
	aheadSlot    = 20
	aheadRecord  = 10
	aheadNeighbr = 5
)

// prefetchAhead starts the memory reads of held events. It changes
// nothing: the events are applied as without it.
func (s *Sessionizer) prefetchAhead() {
	n := s.pending.len()
	if n > aheadSlot {
		s.t.prefetchSlot(s.pending.hintAt(aheadSlot).hash)
	}
	if n > aheadRecord {
		h := s.pending.hintAt(aheadRecord)
		h.rec = s.t.prefetchRec(h.hash)
	}
	if n > aheadNeighbr {
		e, h := s.pending.at(aheadNeighbr), s.pending.hintAt(aheadNeighbr)
		i := s.t.findHinted(e.Visitor, h)
		h.rec = i
		if i == none {
			if e.Kind == classify.KindPageview {
				s.prefetchStart(e) // a new visitor: a session starts
			}
			return
		}
		v := s.t.rec(i)
		if v.prev != none {
			prefetch(uintptr(unsafe.Pointer(s.t.rec(v.prev))))
		}
		if v.next != none {
			prefetch(uintptr(unsafe.Pointer(s.t.rec(v.next))))
		}
		if e.Kind == classify.KindPageview && (!v.open() || e.Time-v.last > int64(s.cfg.Timeout) || e.Source != v.source) {
			s.prefetchStart(e) // a session is likely to start
		}
	}
}

// prefetchStart starts the reads of a session start at pageview e: the
// returning-visitor buckets and the sink's register of the day's visitors.
func (s *Sessionizer) prefetchStart(e *Event) {
	if s.returning != nil {
		s.returning.prefetch(e.Visitor)
	}
	if s.seen != nil {
		// The labels a session started by e would have.
		l := Labels{Site: e.Site, Channel: e.Channel, Device: e.Device}
		if e.Source == 0 {
			l.Channel = classify.Direct
		}
		if a := s.seen.VisitorAddr(l, e.Visitor); a != 0 {
			prefetch(a)
		}
	}
}

// Advance moves the event clock to t (if later) without an event, as the live
// exporter does while its files are quiet; held events and idle sessions are
// released and closed accordingly.
func (s *Sessionizer) Advance(t int64) {
	if !s.started {
		return
	}
	if t > s.watermark {
		s.watermark = t
	}
	s.release()
}

// Flush applies every held event, as at the end of a replay.
func (s *Sessionizer) Flush() {
	for s.pending.len() > 0 {
		s.prefetchAhead()
		s.apply(s.pending.min(), s.pending.minHint()) // apply never adds: the slot stays put
		s.pending.drop()
	}
}

// CloseAll flushes held events and closes every open session.
func (s *Sessionizer) CloseAll() {
	s.Flush()
	for s.head != none {
		i := s.head
		if s.t.rec(i).open() {
			s.close(i, false)
		}
		s.remove(i)
	}
}

// Visitors returns the number of visitors held in memory.
func (s *Sessionizer) Visitors() int { return s.t.n }

// Watermark returns the newest event time seen (Unix nanoseconds) and whether
// any event was seen.
func (s *Sessionizer) Watermark() (int64, bool) { return s.watermark, s.started }

// frontier is the time up to which every event has been applied.
func (s *Sessionizer) frontier() int64 { return s.watermark - int64(s.cfg.MaxDelay) }

func (s *Sessionizer) release() {
	f := s.frontier()
	for s.pending.len() > 0 && s.pending.min().Time <= f {
		s.prefetchAhead()
		s.apply(s.pending.min(), s.pending.minHint())
		s.pending.drop()
	}
	s.expire(f)
}

// pendingCarry returns visitor i's pending redirect source, if any.
func (s *Sessionizer) pendingCarry(i int32, v *visitor) (carryOver, bool) {
	if v.flags&flagCarry == 0 {
		return carryOver{}, false
	}
	return s.carry[i], true
}

// setCarry makes c visitor i's pending redirect source.
func (s *Sessionizer) setCarry(i int32, v *visitor, c carryOver) {
	if s.carry == nil {
		s.carry = make(map[int32]carryOver)
	}
	s.carry[i] = c
	v.flags |= flagCarry
}

func (s *Sessionizer) dropCarry(i int32, v *visitor) {
	if v.flags&flagCarry != 0 {
		delete(s.carry, i)
		v.flags &^= flagCarry
	}
}

// expire closes sessions idle for more than the timeout at time now and drops
// visitors that hold nothing any more.
func (s *Sessionizer) expire(now int64) {
	timeout := int64(s.cfg.Timeout)
	for s.head != none {
		i := s.head
		v := s.t.rec(i)
		c, carry := s.pendingCarry(i, v)
		pending := carry && c.until >= now
		if v.open() {
			if now-v.last <= timeout {
				return
			}
			s.close(i, false)
			if pending {
				// Keep the redirect source; look again when it expires.
				s.touch(i, c.until-int64(s.cfg.CarryOver))
				continue
			}
		} else if pending {
			return
		}
		s.remove(i)
	}
}

// apply applies event e, whose visitor's hint is hn.
func (s *Sessionizer) apply(e *Event, hn *hint) {
	i := s.lookupHinted(e.Visitor, hn)
	v := s.t.rec(i)
	if e.Kind == classify.KindRedirect {
		if e.Source != 0 {
			s.setCarry(i, v, carryOver{src: e.Source, ch: e.Channel, until: e.Time + int64(s.cfg.CarryOver)})
		}
		if !v.open() {
			s.touch(i, e.Time)
		}
		return
	}

	src, ch := e.Source, e.Channel
	if c, ok := s.pendingCarry(i, v); ok {
		if !e.Tagged && e.Time <= c.until && e.Time+int64(s.cfg.CarryOver) >= c.until {
			src, ch = c.src, c.ch
		}
		s.dropCarry(i, v)
	}
	if src == 0 {
		ch = classify.Direct
	}

	if v.open() && v.first-e.Time > int64(s.cfg.Timeout) {
		// A late pageview more than the timeout before this session began
		// belongs to no session it is open beside: it is a visit of its own.
		s.visitOfOne(e, src, ch)
		return
	}
	day := s.days.day(e.Time)
	start, keep := false, false
	switch {
	case !v.open():
		start = true
	case e.Time-v.last > int64(s.cfg.Timeout):
		s.close(i, false)
		start = true
	case s.cfg.SplitOnSourceChange && src != 0 && src != v.source:
		s.close(i, false)
		start = true
	case s.cfg.SplitAtMidnight && day != v.day:
		s.close(i, false)
		start, keep = true, true
	}
	if start {
		if !keep {
			v.source = src
			v.channel = ch
			v.landing = e.Landing
		}
		ret, today := s.startReturning(e)
		v.flags &^= flagReturning
		if ret || keep {
			v.flags |= flagReturning
		}
		// The new session's device and site, before the visitor is
		// counted: the day's visitors are labelled like the session.
		v.device = e.Device
		v.site = e.Site
		if !today {
			s.sink.VisitorSeen(v.labels(), e.Visitor, day)
		}
		v.first, v.last = e.Time, e.Time
		v.day = day
		v.pageviews = 0
		v.goals = 0
		v.flags |= flagOpen
		s.sink.SessionStarted(v.labels())
	}
	if !start && day != v.day {
		// A session across midnight (split_at_midnight off): its visitor
		// is one of the new day's too (counting again is harmless).
		s.sink.VisitorSeen(v.labels(), e.Visitor, day)
	}
	if e.Time > v.last {
		v.last = e.Time
	}
	if e.Time < v.first {
		v.first = e.Time
	}
	wasEngaged := v.engaged()
	v.pageviews++
	l := v.labels()
	s.sink.Pageview(l)
	if g := e.Goals &^ v.goals; g != 0 {
		v.goals |= g
		s.reached(l, e, g)
	}
	if !wasEngaged && v.engaged() {
		s.sink.SessionEngaged(l)
	}
	s.touch(i, v.last)
}

// visitOfOne counts e as a session of one pageview, started and closed at
// once, leaving the visitor's open session as it is.
func (s *Sessionizer) visitOfOne(e *Event, src uint64, ch classify.Channel) {
	l := Labels{Site: e.Site, Channel: ch, Device: e.Device, Landing: e.Landing}
	if src == 0 {
		l.Channel = classify.Direct
	}
	ret, today := s.startReturning(e)
	l.Returning = ret
	if !today {
		s.sink.VisitorSeen(l, e.Visitor, s.days.day(e.Time))
	}
	s.sink.SessionStarted(l)
	s.sink.Pageview(l)
	engaged := e.Goals != 0
	if engaged {
		s.reached(l, e, e.Goals)
	}
	if engaged {
		s.sink.SessionEngaged(l)
	}
	s.sink.SessionClosed(l, Closed{Pageviews: 1, Engaged: engaged})
}

// startReturning records the start of a session at e and reports whether
// its visitor is returning and whether it already started a session on
// e's calendar day (to the hour: the hour of the previous start is kept).
// Without a memory of visitors, neither.
func (s *Sessionizer) startReturning(e *Event) (returning, today bool) {
	if s.returning == nil {
		return false, false
	}
	a := s.returning.start(e.Visitor, e.Time)
	if a == noAge {
		return false, false
	}
	if a < 0 {
		return false, true // a later start is known: counted on its day
	}
	s.days.day(e.Time)
	sinceMidnight := int32(e.Time/int64(time.Hour) - s.days.lo/int64(time.Hour))
	return true, a <= sinceMidnight
}

// reached reports the goals g that e reached first in a session of labels l,
// with their values.
func (s *Sessionizer) reached(l Labels, e *Event, g uint64) {
	for b := 0; g != 0; b, g = b+1, g>>1 {
		if g&1 != 0 {
			s.sink.GoalReached(l, b)
			if e.ValueGoals&(1<<uint(b)) != 0 {
				s.sink.ConversionValue(l, b, e.Value)
			}
		}
	}
	if e.ValueBad > 0 {
		s.sink.ValuesRejected(int(e.ValueBad))
	}
}

func (s *Sessionizer) close(i int32, evicted bool) {
	v := s.t.rec(i)
	v.flags &^= flagOpen
	s.sink.SessionClosed(v.labels(), Closed{
		Duration:  time.Duration(v.last - v.first),
		Pageviews: int(v.pageviews),
		Engaged:   v.engaged(),
		Evicted:   evicted,
	})
}

// lookup returns the record of visitor key k, creating it (and evicting
// the least recently active visitor when memory is full) if needed. A new
// record is linked at the back of the list; its caller touches it.
func (s *Sessionizer) lookup(k uint64) int32 {
	return s.lookupHinted(k, &hint{hash: hashKey(k), rec: none})
}

// lookupHinted is lookup of a held event's visitor k with hint hn.
func (s *Sessionizer) lookupHinted(k uint64, hn *hint) int32 {
	if i := s.t.findHinted(k, hn); i != none {
		return i
	}
	if s.t.n >= s.cfg.MaxVisitors && s.head != none {
		j := s.head
		if s.t.rec(j).open() {
			s.close(j, true)
		}
		s.remove(j)
	}
	i := s.t.insertHash(k, hn.hash)
	s.pushBack(i)
	return i
}

func (s *Sessionizer) remove(i int32) {
	s.unlink(i)
	s.dropCarry(i, s.t.rec(i))
	s.t.delete(i)
}

// touch sets visitor i's last activity to at and moves it to its place in
// the list: the back, unless a late event made it older than others.
func (s *Sessionizer) touch(i int32, at int64) {
	v := s.t.rec(i)
	if i == s.tail && (v.prev == none || s.t.rec(v.prev).last <= at) {
		v.last = at // in place already
		return
	}
	s.unlinkRec(i, v)
	v.last = at
	j := s.tail
	if j == none {
		s.linkFront(i, v)
		return
	}
	w := s.t.rec(j)
	for w.last > at {
		if j = w.prev; j == none {
			s.linkFront(i, v)
			return
		}
		w = s.t.rec(j)
	}
	s.linkAfter(i, v, j, w)
}

// linkAfter links visitor i (record v) after j (record w).
func (s *Sessionizer) linkAfter(i int32, v *visitor, j int32, w *visitor) {
	v.prev, v.next = j, w.next
	if v.next != none {
		s.t.rec(v.next).prev = i
	} else {
		s.tail = i
	}
	w.next = i
}

// linkFront links visitor i (record v) at the front.
func (s *Sessionizer) linkFront(i int32, v *visitor) {
	v.prev, v.next = none, s.head
	if s.head != none {
		s.t.rec(s.head).prev = i
	} else {
		s.tail = i
	}
	s.head = i
}

func (s *Sessionizer) pushBack(i int32) {
	if s.tail == none {
		s.linkFront(i, s.t.rec(i))
		return
	}
	s.linkAfter(i, s.t.rec(i), s.tail, s.t.rec(s.tail))
}

func (s *Sessionizer) unlink(i int32) { s.unlinkRec(i, s.t.rec(i)) }

func (s *Sessionizer) unlinkRec(i int32, v *visitor) {
	if v.prev != none {
		s.t.rec(v.prev).next = v.next
	} else if s.head == i {
		s.head = v.next
	}
	if v.next != none {
		s.t.rec(v.next).prev = v.prev
	} else if s.tail == i {
		s.tail = v.prev
	}
	v.prev, v.next = none, none
}

// dayCache maps event times to calendar days in a zone, remembering the
// bounds of the last day seen so most lookups are two comparisons.
type dayCache struct {
	loc    *time.Location
	lo, hi int64 // [lo, hi) in Unix nanoseconds
	n      int32
	primed bool
}

func (d *dayCache) day(t int64) int32 {
	if d.primed && t >= d.lo && t < d.hi {
		return d.n
	}
	tt := time.Unix(0, t).In(d.loc)
	y, m, dd := tt.Date()
	start := time.Date(y, m, dd, 0, 0, 0, 0, d.loc)
	end := time.Date(y, m, dd+1, 0, 0, 0, 0, d.loc)
	d.lo, d.hi = start.UnixNano(), end.UnixNano()
	d.n = int32(y)*512 + int32(m)*32 + int32(dd)
	d.primed = true
	return d.n
}
