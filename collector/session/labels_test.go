package session

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/session-exporter/session-exporter/collector/classify"
)

// startSink records the labels of every session start.
type startSink struct {
	nopSink
	starts []Labels
}

func (s *startSink) SessionStarted(l Labels) { s.starts = append(s.starts, l) }

func landing(e Event, l uint8) Event { e.Landing = l; return e }

// TestLandingAndVisitorType: a session's landing is its first pageview's;
// a visitor is returning on a session within the window after one of
// theirs; a session continued at midnight keeps its landing and is
// returning.
func TestLandingAndVisitorType(t *testing.T) {
	const m, day = time.Minute, 24 * time.Hour
	cfg := DefaultConfig()
	cfg.ReturningCapacity = 1000
	s := &startSink{}
	z, err := New(cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []Event{
		landing(pv(0, 0, 0), 2),
		landing(pv(1*m, 0, 0), 1), // same session: landing stays 2
		landing(pv(13*time.Hour+59*m, google, classify.OrganicSearch), 1), // 10:00 + 13h59 = 23:59, new source
		landing(pv(14*time.Hour+1*m, 0, 0), 3),                            // 00:01 next day: continued
		of(landing(pv(15*time.Hour, 0, 0), 1), 2),                         // another visitor: new
		landing(pv(31*day+14*time.Hour+2*m, 0, 0), 0),                     // 31 days after the last start: new
	} {
		z.Add(e)
	}
	z.CloseAll()
	want := []Labels{
		{Channel: classify.Direct, Device: classify.Desktop, Landing: 2},
		{Channel: classify.OrganicSearch, Device: classify.Desktop, Landing: 1, Returning: true},
		{Channel: classify.OrganicSearch, Device: classify.Desktop, Landing: 1, Returning: true},
		{Channel: classify.Direct, Device: classify.Desktop, Landing: 1},
		{Channel: classify.Direct, Device: classify.Desktop, Landing: 0},
	}
	if d := cmp.Diff(want, s.starts); d != "" {
		t.Errorf("session labels (-want +got):\n%s", d)
	}

	// Without a memory of visitors every session is new, but a continued
	// one is still returning.
	s2 := &startSink{}
	z2, _ := New(DefaultConfig(), s2)
	z2.Add(landing(pv(13*time.Hour+59*m, 0, 0), 1))
	z2.Add(landing(pv(14*time.Hour+1*m, 0, 0), 2))
	z2.CloseAll()
	want2 := []Labels{
		{Channel: classify.Direct, Device: classify.Desktop, Landing: 1},
		{Channel: classify.Direct, Device: classify.Desktop, Landing: 1, Returning: true},
	}
	if d := cmp.Diff(want2, s2.starts); d != "" {
		t.Errorf("without memory (-want +got):\n%s", d)
	}
}

// TestVisitorSize: the per-visitor struct did not grow with the landing
// and visitor type (88 bytes on 64-bit platforms).
func TestVisitorSize(t *testing.T) {
	if n := unsafeSizeofVisitor(); n > 88 {
		t.Errorf("visitor struct is %d bytes, was 88", n)
	}
}
