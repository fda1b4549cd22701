package classify

// The source and channel rules (docs/rules.md rules 4 and 5) as table tests,
// one table per rule, in the rules' order.

import (
	"hash/fnv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/session-exporter/session-exporter/collector/accesslog"
)

func TestAppendDecoded(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"google", "google"},
		{"Google", "google"},
		{"GOOGLE%20Ads", "google ads"},
		{"e+mail", "e mail"},
		{"e%2Bmail", "e+mail"},
		{"spring%5f2026", "spring_2026"},
		{"100%", "100%"},
		{"100%2", "100%2"},
		{"%zz", "%zz"},
		{"%%41", "%a"},
		{"%4", "%4"},
		{"+news+", "news"},
		{"%20%09x%0A", "x"},
		{"%C3%89T%C3%89", "été"},
		{"ÉTÉ", "été"},
		{"%E2%84%AA", "k"},  // KELVIN SIGN lower-cases to ASCII k (shorter)
		{"%C8%BA", "ⱥ"},     // U+023A lower-cases to a longer rune
		{"a%C8%BAb", "aⱥb"}, // and the rest follows
		{"%FF%FEAB", "\xff\xfeab"},
		{"A%80B", "a\x80b"},
		{"Cross-Network", "cross-network"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			prefix := []byte("keep:")
			got := appendDecoded(prefix, []byte(tt.in))
			if diff := cmp.Diff("keep:"+tt.want, string(got)); diff != "" {
				t.Errorf("appendDecoded(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseQuery(t *testing.T) {
	type parsed struct{ Source, Medium, Campaign, Click string }
	tests := []struct {
		q    string
		want parsed
	}{
		{"", parsed{}},
		{"q=blue+widget", parsed{}},
		{"utm_source=a&utm_medium=b&utm_campaign=c", parsed{"a", "b", "c", ""}},
		{"utm_source=a&utm_source=b", parsed{Source: "a"}},
		{"utm_source=&utm_source=b", parsed{Source: "b"}},
		{"utm_source", parsed{}},
		{"=x&utm_medium=m", parsed{Medium: "m"}},
		{"UTM_SOURCE=a", parsed{}},
		{"gclid=1", parsed{Click: "gclid"}},
		{"gbraid=1", parsed{Click: "gbraid"}},
		{"wbraid=1", parsed{Click: "wbraid"}},
		{"dclid=1", parsed{Click: "dclid"}},
		{"msclkid=1", parsed{Click: "msclkid"}},
		{"fbclid=1", parsed{Click: "fbclid"}},
		{"fbclid=1&gclid=2", parsed{Click: "gclid"}},
		{"fbclid=1&msclkid=2", parsed{Click: "msclkid"}},
		{"gclid=", parsed{}},
		{"a=1&&b=2&utm_campaign=x%20y", parsed{Campaign: "x%20y"}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			q := parseQuery([]byte(tt.q))
			got := parsed{string(q.utmSource), string(q.utmMedium), string(q.utmCampaign), ""}
			if q.click >= 0 {
				got.Click = clickIDs[q.click].param
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseQuery(%q) (-want +got):\n%s", tt.q, diff)
			}
		})
	}
}

func TestParseReferrer(t *testing.T) {
	tests := []struct {
		ref  string
		host string
		kind refKind
	}{
		{"", "", refNone},
		{"-", "", refNone},
		{"https://www.google.com/", "www.google.com", refWeb},
		{"https://www.google.com", "www.google.com", refWeb},
		{"http://WWW.Google.CO.UK/search?q=x", "www.google.co.uk", refWeb},
		{"https://user:pw@example.org:8443/p", "example.org", refWeb},
		{"https://example.org?x", "example.org", refWeb},
		{"https://example.org#x", "example.org", refWeb},
		{"https://example.org./", "example.org", refWeb},
		{"https://[2001:DB8::1]:8080/", "2001:db8::1", refWeb},
		{"HTTPS://EXAMPLE.ORG", "example.org", refWeb},
		{" https://example.org/ ", "example.org", refWeb},
		{"android-app://com.google.android.gm/", "com.google.android.gm", refAndroidApp},
		{"android-app://com.Reddit.Frontpage", "com.reddit.frontpage", refAndroidApp},
		{"ios-app://123/x", "", refNone},
		{"about:blank", "", refNone},
		{"chrome-extension://abc/", "", refNone},
		{"file:///tmp/x.html", "", refNone},
		{"www.google.com/", "", refNone},
		{"//www.google.com/", "", refNone},
		{"https://", "", refNone},
		{"https:///path", "", refNone},
		{"https://:80/", "", refNone},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			host, kind := parseReferrer(nil, []byte(tt.ref))
			if string(host) != tt.host || kind != tt.kind {
				t.Errorf("parseReferrer(%q) = %q, %v; want %q, %v", tt.ref, host, kind, tt.host, tt.kind)
			}
		})
	}
}

