package telemetry

import (
	"maps"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/session-exporter/session-exporter/collector/classify"
	"github.com/session-exporter/session-exporter/collector/session"
)

// TestVisitorsEstimate checks the HyperLogLog against exact counts, from a
// handful of visitors to a million, each visitor seen several times.
func TestVisitorsEstimate(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 10, 100, 1000, 10_000, 100_000, 1_000_000} {
		var s hll
		keys := make([]uint64, n)
		for i := range keys {
			keys[i] = rng.Uint64()
		}
		for rep := 0; rep < 3; rep++ {
			for _, k := range keys {
				s.add(hllHash(k))
			}
		}
		est := s.estimate()
		if e := math.Abs(est-float64(n)) / float64(n); e >= 0.02 {
			t.Errorf("%d visitors: estimate %.0f, error %.2f%%", n, est, 100*e)
		} else {
			t.Logf("%d visitors: estimate %.0f, error %.3f%%", n, est, 100*e)
		}
	}
	// Keys a test makes by counting (1, 2, 3...) are spread as well as
	// random ones.
	var s hll
	for k := uint64(1); k <= 50_000; k++ {
		s.add(hllHash(k))
	}
	if e := math.Abs(s.estimate()-50_000) / 50_000; e >= 0.02 {
		t.Errorf("50,000 consecutive keys: error %.2f%%", 100*e)
	}
}

// visitorsOf returns the web_visitors samples of m by "channel/device".
func visitorsOf(t *testing.T, m *Metrics) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	re := regexp.MustCompile(`^web_visitors\{channel="([^"]+)",device="([^"]+)"\} (\S+)$`)
	for _, l := range strings.Split(exposition(t, m), "\n") {
		if g := re.FindStringSubmatch(l); g != nil {
			v, err := strconv.ParseFloat(g[3], 64)
			if err != nil {
				t.Fatal(err)
			}
			out[g[1]+"/"+g[2]] = v
		}
	}
	return out
}

func near(got, want float64) bool { return math.Abs(got-want) <= 0.02*want }

// TestVisitorsByCellAndDay: each cell counts its own visitors; a later day
// starts again from zero and an earlier one is ignored; a restore merges,
// so visitors counted before and after a restart count once: exactly the
// estimate of one sketch fed everything.
func TestVisitorsByCellAndDay(t *testing.T) {
	m := New(Dims{})
	search := session.Labels{Channel: classify.OrganicSearch, Device: classify.Mobile}
	direct := session.Labels{Channel: classify.Direct, Device: classify.Desktop}
	for k := uint64(0); k < 3000; k++ {
		m.VisitorSeen(search, k, 10)
	}
	for k := uint64(0); k < 700; k++ {
		m.VisitorSeen(direct, 1_000_000+k, 10)
	}
	m.VisitorSeen(direct, 5, 9) // yesterday: ignored
	got := visitorsOf(t, m)
	if len(got) != 2 || !near(got["organic_search/mobile"], 3000) || !near(got["direct/desktop"], 700) {
		t.Errorf("visitors %v, want about 3000 and 700", got)
	}
	// Restart halfway through the day, then the same visitors again and
	// 500 new ones.
	snap := m.Snapshot()
	m2 := New(Dims{})
	m2.Restore(snap)
	ref := New(Dims{})
	for k := uint64(0); k < 3500; k++ {
		m2.VisitorSeen(search, k, 10)
		ref.VisitorSeen(search, k, 10)
	}
	for k := uint64(0); k < 700; k++ {
		ref.VisitorSeen(direct, 1_000_000+k, 10)
	}
	if g, w := visitorsOf(t, m2), visitorsOf(t, ref); !maps.Equal(g, w) || !near(g["organic_search/mobile"], 3500) {
		t.Errorf("after restore %v, one pass %v", g, w)
	}
	m2.VisitorSeen(direct, 1, 11) // midnight
	if g := visitorsOf(t, m2); g["direct/desktop"] != 1 || g["organic_search/mobile"] != 0 {
		t.Errorf("after midnight: %v", g)
	}
	// A snapshot of an earlier day does not bring yesterday back.
	m2.Restore(snap)
	if g := visitorsOf(t, m2); g["organic_search/mobile"] != 0 {
		t.Errorf("an older day's sketch was merged into today's: %v", g)
	}
}

