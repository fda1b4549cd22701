package session

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"time"
	"unsafe"
)

// bucketSlots is the number of slots per bucket of a Returning table.
const bucketSlots = 8

// Returning remembers when each visitor last started a session, to tell
// new visitors from returning ones (docs/rules.md rule 6), in a fixed
// amount of memory: 4 bytes a slot, about 1.6 slots per visitor it is sized
// for (6.7 bytes a visitor; 10 million visitors in 64 MiB).
//
// Each visitor has two candidate buckets of 8 slots, chosen by its key; a
// slot holds a 16-bit fingerprint of the key and the hour (since the Unix
// epoch, modulo 2^16) of the visitor's last session start. A new visitor
// goes to the emptier of its buckets, taking a free slot or one whose hour
// is older than the window; when all 16 are fresh, the oldest is replaced.
//
// Two kinds of wrong answer, both measured by TestReturningErrorRates and
// BenchmarkReturningTenMillion: a new visitor taken for returning when one
// of its 16 slots holds another visitor's equal fingerprint (at most
// 16/65536 = 0.024%, less the emptier the table), and a returning visitor
// taken for new when its slot was replaced (only once more visitors than
// sized for were seen within the window). Hours make the window exact to
// the hour. Not safe for concurrent use.
type Returning struct {
	slots  []uint32 // fingerprint<<16 | hour; 0 is empty
	mask   uint64   // buckets - 1
	window int32    // hours
}

// newReturning returns a table for about capacity visitors seen within
// window (at most 365 days).
func newReturning(capacity int, window time.Duration) (*Returning, error) {
	if capacity <= 0 {
		return nil, fmt.Errorf("returning visitors: capacity must be positive, got %d", capacity)
	}
	if window < time.Hour || window > 365*24*time.Hour {
		return nil, fmt.Errorf("returning visitors: window must be between 1h and 365d, got %s", window)
	}
	// Buckets: a power of two with at least capacity*1.6 slots.
	need := (uint64(capacity)*8/5 + bucketSlots - 1) / bucketSlots
	buckets := uint64(1) << bits.Len64(need-1)
	if need <= 1 {
		buckets = 1
	}
	// Every page of the table is written once now. A page first read
	// (start reads two buckets before it writes one) is mapped to the
	// kernel's zero page, and its first write then replaces that mapping,
	// which on several cores makes the kernel interrupt the others to
	// flush their TLBs: 2,000 such faults in a replay of 2M lines at the
	// default capacity, where writing the pages first made a two-core
	// replay take 0.94 of the time per round (docs/performance.md, "The
	// parallel replay"). At the default capacity the memory is the
	// table's anyway once ten thousand or so visitors have come, each
	// writing a bucket at random.
	slots := make([]uint32, buckets*bucketSlots)
	for i := 0; i < len(slots); i += 1024 { // 4 KiB of slots
		slots[i] = 0
	}
	return &Returning{
		slots:  slots,
		mask:   buckets - 1,
		window: int32(window / time.Hour),
	}, nil
}

// Bytes returns the memory the table holds.
func (r *Returning) Bytes() int { return len(r.slots) * 4 }

// hour is t (Unix nanoseconds) in hours since the epoch, modulo 2^16.
func hourOf(t int64) uint16 { return uint16(t / int64(time.Hour)) }

// split derives the two buckets and the fingerprint of key. Keys are keyed
// hashes already; the multiply spreads keys a test makes by counting.
func (r *Returning) split(key uint64) (b1, b2 uint64, fp uint32) {
	h := key * 0x9e3779b97f4a7c15
	h ^= h >> 29
	fp = uint32(h >> 48)
	if fp == 0 {
		fp = 1
	}
	b1 = h & r.mask
	b2 = (b1 ^ (uint64(fp) * 0x5bd1e995)) & r.mask
	return b1, b2, fp
}

// Start records a session of visitor key starting at t and reports whether
// the visitor had started one in the window before t.
func (r *Returning) Start(key uint64, t int64) (returning bool) {
	a := r.start(key, t)
	return a >= 0 && a != noAge
}

// noAge is start's answer for a visitor not seen within the window.
const noAge = -1 << 31

// start records a session of visitor key starting at t and returns the
// age in hours of the visitor's previous start within the window (negative:
// a later start is known), or noAge.
func (r *Returning) start(key uint64, t int64) int32 {
	b1, b2, fp := r.split(key)
	now := hourOf(t)
	w := r.window
	// One pass over the 16 slots: the visitor's slot when it has one (the
	// first in order); else, as it goes, what a new visitor needs: the
	// freer bucket's first free or stale slot, else the oldest slot.
	best, bestFree := -1, -1
	oldest, oldestAge := -1, int32(-1<<31)
	for _, b := range [2]uint64{b1, b2} {
		base := int(b * bucketSlots)
		bs := r.slots[base : base+bucketSlots : base+bucketSlots]
		free, first := 0, -1
		for i, s := range bs {
			// Age of the slot in hours, signed: negative when its start
			// is later than t (a late line).
			a := int32(int16(now - uint16(s)))
			if s>>16 == fp { // fp is never 0, so neither is s
				switch {
				case a < -w || a > w: // long ago: new again
					bs[i] = fp<<16 | uint32(now)
					return noAge
				case a < 0: // a later session is known: keep it
					return a
				default:
					bs[i] = fp<<16 | uint32(now)
					return a
				}
			}
			if s == 0 || a > w || a < -w { // free or stale
				free++
				if first < 0 {
					first = base + i
				}
			} else if a > oldestAge {
				oldest, oldestAge = base+i, a
			}
		}
		if first >= 0 && free > bestFree {
			best, bestFree = first, free
		}
	}
	if best < 0 {
		best = oldest
	}
	r.slots[best] = fp<<16 | uint32(now)
	return noAge
}

// ReturningSnapshot is a saved Returning table.
type ReturningSnapshot struct {
	Slots  int    `json:"slots"`
	Window int32  `json:"window_hours"`
	Data   []byte `json:"data"` // little-endian uint32 slots
}

// Snapshot returns a copy of the table.
func (r *Returning) Snapshot() *ReturningSnapshot {
	b := make([]byte, 4*len(r.slots))
	for i, s := range r.slots {
		binary.LittleEndian.PutUint32(b[4*i:], s)
	}
	return &ReturningSnapshot{Slots: len(r.slots), Window: r.window, Data: b}
}

// Restore loads s into r. A table of another size (the capacity changed)
// cannot be rehashed, its keys being gone: it is refused and r stays empty.
func (r *Returning) Restore(s *ReturningSnapshot) error {
	if s.Slots != len(r.slots) || len(s.Data) != 4*s.Slots {
		return fmt.Errorf("returning visitors: saved table has %d slots, this one %d (visitors.capacity changed): starting empty", s.Slots, len(r.slots))
	}
	for i := range r.slots {
		r.slots[i] = binary.LittleEndian.Uint32(s.Data[4*i:])
	}
	return nil
}

// prefetch starts reading the two buckets of visitor key.
func (r *Returning) prefetch(key uint64) {
	b1, b2, _ := r.split(key)
	prefetch(uintptr(unsafe.Pointer(&r.slots[b1*bucketSlots])))
	prefetch(uintptr(unsafe.Pointer(&r.slots[b2*bucketSlots])))
}
