package classify

import (
	"bytes"
	"encoding/binary"
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

// refRecent remembers the authority ("www.google.com", as written in the
// Referer, between "http(s)://" and the path) of the last few web
// referrers and what each means: the pageviews of a visit come one after
// another from the same few sites (the site itself, mostly), and a match
// of the raw bytes skips parsing, lower-casing and the cache's hash. An
// entry that matches moves one place to the front and a new one takes the
// last place, so the site's own host and the big search engines stay at
// the front while one-off sites come and go at the back.
type refRecent struct {
	ents [refRecentSize]recentRef
	// The order: place j holds entry j^perm[j] (so the zero value is
	// the entries in their own order). A match moves a byte of it, not
	// an entry.
	perm [refRecentSize]uint8
}

const refRecentSize = 8

type recentRef struct {
	auth []byte  // the raw authority; empty for an unused entry
	head uint64  // its first eight bytes, when it has eight
	tail uint64  // and its last eight
	host []byte  // what parseReferrer makes of it
	site refSite // a copy: the cache's entry may be replaced
}

// webScheme returns the length of ref's "https://" or "http://", exactly
// so written, or 0.
func webScheme(ref []byte) int {
	if len(ref) > 8 && string(ref[:8]) == "https://" {
		return 8
	}
	if len(ref) > 7 && string(ref[:7]) == "http://" {
		return 7
	}
	return 0
}

// lookup returns the entry of the web referrer ref, if one holds its
// authority. An entry's authority ended at a '/', '?' or '#', so ref's
// must too: then no trimming of the value can have reached it, and
// parseReferrer would make of it the same host.
func (rr *refRecent) lookup(ref []byte) *recentRef {
	n := webScheme(ref)
	if n == 0 {
		return nil
	}
	rest := ref[n:]
	var head uint64 // the first eight bytes, which tell most sites apart
	if len(rest) >= 8 {
		head = binary.LittleEndian.Uint64(rest)
	}
	for i := range rr.perm {
		e := &rr.ents[(uint8(i)^rr.perm[i])%refRecentSize]
		k := len(e.auth)
		if k == 0 || len(rest) <= k {
			continue
		}
		if k >= 8 {
			// Two words that overlap cover up to sixteen bytes.
			if e.head != head || k <= 16 && e.tail != binary.LittleEndian.Uint64(rest[k-8:]) ||
				k > 16 && string(rest[:k]) != string(e.auth) {
				continue
			}
		} else if string(rest[:k]) != string(e.auth) {
			continue
		}
		if c := rest[k]; c == '/' || c == '?' || c == '#' {
			if i > 0 {
				a, b := uint8(i-1)^rr.perm[i-1], uint8(i)^rr.perm[i]
				rr.perm[i-1], rr.perm[i] = uint8(i-1)^b, uint8(i)^a
			}
			return e
		}
	}
	return nil
}

// add remembers that the web referrer ref has the lower-cased host host
// and the refSite s, when its authority ends at a '/', '?' or '#'.
func (rr *refRecent) add(ref, host []byte, s *refSite) {
	n := webScheme(ref)
	if n == 0 || len(host) > maxCachedHost {
		return
	}
	rest := ref[n:]
	end := -1
	for j, c := range rest {
		if c == '/' || c == '?' || c == '#' {
			end = j
			break
		}
	}
	if end <= 0 {
		return
	}
	e := &rr.ents[(refRecentSize-1^rr.perm[refRecentSize-1])%refRecentSize]
	e.auth = append(e.auth[:0], rest[:end]...)
	if end >= 8 {
		e.head = binary.LittleEndian.Uint64(rest)
		e.tail = binary.LittleEndian.Uint64(rest[end-8:])
	}
	e.host = append(e.host[:0], host...)
	name := append(e.site.name[:0], s.name...)
	e.site = *s
	e.site.name = name
}
