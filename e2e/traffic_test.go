//go:build e2e

package e2e

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// The two sites: nginx serves "shop", Caddy serves "blog", both the same
// static files (sitePages).
const (
	siteShop = "shop"
	siteBlog = "blog"
	hostShop = "shop.example.com"
	hostBlog = "blog.example.com"
)

// User agents, one per device class the rules name (docs/rules.md rule 7)
// and two bots (rule 2).
const (
	uaWindowsChrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	uaMacSafari     = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
	uaIPhone        = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
	uaAndroidPhone  = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"
	uaIPad          = "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
	uaAndroidTablet = "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	uaCurl          = "curl/7.88.1"
	uaGooglebot     = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)

const emailLink = "/go?utm_source=newsletter&utm_medium=email&utm_campaign=weekly"

// hit is one request of the script. xff is the X-Forwarded-For header a
// load balancer in front of the web server would add: the visitor's address
// (the servers see every request from 127.0.0.1, a trusted proxy).
type hit struct {
	site       string
	xff        string
	ua         string
	path       string
	referer    string
	revalidate bool // send If-None-Match with the ETag path last had
	status     int  // what the server must answer
}

// script is the whole traffic, in order. Comments give what each visitor
// must count as; want below is the same, per cell.
var script = []hit{
	// shop (nginx) ------------------------------------------------------------
	// V1, desktop, from Google search: organic_search. Assets are not
	// pageviews; internal navigation stays in the session (the left-most
	// X-Forwarded-For entry is the client's own claim and is ignored); the
	// thank-you page is the goal. 3 pageviews, engaged, 1 conversion.
	{site: siteShop, xff: "203.0.113.11", ua: uaWindowsChrome, path: "/", referer: "https://www.google.com/", status: 200},
	{site: siteShop, xff: "203.0.113.11", ua: uaWindowsChrome, path: "/style.css", referer: "http://shop.example.com/", status: 200},
	{site: siteShop, xff: "203.0.113.11", ua: uaWindowsChrome, path: "/logo.png", referer: "http://shop.example.com/", status: 200},
	{site: siteShop, xff: "192.0.2.66, 203.0.113.11", ua: uaWindowsChrome, path: "/pricing", referer: "http://shop.example.com/", status: 200},
	{site: siteShop, xff: "203.0.113.11", ua: uaWindowsChrome, path: "/checkout/thank-you?value=49", referer: "http://shop.example.com/pricing", status: 200},
	// V2, iPhone, newsletter link through the redirect that strips the UTM
	// parameters: the landing page has no campaign and no referrer, and must
	// still count as email (carry-over). 2 pageviews, engaged.
	{site: siteShop, xff: "203.0.113.12", ua: uaIPhone, path: emailLink, status: 302},
	{site: siteShop, xff: "203.0.113.12", ua: uaIPhone, path: "/landing", status: 200},
	{site: siteShop, xff: "203.0.113.12", ua: uaIPhone, path: "/about", referer: "http://shop.example.com/landing", status: 200},
	// V3, iPad, Google Ads with UTM tags: paid_search, tablet. Bounces.
	{site: siteShop, xff: "198.51.100.21", ua: uaIPad, path: "/?utm_source=google&utm_medium=cpc&utm_campaign=spring", status: 200},
	// V4, Android tablet, Google Ads click id: paid_search, tablet, converts.
	{site: siteShop, xff: "198.51.100.22", ua: uaAndroidTablet, path: "/pricing?gclid=EAIaIQobChMI0test", status: 200},
	{site: siteShop, xff: "198.51.100.22", ua: uaAndroidTablet, path: "/checkout/thank-you", referer: "http://shop.example.com/pricing?gclid=EAIaIQobChMI0test", status: 200},
	// V5, desktop, same browser as V1 but another address: another visitor.
	// Direct. A 404 is no pageview; a 304 revalidation is one.
	{site: siteShop, xff: "203.0.113.13", ua: uaWindowsChrome, path: "/", status: 200},
	{site: siteShop, xff: "203.0.113.13", ua: uaWindowsChrome, path: "/no-such-page", referer: "http://shop.example.com/", status: 404},
	{site: siteShop, xff: "203.0.113.13", ua: uaWindowsChrome, path: "/", referer: "http://shop.example.com/", revalidate: true, status: 304},
	// Bots: counted in web_bot_requests_total only.
	{site: siteShop, xff: "203.0.113.90", ua: uaCurl, path: "/", status: 200},
	{site: siteShop, xff: "198.51.100.90", ua: uaGooglebot, path: "/", status: 200},
	{site: siteShop, xff: "198.51.100.90", ua: uaGooglebot, path: "/style.css", status: 200},

	// blog (Caddy) ------------------------------------------------------------
	// V6, iPhone, from Facebook: organic_social, mobile. Assets only after
	// the first page: bounces.
	{site: siteBlog, xff: "203.0.113.31", ua: uaIPhone, path: "/", referer: "https://www.facebook.com/", status: 200},
	{site: siteBlog, xff: "203.0.113.31", ua: uaIPhone, path: "/style.css", referer: "http://blog.example.com/", status: 200},
	{site: siteBlog, xff: "203.0.113.31", ua: uaIPhone, path: "/logo.png", referer: "http://blog.example.com/", status: 200},
	// V7, Mac, from another blog: referral (2 pageviews, engaged); then a
	// Google Ads link: a new source starts a new session, paid_search,
	// which converts.
	{site: siteBlog, xff: "198.51.100.41", ua: uaMacSafari, path: "/about", referer: "https://some-blog.net/post", status: 200},
	{site: siteBlog, xff: "198.51.100.41", ua: uaMacSafari, path: "/pricing", referer: "http://blog.example.com/about", status: 200},
	{site: siteBlog, xff: "198.51.100.41", ua: uaMacSafari, path: "/?utm_source=google&utm_medium=cpc&utm_campaign=spring", status: 200},
	{site: siteBlog, xff: "198.51.100.41", ua: uaMacSafari, path: "/checkout/thank-you", referer: "http://blog.example.com/?utm_source=google&utm_medium=cpc&utm_campaign=spring", status: 200},
	// V8, Android phone, newsletter link through Caddy's redirect: email,
	// mobile. Bounces.
	{site: siteBlog, xff: "203.0.113.32", ua: uaAndroidPhone, path: emailLink, status: 302},
	{site: siteBlog, xff: "203.0.113.32", ua: uaAndroidPhone, path: "/landing", status: 200},
	// V9, desktop: direct (bounces, closed by the next pageview), then from
	// Google search: a new session, organic_search; Google again is the
	// same source: same session.
	{site: siteBlog, xff: "198.51.100.42", ua: uaWindowsChrome, path: "/", status: 200},
	{site: siteBlog, xff: "198.51.100.42", ua: uaWindowsChrome, path: "/", referer: "https://www.google.com/", status: 200},
	{site: siteBlog, xff: "198.51.100.42", ua: uaWindowsChrome, path: "/pricing", referer: "https://www.google.com/", status: 200},
	// Bots.
	{site: siteBlog, xff: "203.0.113.91", ua: uaCurl, path: "/", status: 200},
	{site: siteBlog, xff: "198.51.100.91", ua: uaGooglebot, path: "/about", status: 200},
}

