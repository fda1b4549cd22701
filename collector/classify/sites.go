package classify

import "bytes"

// category is what kind of site a source or referrer is (SESSION-RULES
// rule 4 and 5). It decides the medium of a referrer and which channel lists
// a source is on.
type category uint8

const (
	catOther category = iota
	catSearch
	catSocial
	catVideo
	catShopping
	catWebmail
)

// medium returns the medium a referrer of category c gets when no utm_medium
// or click id names one (SESSION-RULES rule 4). Shopping sites are referrals.
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

// site is a known referrer: the source name it stands for and its category.
type site struct {
	name string
	cat  category
}

// brandSites are sites recognised by their registrable name under any
// top-level or country domain: google.com, www.google.co.uk, google.de and
// news.google.com.au are all "google". The brand is the label in front of the
// public suffix (see brandLabel).
var brandSites = map[string]site{
	// Search engines.
	"google":     {"google", catSearch},
	"bing":       {"bing", catSearch},
	"yahoo":      {"yahoo", catSearch},
	"duckduckgo": {"duckduckgo", catSearch},
	"ecosia":     {"ecosia", catSearch},
	"yandex":     {"yandex", catSearch},
	"baidu":      {"baidu", catSearch},
	"naver":      {"naver", catSearch},
	"qwant":      {"qwant", catSearch},
	"startpage":  {"startpage", catSearch},
	"ask":        {"ask", catSearch},
	"aol":        {"aol", catSearch},
	"seznam":     {"seznam", catSearch},
	"sogou":      {"sogou", catSearch},
	"daum":       {"daum", catSearch},
	"coccoc":     {"coccoc", catSearch},
	"kagi":       {"kagi", catSearch},
	"msn":        {"msn", catSearch},
	"yippy":      {"yippy", catSearch},

	// Social networks and messengers.
	"facebook":    {"facebook", catSocial},
	"instagram":   {"instagram", catSocial},
	"twitter":     {"twitter", catSocial},
	"linkedin":    {"linkedin", catSocial},
	"reddit":      {"reddit", catSocial},
	"pinterest":   {"pinterest", catSocial},
	"tiktok":      {"tiktok", catSocial},
	"snapchat":    {"snapchat", catSocial},
	"tumblr":      {"tumblr", catSocial},
	"quora":       {"quora", catSocial},
	"threads":     {"threads", catSocial},
	"bsky":        {"bluesky", catSocial},
	"telegram":    {"telegram", catSocial},
	"whatsapp":    {"whatsapp", catSocial},
	"discord":     {"discord", catSocial},
	"discordapp":  {"discord", catSocial},
	"slack":       {"slack", catSocial},
	"messenger":   {"messenger", catSocial},
	"weibo":       {"weibo", catSocial},
	"xing":        {"xing", catSocial},
	"meetup":      {"meetup", catSocial},
	"producthunt": {"producthunt", catSocial},
	"nextdoor":    {"nextdoor", catSocial},
	"vk":          {"vk", catSocial},

	// Video sites.
	"youtube":     {"youtube", catVideo},
	"vimeo":       {"vimeo", catVideo},
	"twitch":      {"twitch", catVideo},
	"dailymotion": {"dailymotion", catVideo},
	"wistia":      {"wistia", catVideo},
	"netflix":     {"netflix", catVideo},
	"rumble":      {"rumble", catVideo},

	// Shopping sites.
	"amazon":       {"amazon", catShopping},
	"ebay":         {"ebay", catShopping},
	"etsy":         {"etsy", catShopping},
	"shopify":      {"shopify", catShopping},
	"walmart":      {"walmart", catShopping},
	"aliexpress":   {"aliexpress", catShopping},
	"alibaba":      {"alibaba", catShopping},
	"temu":         {"temu", catShopping},
	"shein":        {"shein", catShopping},
	"bestbuy":      {"bestbuy", catShopping},
	"mercadolibre": {"mercadolibre", catShopping},
	"mercadolivre": {"mercadolibre", catShopping},
	"rakuten":      {"rakuten", catShopping},
	"zalando":      {"zalando", catShopping},
	"idealo":       {"idealo", catShopping},
}

