package session

import (
	"math/rand/v2"
	"testing"
	"time"
)

// returningRates fills a table sized for n visitors with n random keys at
// one time, then, an hour later, asks again for each of them (every answer
// should be "returning") and for n keys never seen (every answer should be
// "new"). It returns the two error rates and the table's bytes.
func returningRates(tb testing.TB, n int, seed uint64) (falseNew, falseReturning float64, bytes int) {
	tb.Helper()
	r, err := newReturning(n, 30*24*time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC).UnixNano()
	rng := rand.New(rand.NewPCG(seed, 1))
	first := rng.Uint64()
	next := rand.New(rand.NewPCG(seed, 1))
	for range n {
		if r.Start(next.Uint64(), t0) {
			falseReturning++ // a first visit already counts as a wrong answer
		}
	}
	again := rand.New(rand.NewPCG(seed, 1))
	if again.Uint64() != first {
		tb.Fatal("key sequence not reproducible")
	}
	again = rand.New(rand.NewPCG(seed, 1))
	t1 := t0 + int64(time.Hour)
	for range n {
		if !r.Start(again.Uint64(), t1) {
			falseNew++
		}
	}
	fresh := rand.New(rand.NewPCG(seed, 2))
	for range n {
		if r.Start(fresh.Uint64(), t1) {
			falseReturning++
		}
	}
	return falseNew / float64(n), falseReturning / float64(2*n), r.Bytes()
}

func TestReturningErrorRates(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	fn, fr, b := returningRates(t, n, 7)
	t.Logf("%d visitors in %d bytes (%.2f bytes each): false new %.4f%%, false returning %.4f%%", n, b, float64(b)/float64(n), 100*fn, 100*fr)
	if fn >= 0.01 || fr >= 0.01 {
		t.Errorf("false new %.4f%%, false returning %.4f%%: want both under 1%%", 100*fn, 100*fr)
	}
	// Sizes round up to a power of two: 10 million must fit 64 MiB.
	big, err := newReturning(10_000_000, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if big.Bytes() > 64<<20 {
		t.Errorf("a table for 10 million visitors takes %d bytes, over 64 MiB", big.Bytes())
	}
}

func TestReturningWindow(t *testing.T) {
	r, err := newReturning(1000, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	day := int64(24 * time.Hour)
	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC).UnixNano()
	for _, c := range []struct {
		key  uint64
		at   int64
		want bool
	}{
		{1, t0, false},
		{1, t0 + int64(time.Minute), true}, // same hour
		{1, t0 + 30*day, true},             // exactly the window after the last start
		{1, t0 + 61*day, false},            // 31 days after the last start
		{1, t0 + 61*day - 5*day, false},    // a late line: a later session is known
		{1, t0 + 62*day, true},             // the late line did not move the last start back
		{2, t0 + 62*day, false},            // another visitor
		{1, t0 + 62*day + 4000*day, false}, // years later, beyond the hour counter's range
	} {
		if got := r.Start(c.key, c.at); got != c.want {
			t.Errorf("visitor %d at day %d: returning %v, want %v", c.key, (c.at-t0)/day, got, c.want)
		}
	}
	snap := r.Snapshot()
	r2, _ := newReturning(1000, 30*24*time.Hour)
	if err := r2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if !r2.Start(2, t0+63*day) {
		t.Error("restored table forgot visitor 2")
	}
	r3, _ := newReturning(100_000, 30*24*time.Hour)
	if err := r3.Restore(snap); err == nil {
		t.Error("a table of another size restored")
	}
	if _, err := newReturning(10, time.Minute); err == nil {
		t.Error("a window under an hour accepted")
	}
}

// BenchmarkReturningTenMillion is the documented measurement of the
// returning-visitor table at its design size: 10 million visitors.
//
//	go test ./collector/session/ -run '^$' -bench ReturningTenMillion -benchtime 1x
func BenchmarkReturningTenMillion(b *testing.B) {
	for range b.N {
		fn, fr, bytes := returningRates(b, 10_000_000, 11)
		b.ReportMetric(100*fn, "%false_new")
		b.ReportMetric(100*fr, "%false_returning")
		b.ReportMetric(float64(bytes)/(1<<20), "MiB")
	}
}

// startTwoPass is Returning.start as first written, in two passes: the
// visitor's own slot, then the slot a new visitor takes. The one-pass start
// must answer and place exactly as it does.
func startTwoPass(r *Returning, key uint64, t int64) int32 {
	b1, b2, fp := r.split(key)
	now := hourOf(t)
	age := func(s uint32) int32 { return int32(int16(now - uint16(s))) }
	stale := func(s uint32) bool {
		a := age(s)
		return s == 0 || a > r.window || a < -r.window
	}
	for _, b := range [2]uint64{b1, b2} {
		bs := r.slots[b*bucketSlots : b*bucketSlots+bucketSlots]
		for i, s := range bs {
			if s != 0 && s>>16 == fp {
				a := age(s)
				switch {
				case a < -r.window || a > r.window:
					bs[i] = fp<<16 | uint32(now)
					return noAge
				case a < 0:
					return a
				default:
					bs[i] = fp<<16 | uint32(now)
					return a
				}
			}
		}
	}
	best, bestFree := -1, -1
	oldest, oldestAge := -1, int32(-1<<31)
	for _, b := range [2]uint64{b1, b2} {
		free, first := 0, -1
		for i := range bucketSlots {
			j := int(b)*bucketSlots + i
			s := r.slots[j]
			if stale(s) {
				free++
				if first < 0 {
					first = j
				}
			} else if a := age(s); a > oldestAge {
				oldest, oldestAge = j, a
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

// TestReturningStartOnePass runs two tables side by side, one through
// start, one through startTwoPass, on a table far past its capacity (full
// buckets, replaced slots), with keys that come back, times that go back
// (late lines) and jumps past the window (stale slots): every answer and
// every slot must agree.
func TestReturningStartOnePass(t *testing.T) {
	for _, capacity := range []int{1, 40, 1000} {
		a, err := newReturning(capacity, 48*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := newReturning(capacity, 48*time.Hour)
		rng := rand.New(rand.NewPCG(uint64(capacity), 3))
		now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC).UnixNano()
		keys := make([]uint64, 3*capacity+8)
		for i := range keys {
			keys[i] = rng.Uint64()
		}
		differ := 0
		for n := range 200_000 {
			switch rng.IntN(100) {
			case 0: // past the window: every slot goes stale
				now += int64(50 * time.Hour)
			case 1, 2, 3, 4: // a late line
				now -= int64(rng.IntN(72)) * int64(time.Hour)
			default:
				now += int64(rng.IntN(3)) * int64(time.Minute)
			}
			k := keys[rng.IntN(len(keys))]
			got, want := a.start(k, now), startTwoPass(b, k, now)
			if got != want {
				t.Fatalf("capacity %d, call %d: start = %d, two passes = %d", capacity, n, got, want)
			}
			if want != noAge {
				differ++
			}
		}
		for i := range a.slots {
			if a.slots[i] != b.slots[i] {
				t.Fatalf("capacity %d: slot %d is %#x, two passes %#x", capacity, i, a.slots[i], b.slots[i])
			}
		}
		if differ == 0 {
			t.Fatalf("capacity %d: no visitor came back: the test checks nothing", capacity)
		}
	}
}
