package classify

import (
	"bytes"
	"strings"
	"testing"

	"github.com/session-exporter/session-exporter/collector/accesslog"
)

// TestRefCacheAgrees looks up every listed host and its variants, twice and
// in a number that overflows the cache, and compares each answer with the
// one worked out without the cache.
func TestRefCacheAgrees(t *testing.T) {
	c := newTestClassifier(t, testConfig())
	var hosts []string
	for h := range lists.hosts {
		hosts = append(hosts, h, "www."+h, "m."+h, "support."+h)
	}
	hosts = append(hosts, "www.example.com", "example.com", "partner-site.io", "www.m.facebook.com",
		"google.co.uk", "search.yahoo.co.jp", "t.co", "", strings.Repeat("a", maxCachedHost+1)+".com")
	for pass := 0; pass < 2; pass++ {
		for _, h := range hosts {
			var want refSite
			c.cfg.siteOf([]byte(h), &want)
			got := c.refs.site(c.cfg, []byte(h), &c.refScratch)
			if got.own != want.own || !bytes.Equal(got.name, want.name) || got.refCat != want.refCat ||
				got.nameCat != want.nameCat || got.hash != want.hash || got.channel != want.channel {
				t.Fatalf("pass %d, %q: cached %+v, want %+v", pass, h, *got, want)
			}
		}
	}
	var own refSite
	c.cfg.siteOf([]byte("example.com"), &own)
	if !own.own {
		t.Errorf("example.com is an own host of the test config, siteOf says %+v", own)
	}
}

// TestRefCacheSourceUnchanged classifies pageviews from many referrers,
// tagged and not, with one Classifier (cache warm, entries replaced) and
// with one whose cache is emptied before each request, and wants the same
// results.
func TestRefCacheSourceUnchanged(t *testing.T) {
	warm, cold := newTestClassifier(t, testConfig()), newTestClassifier(t, testConfig())
	var refs []string
	for h := range lists.hosts {
		refs = append(refs, "https://"+h+"/x", "http://www."+h+":8080/")
		if len(refs) > 2000 {
			break
		}
	}
	refs = append(refs, "https://www.example.com/a", "https://sub.example.org/", "android-app://com.google.android.gm")
	queries := []string{"", "?utm_source=google&utm_medium=cpc", "?gclid=1", "?utm_campaign=shopping", "?utm_source=" + "facebook.com"}
	for round := 0; round < 2; round++ {
		for i, ref := range refs {
			r := req(func(r *accesslog.Request) {
				r.Referer = []byte(ref)
				r.URI = []byte("/p" + queries[i%len(queries)])
				r.Host = []byte("sub.example.org")
			})
			var got, want Result
			warm.Classify(r, &got)
			cold.refs = newRefCache()
			cold.Classify(r, &want)
			if got != want {
				t.Fatalf("%s %s: warm cache %+v, new classifier %+v", ref, r.URI, got, want)
			}
			_, rawQuery := splitURI(r.URI)
			q := parseQuery(rawQuery)
			var old Result
			refSource(cold, r, &q, &old)
			if got.Source != old.Source || got.Channel != old.Channel || got.Tagged != old.Tagged {
				t.Fatalf("%s %s: source %x channel %v tagged %v, before the cache %x %v %v",
					ref, r.URI, got.Source, got.Channel, got.Tagged, old.Source, old.Channel, old.Tagged)
			}
		}
	}
}

// refSource is source as it was before the referrer cache: the
// reference TestRefCacheSourceUnchanged compares with.
func refSource(c *Classifier, r *accesslog.Request, q *query, out *Result) {
	var id identity
	c.srcBuf = appendDecoded(c.srcBuf[:0], q.utmSource)
	c.medBuf = appendDecoded(c.medBuf[:0], q.utmMedium)
	c.campBuf = appendDecoded(c.campBuf[:0], q.utmCampaign)
	id.source, id.medium, id.campaign = c.srcBuf, c.medBuf, c.campBuf
	id.tagged = len(id.source) > 0 || len(id.medium) > 0 || len(id.campaign) > 0
	if !id.tagged && q.click >= 0 {
		ci := &clickIDs[q.click]
		id.source, id.medium = ci.source, ci.medium
		id.tagged = true
	}

	var kind refKind
	c.refHost, kind = parseReferrer(c.refHost[:0], r.Referer)
	switch kind {
	case refWeb:
		if refInternal(c, c.refHost, r.Host) {
			break
		}
		id.referrer = true
		if s, ok := lookupHost(c.refHost); ok {
			c.name = append(c.name[:0], s.name...)
			id.refCat = s.cat
		} else {
			c.name = append(c.name[:0], trimWWW(c.refHost)...)
		}
	case refAndroidApp:
		id.referrer = true
		if s, ok := androidApps[string(c.refHost)]; ok {
			c.name = append(c.name[:0], s.name...)
			id.refCat = s.cat
		} else {
			c.name = append(c.name[:0], c.refHost...)
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
	id.nameCat = nameCategory(id.source)
	out.Source = sourceHash(id.source, id.medium, id.campaign)
	out.Channel = channelOf(&id)
	out.Tagged = id.tagged
}

func refInternal(c *Classifier, refHost, reqHost []byte) bool {
	if _, ok := c.cfg.ownHosts[string(refHost)]; ok {
		return true
	}
	if len(reqHost) == 0 {
		return false
	}
	return bytes.Equal(refHost, normalizeHost(nil, reqHost))
}

// refParseReferrer is parseReferrer as it was, scanning the authority
// three times: FuzzReferrer compares the two.
func refParseReferrer(dst, ref []byte) ([]byte, refKind) {
	ref = bytes.TrimSpace(ref)
	i := bytes.Index(ref, []byte("://"))
	if i <= 0 {
		return dst, refNone
	}
	var kind refKind
	switch scheme := ref[:i]; {
	case bytes.EqualFold(scheme, []byte("https")), bytes.EqualFold(scheme, []byte("http")):
		kind = refWeb
	case bytes.EqualFold(scheme, []byte("android-app")):
		kind = refAndroidApp
	default:
		return dst, refNone
	}
	auth := ref[i+3:]
	if j := bytes.IndexAny(auth, "/?#"); j >= 0 {
		auth = auth[:j]
	}
	if j := bytes.LastIndexByte(auth, '@'); j >= 0 {
		auth = auth[j+1:]
	}
	if len(auth) > 0 && auth[0] == '[' {
		if j := bytes.IndexByte(auth, ']'); j > 0 {
			auth = auth[1:j]
		} else {
			auth = auth[1:]
		}
	} else if j := bytes.LastIndexByte(auth, ':'); j >= 0 {
		auth = auth[:j]
	}
	for len(auth) > 0 && auth[len(auth)-1] == '.' {
		auth = auth[:len(auth)-1]
	}
	if len(auth) == 0 {
		return dst, refNone
	}
	return appendLowerASCII(dst, auth), kind
}
