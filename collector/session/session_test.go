package session

// The session rules as table tests, one rule after another in the order of
// docs/rules.md rule 6, with the recording sink they all use.

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/session-exporter/session-exporter/collector/classify"
)

// recorder is a Sink that writes every event as a line of text.
type recorder struct{ out []string }

func name(l Labels) string { return fmt.Sprintf("%s/%s", l.Channel, l.Device) }

func (r *recorder) SessionStarted(l Labels) { r.out = append(r.out, "start "+name(l)) }
func (r *recorder) Pageview(l Labels)       { r.out = append(r.out, "pv "+name(l)) }
func (r *recorder) SessionEngaged(l Labels) { r.out = append(r.out, "engaged "+name(l)) }
func (r *recorder) GoalReached(l Labels, g int) {
	r.out = append(r.out, fmt.Sprintf("goal%d %s", g, name(l)))
}
func (r *recorder) ConversionValue(l Labels, g int, v int64) {
	r.out = append(r.out, fmt.Sprintf("value%d %s %d", g, name(l), v))
}
func (r *recorder) ValuesRejected(n int)                    { r.out = append(r.out, fmt.Sprintf("rejected %d", n)) }
func (r *recorder) VisitorSeen(l Labels, k uint64, d int32) {}
func (r *recorder) SessionClosed(l Labels, c Closed) {
	s := fmt.Sprintf("close %s %s pv=%d engaged=%v", name(l), c.Duration, c.Pageviews, c.Engaged)
	if c.Evicted {
		s += " evicted"
	}
	r.out = append(r.out, s)
}
func (r *recorder) LateEvent() { r.out = append(r.out, "late") }

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

// at returns t0 plus d, in Unix nanoseconds.
func at(d time.Duration) int64 { return t0.Add(d).UnixNano() }

const (
	google   = uint64(101)
	facebook = uint64(102)
	news     = uint64(103)
)

// pv is a pageview of visitor 1 on a desktop.
func pv(d time.Duration, src uint64, ch classify.Channel) Event {
	return Event{Time: at(d), Visitor: 1, Kind: classify.KindPageview, Source: src, Channel: ch, Device: classify.Desktop}
}

func tagged(e Event) Event            { e.Tagged = true; return e }
func goal(e Event, bits uint64) Event { e.Goals = bits; return e }
func of(e Event, v uint64) Event      { e.Visitor = v; return e }
func redirect(d time.Duration, src uint64, ch classify.Channel) Event {
	return Event{Time: at(d), Visitor: 1, Kind: classify.KindRedirect, Source: src, Channel: ch, Tagged: true}
}

func runEvents(t *testing.T, cfg Config, events []Event) []string {
	t.Helper()
	r := &recorder{}
	s, err := New(cfg, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		s.Add(e)
	}
	s.CloseAll()
	return r.out
}

