package session

import (
	"unsafe"

	"github.com/session-exporter/session-exporter/collector/classify"
)

// visitor is one visitor's open session (or, when not open, the place in
// the activity list of a visitor that holds only a pending redirect
// source). Visitors live in a table and form a list sorted by last
// activity (front = least recent), used for timeouts and eviction.
// Keeping it sorted, even when late events arrive, makes every idle
// session close at the same point of the input whatever else is in
// memory.
//
// The record is 64 bytes and holds no pointers. Last activity is not a
// field of its own: it is last, the last pageview, while the session is
// open (the list is sorted by it), and last holds the activity otherwise.
// Engaged is derived (two pageviews or a goal); the pending redirect
// source, rare, lives in Sessionizer.carry.
type visitor struct {
	key        uint64
	first      int64 // first pageview of the open session
	last       int64 // last pageview of the open session; else last activity
	source     uint64
	goals      uint64
	pageviews  uint32
	day        int32 // calendar day of the session's first pageview
	prev, next int32 // activity list; next links the free records too
	site       uint8
	landing    uint8
	channel    classify.Channel
	device     classify.Device
	flags      uint8
}

const (
	flagOpen      = 1 << iota // a session is open
	flagReturning             // the open session's visitor type
	flagCarry                 // a redirect source is pending in Sessionizer.carry
)

func (v *visitor) open() bool { return v.flags&flagOpen != 0 }

// engaged reports whether the open session is engaged (rule 6: a second
// pageview or a goal).
func (v *visitor) engaged() bool { return v.pageviews >= 2 || v.goals != 0 }

func (v *visitor) labels() Labels {
	return Labels{Site: v.site, Channel: v.channel, Device: v.device, Landing: v.landing,
		Returning: v.flags&flagReturning != 0}
}

// carryOver is a visitor's pending redirect source (rule 6 carry-over).
type carryOver struct {
	src   uint64
	until int64
	ch    classify.Channel
}

// Records are kept in pages of a fixed size that are never moved: the
// table grows by a page at a time without copying, so memory follows the
// visitors held and no old array lingers while a larger one fills.
const (
	pageShift = 10
	pageLen   = 1 << pageShift // 1,024 records, 64 KiB a page
)

// table holds the visitor records and finds them by key with an
// open-addressing index.
type table struct {
	pages []*[pageLen]visitor
	used  int32 // records handed out from the pages, free ones included
	free  int32 // first free record, linked by next; none when empty

	// slots is the index: linear probing over a power-of-two array; a
	// slot is tag<<32 | (record+1), 0 when empty, where tag is the high
	// half of the key's hash, whose top bits are also the slot the key
	// belongs at. Comparing tags first keeps probes off the records.
	slots []uint64
	bits  uint8 // log2(len(slots))
	n     int   // keys in the index
}

func newTable() table { return table{free: none} }

// rec returns record i.
func (t *table) rec(i int32) *visitor { return &t.pages[i>>pageShift][i&(pageLen-1)] }

// hashKey spreads visitor keys (keyed hashes already, but tests count).
func hashKey(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

// find returns the record of key k, or none.
func (t *table) find(k uint64) int32 { return t.findHash(k, hashKey(k)) }

// findHinted is find for a held event's visitor k with hint hn: the
// hinted record when it holds k (a free record holds key 0, and a key is
// in one record at most, so for k != 0 that is k's record), else the
// index is searched.
func (t *table) findHinted(k uint64, hn *hint) int32 {
	if i := hn.rec; i >= 0 && i < t.used && k != 0 && t.rec(i).key == k {
		return i
	}
	return t.findHash(k, hn.hash)
}

// findHash is find of key k whose hashKey is h.
func (t *table) findHash(k, h uint64) int32 {
	if t.n == 0 {
		return none
	}
	tag := h >> 32
	mask := uint64(len(t.slots) - 1)
	for p := tag >> (32 - t.bits); ; p = (p + 1) & mask {
		s := t.slots[p]
		if s == 0 {
			return none
		}
		if s>>32 == tag {
			if i := int32(uint32(s) - 1); t.rec(i).key == k {
				return i
			}
		}
	}
}

// insert adds key k, which must not be in the table, and returns its new
// record, zero but for the key and unlinked.
func (t *table) insert(k uint64) int32 { return t.insertHash(k, hashKey(k)) }

// insertHash is insert of key k whose hashKey is h.
func (t *table) insertHash(k, h uint64) int32 {
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow()
	}
	var i int32
	if t.free != none {
		i = t.free
		t.free = t.rec(i).next
	} else {
		if int(t.used)>>pageShift == len(t.pages) {
			t.pages = append(t.pages, new([pageLen]visitor))
		}
		i = t.used
		t.used++
	}
	*t.rec(i) = visitor{key: k, prev: none, next: none}
	t.place(h>>32<<32 | uint64(uint32(i)+1))
	t.n++
	return i
}

// place puts slot value s at the first free slot from its home.
func (t *table) place(s uint64) {
	mask := uint64(len(t.slots) - 1)
	p := s >> 32 >> (32 - t.bits)
	for t.slots[p] != 0 {
		p = (p + 1) & mask
	}
	t.slots[p] = s
}

func (t *table) grow() {
	old := t.slots
	bits := t.bits + 1
	if old == nil {
		bits = 6
	}
	t.slots, t.bits = make([]uint64, 1<<bits), bits
	for _, s := range old {
		if s != 0 {
			t.place(s)
		}
	}
}

// delete removes record i (holding key k) and frees it.
func (t *table) delete(i int32) {
	k := t.rec(i).key
	mask := uint64(len(t.slots) - 1)
	want := hashKey(k)>>32<<32 | uint64(uint32(i)+1)
	p := want >> 32 >> (32 - t.bits)
	for t.slots[p] != want {
		p = (p + 1) & mask
	}
	// Backward-shift deletion: move up each later slot of the run that
	// may sit at the hole, so lookups need no tombstones.
	for q := (p + 1) & mask; t.slots[q] != 0; q = (q + 1) & mask {
		home := t.slots[q] >> 32 >> (32 - t.bits)
		// The entry at q may move to p unless its home lies cyclically
		// in (p, q].
		if (q-home)&mask >= (q-p)&mask {
			t.slots[p] = t.slots[q]
			p = q
		}
	}
	t.slots[p] = 0
	t.n--
	*t.rec(i) = visitor{next: t.free}
	t.free = i
}

// prefetchSlot starts reading the index slot of the key whose hashKey is
// h.
func (t *table) prefetchSlot(h uint64) {
	if t.n == 0 {
		return
	}
	p := h >> 32 >> (32 - t.bits)
	prefetch(uintptr(unsafe.Pointer(&t.slots[p])))
}

// prefetchRec starts reading the record of the key whose hashKey is h, if
// its index slots name one, and returns that record (or none): the slots
// are read, the record is not waited for, so its key is not checked.
func (t *table) prefetchRec(h uint64) int32 {
	if t.n == 0 {
		return none
	}
	tag := h >> 32
	mask := uint64(len(t.slots) - 1)
	for p := tag >> (32 - t.bits); ; p = (p + 1) & mask {
		s := t.slots[p]
		if s == 0 {
			return none
		}
		if s>>32 == tag {
			i := int32(uint32(s) - 1)
			prefetch(uintptr(unsafe.Pointer(t.rec(i))))
			return i
		}
	}
}
