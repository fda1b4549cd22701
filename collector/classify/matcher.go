package classify

import (
	"fmt"
	"slices"
)

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

	// The trie, built straight into the transition table: next[s*nc+c] is
	// s's child on class c, 0 while it has none (the root is nobody's
	// child). One row per state, appended as states are made, into a table
	// sized for them all at once: growing it by append, 21 times, copied
	// and discarded about 8 MB, half of the build's time with the
	// collections it caused.
	nc := m.nclass
	states := trieStates(pats)
	if states > stateMask+1 {
		return nil, fmt.Errorf("classify: more than %d automaton states", stateMask+1)
	}
	m.next = make([]uint16, nc, states*nc)
	ids := make([][]uint16, 1, states) // state -> patterns ending there
	for i, p := range pats {
		s := 0
		for j := 0; j < len(p); j++ {
			c := int(m.class[p[j]])
			n := int(m.next[s*nc+c])
			if n == 0 {
				n = len(ids)
				if n > stateMask { // cannot happen while trieStates counts right
					return nil, fmt.Errorf("classify: more than %d automaton states", stateMask+1)
				}
				ids = append(ids, nil)
				m.next = append(m.next, make([]uint16, nc)...)
				m.next[s*nc+c] = uint16(n)
			}
			s = n
		}
		ids[s] = append(ids[s], uint16(i))
	}

	// Breadth-first, so a state's failure state (shallower) has its row
	// complete before the state's own: failure links, each missing child
	// replaced by the failure state's transition, each state's output
	// extended with its failure state's, and the transitions into states
	// where a pattern ends marked, so a scan looks at the output lists
	// only there.
	fail := make([]uint16, len(ids))
	ends := make([]bool, len(ids))
	mark := func(n uint16) uint16 {
		if ends[n] {
			return n | hasOut
		}
		return n
	}
	queue := make([]uint16, 0, len(ids))
	for c := 0; c < nc; c++ {
		if n := m.next[c]; n != 0 {
			ends[n] = len(ids[n]) > 0
			m.next[c] = mark(n)
			queue = append(queue, n)
		}
	}
	for k := 0; k < len(queue); k++ {
		s := int(queue[k])
		f := int(fail[s])
		ids[s] = append(ids[s], ids[f]...)
		row, frow := m.next[s*nc:(s+1)*nc], m.next[f*nc:(f+1)*nc]
		for c, n := range row {
			if n == 0 {
				row[c] = frow[c]
				continue
			}
			g := frow[c] & stateMask
			fail[n] = g
			ends[n] = len(ids[n]) > 0 || ends[g]
			row[c] = mark(n)
			queue = append(queue, n)
		}
	}
	if len(ids) != states {
		return nil, fmt.Errorf("classify: automaton has %d states, %d counted", len(ids), states)
	}
	m.out = make([]uint32, len(ids)+1)
	for s := range ids {
		m.out[s] = uint32(len(m.outIDs))
		m.outIDs = append(m.outIDs, ids[s]...)
	}
	m.out[len(ids)] = uint32(len(m.outIDs))
	return m, nil
}

// trieStates is the number of states of the trie of pats, the root
// included: one per distinct prefix. Sorted, each pattern adds the bytes
// after the prefix it shares with the one before it (byte classes map the
// lower-case patterns' bytes one to one, so bytes and classes agree).
func trieStates(pats []string) int {
	sorted := slices.Clone(pats)
	slices.Sort(sorted)
	n := 1
	for i, p := range sorted {
		shared := 0
		if i > 0 {
			q := sorted[i-1]
			for shared < len(p) && shared < len(q) && p[shared] == q[shared] {
				shared++
			}
		}
		n += len(p) - shared
	}
	return n
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