// cell is one label combination of the session metrics.
type cell struct{ Site, Channel, Device string }

// counts are a cell's values once every session has closed.
type counts struct {
	Sessions    int // web_sessions_total
	Pageviews   int // web_pageviews_total
	Engaged     int // web_sessions_engaged_total
	Bounced     int // web_sessions_bounced_total
	Conversions int // web_conversions_total{goal="purchase"}
	Closed      int // web_session_duration_seconds_count
	PVSum       int // web_session_pageviews_sum
	PVCount     int // web_session_pageviews_count
	Active      int // web_sessions_active
}

// want is the expected table, written by hand from the script above and
// docs/rules.md.md. Every session closes (session.timeout in the test is
// short), so Closed and PVCount equal Sessions and PVSum equals Pageviews.
var want = map[cell]counts{
	{siteShop, "organic_search", "desktop"}: {Sessions: 1, Pageviews: 3, Engaged: 1, Conversions: 1},             // V1
	{siteShop, "email", "mobile"}:           {Sessions: 1, Pageviews: 2, Engaged: 1},                             // V2
	{siteShop, "paid_search", "tablet"}:     {Sessions: 2, Pageviews: 3, Engaged: 1, Bounced: 1, Conversions: 1}, // V3, V4
	{siteShop, "direct", "desktop"}:         {Sessions: 1, Pageviews: 2, Engaged: 1},                             // V5

	{siteBlog, "organic_social", "mobile"}:  {Sessions: 1, Pageviews: 1, Bounced: 1},                 // V6
	{siteBlog, "referral", "desktop"}:       {Sessions: 1, Pageviews: 2, Engaged: 1},                 // V7
	{siteBlog, "paid_search", "desktop"}:    {Sessions: 1, Pageviews: 2, Engaged: 1, Conversions: 1}, // V7
	{siteBlog, "email", "mobile"}:           {Sessions: 1, Pageviews: 1, Bounced: 1},                 // V8
	{siteBlog, "direct", "desktop"}:         {Sessions: 1, Pageviews: 1, Bounced: 1},                 // V9
	{siteBlog, "organic_search", "desktop"}: {Sessions: 1, Pageviews: 2, Engaged: 1},                 // V9
}

