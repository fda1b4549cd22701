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
	seen []Labels
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
