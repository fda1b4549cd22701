package classify

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// category is what kind of site a source or referrer is (docs/rules.md
// rules 4 and 5). It decides the medium of a referrer and which channel
// lists a source is on.
type category uint8

const (
	catOther category = iota
	catSearch
	catSocial
	catVideo
	catShopping
	catWebmail
	catAI
	numCategories int = iota
)

// medium returns the medium a referrer of category c gets when no utm_medium
// or click id names one (docs/rules.md rule 4). Shopping sites and AI
// assistants are referrals.
func (c category) medium() string {
	switch c {
	case catSearch:
		return "organic"
	case catSocial:
		return "social"
	case catVideo:
		return "video"
	case catWebmail:
		return "email"
	}
	return "referral"
}

// categoryNames are the category column values of the site lists.
var categoryNames = map[string]category{
	"SOURCE_CATEGORY_SEARCH": catSearch, "search": catSearch,
	"SOURCE_CATEGORY_SOCIAL": catSocial, "social": catSocial,
	"SOURCE_CATEGORY_VIDEO": catVideo, "video": catVideo,
	"SOURCE_CATEGORY_SHOPPING": catShopping, "shopping": catShopping,
	"email": catWebmail,
	"ai":    catAI,
}

// site is a known referrer: the source name it stands for and its category.
type site struct {
	name string
	cat  category
}

// The site lists: GA4's published source categories, vendored unchanged
// (see data/README.md), and our own additions.
var (
	//go:embed data/ga4_source_categories.csv
	ga4Sources string
	//go:embed data/sources.csv
	ourSources string
)

// siteLists are the lists of rule 5 in the form the hot path reads them.
type siteLists struct {
	// hosts maps a host, without a leading www., m., l. or lm., to its site.
	hosts map[string]site
	// countries maps a host without its country suffix ("google" for
	// google.com, "search.aol" for search.aol.co.uk) to the site, for the
	// categories whose sites are matched in every country domain.
	countries map[string]site
	// names are the source names on each list, lower-cased: utm_source
	// values, click-id engines and the names of the sites above.
	names map[string]category
	// conflicts lists the entries left out because an earlier one gave the
	// same host or name another category (GA4's list comes first). A test
	// keeps it empty.
	conflicts []string
	// ambiguous are the country keys two sites of different categories
	// share (ask.com is search, ask.fm social): hosts on them match only
	// as listed.
	ambiguous []string
	// err is a list that could not be read; a test keeps it nil.
	err error
}

// lists is built once from the embedded files.
var lists = buildLists(ga4Sources, ourSources)

// listEntry is one row of a site list.
type listEntry struct {
	source string // lower-cased
	cat    category
	name   string // our lists only: the site's source name
}

