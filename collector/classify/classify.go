package classify

// The Classifier's one pass over a request (Classify and the steps it calls
// in rule order: exclusion, bots, assets, goals and values, source). It is
// longer than most files here so that rules 1 to 5 of docs/rules.md read top
// to bottom in one place.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math/bits"
	"net/netip"
	"regexp"

	"github.com/session-exporter/session-exporter/collector/accesslog"
)

// DefaultCacheSize is the number of user agents a Classifier caches when
// Config.CacheSize is 0.
const DefaultCacheSize = 32768

// MaxGoals is the number of goal patterns Result.Goals has bits for.
const MaxGoals = 64

// MinSecretLen is the shortest visitor-key secret New accepts.
const MinSecretLen = 16

// Config is what a Classifier needs from the exporter's configuration.
type Config struct {
	// OwnHosts are the site's own host names: a referrer on one of them is
	// internal and gives no source. Compared case-insensitively, without
	// port; subdomains are not included.
	OwnHosts []string
	// TrustedProxies are the proxies whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// ExcludePaths are matched against the path (query removed) of a
	// request; a match is never a pageview or redirect.
	ExcludePaths []*regexp.Regexp
	// Goals are matched against the path (query removed) of a pageview; a
	// match of Goals[i] sets bit i of Result.Goals. At most MaxGoals.
	Goals []*regexp.Regexp
	// GoalValues names, per goal, the query parameter holding the value of
	// a conversion ("" for none); empty or as long as Goals.
	GoalValues []string
	// Landings are the landing page groups, matched against the path of
	// every pageview: Result.Landing is 1 + the index of the first match,
	// or 0. At most 255.
	Landings []*regexp.Regexp
	// Secret keys the visitor hash; at least MinSecretLen bytes. The same
	// secret gives the same visitor keys, across restarts.
	Secret []byte
	// SplitSites includes the request host in the visitor key.
	SplitSites bool
	// CacheSize is the number of user agents cached; 0 means
	// DefaultCacheSize.
	CacheSize int
}

// config is the validated, immutable form of Config shared by clones.
type config struct {
	ownHosts   map[string]struct{}
	trusted    []netip.Prefix
	exclude    []pathMatcher
	goals      []pathMatcher
	values     []string // per goal; nil when no goal has a value parameter
	landings   []pathMatcher
	k0, k1     uint64
	splitSites bool
	cacheSize  int
	uaSeed     maphash.Seed // of the user-agent caches' hash
}

// Classifier classifies requests. It keeps a bounded user-agent cache and
// scratch buffers, so it is not safe for concurrent use: use Clone.
type Classifier struct {
	cfg     *config
	ua      *uaEngine // shared, read-only
	uaCache *uaCache
	shared  *uaShared // shared with clones

	// The previous request's agent (its first maxUALen bytes) by hash and
	// length (-1 before the first), and its verdict.
	lastHash uint64
	lastLen  int
	lastInfo uaInfo

	// Scratch buffers, reused per request.
	srcBuf, medBuf, campBuf []byte // decoded utm_* values
	name                    []byte // site name of the referrer
	refHost                 []byte // referrer host, lower-cased
	hostBuf                 []byte // request host, normalised
	keyBuf                  []byte // the message of a visitor key

	refs       *refCache // referrer hosts seen last
	recent     refRecent // the last few web referrers' authorities
	refScratch refSite   // for a host too long to cache
}

