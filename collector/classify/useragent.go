package classify

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"sync"
	"sync/atomic"
)

// maxUALen bounds the part of a user agent that is parsed and used as a cache
// key, so a hostile client cannot make cache entries or regexp runs large.
// The visitor key still hashes the whole user agent.
const maxUALen = 1024

// uaInfo is what the cache keeps per user agent.
type uaInfo struct {
	bot    bool
	device Device
	hash   uint64 // keyed hash of the whole user agent, for the visitor key
}

// userAgent returns the bot flag and device class of ua from the cache,
// parsing it on a miss. A hit does not allocate.
func (c *Classifier) userAgent(ua []byte) uaInfo {
	if len(ua) > maxUALen {
		// The lookup may replace the entry lastUA shares; see below.
		c.lastOK = false
		info, _ := c.lookupUA(ua[:maxUALen])
		info.hash = c.uaHash(ua) // the cached hash is of the first maxUALen bytes only
		return info
	}
	// A page and its assets come one after another with one user agent.
	// Agents mostly share their first bytes ("Mozilla/5.0 (") and differ
	// in length or in their last eight: those are compared first.
	if c.lastOK && len(ua) == len(c.lastUA) && (len(ua) < 8 || tail8(ua) == c.lastTail) && bytes.Equal(ua, c.lastUA) {
		return c.lastInfo
	}
	// lastUA shares the buffer of the agent's cache entry instead of
	// copying it: an entry's buffer changes only when lookupUA puts another
	// agent in its place, and every lookupUA is followed by setting lastUA
	// anew (or by clearing lastOK).
	info, key := c.lookupUA(ua)
	c.lastUA, c.lastInfo, c.lastOK = key, info, true
	if len(ua) >= 8 {
		c.lastTail = tail8(ua)
	}
	return info
}

// tail8 returns the last eight bytes of b, which has at least eight.
func tail8(b []byte) uint64 { return binary.LittleEndian.Uint64(b[len(b)-8:]) }

// lookupUA returns ua's verdict and the cache entry's copy of ua.
func (c *Classifier) lookupUA(ua []byte) (uaInfo, []byte) {
	h := maphash.Bytes(c.cfg.uaSeed, ua)
	if e := c.uaCache.entry(h, ua); e != nil {
		return e.info, e.ua
	}
	// The shared cache only pays once there are clones: for a single
	// Classifier it would hold the same entries as its own, behind a lock.
	shared := c.shared.cloned.Load()
	info, ok := uaInfo{}, false
	if shared {
		info, ok = c.shared.get(h, ua)
	}
	if !ok {
		info = classifyUA(c.ua, ua)
		info.hash = c.uaHash(ua)
		if shared {
			c.shared.put(h, ua, info)
		}
	}
	return info, c.uaCache.put(h, ua, info).ua
}

// uaHash is the keyed hash of a user agent that visitor keys are built on.
func (c *Classifier) uaHash(ua []byte) uint64 {
	h := newSipHash(c.cfg.k0, c.cfg.k1)
	h.writeField(ua)
	return h.sum()
}

// uaShared is the cache behind every clone's own: a user agent is parsed
// once per process, not once per worker. It is consulted only on a miss,
// and only once Clone has been called.
type uaShared struct {
	cloned atomic.Bool
	mu     sync.Mutex
	c      *uaCache
}

func (s *uaShared) get(h uint64, ua []byte) (uaInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c.get(h, ua)
}

func (s *uaShared) put(h uint64, ua []byte, v uaInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c.put(h, ua, v)
}

// uaWays is the number of entries of one set of the user-agent cache.
const uaWays = 8

// uaCache is a set-associative cache of user-agent verdicts: an agent's
// hash picks one set of uaWays entries, and within it the entry whose
// hash and agent both match. Its sets grow to their full number and no
// further (see uaMinSets); an entry's copy of its agent keeps its buffer
// when the entry is replaced, so a warm cache does not allocate. Full
// agents are compared, so two agents with one hash never share a verdict.
// Eviction is the clock algorithm within a set, among the entries not used
// since they were stored when there are any (a long tail of agents seen
// once replaces only those), else among all: an entry used since the hand
// last passed it is spared once. Agents used again (protected) hold at
// most three quarters of a set (maxProtected); one protected past that
// demotes an older one not used lately. So the regular agents of a site
// stay while a long tail passes, and a new regular can still join them.
type uaCache struct {
	sets    []uaSet
	ways    int // entries per set, at most uaWays
	maxSets int // sets once grown to size entries
}

type uaSet struct {
	tags  [uaWays]uint64 // the hashes, in one cache line
	valid uint8          // a bit per way holding an entry
	ref   uint8          // a bit per way used since the hand passed it
	prot  uint8          // a bit per way used at least once since it was stored
	hand  uint8
	ents  [uaWays]uaEntry
}

type uaEntry struct {
	ua   []byte
	info uaInfo
}

// uaMinSets is the number of sets a cache starts with. It doubles when
// an agent finds its set full, up to the size asked for: a site's few
// hundred regular agents then sit in a few tens of kilobytes, as close
// together as in a small map, not spread over the whole array.
const uaMinSets = 32

// newUACache returns a cache of at most size entries (size > 0).
func newUACache(size int) *uaCache {
	ways := min(size, uaWays)
	maxSets := size / ways
	return &uaCache{sets: make([]uaSet, min(maxSets, uaMinSets)), ways: ways, maxSets: maxSets}
}

