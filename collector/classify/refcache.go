package classify

import (
	"bytes"
	"hash/maphash"
)

// refSite is what an external web referrer's host means for a source
// (docs/rules.md rules 4 and 5), everything of it that depends on the host
// alone: whether it is an own host, the source name and list it stands for,
// and, for a request without utm_* parameters or click id, its source hash
// and channel.
type refSite struct {
	own     bool // one of Config.OwnHosts
	name    []byte
	refCat  category
	nameCat category // nameCategory(name)
	hash    uint64   // sourceHash(name, medium, nil)
	channel Channel  // the channel of that untagged identity
}

// siteOf works out the refSite of a lower-cased referrer host.
func (c *config) siteOf(host []byte, s *refSite) {
	_, s.own = c.ownHosts[string(host)]
	if st, ok := lookupHost(host); ok {
		s.name = append(s.name[:0], st.name...)
		s.refCat = st.cat
	} else {
		s.name = append(s.name[:0], trimWWW(host)...)
		s.refCat = catOther
	}
	s.nameCat = nameCategory(s.name)
	id := identity{source: s.name, medium: mediumNames[s.refCat], nameCat: s.nameCat, refCat: s.refCat, referrer: true}
	s.hash = sourceHash(id.source, id.medium, nil)
	s.channel = channelOf(&id)
}

// refCache remembers the refSite of the referrer hosts seen last: a site's
// referrers are a few search engines, social sites and its own hosts, over
// and over. Direct-mapped by a hash of the host; an entry keeps its buffers
// when replaced, so a warm cache does not allocate.
type refCache struct {
	seed    maphash.Seed
	entries [refCacheSize]refEntry
}

const (
	refCacheSize = 256
	// maxCachedHost: longer hosts are worked out every time, so that the
	// cache's memory stays bounded.
	maxCachedHost = 128
)

type refEntry struct {
	host []byte
	ok   bool
	site refSite
}

// site returns the refSite of host, from the cache or worked out and kept.
// The result is valid until the next call.
func (rc *refCache) site(cfg *config, host []byte, scratch *refSite) *refSite {
	if len(host) > maxCachedHost {
		cfg.siteOf(host, scratch)
		return scratch
	}
	e := &rc.entries[maphash.Bytes(rc.seed, host)%refCacheSize]
	if e.ok && bytes.Equal(e.host, host) {
		return &e.site
	}
	e.host = append(e.host[:0], host...)
	cfg.siteOf(host, &e.site)
	e.ok = true
	return &e.site
}

func newRefCache() *refCache { return &refCache{seed: maphash.MakeSeed()} }