// domainSites are sites recognised by a host or one of its parent domains.
// They are looked up before brandSites, so "mail.google.com" (gmail) wins over
// the google brand. Sites of category catOther with an empty name keep their
// host as the name: they only stop a brand from claiming them.
var domainSites = map[string]site{
	// Short links and hosts whose brand label is not their name.
	"t.co":                 {"twitter", catSocial},
	"x.com":                {"twitter", catSocial},
	"lnkd.in":              {"linkedin", catSocial},
	"fb.com":               {"facebook", catSocial},
	"fb.me":                {"facebook", catSocial},
	"pin.it":               {"pinterest", catSocial},
	"t.me":                 {"telegram", catSocial},
	"wa.me":                {"whatsapp", catSocial},
	"m.me":                 {"messenger", catSocial},
	"line.me":              {"line", catSocial},
	"ok.ru":                {"ok.ru", catSocial},
	"news.ycombinator.com": {"hacker news", catSocial},
	"mastodon.social":      {"mastodon", catSocial},
	"youtu.be":             {"youtube", catVideo},
	"ted.com":              {"ted", catVideo},
	"ya.ru":                {"yandex", catSearch},
	"so.com":               {"so.com", catSearch},
	"search.brave.com":     {"brave", catSearch},
	"target.com":           {"target", catShopping},
	"otto.de":              {"otto", catShopping},
	"shopping.google.com":  {"google shopping", catShopping},
	"shopping.yahoo.com":   {"yahoo shopping", catShopping},

	// Webmail.
	"mail.google.com":       {"gmail", catWebmail},
	"inbox.google.com":      {"gmail", catWebmail},
	"outlook.live.com":      {"outlook", catWebmail},
	"outlook.office.com":    {"outlook", catWebmail},
	"outlook.office365.com": {"outlook", catWebmail},
	"mail.yahoo.com":        {"yahoo mail", catWebmail},
	"mail.aol.com":          {"aol mail", catWebmail},
	"mail.proton.me":        {"proton mail", catWebmail},
	"mail.zoho.com":         {"zoho mail", catWebmail},
	"mail.yandex.ru":        {"yandex mail", catWebmail},
	"mail.yandex.com":       {"yandex mail", catWebmail},
	"e.mail.ru":             {"mail.ru", catWebmail},
	"app.fastmail.com":      {"fastmail", catWebmail},

	// Google properties that are not search: links from them are referrals.
	"docs.google.com":      {},
	"drive.google.com":     {},
	"sites.google.com":     {},
	"accounts.google.com":  {},
	"play.google.com":      {},
	"groups.google.com":    {},
	"calendar.google.com":  {},
	"meet.google.com":      {},
	"chat.google.com":      {},
	"classroom.google.com": {},
	"translate.google.com": {},
	"ask.fm":               {},
}

// androidApps maps android-app://PACKAGE referrers to sites
// (SESSION-RULES rule 4). An unknown package is a referral named by the
// package.
var androidApps = map[string]site{
	"com.google.android.googlequicksearchbox": {"google", catSearch},
	"com.google.android.apps.searchlite":      {"google", catSearch},
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
}

