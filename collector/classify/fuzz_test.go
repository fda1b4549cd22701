package classify

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/session-exporter/session-exporter/collector/accesslog"
)

// Run one with, for example:
//
//	go test -run '^$' -fuzz '^FuzzDecode$' -fuzztime 15s ./collector/classify/

// FuzzDecode checks query-value decoding against net/url where net/url
// accepts the input, and that it never panics where it does not.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"Google", "e+mail", "%41%42", "100%", "%zz", "%C3%89t%C3%A9", "%E2%84%AA", " x "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendDecoded([]byte("p"), []byte(s))
		if !bytes.HasPrefix(got, []byte("p")) {
			t.Fatalf("appendDecoded overwrote the prefix: %q", got)
		}
		got = got[1:]
		want, err := url.QueryUnescape(s)
		if err != nil || !utf8.ValidString(want) {
			return
		}
		want = strings.Trim(strings.ToLower(want), " \t\n\r\v\f")
		if string(got) != want {
			t.Errorf("appendDecoded(%q) = %q, want %q", s, got, want)
		}
	})
}

// FuzzQuery checks that query parsing returns slices of its input and never
// panics.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{"utm_source=a&utm_medium=b&utm_campaign=c", "gclid=x&fbclid=y", "&&=&utm_source", "utm_source=%ZZ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := parseQuery([]byte(s))
		for _, v := range [][]byte{q.utmSource, q.utmMedium, q.utmCampaign} {
			if v != nil && (len(v) == 0 || !strings.Contains(s, string(v))) {
				t.Errorf("value %q is not a non-empty part of %q", v, s)
			}
		}
		if q.click < -1 || q.click >= len(clickIDs) {
			t.Errorf("click index %d out of range", q.click)
		}
	})
}

// FuzzReferrer checks referrer hosts: lower-case, no URL punctuation, and
// equal to net/url's host for well-formed http(s) URLs.
func FuzzReferrer(f *testing.F) {
	for _, s := range []string{"https://www.google.com/", "http://u:p@Example.org:80/x?y#z", "android-app://com.google.android.gm/", "https://[::1]:8/", "about:blank", "https://"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		host, kind := parseReferrer(nil, []byte(ref))
		if old, oldKind := refParseReferrer(nil, []byte(ref)); oldKind != kind || !bytes.Equal(old, host) {
			t.Fatalf("referrer %q: %q, %v; the three-pass scan gave %q, %v", ref, host, kind, old, oldKind)
		}
		if kind == refNone {
			if len(host) != 0 {
				t.Fatalf("no referrer but host %q", host)
			}
			return
		}
		if len(host) == 0 {
			t.Fatalf("referrer %q: empty host", ref)
		}
		if bytes.ContainsAny(host, "/?#@ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			t.Errorf("referrer %q: host %q has URL punctuation or upper case", ref, host)
		}
		lookupHost(host) // must not panic
		if kind != refWeb {
			return
		}
		u, err := url.Parse(ref)
		if err != nil || u.Opaque != "" || u.Host == "" || strings.ContainsAny(ref, "\\%") {
			return
		}
		want := strings.TrimRight(string(appendLowerASCII(nil, []byte(u.Hostname()))), ".")
		if want != "" && string(host) != want {
			t.Errorf("referrer %q: host %q, net/url says %q", ref, host, want)
		}
	})
}

// FuzzParseIP checks the allocation-free address parser against netip.
func FuzzParseIP(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "01.2.3.4", "::1", "::ffff:1.2.3.4", "2001:db8::1%eth0", "1::2::3", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:1.2.3.4", "::%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseIP([]byte(s))
		want, err := netip.ParseAddr(s)
		if ok != (err == nil) {
			t.Fatalf("parseIP(%q) ok = %v, netip error = %v", s, ok, err)
		}
		if ok && got != want.WithZone("") {
			t.Fatalf("parseIP(%q) = %v, netip says %v", s, got, want)
		}
		parseHostPort([]byte(s)) // must not panic
		plain, plainOK := parsePlainIPv4([]byte(s))
		if want4 := ok && got.Is4() && !strings.ContainsAny(s, ":%"); plainOK != want4 {
			t.Fatalf("parsePlainIPv4(%q) ok = %v, netip says %v", s, plainOK, want)
		}
		if plainOK {
			if a := got.As4(); plain != binary.BigEndian.Uint32(a[:]) {
				t.Fatalf("parsePlainIPv4(%q) = %#x, netip says %v", s, plain, want)
			}
		}
	})
}

// FuzzChannelPatterns checks the hand-written paid and shopping matchers
// against GA4's regular expressions.
func FuzzChannelPatterns(f *testing.F) {
	for _, s := range []string{"cpc", "paid_social", "ppc", "retargeting", "workshop", "eshop", "shopping", "x\nshop"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isPaidMedium([]byte(s)), paidRE.MatchString(s); got != want {
			t.Errorf("isPaidMedium(%q) = %v, regexp says %v", s, got, want)
		}
		if got, want := isShoppingCampaign([]byte(s)), shoppingRE.MatchString(s); got != want {
			t.Errorf("isShoppingCampaign(%q) = %v, regexp says %v", s, got, want)
		}
	})
}

// FuzzClassify runs whole requests through a Classifier: it must not panic
// and its output must be consistent and in range.
func FuzzClassify(f *testing.F) {
	f.Add("10.0.0.1", "", "203.0.113.9, 10.0.0.2", "GET", "/?utm_source=Google&utm_medium=cpc", 200, "https://www.google.co.uk/", uaIPhone, "www.example.com")
	f.Add("2001:db8::1", "2001:db8::2", "", "GET", "/go?gclid=x", 302, "android-app://com.google.android.gm", uaIPad, "")
	f.Add("", "", "", "POST", "/api", 204, "", uaCurl, "")
	f.Add("1.2.3.4", "", "", "GET", "/checkout/thank-you", 304, "https://www.example.com/", uaMacChrome, "example.com:443")
	c := newTestClassifier(f, func() Config {
		cfg := testConfig()
		cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		cfg.SplitSites = true
		cfg.CacheSize = 64
		return cfg
	}())
	f.Fuzz(func(t *testing.T, remote, client, xff, method, uri string, status int, ref, ua, host string) {
		r := &accesslog.Request{
			RemoteAddr: []byte(remote), ClientIP: []byte(client), ForwardedFor: []byte(xff),
			Method: []byte(method), URI: []byte(uri), Status: status,
			Referer: []byte(ref), UserAgent: []byte(ua), Host: []byte(host),
		}
		var res Result
		c.Classify(r, &res)
		if res.Kind > KindRedirect || int(res.Device) >= NumDevices || int(res.Channel) >= NumChannels {
			t.Fatalf("out of range: %+v", res)
		}
		if (res.Source == 0) != (res.Channel == Direct) {
			t.Fatalf("Source %#x with channel %v", res.Source, res.Channel)
		}
		switch res.Kind {
		case KindPageview:
			if res.Goals>>len(c.cfg.goals) != 0 {
				t.Fatalf("goal bits %b beyond %d goals", res.Goals, len(c.cfg.goals))
			}
		case KindRedirect:
			if !res.Tagged || res.Source == 0 || res.Goals != 0 {
				t.Fatalf("redirect without campaign or with goals: %+v", res)
			}
		default:
			if res.Visitor != 0 || res.Source != 0 || res.Tagged || res.Goals != 0 {
				t.Fatalf("%v carries session fields: %+v", res.Kind, res)
			}
		}
	})
}
