package session

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/session-exporter/session-exporter/collector/classify"
)

func valued(e Event, goals uint64, micros int64, bad uint8) Event {
	e.ValueGoals, e.Value, e.ValueBad = goals, micros, bad
	return e
}

// TestConversionValue: a value counts with the conversion it comes with,
// once per session and goal; a second purchase in the same session adds
// nothing, and malformed values are reported with a conversion only.
func TestConversionValue(t *testing.T) {
	const m = time.Minute
	events := []Event{
		pv(0, 0, 0),
		valued(goal(pv(1*m, 0, 0), 0b01), 0b01, 59_900_000, 1),
		valued(goal(pv(2*m, 0, 0), 0b01), 0b01, 10_000_000, 0), // same session: no second conversion
		valued(goal(pv(3*m, 0, 0), 0b11), 0, 0, 2),             // goal 1 new; goal 0's value malformed
	}
	got := runEvents(t, DefaultConfig(), events)
	want := []string{
		"start direct/desktop", "pv direct/desktop",
		"pv direct/desktop", "goal0 direct/desktop", "value0 direct/desktop 59900000", "rejected 1",
		"engaged direct/desktop",
		"pv direct/desktop",
		"pv direct/desktop", "goal1 direct/desktop", "rejected 2",
		"close direct/desktop 3m0s pv=4 engaged=true",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}

	// A late pageview counted as a visit of its own keeps its value.
	late := []Event{
		pv(2*time.Hour, google, classify.OrganicSearch),
		valued(goal(pv(0, 0, 0), 0b01), 0b01, 5_000_000, 0),
	}
	got = runEvents(t, DefaultConfig(), late)
	found := false
	for _, l := range got {
		if l == "value0 direct/desktop 5000000" {
			found = true
		}
	}
	if !found {
		t.Errorf("late visit of one lost its value: %q", got)
	}
}