// wantBots is web_bot_requests_total per site.
var wantBots = map[string]int{siteShop: 3, siteBlog: 2}

// wantTable returns want with the values every closed session implies.
func wantTable() map[cell]counts {
	m := make(map[cell]counts, len(want))
	for k, v := range want {
		v.Closed, v.PVCount, v.PVSum = v.Sessions, v.Sessions, v.Pageviews
		m[k] = v
	}
	return m
}

// linesPerSite is how many access log lines the script makes per site.
func linesPerSite() map[string]int {
	m := map[string]int{}
	for _, h := range script {
		m[h.site]++
	}
	return m
}

// runScript sends the script's requests to the servers (site -> base URL
// such as http://127.0.0.1:8080), one after the other, following no
// redirect: the script makes the landing request itself.
func runScript(t *testing.T, base map[string]string) {
	t.Helper()
	client := &http.Client{
		Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
	defer client.CloseIdleConnections()
	host := map[string]string{siteShop: hostShop, siteBlog: hostBlog}
	etags := map[string]string{}
	for i, h := range script {
		req, err := http.NewRequest(http.MethodGet, base[h.site]+h.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host[h.site]
		req.Header.Set("User-Agent", h.ua)
		req.Header.Set("X-Forwarded-For", h.xff)
		if h.referer != "" {
			req.Header.Set("Referer", h.referer)
		}
		key := h.site + " " + h.path
		if h.revalidate {
			if etags[key] == "" {
				t.Fatalf("script step %d: no ETag seen yet for %s", i, key)
			}
			req.Header.Set("If-None-Match", etags[key])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("script step %d (%s %s): %v", i, h.site, h.path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != h.status {
			t.Fatalf("script step %d (%s %s): status %d, want %d", i, h.site, h.path, resp.StatusCode, h.status)
		}
		if et := resp.Header.Get("ETag"); et != "" && resp.StatusCode == 200 {
			etags[key] = et
		}
	}
}

// sitePages is the static site both servers serve. logo.png is written by
// the test (a real PNG).
var sitePages = map[string]string{
	"index.html":              page("Home", `<a href="/pricing">Pricing</a> <a href="/about">About</a>`),
	"about.html":              page("About", `<a href="/">Home</a>`),
	"pricing.html":            page("Pricing", `<a href="/checkout/thank-you">Buy</a>`),
	"landing.html":            page("Newsletter offer", `<a href="/about">About us</a>`),
	"checkout/thank-you.html": page("Thank you", `Your order is on its way.`),
	"style.css":               "body { font-family: sans-serif; margin: 2em; }\n",
}

func page(title, body string) string {
	return fmt.Sprintf(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>%s</title><link rel="stylesheet" href="/style.css"></head>
<body><img src="/logo.png" alt=""><h1>%s</h1><p>%s</p></body>
</html>
`, title, title, body)
}
