package telemetry

import (
	"math"
	"math/bits"
	"sync"
	"unsafe"

	"github.com/session-exporter/session-exporter/collector/session"
)

// hllPrecision is the HyperLogLog precision: 2^14 registers of a byte
// (16 KiB per cell), a standard error of 1.04/sqrt(2^14) = 0.81%, so under
// 2% at about 2.5 standard errors.
const (
	hllPrecision = 14
	hllRegisters = 1 << hllPrecision
)

// hll is a HyperLogLog sketch of visitor keys.
type hll [hllRegisters]uint8

// hllRegister is the index of the register hash h goes to.
func hllRegister(h uint64) uint64 { return h >> (64 - hllPrecision) }

// add inserts the 64-bit hash h.
func (s *hll) add(h uint64) {
	i := hllRegister(h)
	rank := uint8(bits.LeadingZeros64(h<<hllPrecision|1<<(hllPrecision-1)) + 1)
	if rank > s[i] {
		s[i] = rank
	}
}

// hllInverse[r] is 2^-r, the term a register at r adds to the harmonic
// sum; add stores at most 64-hllPrecision+1, a restored sketch any byte.
var hllInverse = func() (t [256]float64) {
	for r := range t {
		t[r] = math.Ldexp(1, -r)
	}
	return t
}()

// estimate returns the estimated number of distinct keys added, with the
// small-range (linear counting) correction. It runs on every scrape for
// every cell, so it counts the registers at each value (one byte
// increment per register) and sums 2^-r once per value, exactly, instead
// of once per register.
func (s *hll) estimate() float64 {
	const m = float64(hllRegisters)
	// Four tallies by register value, so that runs of equal registers do
	// not wait on one counter; indexing by a byte needs no bounds check.
	var c0, c1, c2, c3 [256]uint32
	for i := 0; i < len(s); i += 4 {
		c0[s[i]]++
		c1[s[i+1]]++
		c2[s[i+2]]++
		c3[s[i+3]]++
	}
	var count [256]uint32
	for r := range count {
		count[r] = c0[r] + c1[r] + c2[r] + c3[r]
	}
	sum := 0.0
	for r := len(count) - 1; r >= 0; r-- { // smallest terms first
		sum += float64(count[r]) * hllInverse[r]
	}
	zeros := int(count[0])
	alpha := 0.7213 / (1 + 1.079/m)
	e := alpha * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		return m * math.Log(m/float64(zeros))
	}
	return e
}

// hllHash spreads a visitor key (already a keyed hash) differently from
// the sessionizer's tables.
func hllHash(key uint64) uint64 {
	h := key ^ 0x2545f4914f6cdd1d
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// dayVisitors holds one sketch per (site, channel, device) cell for the
// current calendar day. Sketches are made when their cell first sees a
// visitor and zeroed, not freed, at midnight.
type dayVisitors struct {
	mu       sync.Mutex
	day      int32 // calendar day counted (session day number); 0 none yet
	sketches []*hll
}

// VisitorSeen implements session.Sink: visitor key had its first session
// of day (a session day number) with labels l. A day later than the one
// counted starts a new day; an earlier one is ignored.
func (m *Metrics) VisitorSeen(l session.Labels, key uint64, day int32) {
	d := &m.dayv
	d.mu.Lock()
	d.seen(m.cell(l), key, day) // does not panic: no deferred unlock
	d.mu.Unlock()
}

// VisitorAddr implements session.VisitorPrefetcher: the address of the
// register VisitorSeen(l, key, day) reads, or 0 while the cell has no
// sketch. It takes no lock: the sketches are only made, and their
// pointers only written, by the goroutine that counts sessions, which is
// the one calling this.
func (m *Metrics) VisitorAddr(l session.Labels, key uint64) uintptr {
	s := m.dayv.sketches[m.cell(l)]
	if s == nil {
		return 0
	}
	return uintptr(unsafe.Pointer(&s[hllRegister(hllHash(key))]))
}

// seen adds key to cell's sketch of day; the caller holds d.mu.
func (d *dayVisitors) seen(cell int, key uint64, day int32) {
	if day < d.day {
		return
	}
	if day > d.day {
		d.reset(day)
	}
	s := d.sketches[cell]
	if s == nil {
		s = new(hll)
		d.sketches[cell] = s
	}
	s.add(hllHash(key))
}

// reset starts day with every sketch empty.
func (d *dayVisitors) reset(day int32) {
	for _, s := range d.sketches {
		if s != nil {
			*s = hll{}
		}
	}
	d.day = day
}

// visitorEstimates returns, per cell with a sketch, its estimate.
func (m *Metrics) visitorEstimates() (cells []int, est []float64) {
	d := &m.dayv
	d.mu.Lock()
	defer d.mu.Unlock()
	for c, s := range d.sketches {
		if s != nil {
			cells = append(cells, c)
			est = append(est, s.estimate())
		}
	}
	return cells, est
}

// VisitorsSnapshot is the saved sketches of the current day.
type VisitorsSnapshot struct {
	Day   int32    `json:"day"`
	Cells []int    `json:"cells"`
	Regs  [][]byte `json:"registers"`
}

func (m *Metrics) visitorsSnapshot() *VisitorsSnapshot {
	d := &m.dayv
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.day == 0 {
		return nil
	}
	out := &VisitorsSnapshot{Day: d.day}
	for c, s := range d.sketches {
		if s != nil {
			out.Cells = append(out.Cells, c)
			out.Regs = append(out.Regs, append([]byte(nil), s[:]...))
		}
	}
	return out
}

// restoreVisitors merges saved sketches (cells mapped by cellMap) into
// today's: a union, so a visitor counted before and after a restart counts
// once.
func (m *Metrics) restoreVisitors(v *VisitorsSnapshot, cellMap []int) {
	if v == nil {
		return
	}
	d := &m.dayv
	d.mu.Lock()
	defer d.mu.Unlock()
	if v.Day < d.day {
		return
	}
	if v.Day > d.day {
		for _, s := range d.sketches {
			if s != nil {
				*s = hll{}
			}
		}
		d.day = v.Day
	}
	for i, c := range v.Cells {
		if c < 0 || c >= len(cellMap) || cellMap[c] < 0 || i >= len(v.Regs) || len(v.Regs[i]) != hllRegisters {
			continue
		}
		nc := cellMap[c]
		s := d.sketches[nc]
		if s == nil {
			s = new(hll)
			d.sketches[nc] = s
		}
		for j, r := range v.Regs[i] {
			if r > s[j] {
				s[j] = r
			}
		}
	}
}

// VisitorsToday returns the estimated distinct visitors of the day being
// counted, summed over cells as web_visitors shows them.
func (m *Metrics) VisitorsToday() float64 {
	_, est := m.visitorEstimates()
	var n float64
	for _, e := range est {
		n += math.Round(e)
	}
	return n
}
