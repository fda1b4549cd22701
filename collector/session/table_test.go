package session

import (
	"math/rand/v2"
	"testing"
)

// TestTableAgainstMap drives the record table with random inserts and
// deletes, a small key space so runs of probes form, wrap around the end
// of the index and are cut by deletions, and checks every key against a
// map after each step.
func TestTableAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	tb := newTable()
	want := map[uint64]int32{}
	for step := range 200_000 {
		k := uint64(r.IntN(3000))
		if r.IntN(5) == 0 {
			k <<= 40 // keys differing only in high bits
		}
		if i, ok := want[k]; ok && r.IntN(2) == 0 {
			tb.delete(i)
			delete(want, k)
		} else if !ok {
			i := tb.insert(k)
			if v := tb.rec(i); v.key != k || v.prev != none || v.next != none || v.pageviews != 0 {
				t.Fatalf("step %d: new record %+v", step, *v)
			}
			want[k] = i
		}
		if tb.n != len(want) {
			t.Fatalf("step %d: %d keys, want %d", step, tb.n, len(want))
		}
		if step%1000 == 0 {
			for k, i := range want {
				if got := tb.find(k); got != i {
					t.Fatalf("step %d: find(%x) = %d, want %d", step, k, got, i)
				}
			}
			for range 100 {
				k := uint64(3000 + r.IntN(1<<20))
				if got := tb.find(k); got != none {
					t.Fatalf("step %d: absent key %x found at %d", step, k, got)
				}
			}
		}
	}
	// Freed records are reused before the pages grow.
	if int(tb.used) > 3000*2 {
		t.Errorf("%d records handed out for at most %d keys at once", tb.used, 6000)
	}
}

// TestTableDeleteKeepsRuns places keys whose slots collide, deletes from
// the middle of their run and checks the rest are still found, the case
// the backward shift must get right.
func TestTableDeleteKeepsRuns(t *testing.T) {
	tb := newTable()
	tb.insert(1) // size the index
	home := func(k uint64) uint64 { return hashKey(k) >> 32 >> (32 - tb.bits) }
	// Keys of two homes next to each other, the first at the last slot so
	// the run wraps to slot 0.
	last := uint64(len(tb.slots) - 1)
	var keys []uint64
	for k := uint64(2); len(keys) < 12; k++ {
		if h := home(k); h == last || h == 0 {
			keys = append(keys, k)
		}
	}
	if tb.bits != 6 {
		t.Fatalf("index of %d slots, want 64", len(tb.slots))
	}
	ids := map[uint64]int32{}
	for _, k := range keys {
		ids[k] = tb.insert(k)
	}
	for n, k := range keys {
		if n%3 == 1 {
			tb.delete(ids[k])
			delete(ids, k)
		}
	}
	for k, i := range ids {
		if got := tb.find(k); got != i {
			t.Errorf("find(%d) = %d after deletes, want %d", k, got, i)
		}
	}
	for n, k := range keys {
		if n%3 == 1 && tb.find(k) != none {
			t.Errorf("deleted key %d still found", k)
		}
	}
}

// TestVisitorIsOneCacheLine: the record is 64 bytes (the table's pages
// are sized for it).
func TestVisitorIsOneCacheLine(t *testing.T) {
	if n := unsafeSizeofVisitor(); n != 64 {
		t.Errorf("visitor record is %d bytes, want 64", n)
	}
}

// TestTableHints checks findHinted against find with hints of every kind
// a held event can carry: none, right, the record of another key, a
// record freed since, one freed and handed to another key, and records
// past those handed out; key 0 (what a freed record holds) included.
func TestTableHints(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	tb := newTable()
	live := map[uint64]int32{}
	var gone []int32 // records freed at some point
	for step := range 100_000 {
		k := uint64(r.IntN(500))
		if i, ok := live[k]; ok && r.IntN(2) == 0 {
			tb.delete(i)
			delete(live, k)
			gone = append(gone, i)
		} else if !ok {
			live[k] = tb.insert(k)
		}
		q := uint64(r.IntN(520)) // sometimes absent
		hn := hint{hash: hashKey(q), rec: none}
		switch r.IntN(5) {
		case 1:
			hn.rec = live[q] // right when q is live; record 0 otherwise
		case 2:
			hn.rec = int32(r.IntN(int(tb.used) + 1)) // any record, or one past them
		case 3:
			if len(gone) > 0 {
				hn.rec = gone[r.IntN(len(gone))]
			}
		case 4:
			hn.rec = tb.used + int32(r.IntN(3*pageLen))
		}
		if got, want := tb.findHinted(q, &hn), tb.find(q); got != want {
			t.Fatalf("step %d: findHinted(%d, rec %d) = %d, find = %d", step, q, hn.rec, got, want)
		}
	}
}
