package classify

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/session-exporter/session-exporter/collector/accesslog"
)

// refClassify is Classify as it was before its fast paths: no user-agent
// cache, the referrer parsed and looked up on every request, the address
// parsed by parseHostPort and the key hashed from a buffer, the URI cut
// with two searches and the extension compared by name. Classify must give
// exactly its results.
func refClassify(c *Classifier, r *accesslog.Request, out *Result) {
	*out = Result{}
	ua := r.UserAgent
	if len(ua) > maxUALen {
		ua = ua[:maxUALen]
	}
	info := classifyUA(c.ua, ua)
	info.hash = c.uaHash(r.UserAgent)
	if r.NoUserAgent {
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
	path, rawQuery := refSplitURI(r.URI)
	if refIsAsset(path) || c.excluded(path) {
		return
	}
	q := parseQuery(rawQuery)
	if redirect && !q.campaign() {
		return
	}
	refSource(c, r, &q, out)
	if redirect {
		if !out.Tagged {
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
	out.Visitor = refVisitorKey(c, r, info.hash)
}

// refSplitURI is splitURI as it was: the fragment cut first, then the
// query.
func refSplitURI(uri []byte) (path, query []byte) {
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
	if i := bytes.IndexByte(uri, '#'); i >= 0 {
		uri = uri[:i]
	}
	path = uri
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		path, query = uri[:i], uri[i+1:]
	}
	if len(path) == 0 {
		path = rootPath
	}
	return path, query
}

// refIsAsset is isAsset as it was: the extension lower-cased and compared
// by name.
func refIsAsset(path []byte) bool {
	seg := path[bytes.LastIndexByte(path, '/')+1:]
	dot := bytes.LastIndexByte(seg, '.')
	if dot < 0 || len(seg)-dot > 6 {
		return false
	}
	switch string(bytes.ToLower(seg[dot:])) {
	case ".css", ".js", ".mjs", ".map", ".png", ".jpg", ".jpeg", ".gif", ".svg",
		".webp", ".avif", ".ico", ".bmp", ".woff", ".woff2", ".ttf", ".otf", ".eot",
		".mp4", ".webm", ".mp3", ".wav", ".json", ".xml", ".txt", ".zip", ".gz":
		return true
	}
	return false
}

// referenceConfigs are the configurations the reference comparisons run
// with: replay's when given none, and the tests' with own hosts, goals,
// proxies and split sites.
func referenceConfigs() map[string]Config {
	full := testConfig()
	full.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ff::/48")}
	full.SplitSites = true
	full.CacheSize = 64
	return map[string]Config{
		"replay": {Secret: []byte(testSecretStr)},
		"full":   full,
	}
}

// TestClassifyMatchesReference classifies a generated log, the benchmark
// requests and the user-agent corpus in turn, with caches warm and
// replaced, and wants refClassify's result for every request.
func TestClassifyMatchesReference(t *testing.T) {
	reqs, _ := logRequests(t)
	for _, r := range benchRequests() {
		reqs = append(reqs, *r)
	}
	agents := corpusAgents(t)
	for i := 0; i < len(agents); i += 7 {
		r := reqs[i%len(reqs)]
		r.UserAgent = agents[i]
		reqs = append(reqs, r)
	}
	for name, cfg := range referenceConfigs() {
		c, ref := newTestClassifier(t, cfg), newTestClassifier(t, cfg)
		for pass := 0; pass < 2; pass++ {
			for i := range reqs {
				var got, want Result
				c.Classify(&reqs[i], &got)
				refClassify(ref, &reqs[i], &want)
				if got != want {
					t.Fatalf("%s, pass %d, request %d (%s %s, ref %q): %+v, the reference gives %+v",
						name, pass, i, reqs[i].Method, reqs[i].URI, reqs[i].Referer, got, want)
				}
			}
		}
	}
}

// FuzzClassifyReference feeds whole requests to Classify and refClassify,
// a few times each so that they also come from the caches.
func FuzzClassifyReference(f *testing.F) {
	f.Add("10.0.0.1", "", "203.0.113.9, 10.0.0.2", "GET", "/?utm_source=Google&utm_medium=cpc", 200, "https://www.google.co.uk/", uaIPhone, "www.example.com")
	f.Add("2001:db8::1", "2001:db8::2", "", "GET", "/go?gclid=x", 302, "android-app://com.google.android.gm", uaIPad, "")
	f.Add("1.2.3.4", "", "", "GET", "/a/b.CSS?x#y", 200, "https://u@Example.com:8080/x ", uaMacChrome, "example.com:443")
	f.Add("01.2.3.4", "", "", "GET", "/checkout/thank-you", 304, "http://www.example.com /", uaWinChrome, "")
	f.Add("1.2.3.4", "", "", "GET", "/x#y?utm_source=a", 200, "https://t.co?x", uaCurl, "")
	cs := map[string][2]*Classifier{}
	for name, cfg := range referenceConfigs() {
		cs[name] = [2]*Classifier{newTestClassifier(f, cfg), newTestClassifier(f, cfg)}
	}
	f.Fuzz(func(t *testing.T, remote, client, xff, method, uri string, status int, ref, ua, host string) {
		r := &accesslog.Request{
			RemoteAddr: []byte(remote), ClientIP: []byte(client), ForwardedFor: []byte(xff),
			Method: []byte(method), URI: []byte(uri), Status: status,
			Referer: []byte(ref), UserAgent: []byte(ua), Host: []byte(host),
		}
		variants := []*accesslog.Request{r, r, func() *accesslog.Request {
			v := *r
			v.Referer = []byte(strings.ToUpper(ref))
			return &v
		}(), r}
		for name, pair := range cs {
			for _, v := range variants {
				var got, want Result
				pair[0].Classify(v, &got)
				refClassify(pair[1], v, &want)
				if got != want {
					t.Fatalf("%s: %+v gives %+v, the reference %+v", name, v, got, want)
				}
			}
		}
	})
}

// FuzzSplitURI compares splitURI and isAsset with their reference.
func FuzzSplitURI(f *testing.F) {
	for _, s := range []string{"/", "", "/a.JS", "/a?b#c", "/a#b?c", "http://h/p.css?q", "/x.woff2", "/x.woff22", "/.gz", "/a/.", "/a.Map/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		p, q := splitURI([]byte(uri))
		wp, wq := refSplitURI([]byte(uri))
		if !bytes.Equal(p, wp) || !bytes.Equal(q, wq) {
			t.Fatalf("splitURI(%q) = %q, %q; the reference %q, %q", uri, p, q, wp, wq)
		}
		if got, want := isAsset([]byte(uri)), refIsAsset([]byte(uri)); got != want {
			t.Fatalf("isAsset(%q) = %v, the reference %v", uri, got, want)
		}
	})
}

// TestUACacheFlood: a client sending a new agent on nine requests in ten
// does not push a site's regular agents out of the cache. 300 regular
// agents share the tenth request; the flood goes through the whole cache,
// several times over, and the regulars' lookups must still hit.
func TestUACacheFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("90,000 first sights")
	}
	c := newTestClassifier(t, testConfig())
	regular := corpusAgents(t)[:300]
	for _, ua := range regular {
		c.userAgent(ua)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	misses, lookups := 0, 0
	flood := []byte("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 ")
	for i := range 100_000 {
		if i%10 != 0 {
			ua := strconv.AppendInt(flood[:len(flood):len(flood)], int64(i), 10)
			c.userAgent(ua)
			continue
		}
		ua := regular[rng.IntN(len(regular))]
		if _, ok := c.uaCache.get(maphash.Bytes(c.cfg.uaSeed, ua), len(ua)); !ok {
			misses++
		}
		lookups++
		c.userAgent(ua)
	}
	t.Logf("%d of %d lookups of regular agents missed under the flood", misses, lookups)
	if misses*100 > lookups {
		t.Errorf("%d of %d lookups of regular agents missed under the flood, want at most 1%%", misses, lookups)
	}
}

