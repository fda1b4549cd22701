package classify

import (
	"bytes"
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
		info := c.lookupUA(ua[:maxUALen])
		info.hash = c.uaHash(ua) // the cached hash is of the first maxUALen bytes only
		return info
	}
	// A page and its assets come one after another with one user agent.
	if c.lastOK && bytes.Equal(ua, c.lastUA) {
		return c.lastInfo
	}
	info := c.lookupUA(ua)
	c.lastUA, c.lastInfo, c.lastOK = append(c.lastUA[:0], ua...), info, true
	return info
}

func (c *Classifier) lookupUA(ua []byte) uaInfo {
	if info, ok := c.uaCache[string(ua)]; ok {
		return info
	}
	key := string(ua)
	// The shared cache only pays once there are clones: for a single
	// Classifier it would hold the same entries as its own, behind a lock.
	shared := c.shared.cloned.Load()
	info, ok := uaInfo{}, false
	if shared {
		info, ok = c.shared.get(key)
	}
	if !ok {
		info = classifyUA(c.ua, ua)
		info.hash = c.uaHash(ua)
		if shared {
			c.shared.put(key, info, c.cfg.cacheSize)
		}
	}
	putBounded(c.uaCache, key, info, c.cfg.cacheSize)
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
	m      map[string]uaInfo
}

func (s *uaShared) get(k string) (uaInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	return v, ok
}

func (s *uaShared) put(k string, v uaInfo, size int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	putBounded(s.m, k, v, size)
}

// putBounded stores k in m, first evicting one entry if m holds size.
// Map iteration starts at a random position, so this is random eviction:
// hot user agents come straight back.
func putBounded(m map[string]uaInfo, k string, v uaInfo, size int) {
	if len(m) >= size {
		for old := range m {
			delete(m, old)
			break
		}
	}
	m[k] = v
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