// readList parses a list: a header row, then source,category[,name] rows;
// lines starting with '#' are comments.
func readList(file, text string) ([]listEntry, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.Comment = '#'
	r.FieldsPerRecord = -1
	var out []listEntry
	for first := true; ; first = false {
		rec, err := r.Read()
		if err == io.EOF && !first {
			return out, nil
		}
		if err == io.EOF {
			return nil, fmt.Errorf("%s: header missing, want source,category[,name]", file)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if first {
			if len(rec) < 2 || rec[0] != "source" {
				return nil, fmt.Errorf("%s: header %q, want source,category[,name]", file, rec)
			}
			continue
		}
		line, _ := r.FieldPos(0)
		if len(rec) < 2 || len(rec) > 3 || rec[0] == "" {
			return nil, fmt.Errorf("%s:%d: %d fields, want source,category[,name]", file, line, len(rec))
		}
		cat, ok := categoryNames[rec[1]]
		if !ok {
			return nil, fmt.Errorf("%s:%d: unknown category %q", file, line, rec[1])
		}
		e := listEntry{source: strings.ToLower(strings.TrimSpace(rec[0])), cat: cat}
		if len(rec) == 3 {
			e.name = strings.ToLower(strings.TrimSpace(rec[2]))
		}
		out = append(out, e)
	}
}

// isHostName reports whether a list entry is a host name rather than a
// source name: it has a dot and only letters, digits, dots and hyphens.
func isHostName(s string) bool {
	if !strings.Contains(s, ".") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// buildLists builds the lookup tables from GA4's list and ours. The first
// entry for a host or name fixes its category; a later one of the same
// category may give the site its name.
func buildLists(ga4, ours string) *siteLists {
	l := &siteLists{hosts: map[string]site{}, countries: map[string]site{}, names: map[string]category{}}
	a, err := readList("ga4_source_categories.csv", ga4)
	if err != nil {
		l.err = err
		return l
	}
	b, err := readList("sources.csv", ours)
	if err != nil {
		l.err = err
		return l
	}
	entries := append(a, b...)

	addName := func(name string, cat category, from string) {
		if old, ok := l.names[name]; ok && old != cat {
			l.conflicts = append(l.conflicts, fmt.Sprintf("%s: name %q is %v, already %v", from, name, cat, old))
			return
		}
		l.names[name] = cat
	}
	// Source names first, so site names can be checked against them.
	for _, e := range entries {
		if !isHostName(e.source) {
			addName(e.source, e.cat, e.source)
		}
	}
	// Hosts, in list order.
	var order []string
	for _, e := range entries {
		if !isHostName(e.source) {
			continue
		}
		h := string(trimSitePrefix([]byte(e.source)))
		old, seen := l.hosts[h]
		switch {
		case seen && old.cat != e.cat:
			l.conflicts = append(l.conflicts, fmt.Sprintf("%s: host is %v, already %v", e.source, e.cat, old.cat))
			continue
		case !seen:
			order = append(order, h)
		}
		if old.name == "" {
			old.name = e.name
		}
		l.hosts[h] = site{name: old.name, cat: e.cat}
		if e.name != "" {
			addName(e.name, e.cat, e.source)
		}
	}
	// Sites without a name of our own are called by their brand when that
	// is a source name of the same category ("m.youtube.com" is youtube),
	// else by their host.
	for _, h := range order {
		s := l.hosts[h]
		if s.name == "" {
			if brand := brandOf([]byte(h)); l.names[string(brand)] == s.cat && s.cat != catOther {
				s.name = string(brand)
			} else {
				s.name = h
			}
			l.hosts[h] = s
		}
	}
	// The same site in another country domain: search, social, video and
	// shopping sites, keyed without their country suffix. A key whose last
	// label is shorter than three letters ("t" of t.co, "vk" of vk.com) is
	// too common a word to stand for one site everywhere, and two sites of
	// different categories on one key cancel each other.
	ambiguous := map[string]bool{}
	for _, h := range order {
		s := l.hosts[h]
		if s.cat < catSearch || s.cat > catShopping {
			continue
		}
		key := countryKey([]byte(h))
		if len(key) == 0 || len(key)-1-bytes.LastIndexByte(key, '.') < 3 || ambiguous[string(key)] {
			continue
		}
		if old, ok := l.countries[string(key)]; ok && old.cat != s.cat {
			delete(l.countries, string(key))
			ambiguous[string(key)] = true
			l.ambiguous = append(l.ambiguous, string(key))
			continue
		} else if ok {
			continue // the first site keeps the key, and its name
		}
		l.countries[string(key)] = s
	}
	return l
}

var categoryStrings = [numCategories]string{"other", "search", "social", "video", "shopping", "email", "ai"}

// String returns the category's name in sources.csv ("other" for none).
func (c category) String() string {
	if int(c) < numCategories {
		return categoryStrings[c]
	}
	return "other"
}

// sitePrefixes are the labels a host may differ by and still be the same
// site (docs/rules.md rule 5).
var sitePrefixes = [...]string{"www.", "m.", "l.", "lm."}

// trimSitePrefix removes one leading www., m., l. or lm. from a lower-cased
// host, when what is left still has a dot.
func trimSitePrefix(host []byte) []byte {
	for _, p := range sitePrefixes {
		if len(host) > len(p) && string(host[:len(p)]) == p {
			if rest := host[len(p):]; bytes.IndexByte(rest, '.') > 0 {
				return rest
			}
			return host
		}
	}
	return host
}

// countryKey returns host without its country suffix, or nil when it has
// none. The suffix is "com", a two-letter country domain, or a two-letter
// country domain with one of countrySLDs in front (co.uk, com.br, ne.jp).
// It allocates nothing: the result is a prefix of host.
func countryKey(host []byte) []byte {
	last := bytes.LastIndexByte(host, '.')
	if last <= 0 {
		return nil
	}
	tld := host[last+1:]
	switch {
	case string(tld) == "com":
		return host[:last]
	case len(tld) == 2 && isLetter(tld[0]) && isLetter(tld[1]):
		prev := bytes.LastIndexByte(host[:last], '.')
		if prev > 0 && isCountrySLD(host[prev+1:last]) {
			return host[:prev]
		}
		return host[:last]
	}
	return nil
}

// isCountrySLD reports whether label, under a two-letter country domain,
// forms a public suffix with it: google.co.uk, google.com.br, yahoo.co.jp.
func isCountrySLD(label []byte) bool {
	switch string(label) {
	case "co", "com", "net", "org", "ac", "ne", "or", "go", "gov", "edu", "gob":
		return true
	}
	return false
}

// brandOf returns the label in front of host's country suffix, or in front
// of its top-level domain when it has no country suffix:
// "blog.twitch.tv" -> "twitch", "ecosia.org" -> "ecosia".
func brandOf(host []byte) []byte {
	key := countryKey(host)
	if key == nil {
		last := bytes.LastIndexByte(host, '.')
		if last < 0 {
			return nil
		}
		key = host[:last]
	}
	return key[bytes.LastIndexByte(key, '.')+1:]
}

// lookupHost finds the site for a lower-cased referrer host (docs/rules.md
// rule 5): the host itself, or it without a leading www., m., l. or lm.; else
// the same site in another country domain. Other subdomains of a listed site
// are not that site (support.google.com is not google search). ok is false
// for a host no list names; such a host is a referral named by the host
// without a leading "www.". It does not allocate.
func lookupHost(host []byte) (s site, ok bool) {
	h := trimSitePrefix(host)
	if s, ok := lists.hosts[string(h)]; ok {
		return s, true
	}
	if key := countryKey(h); len(key) > 0 {
		if s, ok := lists.countries[string(key)]; ok {
			return s, true
		}
	}
	return site{}, false
}

// androidApps maps android-app://PACKAGE referrers to sites
// (docs/rules.md rule 4). An unknown package is a referral named by the
// package.
var androidApps = map[string]site{
	"com.google.android.googlequicksearchbox": {"google", catSearch},
	"com.google.android.apps.searchlite":      {"google", catSearch},
	"com.google.android.apps.magazines":       {"google", catSearch}, // Google News, as news.google.com
	"com.google.android.gm":                   {"gmail", catWebmail},
	"com.microsoft.office.outlook":            {"outlook", catWebmail},
	"com.yahoo.mobile.client.android.mail":    {"yahoo mail", catWebmail},
	"ch.protonmail.android":                   {"proton mail", catWebmail},
	"com.microsoft.bing":                      {"bing", catSearch},
	"com.duckduckgo.mobile.android":           {"duckduckgo", catSearch},
	"org.ecosia.android":                      {"ecosia", catSearch},
	"ru.yandex.searchplugin":                  {"yandex", catSearch},
	"com.baidu.searchbox":                     {"baidu", catSearch},
	"com.nhn.android.search":                  {"naver", catSearch},
	"com.facebook.katana":                     {"facebook", catSocial},
	"com.facebook.lite":                       {"facebook", catSocial},
	"com.facebook.orca":                       {"messenger", catSocial},
	"com.instagram.android":                   {"instagram", catSocial},
	"com.instagram.barcelona":                 {"threads", catSocial},
	"com.twitter.android":                     {"twitter", catSocial},
	"com.linkedin.android":                    {"linkedin", catSocial},
	"com.reddit.frontpage":                    {"reddit", catSocial},
	"com.pinterest":                           {"pinterest", catSocial},
	"com.zhiliaoapp.musically":                {"tiktok", catSocial},
	"com.ss.android.ugc.trill":                {"tiktok", catSocial},
	"com.snapchat.android":                    {"snapchat", catSocial},
	"com.tumblr":                              {"tumblr", catSocial},
	"com.quora.android":                       {"quora", catSocial},
	"org.telegram.messenger":                  {"telegram", catSocial},
	"com.whatsapp":                            {"whatsapp", catSocial},
	"com.discord":                             {"discord", catSocial},
	"com.slack":                               {"slack", catSocial},
	"jp.naver.line.android":                   {"line", catSocial},
	"com.vkontakte.android":                   {"vk", catSocial},
	"xyz.blueskyweb.app":                      {"bluesky", catSocial},
	"com.google.android.youtube":              {"youtube", catVideo},
	"tv.twitch.android.app":                   {"twitch", catVideo},
	"com.vimeo.android.videoapp":              {"vimeo", catVideo},
	"com.amazon.mshop.android.shopping":       {"amazon", catShopping},
	"com.ebay.mobile":                         {"ebay", catShopping},
	"com.etsy.android":                        {"etsy", catShopping},
	"com.openai.chatgpt":                      {"chatgpt", catAI},
	"com.google.android.apps.bard":            {"gemini", catAI},
	"com.anthropic.claude":                    {"claude", catAI},
	"ai.perplexity.app.android":               {"perplexity", catAI},
	"com.microsoft.copilot":                   {"copilot", catAI},
	"com.deepseek.chat":                       {"deepseek", catAI},
}

// sourceNames are the source names on the lists, by category.
var sourceNames = lists.names