// TestVisitorAddrIsTheRegisterVisitorSeenSets: the address handed to the
// sessionizer for reading ahead is the register VisitorSeen raises (no
// other register changes), and nothing (0) while the cell has no sketch.
func TestVisitorAddrIsTheRegisterVisitorSeenSets(t *testing.T) {
	m := New(Dims{})
	l := session.Labels{Channel: classify.Referral, Device: classify.Tablet}
	if a := m.VisitorAddr(l, 42); a != 0 {
		t.Fatalf("VisitorAddr before any visitor of the cell = %#x, want 0", a)
	}
	m.VisitorSeen(l, 1, 3)
	s := m.dayv.sketches[m.cell(l)]
	lo := uintptr(unsafe.Pointer(&s[0]))
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		k := r.Uint64()
		a := m.VisitorAddr(l, k)
		if a < lo || a >= lo+hllRegisters {
			t.Fatalf("key %#x: VisitorAddr %#x outside the cell's sketch", k, a)
		}
		before := *s
		m.VisitorSeen(l, k, 3)
		for i := range s {
			if s[i] != before[i] && lo+uintptr(i) != a {
				t.Fatalf("key %#x: VisitorSeen changed register %d, VisitorAddr names %d", k, i, a-lo)
			}
		}
		if s[a-lo] == 0 {
			t.Fatalf("key %#x: register at VisitorAddr is 0 after VisitorSeen", k)
		}
	}
	other := session.Labels{Channel: classify.Direct, Device: classify.Desktop}
	if a := m.VisitorAddr(other, 42); a != 0 {
		t.Errorf("VisitorAddr of a cell without visitors = %#x, want 0", a)
	}
}

// TestEstimateMatchesFormula: the estimate from counts of register values
// is the textbook sum over the registers, for sketches from empty to
// saturated and for register values add never stores (a restored state).
func TestEstimateMatchesFormula(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 500, 40_000, 2_000_000} {
		var s hll
		for range n {
			s.add(rng.Uint64())
		}
		if got, want := s.estimate(), direct(&s); math.Abs(got-want) > 1e-9*max(want, 1) {
			t.Errorf("%d keys: estimate %v, the sum over registers gives %v", n, got, want)
		}
	}
	var s hll
	for i := range s {
		s[i] = uint8(rng.Uint32())
	}
	if got, want := s.estimate(), direct(&s); math.Abs(got-want) > 1e-9*want {
		t.Errorf("arbitrary registers: estimate %v, the sum over registers gives %v", got, want)
	}
}

// direct is the estimate as the textbook writes it, one 2^-r per register.
func direct(s *hll) float64 {
	const m = float64(hllRegisters)
	sum, zeros := 0.0, 0
	for _, r := range s {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	e := 0.7213 / (1 + 1.079/m) * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		return m * math.Log(m/float64(zeros))
	}
	return e
}

// BenchmarkEstimate is one cell's estimate, done for every cell on every
// scrape; /direct is the sum over the registers, for comparison.
func BenchmarkEstimate(b *testing.B) {
	var s hll
	rng := rand.New(rand.NewPCG(9, 10))
	for range 100_000 {
		s.add(rng.Uint64())
	}
	for _, c := range []struct {
		name string
		f    func(*hll) float64
	}{{"counts", (*hll).estimate}, {"direct", direct}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var sink float64
			for b.Loop() {
				sink += c.f(&s)
			}
			if sink == 0 {
				b.Fatal("no estimate")
			}
		})
	}
}