func TestSessionRules(t *testing.T) {
	const m = time.Minute
	tests := []struct {
		name   string
		cfg    func(*Config)
		events []Event
		want   []string
	}{
		{
			name:   "single pageview bounces",
			events: []Event{pv(0, 0, 0)},
			want:   []string{"start direct/desktop", "pv direct/desktop", "close direct/desktop 0s pv=1 engaged=false"},
		},
		{
			name:   "two pageviews engage; duration is last minus first",
			events: []Event{pv(0, google, classify.OrganicSearch), pv(3*m, 0, 0)},
			want: []string{"start organic_search/desktop", "pv organic_search/desktop",
				"pv organic_search/desktop", "engaged organic_search/desktop",
				"close organic_search/desktop 3m0s pv=2 engaged=true"},
		},
		{
			name:   "gap of exactly the timeout joins",
			events: []Event{pv(0, 0, 0), pv(30*m, 0, 0)},
			want: []string{"start direct/desktop", "pv direct/desktop", "pv direct/desktop",
				"engaged direct/desktop", "close direct/desktop 30m0s pv=2 engaged=true"},
		},
		{
			name:   "gap over the timeout starts a new session",
			events: []Event{pv(0, 0, 0), pv(30*m+time.Second, 0, 0)},
			want: []string{"start direct/desktop", "pv direct/desktop",
				"close direct/desktop 0s pv=1 engaged=false",
				"start direct/desktop", "pv direct/desktop", "close direct/desktop 0s pv=1 engaged=false"},
		},
		{
			name:   "timeout from config",
			cfg:    func(c *Config) { c.Timeout = 5 * m },
			events: []Event{pv(0, 0, 0), pv(6*m, 0, 0)},
			want: []string{"start direct/desktop", "pv direct/desktop",
				"close direct/desktop 0s pv=1 engaged=false",
				"start direct/desktop", "pv direct/desktop", "close direct/desktop 0s pv=1 engaged=false"},
		},
		{
			name: "source change splits; direct pageview does not",
			events: []Event{pv(0, google, classify.OrganicSearch), pv(1*m, 0, 0),
				pv(2*m, facebook, classify.OrganicSocial)},
			want: []string{"start organic_search/desktop", "pv organic_search/desktop",
				"pv organic_search/desktop", "engaged organic_search/desktop",
				"close organic_search/desktop 1m0s pv=2 engaged=true",
				"start organic_social/desktop", "pv organic_social/desktop",
				"close organic_social/desktop 0s pv=1 engaged=false"},
		},
		{
			name:   "same source again joins",
			events: []Event{pv(0, google, classify.OrganicSearch), pv(5*m, google, classify.OrganicSearch)},
			want: []string{"start organic_search/desktop", "pv organic_search/desktop",
				"pv organic_search/desktop", "engaged organic_search/desktop",
				"close organic_search/desktop 5m0s pv=2 engaged=true"},
		},
		{
			name:   "any source differs from a direct session",
			events: []Event{pv(0, 0, 0), pv(1*m, news, classify.Referral)},
			want: []string{"start direct/desktop", "pv direct/desktop",
				"close direct/desktop 0s pv=1 engaged=false",
				"start referral/desktop", "pv referral/desktop", "close referral/desktop 0s pv=1 engaged=false"},
		},
		{
			name:   "source change split can be turned off",
			cfg:    func(c *Config) { c.SplitOnSourceChange = false },
			events: []Event{pv(0, google, classify.OrganicSearch), pv(1*m, facebook, classify.OrganicSocial)},
			want: []string{"start organic_search/desktop", "pv organic_search/desktop",
				"pv organic_search/desktop", "engaged organic_search/desktop",
				"close organic_search/desktop 1m0s pv=2 engaged=true"},
		},
		{
			name:   "goal converts once per session and engages",
			events: []Event{goal(pv(0, 0, 0), 1), goal(pv(1*m, 0, 0), 1)},
			want: []string{"start direct/desktop", "pv direct/desktop", "goal0 direct/desktop",
				"engaged direct/desktop", "pv direct/desktop",
				"close direct/desktop 1m0s pv=2 engaged=true"},
		},
		{
			name:   "two goals in one session",
			events: []Event{goal(pv(0, 0, 0), 0b10), goal(pv(1*m, 0, 0), 0b01)},
			want: []string{"start direct/desktop", "pv direct/desktop", "goal1 direct/desktop",
				"engaged direct/desktop", "pv direct/desktop", "goal0 direct/desktop",
				"close direct/desktop 1m0s pv=2 engaged=true"},
		},
		{
			name: "redirect carries its campaign to the next pageview within 10s",
			events: []Event{redirect(0, google, classify.PaidSearch),
				pv(2*time.Second, facebook /* referrer source loses */, classify.OrganicSocial)},
			want: []string{"start paid_search/desktop", "pv paid_search/desktop",
				"close paid_search/desktop 0s pv=1 engaged=false"},
		},
		{
			name:   "redirect carry-over expires after 10s",
			events: []Event{redirect(0, google, classify.PaidSearch), pv(11*time.Second, 0, 0)},
			want:   []string{"start direct/desktop", "pv direct/desktop", "close direct/desktop 0s pv=1 engaged=false"},
		},
		{
			name: "a tagged pageview keeps its own campaign over a carried one",
			events: []Event{redirect(0, google, classify.PaidSearch),
				tagged(pv(time.Second, news, classify.Email))},
			want: []string{"start email/desktop", "pv email/desktop", "close email/desktop 0s pv=1 engaged=false"},
		},
		{
			name: "carried source is used once",
			events: []Event{redirect(0, google, classify.PaidSearch), pv(time.Second, 0, 0),
				pv(2*time.Second, 0, 0)},
			want: []string{"start paid_search/desktop", "pv paid_search/desktop", "pv paid_search/desktop",
				"engaged paid_search/desktop", "close paid_search/desktop 1s pv=2 engaged=true"},
		},
		{
			name:   "a redirect is not activity: it neither starts nor extends a session",
			events: []Event{pv(0, 0, 0), redirect(29*m, 0, 0), pv(31*m, 0, 0)},
			want: []string{"start direct/desktop", "pv direct/desktop",
				"close direct/desktop 0s pv=1 engaged=false",
				"start direct/desktop", "pv direct/desktop", "close direct/desktop 0s pv=1 engaged=false"},
		},
		{
			name:   "visitors are independent",
			events: []Event{pv(0, 0, 0), of(pv(time.Second, google, classify.OrganicSearch), 2), pv(2*time.Second, 0, 0)},
			want: []string{"start direct/desktop", "pv direct/desktop", "start organic_search/desktop",
				"pv organic_search/desktop", "pv direct/desktop", "engaged direct/desktop",
				"close organic_search/desktop 0s pv=1 engaged=false", // least recently active first
				"close direct/desktop 2s pv=2 engaged=true"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			if diff := cmp.Diff(tc.want, runEvents(t, cfg, tc.events)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMidnight(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no zoneinfo:", err)
	}
	// 23:50 and 00:10 UTC on consecutive days.
	before := time.Date(2026, 11, 2, 23, 50, 0, 0, time.UTC).Sub(t0)
	after := time.Date(2026, 11, 3, 0, 10, 0, 0, time.UTC).Sub(t0)
	tests := []struct {
		name   string
		cfg    func(*Config)
		events []Event
		want   []string
	}{
		{
			name:   "midnight splits and the new session continues the channel",
			events: []Event{pv(before, google, classify.OrganicSearch), pv(after, 0, 0)},
			want: []string{"start organic_search/desktop", "pv organic_search/desktop",
				"close organic_search/desktop 0s pv=1 engaged=false",
				"start organic_search/desktop", "pv organic_search/desktop",
				"close organic_search/desktop 0s pv=1 engaged=false"},
		},
		{
			name: "the continued session keeps its source identity",
			events: []Event{pv(before, google, classify.OrganicSearch), pv(after, 0, 0),
				pv(after+time.Minute, google, classify.OrganicSearch)},
			want: []string{"start organic_search/desktop", "pv organic_search/desktop",
				"close organic_search/desktop 0s pv=1 engaged=false",
				"start organic_search/desktop", "pv organic_search/desktop",
				"pv organic_search/desktop", "engaged organic_search/desktop",
				"close organic_search/desktop 1m0s pv=2 engaged=true"},
		},
		{
			name:   "source change wins over midnight continuation",
			events: []Event{pv(before, google, classify.OrganicSearch), pv(after, facebook, classify.OrganicSocial)},
			want: []string{"start organic_search/desktop", "pv organic_search/desktop",
				"close organic_search/desktop 0s pv=1 engaged=false",
				"start organic_social/desktop", "pv organic_social/desktop",
				"close organic_social/desktop 0s pv=1 engaged=false"},
		},
		{
			name:   "midnight split can be turned off",
			cfg:    func(c *Config) { c.SplitAtMidnight = false },
			events: []Event{pv(before, 0, 0), pv(after, 0, 0)},
			want: []string{"start direct/desktop", "pv direct/desktop", "pv direct/desktop",
				"engaged direct/desktop", "close direct/desktop 20m0s pv=2 engaged=true"},
		},
		{
			name:   "midnight in the configured zone, not UTC: Paris midnight is 23:00 UTC in November",
			cfg:    func(c *Config) { c.Location = paris },
			events: []Event{pv(before, 0, 0), pv(after, 0, 0)},
			want: []string{"start direct/desktop", "pv direct/desktop", "pv direct/desktop",
				"engaged direct/desktop", "close direct/desktop 20m0s pv=2 engaged=true"},
		},
		{
			name: "fixed offset zone splits at its own midnight",
			cfg:  func(c *Config) { c.Location = time.FixedZone("+01:00", 3600) },
			events: []Event{pv(time.Date(2026, 11, 2, 22, 50, 0, 0, time.UTC).Sub(t0), 0, 0),
				pv(time.Date(2026, 11, 2, 23, 10, 0, 0, time.UTC).Sub(t0), 0, 0)},
			want: []string{"start direct/desktop", "pv direct/desktop",
				"close direct/desktop 0s pv=1 engaged=false",
				"start direct/desktop", "pv direct/desktop", "close direct/desktop 0s pv=1 engaged=false"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			if diff := cmp.Diff(tc.want, runEvents(t, cfg, tc.events)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOutOfOrderWithinMaxDelay(t *testing.T) {
	// The second pageview is logged before the first (two workers); held
	// events are applied in time order, so the session's source is google.
	in := []Event{pv(3*time.Second, 0, 0), pv(0, google, classify.OrganicSearch)}
	want := []string{"start organic_search/desktop", "pv organic_search/desktop",
		"pv organic_search/desktop", "engaged organic_search/desktop",
		"close organic_search/desktop 3s pv=2 engaged=true"}
	if diff := cmp.Diff(want, runEvents(t, DefaultConfig(), in)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestLateEventIsAppliedAndCounted(t *testing.T) {
	in := []Event{pv(0, 0, 0), of(pv(time.Minute, 0, 0), 2), pv(10*time.Second, 0, 0)}
	got := runEvents(t, DefaultConfig(), in)
	want := []string{"start direct/desktop", "pv direct/desktop", "late", "pv direct/desktop",
		"engaged direct/desktop", "start direct/desktop", "pv direct/desktop",
		"close direct/desktop 10s pv=2 engaged=true", "close direct/desktop 0s pv=1 engaged=false"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestEqualTimesKeepFileOrder(t *testing.T) {
	in := []Event{pv(0, google, classify.OrganicSearch), pv(0, facebook, classify.OrganicSocial)}
	got := runEvents(t, DefaultConfig(), in)
	if got[0] != "start organic_search/desktop" || got[3] != "start organic_social/desktop" {
		t.Errorf("equal times must be applied in file order, got %q", got)
	}
}

func TestIdleSessionsCloseAsTimeAdvances(t *testing.T) {
	r := &recorder{}
	s, err := New(DefaultConfig(), r)
	if err != nil {
		t.Fatal(err)
	}
	s.Add(pv(0, 0, 0))
	s.Advance(at(30*time.Minute + 5*time.Second)) // frontier = 30m: idle exactly the timeout
	if len(r.out) != 2 {
		t.Fatalf("session closed too early: %q", r.out)
	}
	s.Advance(at(30*time.Minute + 5*time.Second + 1))
	if diff := cmp.Diff([]string{"start direct/desktop", "pv direct/desktop",
		"close direct/desktop 0s pv=1 engaged=false"}, r.out); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if s.Visitors() != 0 {
		t.Errorf("visitors = %d after close, want 0", s.Visitors())
	}
}

func TestHeldEventsWaitForMaxDelay(t *testing.T) {
	r := &recorder{}
	s, _ := New(DefaultConfig(), r)
	s.Add(pv(0, 0, 0))
	if len(r.out) != 0 {
		t.Fatalf("event applied before max_delay passed: %q", r.out)
	}
	s.Advance(at(5 * time.Second))
	if len(r.out) != 2 {
		t.Fatalf("event not applied once max_delay passed: %q", r.out)
	}
}

func TestEvictionKeepsMemoryBounded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxVisitors = 10
	r := &recorder{}
	s, _ := New(cfg, r)
	for v := uint64(1); v <= 100; v++ {
		s.Add(of(pv(time.Duration(v)*time.Second, 0, 0), v))
		if s.Visitors() > cfg.MaxVisitors {
			t.Fatalf("visitors = %d > max %d", s.Visitors(), cfg.MaxVisitors)
		}
	}
	s.CloseAll()
	evicted, closed := 0, 0
	for _, l := range r.out {
		if len(l) > 5 && l[:5] == "close" {
			closed++
			if l[len(l)-7:] == "evicted" {
				evicted++
			}
		}
	}
	if closed != 100 || evicted != 90 {
		t.Errorf("closed %d evicted %d, want 100 and 90", closed, evicted)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, f := range []func(*Config){
		func(c *Config) { c.Timeout = 0 },
		func(c *Config) { c.Location = nil },
		func(c *Config) { c.MaxVisitors = 0 },
		func(c *Config) { c.MaxDelay = -1 },
	} {
		c := DefaultConfig()
		f(&c)
		if _, err := New(c, &recorder{}); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
}

// BenchmarkSessionizer measures applying pageviews of many visitors.
//
//	go test -run=^$ -bench=Sessionizer -benchmem ./collector/session/
func BenchmarkSessionizer(b *testing.B) {
	s, _ := New(DefaultConfig(), nopSink{})
	b.ReportAllocs()
	const visitors = 50_000
	for i := 0; b.Loop(); i++ {
		s.Add(Event{Time: at(time.Duration(i) * time.Millisecond), Visitor: uint64(i*7919) % visitors,
			Kind: classify.KindPageview, Source: uint64(i % 3)})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

type nopSink struct{}

func (nopSink) SessionStarted(Labels)              {}
func (nopSink) Pageview(Labels)                    {}
func (nopSink) SessionEngaged(Labels)              {}
func (nopSink) GoalReached(Labels, int)            {}
func (nopSink) ConversionValue(Labels, int, int64) {}
func (nopSink) ValuesRejected(int)                 {}
func (nopSink) VisitorSeen(Labels, uint64, int32)  {}
func (nopSink) SessionClosed(Labels, Closed)       {}
func (nopSink) LateEvent()                         {}

func TestEventQueueOrder(t *testing.T) {
	var h eventHeap
	r := rand.New(rand.NewPCG(1, 2))
	var want []Event
	for i := range 1000 {
		e := Event{Time: int64(i/3*10 - r.IntN(40)), Seq: uint64(i)}
		want = append(want, e)
		h.push(e)
		if i%7 == 0 { // interleave pops with pushes
			want = slices.DeleteFunc(want, func(x Event) bool { return x == *h.min() })
			h.pop()
		}
	}
	var got []Event
	prev := Event{Time: -1 << 62}
	for h.len() > 0 {
		e := h.pop()
		if less(&e, &prev) {
			t.Fatalf("popped %+v after %+v", e, prev)
		}
		prev = e
		got = append(got, e)
	}
	if len(got) != len(want) {
		t.Errorf("popped %d events, want %d", len(got), len(want))
	}
}

func TestLateEventFarBeforeTheSessionIsAVisitOfItsOwn(t *testing.T) {
	in := []Event{pv(60*time.Minute, 0, 0), pv(65*time.Minute, 0, 0), goal(pv(0, google, classify.OrganicSearch), 1)}
	// The pageview at 65m is still held (max_delay) when the late one comes.
	want := []string{"start direct/desktop", "pv direct/desktop",
		"late", "start organic_search/desktop", "pv organic_search/desktop", "goal0 organic_search/desktop",
		"engaged organic_search/desktop", "close organic_search/desktop 0s pv=1 engaged=true",
		"pv direct/desktop", "engaged direct/desktop", "close direct/desktop 5m0s pv=2 engaged=true"}
	if diff := cmp.Diff(want, runEvents(t, DefaultConfig(), in)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
