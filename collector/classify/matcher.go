package classify

import "fmt"

// matcher finds every occurrence of a set of patterns in one pass over a
// text, ASCII case-insensitively: an Aho-Corasick automaton compiled into a
// full transition table over byte classes, so each input byte costs one
// table load and matching never allocates. It is built once at start-up and
// is read-only afterwards, so any number of goroutines may share it.
type matcher struct {
	class  [256]uint8 // byte -> class; class 0 is "no pattern has this byte"
	nclass int
	// next[state*nclass+class] is the next state, with hasOut set when
	// some pattern ends there; at most 32768 states keep the table small.
	next []uint16
	// out[state] is the first index in outIDs of the patterns ending at
	// state (its own and those of its suffix states), out[state+1] the end.
	out    []uint32
	outIDs []uint16
	lens   []uint16 // pattern id -> length
}

// newMatcher builds the automaton of pats (lower-case ASCII, non-empty,
// fewer than 65536). Pattern i is reported as id i.
func newMatcher(pats []string) (*matcher, error) {
	if len(pats) >= 1<<16 {
		return nil, fmt.Errorf("classify: %d patterns, at most %d", len(pats), 1<<16-1)
	}
	m := &matcher{lens: make([]uint16, len(pats))}
	// Byte classes: one per distinct byte of the patterns, upper- and
	// lower-case letters sharing one.
	for i, p := range pats {
		if p == "" || len(p) >= 1<<16 {
			return nil, fmt.Errorf("classify: pattern %d has length %d", i, len(p))
		}
		m.lens[i] = uint16(len(p))
		for j := 0; j < len(p); j++ {
			b := p[j]
			if b >= 'A' && b <= 'Z' {
				return nil, fmt.Errorf("classify: pattern %q is not lower-case", p)
			}
			if m.class[b] == 0 {
				m.nclass++
				if m.nclass > 255 {
					return nil, fmt.Errorf("classify: too many byte classes")
				}
				m.class[b] = uint8(m.nclass)
				if b >= 'a' && b <= 'z' {
					m.class[b-'a'+'A'] = uint8(m.nclass)
				}
			}
		}
	}
	m.nclass++ // class 0

	// The trie, with children in a map while building.
	type node struct {
		child map[uint8]uint32
		fail  uint32
		ids   []uint16
	}
	nodes := []node{{child: map[uint8]uint32{}}}
	for i, p := range pats {
		s := uint32(0)
		for j := 0; j < len(p); j++ {
			c := m.class[p[j]]
			n, ok := nodes[s].child[c]
			if !ok {
				n = uint32(len(nodes))
				nodes = append(nodes, node{child: map[uint8]uint32{}})
				nodes[s].child[c] = n
			}
			s = n
		}
		nodes[s].ids = append(nodes[s].ids, uint16(i))
	}

	// Breadth-first: failure links and the full transition table.
	if len(nodes) > stateMask+1 {
		return nil, fmt.Errorf("classify: %d automaton states, at most %d", len(nodes), stateMask+1)
	}
	m.next = make([]uint16, len(nodes)*m.nclass)
	queue := make([]uint32, 0, len(nodes))
	for c := 0; c < m.nclass; c++ {
		if n, ok := nodes[0].child[uint8(c)]; ok {
			m.next[c] = uint16(n)
			queue = append(queue, n)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := nodes[s].fail
		nodes[s].ids = append(nodes[s].ids, nodes[f].ids...)
		for c := 0; c < m.nclass; c++ {
			if n, ok := nodes[s].child[uint8(c)]; ok {
				nodes[n].fail = uint32(m.next[int(f)*m.nclass+c] & stateMask)
				m.next[int(s)*m.nclass+c] = uint16(n)
				queue = append(queue, n)
			} else {
				m.next[int(s)*m.nclass+c] = m.next[int(f)*m.nclass+c]
			}
		}
	}
	// Mark the transitions into states where a pattern ends, so a scan
	// looks at the output lists only there.
	for i, t := range m.next {
		if len(nodes[t].ids) > 0 {
			m.next[i] = t | hasOut
		}
	}
	m.out = make([]uint32, len(nodes)+1)
	for s := range nodes {
		m.out[s] = uint32(len(m.outIDs))
		m.outIDs = append(m.outIDs, nodes[s].ids...)
	}
	m.out[len(nodes)] = uint32(len(m.outIDs))
	return m, nil
}

// scan calls fn(id, start) for every occurrence of every pattern in text,
// in order of end position; start is the offset of the occurrence's first
// byte. fn returning false stops the scan.
func (m *matcher) scan(text []byte, fn func(id uint16, start int) bool) {
	s := uint32(0)
	nc := uint32(m.nclass)
	for i := 0; i < len(text); i++ {
		v := m.next[s*nc+uint32(m.class[text[i]])]
		s = uint32(v & stateMask)
		if v&hasOut == 0 {
			continue
		}
		for _, id := range m.outIDs[m.out[s]:m.out[s+1]] {
			if !fn(id, i+1-int(m.lens[id])) {
				return
			}
		}
	}
}

const (
	hasOut    = 1 << 15    // in a transition: a pattern ends at the target
	stateMask = hasOut - 1 // the target state
)
