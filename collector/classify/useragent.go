package classify

import (
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
		// The first maxUALen bytes are looked up; the visitor key's hash
		// is of all of it (the cached one is of those bytes only).
		info := c.userAgent(ua[:maxUALen])
		info.hash = c.uaHash(ua)
		return info
	}
	// The agent is known by its hash and length (see uaCache). A page and
	// its assets come one after another with one agent: the previous
	// request's verdict is kept aside, so they do not reach the cache.
	h := maphash.Bytes(c.cfg.uaSeed, ua)
	if h != c.lastHash || len(ua) != c.lastLen {
		c.lastInfo = c.lookupUA(h, ua)
		c.lastHash, c.lastLen = h, len(ua)
	}
	return c.lastInfo
}

// lookupUA returns the verdict of ua, of hash h, from the cache or worked
// out and kept.
func (c *Classifier) lookupUA(h uint64, ua []byte) uaInfo {
	if info, ok := c.uaCache.get(h, len(ua)); ok {
		return info
	}
	// The shared cache only pays once there are clones: for a single
	// Classifier it would hold the same entries as its own, behind a lock.
	shared := c.shared.cloned.Load()
	info, ok := uaInfo{}, false
	if shared {
		info, ok = c.shared.get(h, len(ua))
	}
	if !ok {
		info = classifyUA(c.ua, ua)
		info.hash = c.uaHash(ua)
		if shared {
			c.shared.put(h, len(ua), info)
		}
	}
	c.uaCache.put(h, len(ua), info)
	return info
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

func (s *uaShared) get(h uint64, n int) (uaInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c.get(h, n)
}

func (s *uaShared) put(h uint64, n int, v uaInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c.put(h, n, v)
}

// uaWays is the number of entries of one set of the user-agent cache.
const uaWays = 8

// uaCache is a set-associative cache of user-agent verdicts: an agent's
// hash picks one set of uaWays entries, and within it the entry whose
// hash and length both match. Its sets grow to their full number and no
// further (see uaMinSets).
//
// An entry is known by the agent's 64-bit hash and its length alone; the
// agent's bytes are not kept. The hash is hash/maphash's, seeded at random
// when the classifier is built (its clones share the seed) and never shown
// outside the process: for two different agents of one length, the chance
// that their hashes are equal is about 2^-64. maphash is not a
// cryptographic hash, but neither the seed nor any hash ever leaves the
// process, so aiming at a collision would mean guessing the seed from
// verdicts alone. A lookup compares with at most uaWays entries of a
// worker's cache, the previous request's hash and, on a miss, uaWays of
// the shared cache, about 17 in all, so a billion lookups give a wrong
// verdict with a probability of about 10^-9; the cost of one would be
// another agent's bot flag, device and visitor-key hash for one agent,
// until it is evicted. What
// this buys: a hit reads two cache lines of its set, not also an agent
// stored elsewhere, and an entry is 24 bytes (uaSetBytes/uaWays) instead
// of about 240 with its copy of the agent, so the cache holds ten times
// the agents in the same memory, and it holds no user agent at all.
//
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
	// The first cache line: what a lookup reads of every way.
	fps   uint64         // a byte per way: the low byte of its hash, to find it by
	lens  [uaWays]uint16 // the agents' lengths
	dev   [uaWays]uint8  // their devices, with uaBot for a bot
	valid uint8          // a bit per way holding an entry
	ref   uint8          // a bit per way used since the hand passed it
	prot  uint8          // a bit per way used at least once since it was stored
	hand  uint8
	_     [28]byte
	// Then one sixteen-byte entry per way, four to a cache line: a hit
	// reads two lines of the set.
	ents [uaWays]uaEntry
}

type uaEntry struct {
	tag  uint64 // the agent's hash
	hash uint64 // uaInfo.hash
}

// uaBot marks a bot in uaSet.dev.
const uaBot = 0x80

// uaSetBytes is the size of a uaSet: an entry costs an eighth of it.
const uaSetBytes = 64 + 16*uaWays

// info returns the verdict held by way w.
func (s *uaSet) info(w int) uaInfo {
	d := s.dev[w]
	return uaInfo{bot: d&uaBot != 0, device: Device(d &^ uaBot), hash: s.ents[w].hash}
}

// store puts the agent of hash h and length n, and its verdict, in way w.
func (s *uaSet) store(w int, h uint64, n int, info uaInfo) {
	s.fps = s.fps&^(0xff<<(8*w)) | uint64(byte(h))<<(8*w)
	d := uint8(info.device)
	if info.bot {
		d |= uaBot
	}
	s.lens[w], s.dev[w], s.ents[w] = uint16(n), d, uaEntry{tag: h, hash: info.hash}
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
// to its set in the new array. A doubling splits each set in two; the
// last step may not, and an entry whose new set is full is dropped.
func (c *uaCache) grow() {
	old := c.sets
	c.sets = make([]uaSet, min(2*len(old), c.maxSets))
	for i := range old {
		o := &old[i]
		for w := range c.ways {
			if o.valid&(1<<w) == 0 {
				continue
			}
			s := c.set(o.ents[w].tag)
			if s.valid == 1<<c.ways-1 {
				continue // the last growth, to maxSets, need not halve a set exactly
			}
			n := 0
			for s.valid&(1<<n) != 0 {
				n++
			}
			s.store(n, o.ents[w].tag, int(o.lens[w]), o.info(w))
			s.valid |= 1 << n
			s.ref |= o.ref & (1 << w) >> w << n
			s.prot |= o.prot & (1 << w) >> w << n
		}
	}
}

// get returns the verdict of the agent of hash h and length n, if it is
// held, and marks its entry used.
func (c *uaCache) get(h uint64, n int) (uaInfo, bool) {
	s := c.set(h)
	// The ways whose fingerprint is h's low byte, eight bytes at once:
	// mostly the one that holds the agent, if any.
	for m := bytesEqual(s.fps, byte(h)); m != 0; m &= m - 1 {
		w := bits.TrailingZeros64(m) >> 3 & (uaWays - 1)
		if int(s.lens[w]) == n && s.ents[w].tag == h && s.valid&(1<<w) != 0 {
			s.ref |= 1 << w
			if s.prot&(1<<w) == 0 {
				c.protect(s, w)
			}
			return s.info(w), true
		}
	}
	return uaInfo{}, false
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

// put stores the verdict of the agent of hash h and length n, which get
// has just not found.
func (c *uaCache) put(h uint64, n int, info uaInfo) {
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
	s.store(w, h, n, info)
	s.valid |= 1 << w
	s.ref &^= 1 << w
	s.prot &^= 1 << w
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