// New validates cfg and returns a Classifier. The user-agent engine is
// built by the first call in a process (about 5 ms) and shared by
// every Classifier after it.
func New(cfg Config) (*Classifier, error) {
	ua, err := engine()
	if err != nil {
		return nil, err
	}
	if len(cfg.Secret) < MinSecretLen {
		return nil, fmt.Errorf("classify: visitor-key secret has %d bytes, need at least %d", len(cfg.Secret), MinSecretLen)
	}
	if len(cfg.Goals) > MaxGoals {
		return nil, fmt.Errorf("classify: %d goals, at most %d", len(cfg.Goals), MaxGoals)
	}
	if len(cfg.GoalValues) > 0 && len(cfg.GoalValues) != len(cfg.Goals) {
		return nil, fmt.Errorf("classify: %d goal value parameters for %d goals", len(cfg.GoalValues), len(cfg.Goals))
	}
	if len(cfg.Landings) > 255 {
		return nil, fmt.Errorf("classify: %d landing groups, at most 255", len(cfg.Landings))
	}
	if cfg.CacheSize < 0 {
		return nil, fmt.Errorf("classify: negative user-agent cache size %d", cfg.CacheSize)
	}
	c := &config{
		ownHosts:   make(map[string]struct{}, len(cfg.OwnHosts)),
		exclude:    newPathMatchers(cfg.ExcludePaths),
		goals:      newPathMatchers(cfg.Goals),
		landings:   newPathMatchers(cfg.Landings),
		splitSites: cfg.SplitSites,
		cacheSize:  cfg.CacheSize,
		uaSeed:     maphash.MakeSeed(),
	}
	for _, v := range cfg.GoalValues {
		if v != "" {
			c.values = append([]string(nil), cfg.GoalValues...)
			break
		}
	}
	if c.cacheSize == 0 {
		c.cacheSize = DefaultCacheSize
	}
	for _, h := range cfg.OwnHosts {
		n := normalizeHost(nil, []byte(h))
		if len(n) == 0 {
			return nil, fmt.Errorf("classify: own host %q is empty", h)
		}
		if bytes.ContainsAny([]byte(h), "/?#@ \t") {
			return nil, fmt.Errorf("classify: own host %q is not a host name (no scheme or path)", h)
		}
		c.ownHosts[string(n)] = struct{}{}
	}
	for _, p := range cfg.TrustedProxies {
		if !p.IsValid() {
			return nil, fmt.Errorf("classify: invalid trusted proxy prefix %v", p)
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		c.trusted = append(c.trusted, p.Masked())
	}
	for i, re := range cfg.ExcludePaths {
		if re == nil {
			return nil, fmt.Errorf("classify: exclude path %d is nil", i)
		}
	}
	for i, re := range cfg.Goals {
		if re == nil {
			return nil, fmt.Errorf("classify: goal %d is nil", i)
		}
	}
	key := sha256.Sum256(cfg.Secret)
	c.k0 = binary.LittleEndian.Uint64(key[0:8])
	c.k1 = binary.LittleEndian.Uint64(key[8:16])
	return &Classifier{cfg: c, ua: ua, uaCache: newUACache(c.cacheSize),
		shared: &uaShared{c: newUACache(c.cacheSize)}, refs: newRefCache(), lastLen: -1}, nil
}

// Clone returns a Classifier with the same configuration and user-agent engine
// and its own cache and scratch buffers, for use on another goroutine. Its
// cache is backed by one shared with c, so a user agent is parsed once for
// all of them. Clones may classify in parallel with each other and with c.
func (c *Classifier) Clone() *Classifier {
	c.shared.cloned.Store(true)
	return &Classifier{cfg: c.cfg, ua: c.ua, uaCache: newUACache(c.cfg.cacheSize), shared: c.shared, refs: newRefCache(), lastLen: -1}
}

// Classify fills out with the classification of r. out holds no reference to
// r afterwards. Device is set for every kind; Visitor, Source, Channel and
// Tagged only for KindPageview and KindRedirect; Goals only for
// KindPageview.
func (c *Classifier) Classify(r *accesslog.Request, out *Result) {
	*out = Result{}
	info := c.userAgent(r.UserAgent)
	if r.NoUserAgent {
		// A format without a user agent has no bots by its empty agent
		// (docs/rules.md rule 1): humans of device other.
		info.bot, info.device = false, OtherDevice
	}
	out.Device = info.device
	if info.bot {
		out.Kind = KindBot
		return
	}
	if string(r.Method) != "GET" {
		return
	}
	pageview := r.Status >= 200 && r.Status <= 299 || r.Status == 304
	redirect := r.Status >= 300 && r.Status <= 399 && r.Status != 304
	if !pageview && !redirect {
		return
	}
	path, rawQuery := splitURI(r.URI)
	if isAsset(path) || c.excluded(path) {
		return
	}
	q := parseQuery(rawQuery)
	if redirect && !q.campaign() {
		return
	}
	c.source(r, &q, out)
	if redirect {
		if !out.Tagged { // every utm_* value decoded to nothing
			*out = Result{Device: info.device}
			return
		}
		out.Kind = KindRedirect
	} else {
		out.Kind = KindPageview
		out.Goals = c.goalBits(path)
		for i := range c.cfg.landings {
			if c.cfg.landings[i].match(path) {
				out.Landing = uint8(i + 1)
				break
			}
		}
		if out.Goals != 0 && c.cfg.values != nil {
			c.goalValue(rawQuery, out)
		}
	}
	out.Visitor = c.visitorKey(r, info.hash)
}

// source fills out.Source, Channel and Tagged from the query and referrer
// (docs/rules.md rules 4 and 5).
func (c *Classifier) source(r *accesslog.Request, q *query, out *Result) {
	var id identity
	if q.utmSource != nil || q.utmMedium != nil || q.utmCampaign != nil {
		c.srcBuf = appendDecoded(c.srcBuf[:0], q.utmSource)
		c.medBuf = appendDecoded(c.medBuf[:0], q.utmMedium)
		c.campBuf = appendDecoded(c.campBuf[:0], q.utmCampaign)
		id.source, id.medium, id.campaign = c.srcBuf, c.medBuf, c.campBuf
		id.tagged = len(id.source) > 0 || len(id.medium) > 0 || len(id.campaign) > 0
	}
	if !id.tagged && q.click >= 0 {
		ci := &clickIDs[q.click]
		id.source, id.medium = ci.source, ci.medium
		id.tagged = true
	}

	var site *refSite // the external web referrer's
	kind, host, s := c.referrer(r.Referer)
	switch kind {
	case refWeb:
		if s.own || c.sameHost(host, r.Host) {
			break
		}
		site = s
		id.referrer = true
		id.refCat = s.refCat
		if !id.tagged {
			// The identity is the site's alone: so are its hash and channel.
			out.Source, out.Channel = s.hash, s.channel
			return
		}
		c.name = append(c.name[:0], s.name...)
	case refAndroidApp:
		id.referrer = true
		if s, ok := androidApps[string(host)]; ok {
			c.name = append(c.name[:0], s.name...)
			id.refCat = s.cat
		} else {
			c.name = append(c.name[:0], host...)
		}
	}
	if !id.tagged && !id.referrer {
		return // direct
	}
	if id.referrer {
		if len(id.source) == 0 {
			id.source = c.name
		}
		if len(id.medium) == 0 {
			id.medium = mediumNames[id.refCat]
		}
	}
	if site != nil && bytes.Equal(id.source, site.name) {
		id.nameCat = site.nameCat
	} else {
		id.nameCat = nameCategory(id.source)
	}
	out.Source = sourceHash(id.source, id.medium, id.campaign)
	out.Channel = channelOf(&id)
	out.Tagged = id.tagged
}

// referrer returns what the Referer value ref is, its host lower-cased
// and, for a web referrer, its refSite, from the recent referrers when it
// is one of them. The results are valid until the next call.
func (c *Classifier) referrer(ref []byte) (refKind, []byte, *refSite) {
	if len(ref) == 0 {
		return refNone, nil, nil
	}
	if e := c.recent.lookup(ref); e != nil {
		return refWeb, e.host, &e.site
	}
	var kind refKind
	c.refHost, kind = parseReferrer(c.refHost[:0], ref)
	if kind != refWeb {
		return kind, c.refHost, nil
	}
	s := c.refs.site(c.cfg, c.refHost, &c.refScratch)
	c.recent.add(ref, c.refHost, s)
	return refWeb, c.refHost, s
}

// mediumNames holds category.medium as byte slices, indexed by category.
var mediumNames = func() [numCategories][]byte {
	var m [numCategories][]byte
	for c := range m {
		m[c] = []byte(category(c).medium())
	}
	return m
}()

// nameCategory returns the channel list a source name is on: by name, or,
// for a name that is a host ("facebook.com"), by host.
func nameCategory(name []byte) category {
	if cat, ok := sourceNames[string(name)]; ok {
		return cat
	}
	if bytes.IndexByte(name, '.') >= 0 {
		if s, ok := lookupHost(name); ok {
			return s.cat
		}
	}
	return catOther
}

// sameHost reports whether the lower-cased referrer host is the request's
// own host.
func (c *Classifier) sameHost(refHost, reqHost []byte) bool {
	if len(reqHost) == 0 {
		return false
	}
	c.hostBuf = normalizeHost(c.hostBuf[:0], reqHost)
	return bytes.Equal(refHost, c.hostBuf)
}

func (c *Classifier) excluded(path []byte) bool {
	for i := range c.cfg.exclude {
		if c.cfg.exclude[i].match(path) {
			return true
		}
	}
	return false
}

func (c *Classifier) goalBits(path []byte) uint64 {
	var bits uint64
	for i := range c.cfg.goals {
		if c.cfg.goals[i].match(path) {
			bits |= 1 << uint(i)
		}
	}
	return bits
}

// goalValue sets the conversion value of a pageview that matched goals: the
// value parameter of the first matched goal naming one, for every matched
// goal naming the same parameter.
func (c *Classifier) goalValue(rawQuery []byte, out *Result) {
	name := ""
	for i, p := range c.cfg.values {
		if p != "" && out.Goals&(1<<uint(i)) != 0 {
			if name == "" {
				name = p
			}
			if p == name {
				out.ValueGoals |= 1 << uint(i)
			}
		}
	}
	if name == "" {
		return
	}
	v, ok, bad := goalValue(rawQuery, name)
	out.ValueBad = bad
	if ok {
		out.Value = v
	} else {
		out.ValueGoals = 0
	}
}

var rootPath = []byte("/")

// splitURI splits a request target into path and query, dropping a fragment
// and, for an absolute-form target ("http://host/p?q"), scheme and
// authority. An empty path is "/".
func splitURI(uri []byte) (path, query []byte) {
	if len(uri) > 0 && uri[0] != '/' {
		if i := bytes.Index(uri, []byte("://")); i > 0 {
			rest := uri[i+3:]
			if j := bytes.IndexAny(rest, "/?#"); j >= 0 {
				uri = rest[j:]
			} else {
				uri = nil
			}
		}
	}
	path = uri
	if i := indexQueryOrFragment(uri); i >= 0 {
		path = uri[:i]
		if uri[i] == '?' {
			query = uri[i+1:]
			if j := bytes.IndexByte(query, '#'); j >= 0 {
				query = query[:j]
			}
		}
	}
	if len(path) == 0 {
		path = rootPath
	}
	return path, query
}

// isAsset reports whether the last segment of path ends in an asset
// extension, compared case-insensitively.
func isAsset(path []byte) bool {
	// The extension is the part of the last segment from its last '.',
	// at most six bytes with the dot: so the last six bytes are enough.
	n := len(path)
	if n < 8 {
		for k := 1; k <= 6 && k <= n; k++ {
			switch path[n-k] {
			case '/':
				return false
			case '.':
				return assetExts.has(extKey(path[n-k+1:]))
			}
		}
		return false
	}
	// The last eight bytes as one word, the path's last byte on top: the
	// highest '.' or '/' of its top six bytes ends the search.
	// '.' and '/' differ in their low bit only, and no other byte becomes
	// '/' when that bit is set: one comparison finds both.
	w := binary.LittleEndian.Uint64(path[n-8:])
	m := bytesEqual(w|ones8, '/') &^ 0xffff
	if m == 0 {
		return false
	}
	b := uint(63-bits.LeadingZeros64(m)) / 8 // the byte of w holding it
	if byte(w>>(8*b)) == '/' {
		return false
	}
	// extKey of the bytes above b: they are at most five, so the length
	// byte on top does not meet them.
	return assetExts.has(lowerASCII8(w>>(8*(b+1))) | uint64(8-b)<<56)
}

// SWAR: eight bytes in a word, as binary.LittleEndian.Uint64 loads them.
const (
	ones8 = 0x0101010101010101
	low7  = 0x7f7f7f7f7f7f7f7f
	high8 = 0x8080808080808080
)

// bytesEqual returns a word with the high bit of each byte of w that is
// c set, and no other bit.
func bytesEqual(w uint64, c byte) uint64 {
	x := w ^ ones8*uint64(c)
	return ^((x&low7 + low7) | x | low7)
}

// firstBytes returns a word whose lowest set bit is the high bit of the
// first byte of w (the lowest) that is c, or 0 when none is. Bits above
// it may be set too: a byte just above one that is c can borrow from it.
// It costs less than bytesEqual, which is exact.
func firstBytes(w uint64, c byte) uint64 {
	x := w ^ ones8*uint64(c)
	return (x - ones8) &^ x & high8
}

// lowerASCII8 lower-cases the ASCII capitals among the bytes of w, as
// appendLowerASCII does.
func lowerASCII8(w uint64) uint64 {
	h := w & low7
	upper := (h + ones8*(0x80-'A')) ^ (h + ones8*(0x80-'Z'-1))
	return w | (upper&^w&high8)>>2
}

// indexQueryOrFragment returns the index of the first '?' or '#' of uri,
// or -1: eight bytes at a time, the last word overlapping the one before.
func indexQueryOrFragment(uri []byte) int {
	n := len(uri)
	if n < 8 {
		for i, c := range uri {
			if c == '?' || c == '#' {
				return i
			}
		}
		return -1
	}
	for i := 0; ; i += 8 {
		if i > n-8 {
			i = n - 8 // what it shares with the word before has neither
		}
		w := binary.LittleEndian.Uint64(uri[i:])
		if m := firstBytes(w, '?') | firstBytes(w, '#'); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
		if i == n-8 {
			return -1
		}
	}
}

// assetExtNames are the asset extensions of docs/rules.md rule 2, without
// their dot.
var assetExtNames = [...]string{"css", "js", "mjs", "map", "png", "jpg", "jpeg", "gif", "svg",
	"webp", "avif", "ico", "bmp", "woff", "woff2", "ttf", "otf", "eot",
	"mp4", "webm", "mp3", "wav", "json", "xml", "txt", "zip", "gz"}

// extKey packs an extension of at most five bytes, ASCII letters
// lower-cased, with its length in the top byte: two extensions have one key
// exactly when they are equal ignoring ASCII case. It is never 0.
func extKey(ext []byte) uint64 {
	k := uint64(len(ext)+1) << 56
	for i, c := range ext {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		k |= uint64(c) << (8 * i)
	}
	return k
}

type assetTable struct {
	mul   uint64
	slots [1 << assetSlotBits]uint64
}

// has reports whether key is one of the asset extensions' keys.
func (t *assetTable) has(key uint64) bool {
	return t.slots[key*t.mul>>(64-assetSlotBits)] == key
}

// assetSlotBits: the asset extensions' table has 1<<assetSlotBits slots.
const assetSlotBits = 7

// assetExts is a perfect hash table of the asset extensions' keys: slot
// key*mul>>(64-assetSlotBits) holds key when it is one of them. An empty
// slot holds 0, which is no key.
var assetExts = func() (t assetTable) {
	for m := uint64(0x9E3779B97F4A7C15); ; m += 0x2545F4914F6CDD1D * 2 {
		t.mul, t.slots = m|1, [1 << assetSlotBits]uint64{}
		ok := true
		for _, e := range assetExtNames {
			k := extKey([]byte(e))
			slot := &t.slots[k*t.mul>>(64-assetSlotBits)]
			if *slot != 0 {
				ok = false
				break
			}
			*slot = k
		}
		if ok {
			return t
		}
	}
}()