func (c *uaCache) set(h uint64) *uaSet {
	// The high half of the hash, scaled to the number of sets.
	return &c.sets[(h>>32)*uint64(len(c.sets))>>32]
}

// grow doubles the number of sets (at most maxSets) and moves every entry
// to its set in the new array; the agents' buffers move with them. A
// doubling splits each set in two; the last step may not, and an entry
// whose new set is full is dropped.
func (c *uaCache) grow() {
	old := c.sets
	c.sets = make([]uaSet, min(2*len(old), c.maxSets))
	for i := range old {
		o := &old[i]
		for w := range c.ways {
			if o.valid&(1<<w) == 0 {
				continue
			}
			s := c.set(o.tags[w])
			if s.valid == 1<<c.ways-1 {
				continue // the last growth, to maxSets, need not halve a set exactly
			}
			n := 0
			for s.valid&(1<<n) != 0 {
				n++
			}
			s.tags[n], s.ents[n] = o.tags[w], o.ents[w]
			s.valid |= 1 << n
			s.ref |= o.ref & (1 << w) >> w << n
			s.prot |= o.prot & (1 << w) >> w << n
		}
	}
}

// get returns ua's verdict, if it is held.
func (c *uaCache) get(h uint64, ua []byte) (uaInfo, bool) {
	if e := c.entry(h, ua); e != nil {
		return e.info, true
	}
	return uaInfo{}, false
}

// entry returns ua's entry, or nil. The entry stays valid until the next
// put or grow.
func (c *uaCache) entry(h uint64, ua []byte) *uaEntry {
	s := c.set(h)
	for w := range c.ways {
		if s.tags[w] == h && s.valid&(1<<w) != 0 && bytes.Equal(s.ents[w].ua, ua) {
			s.ref |= 1 << w
			if s.prot&(1<<w) == 0 {
				c.protect(s, w)
			}
			return &s.ents[w]
		}
	}
	return nil
}

// maxProtected is how many ways of a set agents that came back may hold:
// a quarter of a set (two of eight ways) stays for newcomers, so that an
// agent seen for the first time can be asked for again, and protected,
// before a flood of one-off agents replaces it. Sets of fewer than four
// ways are not split.
func (c *uaCache) maxProtected() int {
	if c.ways < 4 {
		return c.ways
	}
	return c.ways - c.ways/4
}

// protect marks way w of s, just asked for again, as an agent that comes
// back. When that makes more protected ways than maxProtected, the clock
// hand demotes one of the others to probation: the first not used since
// the hand last passed it (it clears the used bit of those it passes). So
// agents that were regulars once but no longer come give their ways to
// the new regulars, not to the flood.
func (c *uaCache) protect(s *uaSet, w int) {
	s.prot |= 1 << w
	if bits.OnesCount8(s.prot) <= c.maxProtected() {
		return
	}
	for {
		v := int(s.hand)
		s.hand = uint8((v + 1) % c.ways)
		if v == w || s.prot&(1<<v) == 0 {
			continue
		}
		if s.ref&(1<<v) != 0 {
			s.ref &^= 1 << v
			continue
		}
		s.prot &^= 1 << v
		return
	}
}

// put stores ua's verdict, which get has just not found, and returns its
// entry.
func (c *uaCache) put(h uint64, ua []byte, info uaInfo) *uaEntry {
	s := c.set(h)
	full := uint8(1)<<c.ways - 1
	for s.valid == full && len(c.sets) < c.maxSets {
		c.grow()
		s = c.set(h)
	}
	w := 0
	if s.valid != full {
		for s.valid&(1<<w) != 0 {
			w++
		}
	} else if probation := s.valid &^ s.prot; probation != 0 {
		// An agent not asked for again since it came goes first: a flood
		// of agents seen once takes these ways only, never the ones of
		// agents that come back.
		for {
			w = int(s.hand)
			s.hand = uint8((w + 1) % c.ways)
			if probation&(1<<w) != 0 {
				break
			}
		}
	} else {
		for {
			w = int(s.hand)
			s.hand = uint8((w + 1) % c.ways)
			if s.ref&(1<<w) == 0 {
				break
			}
			s.ref &^= 1 << w
		}
	}
	e := &s.ents[w]
	if cap(e.ua) < len(ua) {
		e.ua = make([]byte, 0, (len(ua)+63)&^63)
	}
	e.ua = append(e.ua[:0], ua...)
	e.info = info
	s.tags[w] = h
	s.valid |= 1 << w
	s.ref &^= 1 << w
	s.prot &^= 1 << w
	return e
}

// len returns the number of entries held.
func (c *uaCache) len() int {
	n := 0
	for i := range c.sets {
		n += bits.OnesCount8(c.sets[i].valid)
	}
	return n
}

// classifyUA decides the bot flag (docs/rules.md rule 2) and the device class
// (rule 7) of one user agent.
func classifyUA(e *uaEngine, ua []byte) uaInfo {
	bot, dev := e.classify(ua)
	return uaInfo{bot: bot, device: dev}
}

// UserAgent returns the bot flag (docs/rules.md rule 2) and device class
// (rule 7) of one user agent, without a cache. Classify does the same
// behind its cache; this is for tools and tests that judge the rules on
// their own.
func UserAgent(ua []byte) (bot bool, dev Device, err error) {
	e, err := engine()
	if err != nil {
		return false, OtherDevice, err
	}
	bot, dev = e.classify(ua)
	return bot, dev, nil
}
