package session

// eventHeap is a binary min-heap of events by (Time, Seq). It is typed, so
// pushing and popping do not allocate once the backing array has grown.
type eventHeap struct{ a []Event }

func (h *eventHeap) len() int    { return len(h.a) }
func (h *eventHeap) min() *Event { return &h.a[0] }

func less(x, y *Event) bool {
	if x.Time != y.Time {
		return x.Time < y.Time
	}
	return x.Seq < y.Seq
}

func (h *eventHeap) push(e Event) {
	h.a = append(h.a, e)
	i := len(h.a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !less(&h.a[i], &h.a[p]) {
			break
		}
		h.a[i], h.a[p] = h.a[p], h.a[i]
		i = p
	}
}

func (h *eventHeap) pop() Event {
	top := h.a[0]
	n := len(h.a) - 1
	h.a[0] = h.a[n]
	h.a = h.a[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && less(&h.a[r], &h.a[l]) {
			m = r
		}
		if !less(&h.a[m], &h.a[i]) {
			break
		}
		h.a[i], h.a[m] = h.a[m], h.a[i]
		i = m
	}
	return top
}