// sourceNames are the source names (utm_source values, click-id engines and
// site names) on the channel lists of SESSION-RULES rule 5. Every name a
// table above produces is here too (tested), so a referrer and a utm_source
// naming the same site land in the same channel.
var sourceNames = map[string]category{
	// Search.
	"google": catSearch, "adwords": catSearch, "bing": catSearch,
	"yahoo": catSearch, "duckduckgo": catSearch, "ecosia": catSearch,
	"yandex": catSearch, "baidu": catSearch, "naver": catSearch,
	"qwant": catSearch, "startpage": catSearch, "ask": catSearch,
	"aol": catSearch, "seznam": catSearch, "sogou": catSearch,
	"daum": catSearch, "coccoc": catSearch, "kagi": catSearch,
	"msn": catSearch, "yippy": catSearch, "brave": catSearch,
	"so.com": catSearch,

	// Social.
	"facebook": catSocial, "fb": catSocial, "meta": catSocial,
	"instagram": catSocial, "ig": catSocial, "twitter": catSocial,
	"linkedin": catSocial, "reddit": catSocial,
	"pinterest": catSocial, "tiktok": catSocial, "snapchat": catSocial,
	"tumblr": catSocial, "quora": catSocial, "threads": catSocial,
	"bluesky": catSocial, "bsky": catSocial, "mastodon": catSocial,
	"telegram": catSocial, "whatsapp": catSocial, "discord": catSocial,
	"slack": catSocial, "messenger": catSocial, "line": catSocial,
	"weibo": catSocial, "wechat": catSocial, "xing": catSocial,
	"meetup": catSocial, "producthunt": catSocial, "nextdoor": catSocial,
	"vk": catSocial, "ok.ru": catSocial, "hacker news": catSocial,
	"hackernews": catSocial,

	// Video.
	"youtube": catVideo, "yt": catVideo, "vimeo": catVideo,
	"twitch": catVideo, "dailymotion": catVideo, "wistia": catVideo,
	"netflix": catVideo, "rumble": catVideo, "ted": catVideo,

	// Shopping.
	"amazon": catShopping, "ebay": catShopping, "etsy": catShopping,
	"shopify": catShopping, "walmart": catShopping, "aliexpress": catShopping,
	"alibaba": catShopping, "temu": catShopping, "shein": catShopping,
	"target": catShopping, "bestbuy": catShopping, "mercadolibre": catShopping,
	"rakuten": catShopping, "zalando": catShopping, "idealo": catShopping,
	"otto": catShopping, "google shopping": catShopping,
	"yahoo shopping": catShopping, "igshopping": catShopping,

	// Webmail.
	"gmail": catWebmail, "outlook": catWebmail, "hotmail": catWebmail,
	"yahoo mail": catWebmail, "aol mail": catWebmail,
	"proton mail": catWebmail, "zoho mail": catWebmail,
	"yandex mail": catWebmail, "mail.ru": catWebmail, "fastmail": catWebmail,
}

// countrySLDs are second-level labels that, under a two-letter country
// domain, form a public suffix together with it: google.co.uk, google.com.au.
var countrySLDs = map[string]bool{
	"co": true, "com": true, "net": true, "org": true, "ac": true,
	"ne": true, "or": true, "go": true, "gov": true, "edu": true, "gob": true,
}

// lookupHost finds the site for a lower-cased referrer host. ok is false
// for a host no table names; such a host is a referral named by the host
// without a leading "www.".
func lookupHost(host []byte) (s site, ok bool) {
	// Most specific first: the host itself, then each parent domain.
	for i := 0; i < len(host); {
		if d, found := domainSites[string(host[i:])]; found {
			if d.name == "" {
				return site{}, false
			}
			return d, true
		}
		j := bytes.IndexByte(host[i:], '.')
		if j < 0 {
			break
		}
		i += j + 1
	}
	if b := brandLabel(host); len(b) > 0 {
		if d, found := brandSites[string(b)]; found {
			return d, true
		}
	}
	return site{}, false
}

// brandLabel returns the label in front of host's public suffix, where the
// suffix is the last label or, under a two-letter country domain, a
// countrySLDs label plus the country ("www.google.co.uk" -> "google").
// It returns nil for a host of one label.
func brandLabel(host []byte) []byte {
	last := bytes.LastIndexByte(host, '.')
	if last <= 0 {
		return nil
	}
	rest := host[:last]
	tld := host[last+1:]
	prev := bytes.LastIndexByte(rest, '.')
	sld := rest[prev+1:]
	if prev > 0 && len(tld) == 2 && countrySLDs[string(sld)] {
		rest = rest[:prev]
		prev = bytes.LastIndexByte(rest, '.')
		sld = rest[prev+1:]
	}
	return sld
}
