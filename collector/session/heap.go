package session

// eventHeap holds the events waiting for max_delay, sorted by (Time, Seq).
// Events arrive nearly in order, so it is a sorted ring buffer rather than a
// binary heap: an in-order event is appended in O(1), an out-of-order one
// walks back only as far as it is late, and the oldest is taken from the
// front in O(1). It does not allocate once the buffer has grown.
type eventHeap struct {
	a          []Event // ring buffer, len(a) is a power of two or zero
	hints      []hint  // hints[i] is a[i]'s
	head, size int
}

// hint is what the visitor table told of a held event's visitor so far:
// the key's hash, computed once as the event is held, and the record the
// index named when last asked (none: not asked, or no record). The record
// may have gone or changed hands since: it is checked before use
// (table.findHinted), so a hint saves work but never changes a result.
type hint struct {
	hash uint64
	rec  int32
}

func (h *eventHeap) len() int       { return h.size }
func (h *eventHeap) min() *Event    { return &h.a[h.head] }
func (h *eventHeap) minHint() *hint { return &h.hints[h.head] }

func less(x, y *Event) bool {
	if x.Time != y.Time {
		return x.Time < y.Time
	}
	return x.Seq < y.Seq
}

func (h *eventHeap) at(i int) *Event { return &h.a[(h.head+i)&(len(h.a)-1)] }

// hintAt is at(i)'s hint.
func (h *eventHeap) hintAt(i int) *hint { return &h.hints[(h.head+i)&(len(h.a)-1)] }

func (h *eventHeap) push(e Event) { h.insert(&e, e.Seq, hashKey(e.Visitor)) }

// insert is push of *e with arrival order seq (the copy's Seq), without
// copying e twice; hash is hashKey(e.Visitor).
func (h *eventHeap) insert(e *Event, seq, hash uint64) {
	if h.size == len(h.a) {
		h.grow()
	}
	// Shift later events up by one, from the back, then insert. An event
	// at or after the newest held (the usual case) is appended.
	mask := len(h.a) - 1
	i := h.size
	for i > 0 {
		p := h.at(i - 1)
		if e.Time > p.Time || e.Time == p.Time && seq >= p.Seq {
			break
		}
		*h.at(i) = *p
		h.hints[(h.head+i)&mask] = h.hints[(h.head+i-1)&mask]
		i--
	}
	d := h.at(i)
	*d = *e
	d.Seq = seq
	h.hints[(h.head+i)&mask] = hint{hash: hash, rec: none}
	h.size++
}

func (h *eventHeap) pop() Event {
	e := h.a[h.head]
	h.drop()
	return e
}

// drop removes the oldest event.
func (h *eventHeap) drop() {
	h.head = (h.head + 1) & (len(h.a) - 1)
	h.size--
}

func (h *eventHeap) grow() {
	n := 2 * len(h.a)
	if n == 0 {
		n = 64
	}
	a := make([]Event, n)
	hints := make([]hint, n)
	for i := 0; i < h.size; i++ {
		a[i] = *h.at(i)
		hints[i] = *h.hintAt(i)
	}
	h.a, h.hints, h.head = a, hints, 0
}

// events returns the held events in order (for snapshots).
func (h *eventHeap) events() []Event {
	out := make([]Event, h.size)
	for i := range out {
		out[i] = *h.at(i)
	}
	return out
}