// TestUACacheNewRegularJoins: agents that came back once but no longer
// come do not hold a set for good. One set of eight ways is filled with
// eight agents seen twice each (yesterday's regulars); then a new regular
// alternates with a flood of agents seen once. The new regular must hit
// from its second request on, and the stale agents must give up ways.
func TestUACacheNewRegularJoins(t *testing.T) {
	c := newUACache(uaWays) // one set
	seed := maphash.MakeSeed()
	look := func(s string) bool {
		ua := []byte(s)
		h := maphash.Bytes(seed, ua)
		if _, ok := c.get(h, len(ua)); ok {
			return true
		}
		c.put(h, len(ua), uaInfo{})
		return false
	}
	for range 2 {
		for i := range uaWays {
			look(fmt.Sprint("old", i))
		}
	}
	if n := bits.OnesCount8(c.sets[0].prot); n > c.maxProtected() {
		t.Fatalf("%d protected ways, want at most %d", n, c.maxProtected())
	}
	const rounds = 10_000
	hits := 0
	for i := range rounds {
		if look("new regular") {
			hits++
		}
		look(fmt.Sprint("flood", i))
	}
	if hits < rounds-1 {
		t.Errorf("the new regular hit %d of %d times, want all but its first", hits, rounds)
	}
	old := map[uint64]bool{} // the entries are known by their hashes
	for i := range uaWays {
		old[maphash.Bytes(seed, []byte(fmt.Sprint("old", i)))] = true
	}
	stale := 0
	for w := range uaWays {
		if c.sets[0].valid&(1<<w) != 0 && old[c.sets[0].ents[w].tag] {
			stale++
		}
	}
	if stale >= c.maxProtected() {
		t.Errorf("%d of yesterday's regulars still held, want fewer than %d", stale, c.maxProtected())
	}
}