// TestLookupHost covers the host matching of docs/rules.md rule 5: equal,
// the same site in another country domain, or differing only by www., m.,
// l. or lm.; other subdomains only when listed.
func TestLookupHost(t *testing.T) {
	tests := []struct {
		host string
		name string // "" when no list names the host
		cat  category
	}{
		// Equal, and differing only by www., m., l. or lm.
		{"google.com", "google", catSearch},
		{"www.google.com", "google", catSearch},
		{"m.google.com", "google", catSearch},
		{"www.bing.com", "bing", catSearch},
		{"cn.bing.com", "bing", catSearch},
		{"duckduckgo.com", "duckduckgo", catSearch},
		{"www.ecosia.org", "ecosia", catSearch},
		{"www.baidu.com", "baidu", catSearch},
		{"m.baidu.com", "baidu", catSearch},
		{"www.facebook.com", "facebook", catSocial},
		{"m.facebook.com", "facebook", catSocial},
		{"l.facebook.com", "facebook", catSocial},
		{"lm.facebook.com", "facebook", catSocial},
		{"l.instagram.com", "instagram", catSocial},
		{"l.messenger.com", "messenger", catSocial},
		{"www.linkedin.com", "linkedin", catSocial},
		{"www.youtube.com", "youtube", catVideo},
		{"m.youtube.com", "youtube", catVideo},
		{"www.twitch.tv", "twitch", catVideo},
		{"m.twitch.tv", "twitch", catVideo},
		{"www.etsy.com", "etsy", catShopping},
		{"www.walmart.com", "walmart", catShopping},
		{"m.alibaba.com", "alibaba", catShopping},

		// The same site in another country domain.
		{"www.google.co.uk", "google", catSearch},
		{"google.de", "google", catSearch},
		{"google.com.br", "google", catSearch},
		{"www.google.com.au", "google", catSearch},
		{"www.google.co.jp", "google", catSearch},
		{"yandex.com.tr", "yandex", catSearch},
		{"yandex.ru", "yandex", catSearch},
		{"yandex.kz", "yandex", catSearch},
		{"www.yahoo.co.jp", "yahoo", catSearch},
		{"search.aol.co.uk", "aol", catSearch},
		{"suche.aol.de", "aol", catSearch},
		{"www.pinterest.co.uk", "pinterest", catSocial},
		{"www.pinterest.com.mx", "pinterest", catSocial},
		{"pinterest.dk", "pinterest", catSocial}, // not in GA4's list: another country
		{"www.amazon.de", "amazon", catShopping},
		{"www.amazon.co.uk", "amazon", catShopping},
		{"www.amazon.co.jp", "amazon", catShopping},
		{"www.ebay.fr", "ebay", catShopping},
		{"www.mercadolibre.com.co", "mercadolibre", catShopping},
		{"news.google.de", "google", catSearch}, // listed subdomain, another country

		// Listed subdomains.
		{"news.google.com", "google", catSearch},
		{"lens.google.com", "google", catSearch},
		{"play.google.com", "google", catSearch}, // GA4 lists it as search
		{"search.yahoo.com", "yahoo", catSearch},
		{"uk.search.yahoo.com", "yahoo", catSearch},
		{"r.search.yahoo.com", "yahoo", catSearch}, // the redirect of Yahoo's result links
		{"search.naver.com", "naver", catSearch},
		{"m.search.naver.com", "naver", catSearch},
		{"search.brave.com", "brave", catSearch},
		{"answers.yahoo.com", "answers.yahoo.com", catSocial},
		{"groups.google.com", "groups.google.com", catSocial},
		{"blog.naver.com", "blog.naver.com", catSocial},
		{"m.blog.naver.com", "blog.naver.com", catSocial},
		{"shopping.naver.com", "shopping.naver.com", catShopping},
		{"out.reddit.com", "reddit", catSocial},
		{"old.reddit.com", "reddit", catSocial},
		{"checkout.shopify.com", "shopify", catShopping},
		{"music.youtube.com", "youtube", catVideo},
		{"shopping.google.com", "google shopping", catShopping},
		{"shopping.yahoo.com", "shopping.yahoo.com", catShopping},

		// Other subdomains are not the listed site.
		{"support.google.com", "", catOther},
		{"developers.google.com", "", catOther},
		{"maps.google.com", "", catOther},
		{"docs.google.com", "", catOther},
		{"translate.google.com", "", catOther},
		{"news.yahoo.com", "", catOther},
		{"finance.yahoo.com", "", catOther},
		{"sports.yahoo.co.jp", "", catOther},
		{"dev.twitch.tv", "", catOther},
		{"aws.amazon.com", "", catOther},
		{"developer.apple.com", "", catOther},

		// Names that are not the site, and hosts that only look alike.
		{"google.evil.example", "", catOther},
		{"mygoogle.com", "", catOther},
		{"google.org", "", catOther},    // not a country domain
		{"google.info", "", catOther},   // nor this
		{"x.ai", "", catOther},          // x.com's key is too short a word
		{"t.me", "telegram", catSocial}, // not t.co's twitter
		{"vk.ru", "", catOther},
		{"partner-site.io", "", catOther},
		{"co.uk", "", catOther},
		{"www.co.uk", "", catOther},
		{"google", "", catOther},
		{"www.", "", catOther},
		{"m.", "", catOther},
		{"", "", catOther},
		{"ask.com", "ask", catSearch},
		{"ask.fm", "ask.fm", catSocial}, // shares ask.com's key: neither spreads
		{"ask.de", "", catOther},

		// Our additions.
		{"t.co", "twitter", catSocial},
		{"x.com", "twitter", catSocial},
		{"twitter.com", "twitter", catSocial},
		{"mobile.twitter.com", "twitter", catSocial},
		{"lnkd.in", "linkedin", catSocial},
		{"www.threads.net", "threads", catSocial},
		{"l.threads.com", "threads", catSocial},
		{"bsky.app", "bluesky", catSocial},
		{"kagi.com", "kagi", catSearch},
		{"youtu.be", "youtube", catVideo},
		{"ya.ru", "yandex", catSearch},

		// Webmail, exactly as listed.
		{"mail.google.com", "gmail", catWebmail},
		{"outlook.live.com", "outlook", catWebmail},
		{"outlook.office.com", "outlook", catWebmail},
		{"outlook.office365.com", "outlook", catWebmail},
		{"mail.yahoo.com", "yahoo mail", catWebmail},
		{"mail.yandex.ru", "yandex", catSearch}, // GA4 lists it as search, and GA4 wins

		// AI assistants, exactly as listed: no country domains.
		{"chatgpt.com", "chatgpt", catAI},
		{"chat.openai.com", "chatgpt", catAI},
		{"gemini.google.com", "gemini", catAI},
		{"copilot.microsoft.com", "copilot", catAI},
		{"claude.ai", "claude", catAI},
		{"www.perplexity.ai", "perplexity", catAI},
		{"poe.com", "poe", catAI},
		{"you.com", "you.com", catAI},
		{"grok.com", "grok", catAI},
		{"chat.deepseek.com", "deepseek", catAI},
		{"chat.mistral.ai", "mistral", catAI},
		{"www.meta.ai", "meta ai", catAI},
		{"claude.de", "", catOther},
		{"chatgpt.co.uk", "", catOther},
		{"meta.com", "", catOther},
		{"openai.com", "", catOther},
		{"deepseek.com", "", catOther},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			s, ok := lookupHost([]byte(tt.host))
			if ok != (tt.name != "") || s.name != tt.name || s.cat != tt.cat {
				t.Errorf("lookupHost(%q) = %+v, %v; want {%s %v}", tt.host, s, ok, tt.name, tt.cat)
			}
		})
	}
}

