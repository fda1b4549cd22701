package session

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/session-exporter/session-exporter/collector/classify"
)

// randomEvents returns a reproducible stream of pageviews and redirects of a
// few visitors, slightly out of order, across midnight.
func randomEvents(seed uint64, n int) []Event {
	r := rand.New(rand.NewPCG(seed, 1))
	start := time.Date(2026, 11, 2, 22, 0, 0, 0, time.UTC).UnixNano()
	var out []Event
	t := start
	for range n {
		t += int64(r.IntN(90)) * int64(time.Second)
		jitter := r.IntN(4)
		if r.IntN(20) == 0 {
			jitter = 5 + r.IntN(60) // later than max_delay: applied as late
		}
		e := Event{
			Time:    t - int64(jitter)*int64(time.Second),
			Visitor: uint64(r.IntN(12)),
			Kind:    classify.KindPageview,
			Device:  classify.Device(r.IntN(3)),
		}
		switch r.IntN(6) {
		case 0:
			e.Source, e.Channel = 7, classify.OrganicSearch
		case 1:
			e.Source, e.Channel, e.Tagged = 8, classify.PaidSearch, true
		case 2:
			e.Kind, e.Source, e.Channel, e.Tagged = classify.KindRedirect, 9, classify.Email, true
		}
		if r.IntN(10) == 0 {
			e.Goals = 1
		}
		out = append(out, e)
	}
	return out
}

func TestSnapshotRestoreIsInvisible(t *testing.T) {
	events := randomEvents(42, 400)
	want := runEvents(t, DefaultConfig(), events)

	for _, cut := range []int{1, 57, 200, 399} {
		r := &recorder{}
		s, _ := New(DefaultConfig(), r)
		for _, e := range events[:cut] {
			s.Add(e)
		}
		b, err := json.Marshal(s.Snapshot())
		if err != nil {
			t.Fatal(err)
		}
		var snap Snapshot
		if err := json.Unmarshal(b, &snap); err != nil {
			t.Fatal(err)
		}
		s2, _ := New(DefaultConfig(), r)
		if err := s2.Restore(snap); err != nil {
			t.Fatal(err)
		}
		for _, e := range events[cut:] {
			s2.Add(e)
		}
		s2.CloseAll()
		if diff := cmp.Diff(want, r.out); diff != "" {
			t.Errorf("cut at %d: restored run differs (-want +got):\n%s", cut, diff)
		}
	}
}

func TestRestoreRejectsBadSnapshot(t *testing.T) {
	s, _ := New(DefaultConfig(), &recorder{})
	bad := Snapshot{Visitors: []VisitorState{{Key: 1, Open: true, Channel: "nope", Device: "desktop"}}}
	if err := s.Restore(bad); err == nil {
		t.Error("unknown channel accepted")
	}
	dup := Snapshot{Visitors: []VisitorState{{Key: 1}, {Key: 1}}}
	if err := s.Restore(dup); err == nil {
		t.Error("duplicate visitor accepted")
	}
}
