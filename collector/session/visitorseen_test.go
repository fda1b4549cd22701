package session

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/session-exporter/session-exporter/collector/classify"
)

// seenSink records the labels of every VisitorSeen call.
type seenSink struct {
	nopSink
	seen   []Labels
	missed int // addrSink: VisitorSeen calls not asked about before
}

func (s *seenSink) VisitorSeen(l Labels, _ uint64, _ int32) { s.seen = append(s.seen, l) }

// TestVisitorSeenLabels: a visitor is counted among the day's visitors with
// the site, device and channel of the session that made it one, including a
// visitor the sessionizer has never seen and one whose earlier session was on
// another device.
func TestVisitorSeenLabels(t *testing.T) {
	r := &seenSink{}
	s, err := New(DefaultConfig(), r)
	if err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	s.Add(Event{Time: at(0), Visitor: 7, Kind: classify.KindPageview, Source: google, Channel: classify.OrganicSearch, Device: classify.Mobile, Site: 2})
	// The next day, the same visitor on a tablet from a social link.
	s.Add(Event{Time: at(day), Visitor: 7, Kind: classify.KindPageview, Source: facebook, Channel: classify.OrganicSocial, Device: classify.Tablet, Site: 1})
	s.CloseAll()
	want := []Labels{
		{Site: 2, Channel: classify.OrganicSearch, Device: classify.Mobile},
		{Site: 1, Channel: classify.OrganicSocial, Device: classify.Tablet, Returning: s.returning != nil},
	}
	if diff := cmp.Diff(want, r.seen); diff != "" {
		t.Errorf("VisitorSeen labels (-want +got):\n%s", diff)
	}
}

// addrSink is a seenSink that reads ahead: it records the labels and keys
// it was asked about.
type addrSink struct {
	seenSink
	asked map[Labels]map[uint64]bool
}

func (s *addrSink) VisitorAddr(l Labels, key uint64) uintptr {
	if s.asked[l] == nil {
		s.asked[l] = map[uint64]bool{}
	}
	s.asked[l][key] = true
	return 0
}

func (s *addrSink) VisitorSeen(l Labels, key uint64, day int32) {
	s.seenSink.VisitorSeen(l, key, day)
	l.Returning = false // not known ahead: not part of the cell
	if !s.asked[l][key] {
		s.missed++
	}
	delete(s.asked[l], key) // the next session start must be asked about again
}

// TestVisitorSeenIsReadAhead: a sink that can read ahead is asked, before
// the session starts, about the cell and key VisitorSeen then counts; the
// counts are those of a sink that cannot.
func TestVisitorSeenIsReadAhead(t *testing.T) {
	var events []Event
	for i := range 400 {
		events = append(events, Event{Time: at(time.Duration(i) * 300 * time.Millisecond), Visitor: uint64(i*7) % 90,
			Kind: classify.KindPageview, Source: uint64(i / 90 % 3), Channel: classify.Channel(1 + i/90%2), Device: classify.Device(i % 3)})
	}
	plain, ahead := &seenSink{}, &addrSink{asked: map[Labels]map[uint64]bool{}}
	for _, sink := range []Sink{plain, ahead} {
		s, err := New(DefaultConfig(), sink)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			s.Add(e)
		}
		s.CloseAll()
	}
	if len(plain.seen) == 0 {
		t.Fatal("no visitor counted")
	}
	if diff := cmp.Diff(plain.seen, ahead.seen); diff != "" {
		t.Errorf("VisitorSeen with reading ahead (-without +with):\n%s", diff)
	}
	// The last few events are applied without events behind them to read
	// ahead from; every other session start was asked about.
	if ahead.missed > aheadNeighbr {
		t.Errorf("%d of %d VisitorSeen calls were not read ahead", ahead.missed, len(ahead.seen))
	}
}