// TestSiteLists checks that the embedded lists parse, that our additions
// never contradict GA4's categories, and which country keys two sites share.
func TestSiteLists(t *testing.T) {
	if lists.err != nil {
		t.Fatal(lists.err)
	}
	for _, c := range lists.conflicts {
		t.Errorf("conflicting entry: %s", c)
	}
	if diff := cmp.Diff([]string{"ask"}, lists.ambiguous); diff != "" {
		t.Errorf("country keys shared by sites of different categories (-want +got):\n%s", diff)
	}
	// Every GA4 entry is on the lists as GA4 says, by name or by host.
	want := map[string]category{"SOURCE_CATEGORY_SEARCH": catSearch, "SOURCE_CATEGORY_SOCIAL": catSocial,
		"SOURCE_CATEGORY_VIDEO": catVideo, "SOURCE_CATEGORY_SHOPPING": catShopping}
	for _, e := range readGA4(t) {
		if got := nameCategory([]byte(strings.ToLower(e.source))); got != want[e.category] {
			t.Errorf("%s: on list %v, GA4 says %s", e.source, got, e.category)
		}
	}
}

// TestBuildListsErrors: a list that cannot be read is reported, not
// half-used.
func TestBuildListsErrors(t *testing.T) {
	const header = "source,source_category\n"
	tests := []struct{ ga4, ours, want string }{
		{"", "source,category\n", "ga4_source_categories.csv: header missing"},
		{"name,category\n", "source,category\n", "ga4_source_categories.csv: header"},
		{header + "google,SOURCE_CATEGORY_SEARCH\n", "source,category\nx.com,sociable\n", `sources.csv:2: unknown category "sociable"`},
		{header + "a,b,c,d\n", "source,category\n", "ga4_source_categories.csv:2: 4 fields"},
		{header + "\"unterminated\n", "source,category\n", "ga4_source_categories.csv"},
		{header, "source,category\n,social\n", "sources.csv:2: 2 fields"},
	}
	for _, tt := range tests {
		l := buildLists(tt.ga4, tt.ours)
		if l.err == nil || !strings.Contains(l.err.Error(), tt.want) {
			t.Errorf("buildLists(%q, %q) error %v, want one containing %q", tt.ga4, tt.ours, l.err, tt.want)
		}
	}
	l := buildLists(header+"google,SOURCE_CATEGORY_SEARCH\nexample.com,SOURCE_CATEGORY_SOCIAL\n",
		"source,category,name\ngoogle,social,\nwww.example.com,video,ex\n")
	if l.err != nil {
		t.Fatal(l.err)
	}
	if len(l.conflicts) != 2 || l.names["google"] != catSearch || l.hosts["example.com"].cat != catSocial {
		t.Errorf("later entries overrode earlier ones: conflicts %q, google %v, example.com %+v",
			l.conflicts, l.names["google"], l.hosts["example.com"])
	}
}

// TestSiteNamesOnLists checks that every site name a referrer can produce is
// on the same channel list by name, so a referrer and a utm_source naming
// the same site are classified alike.
func TestSiteNamesOnLists(t *testing.T) {
	check := func(from string, s site) {
		if s.name == "" {
			return
		}
		if got := nameCategory([]byte(s.name)); got != s.cat {
			t.Errorf("%s: source name %q is on list %v, the site is %v", from, s.name, got, s.cat)
		}
	}
	for k, s := range lists.hosts {
		check("host "+k, s)
	}
	for k, s := range lists.countries {
		check("country key "+k, s)
	}
	for k, s := range androidApps {
		check("app "+k, s)
	}
}

func TestSourceHash(t *testing.T) {
	h := fnv.New64a()
	for _, f := range []string{"google", "cpc", ""} {
		n := len(f)
		h.Write([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
		h.Write([]byte(f))
	}
	if got, want := sourceHash([]byte("google"), []byte("cpc"), nil), h.Sum64(); got != want {
		t.Errorf("sourceHash = %#x, want FNV-1a %#x", got, want)
	}
	a := sourceHash([]byte("ab"), []byte("c"), nil)
	b := sourceHash([]byte("a"), []byte("bc"), nil)
	if a == b {
		t.Error(`("ab","c") and ("a","bc") hash alike`)
	}
	if sourceHash(nil, nil, nil) == 0 {
		t.Error("sourceHash is 0")
	}
}

// src describes an expected source identity in tests.
type src struct {
	Source, Medium, Campaign string
	Channel                  string
	Tagged                   bool
}

func (s src) result(kind Kind, visitor uint64, dev Device) Result {
	r := Result{Kind: kind, Visitor: visitor, Device: dev, Tagged: s.Tagged}
	if s.Channel != "" && s.Channel != "direct" {
		r.Source = sourceHash([]byte(s.Source), []byte(s.Medium), []byte(s.Campaign))
	}
	r.Channel, _ = ParseChannel(s.Channel)
	return r
}

// TestSource covers rule 4: campaigns, click ids, referrers and their
// precedence.
func TestSource(t *testing.T) {
	c := newTestClassifier(t, testConfig())
	direct := src{Channel: "direct"}
	tests := []struct {
		name string
		r    *accesslog.Request
		want src
	}{
		{"no referrer", req(), direct},
		{"own host www", req(withRef("https://www.example.com/pricing")), direct},
		{"own host bare, other case", req(withRef("https://EXAMPLE.com/")), direct},
		{"own host with port", req(withRef("https://www.example.com:443/")), direct},
		{"request host", req(withHost("shop.example.net"), withRef("https://shop.example.net/cart")), direct},
		{"request host with port and case", req(withHost("Shop.Example.NET:8443"), withRef("http://shop.example.net/")), direct},
		{"subdomain of own host is external", req(withRef("https://docs.example.com/x")), src{"docs.example.com", "referral", "", "referral", false}},
		{"unknown referrer", req(withRef("https://some-blog.net/post/1")), src{"some-blog.net", "referral", "", "referral", false}},
		{"unknown referrer www stripped", req(withRef("https://www.Some-Blog.net/")), src{"some-blog.net", "referral", "", "referral", false}},
		{"google", req(withRef("https://www.google.com/")), src{"google", "organic", "", "organic_search", false}},
		{"google country", req(withRef("https://www.google.co.uk/")), src{"google", "organic", "", "organic_search", false}},
		{"facebook mobile", req(withRef("https://m.facebook.com/")), src{"facebook", "social", "", "organic_social", false}},
		{"youtube", req(withRef("https://www.youtube.com/watch?v=x")), src{"youtube", "video", "", "organic_video", false}},
		{"gmail web", req(withRef("https://mail.google.com/mail/u/0/")), src{"gmail", "email", "", "email", false}},
		{"amazon", req(withRef("https://www.amazon.de/dp/x")), src{"amazon", "referral", "", "organic_shopping", false}},
		{"not a referrer scheme", req(withRef("about:blank")), direct},

		// android-app referrers.
		{"app google search", req(withRef("android-app://com.google.android.googlequicksearchbox/")), src{"google", "organic", "", "organic_search", false}},
		{"app gmail", req(withRef("android-app://com.google.android.gm")), src{"gmail", "email", "", "email", false}},
		{"app facebook", req(withRef("android-app://com.facebook.katana/")), src{"facebook", "social", "", "organic_social", false}},
		{"app twitter", req(withRef("android-app://com.twitter.android/")), src{"twitter", "social", "", "organic_social", false}},
		{"app linkedin", req(withRef("android-app://com.linkedin.android/")), src{"linkedin", "social", "", "organic_social", false}},
		{"app reddit", req(withRef("android-app://com.reddit.frontpage/")), src{"reddit", "social", "", "organic_social", false}},
		{"app youtube", req(withRef("android-app://com.google.android.youtube/")), src{"youtube", "video", "", "organic_video", false}},
		{"app unknown", req(withRef("android-app://org.example.reader/")), src{"org.example.reader", "referral", "", "referral", false}},

		// Campaigns.
		{"utm all three", req(withURI("/?utm_source=Newsletter&utm_medium=EMAIL&utm_campaign=Weekly")), src{"newsletter", "email", "weekly", "email", true}},
		{"utm decoded", req(withURI("/?utm_source=Google%20Ads&utm_medium=cpc&utm_campaign=spring+sale")), src{"google ads", "cpc", "spring sale", "paid_other", true}},
		{"utm beats referrer", req(withURI("/?utm_source=newsletter&utm_medium=email"), withRef("https://some-blog.net/")), src{"newsletter", "email", "", "email", true}},
		{"utm with internal referrer", req(withURI("/?utm_source=banner&utm_medium=display"), withRef("https://www.example.com/")), src{"banner", "display", "", "display", true}},
		{"utm_source only", req(withURI("/?utm_source=foo")), src{"foo", "", "", "unassigned", true}},
		{"utm_campaign only falls back to referrer", req(withURI("/?utm_campaign=spring"), withRef("https://www.google.com/")), src{"google", "organic", "spring", "organic_search", true}},
		{"utm_source without medium takes referrer medium", req(withURI("/?utm_source=partner"), withRef("https://partner-site.io/")), src{"partner", "referral", "", "referral", true}},
		{"utm beats click id", req(withURI("/?gclid=x&utm_source=bing&utm_medium=ppc")), src{"bing", "ppc", "", "paid_search", true}},
		{"empty utm is absent", req(withURI("/?utm_source=&utm_medium=&gclid=x")), src{"google", "cpc", "", "paid_search", true}},

		// Click ids.
		{"gclid", req(withURI("/?gclid=Cj0"), withRef("https://www.google.com/")), src{"google", "cpc", "", "paid_search", true}},
		{"gbraid", req(withURI("/?gbraid=0AA")), src{"google", "cpc", "", "paid_search", true}},
		{"wbraid", req(withURI("/?wbraid=Cl")), src{"google", "cpc", "", "paid_search", true}},
		{"dclid is display", req(withURI("/?dclid=CJ")), src{"google", "display", "", "display", true}},
		{"msclkid", req(withURI("/?msclkid=a1b2")), src{"bing", "cpc", "", "paid_search", true}},
		{"fbclid", req(withURI("/?fbclid=IwAR"), withRef("https://m.facebook.com/")), src{"facebook", "social", "", "organic_social", true}},
		{"click id beats referrer", req(withURI("/?msclkid=x"), withRef("https://duckduckgo.com/")), src{"bing", "cpc", "", "paid_search", true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Result
			c.Classify(tt.r, &got)
			want := tt.want.result(KindPageview, c.keyOf(tt.r), Desktop)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Classify (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFbclidMatchesFacebookReferrer: fbclid is organic (rule 4), so a
// facebook click with and without it is the same source and does not split
// a session.
func TestFbclidMatchesFacebookReferrer(t *testing.T) {
	c := newTestClassifier(t, testConfig())
	var a, b Result
	c.Classify(req(withURI("/?fbclid=x"), withRef("https://l.facebook.com/")), &a)
	c.Classify(req(withRef("https://www.facebook.com/")), &b)
	if a.Source != b.Source || a.Channel != b.Channel {
		t.Errorf("fbclid %+v and facebook referrer %+v differ", a, b)
	}
	if !a.Tagged || b.Tagged {
		t.Errorf("Tagged = %v, %v; want true, false", a.Tagged, b.Tagged)
	}
}

func TestNormalizeHost(t *testing.T) {
	for in, want := range map[string]string{
		"Example.COM": "example.com", "example.com:8080": "example.com",
		"example.com.": "example.com", "[::1]:80": "::1", "::1": "::1", "": "",
	} {
		if got := string(normalizeHost(nil, []byte(in))); got != want {
			t.Errorf("normalizeHost(%q) = %q, want %q", in, got, want)
		}
	}
	if got := string(trimWWW([]byte("www.a.b"))); got != "a.b" {
		t.Errorf("trimWWW = %q", got)
	}
	if got := string(trimWWW([]byte("www."))); got != "www." {
		t.Errorf("trimWWW(www.) = %q", got)
	}
}
