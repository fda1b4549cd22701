// Package loggen generates realistic access-log traffic: visits from every
// channel and device with their assets, redirects, bots and errors. It feeds
// the demo, the benchmarks and the live tests; it is reproducible per seed.
package loggen

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Format is the log format written.
type Format int

// Formats.
const (
	Combined      Format = iota // nginx combined
	Caddy                       // Caddy JSON
	Common                      // Common Log Format: combined without referrer and user agent
	VhostCombined               // Apache vhost_combined: "host:port " before combined
	Traefik                     // Traefik's common format
	IngressNginx                // ingress-nginx's upstreaminfo
	CloudFront                  // CloudFront standard log, with its two header lines
	Sessions                    // main with the Host header, docs/running.md's log_format
)

// FormatNames maps the names tools and tests use to Formats; every format
// except Caddy draws the same random numbers, so one seed gives the same
// traffic in each of them.
var FormatNames = map[string]Format{
	"combined": Combined, "caddy": Caddy, "common": Common, "vhost_combined": VhostCombined,
	"traefik": Traefik, "ingress-nginx": IngressNginx, "cloudfront": CloudFront, "sessions": Sessions,
}

// cloudFrontHeader is what a CloudFront log file starts with.
const cloudFrontHeader = "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end"

// Options shape the traffic.
type Options struct {
	Seed     uint64
	Start    time.Time
	Format   Format
	Visitors int           // distinct visitors (addresses); default 20,000
	Rate     float64       // new visits per second of event time; default 2
	Host     string        // site host; default www.example.com
	Step     time.Duration // 0: event time from Rate; >0: fixed spacing between lines (for live demos)
	// UserAgents caps the distinct human user agents (0: all, a few hundred).
	UserAgents int
	// Values adds an order value (value=) to the thank-you pages, taken from
	// the clock so the random sequence, and so the rest of the traffic, is
	// the same as without it; one in 16 is malformed.
	Values bool
}

// Generator produces lines in event-time order. Not safe for concurrent use.
type Generator struct {
	o      Options
	r      *rand.Rand
	now    time.Time
	visits visitHeap
	uas    []string
	queue  [][]byte // lines of the current request burst (page + assets)
}

type visit struct {
	next     time.Time
	ip       string
	ua       int
	entry    string // landing query string
	referrer string
	pages    int
	last     string
	redirect bool
}

type visitHeap []*visit

func (h visitHeap) Len() int           { return len(h) }
func (h visitHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h visitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *visitHeap) Push(x any)        { *h = append(*h, x.(*visit)) }
func (h *visitHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}

// New returns a generator.
func New(o Options) *Generator {
	if o.Visitors <= 0 {
		o.Visitors = 20_000
	}
	if o.Rate <= 0 {
		o.Rate = 2
	}
	if o.Host == "" {
		o.Host = "www.example.com"
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	}
	g := &Generator{o: o, r: rand.New(rand.NewPCG(o.Seed, 0x5e55)), now: o.Start}
	g.uas = userAgents(g.r)
	if o.Format == CloudFront {
		for _, h := range strings.Split(cloudFrontHeader, "\n") {
			g.queue = append(g.queue, []byte(h))
		}
	}
	if o.UserAgents > 0 && o.UserAgents < len(g.uas) {
		g.uas = g.uas[:o.UserAgents]
	}
	return g
}

var pages = []string{"/", "/pricing", "/products/widget-a", "/products/widget-b", "/docs/getting-started",
	"/blog/", "/blog/sessions-explained", "/about", "/contact", "/cart", "/search?q=widgets", "/checkout/thank-you"}

var assets = []string{"/static/app.js", "/static/app.css", "/img/logo.png", "/favicon.ico", "/fonts/inter.woff2"}

// entries are (referrer, landing query) pairs by channel.
var entries = []struct {
	ref, query string
	weight     int
}{
	{"-", "", 20},
	{"https://www.google.com/", "", 22},
	{"https://www.google.co.uk/", "", 3},
	{"https://www.bing.com/", "", 4},
	{"https://duckduckgo.com/", "", 3},
	{"https://www.google.com/", "?gclid=Cj0KCQ", 6},
	{"https://www.bing.com/", "?msclkid=3f1a", 2},
	{"https://www.facebook.com/", "", 4},
	{"https://l.instagram.com/", "", 2},
	{"https://t.co/x1y2z3", "", 2},
	{"https://www.linkedin.com/", "", 2},
	{"https://m.facebook.com/", "?fbclid=IwAR1", 2},
	{"-", "?utm_source=facebook&utm_medium=paid_social&utm_campaign=autumn", 3},
	{"https://www.youtube.com/", "", 2},
	{"-", "?utm_source=newsletter&utm_medium=email&utm_campaign=weekly", 5},
	{"https://mail.google.com/", "", 1},
	{"https://some-blog.net/2026/review", "", 4},
	{"https://partner-site.io/deals", "?utm_source=partner&utm_medium=affiliate", 2},
	{"-", "?utm_source=adnet&utm_medium=display&utm_campaign=retarget", 2},
	{"-", "?utm_source=spring&utm_medium=whatever", 1},
}

var bots = []string{
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
	"curl/8.4.0",
	"python-requests/2.31.0",
	"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
}

// userAgents returns a few hundred distinct human user agents: desktop,
// phone and tablet browsers across versions.
func userAgents(r *rand.Rand) []string {
	var out []string
	for v := 100; v < 130; v++ {
		out = append(out,
			fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36", v),
			fmt.Sprintf("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36", v),
			fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64; rv:%d.0) Gecko/20100101 Firefox/%d.0", v, v),
			fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:%d.0) Gecko/20100101 Firefox/%d.0", v, v),
			fmt.Sprintf("Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.6099.144 Mobile Safari/537.36", v),
			fmt.Sprintf("Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Mobile Safari/537.36", v),
			fmt.Sprintf("Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36", v),
			fmt.Sprintf("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36", v),
		)
	}
	for v := 14; v < 18; v++ {
		for m := 0; m < 5; m++ {
			out = append(out,
				fmt.Sprintf("Mozilla/5.0 (iPhone; CPU iPhone OS %d_%d like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.%d Mobile/15E148 Safari/604.1", v, m, v, m),
				fmt.Sprintf("Mozilla/5.0 (iPad; CPU OS %d_%d like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.%d Mobile/15E148 Safari/604.1", v, m, v, m),
				fmt.Sprintf("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.%d Safari/605.1.15", v, m),
			)
		}
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func (g *Generator) ip(i int) string {
	// Documentation and private ranges are avoided on purpose: addresses look
	// public, but are derived from the seed and index only.
	h := uint32(i)*2654435761 ^ uint32(g.o.Seed)
	return strconv.Itoa(11+int(h>>24)%200) + "." + strconv.Itoa(int(h>>16&0xff)) + "." +
		strconv.Itoa(int(h>>8&0xff)) + "." + strconv.Itoa(1+int(h&0xff)%254)
}

func (g *Generator) pickEntry() (string, string) {
	total := 0
	for _, e := range entries {
		total += e.weight
	}
	n := g.r.IntN(total)
	for _, e := range entries {
		if n < e.weight {
			return e.ref, e.query
		}
		n -= e.weight
	}
	return "-", ""
}

// Next appends the next line (without newline) to buf and returns it.
func (g *Generator) Next(buf []byte) []byte {
	for len(g.queue) == 0 {
		g.step()
	}
	line := g.queue[0]
	g.queue = g.queue[1:]
	return append(buf, line...)
}

// step produces the next burst of lines: a new visit, a bot hit, or the next
// page of the visit due first.
func (g *Generator) step() {
	gap := time.Duration(g.r.ExpFloat64() / g.o.Rate * float64(time.Second))
	arrival := g.now.Add(gap)
	if len(g.visits) > 0 && g.visits[0].next.Before(arrival) {
		v := heap.Pop(&g.visits).(*visit)
		g.advance(v.next)
		g.page(v)
		return
	}
	g.advance(arrival)
	if g.r.IntN(10) == 0 {
		ua := bots[g.r.IntN(len(bots))]
		g.emit(g.ip(1_000_000+g.r.IntN(50)), "GET", pages[g.r.IntN(len(pages)-1)], 200, "-", ua)
		return
	}
	ref, q := g.pickEntry()
	v := &visit{ip: g.ip(g.r.IntN(g.o.Visitors)), ua: g.r.IntN(len(g.uas)), referrer: ref, entry: q,
		pages: 1 + g.r.IntN(5)}
	if q != "" && g.r.IntN(4) == 0 {
		v.redirect = true // landing through a redirect that strips the query
	}
	g.page(v)
}

func (g *Generator) advance(t time.Time) {
	if g.o.Step > 0 {
		g.now = g.now.Add(g.o.Step)
		return
	}
	if t.After(g.now) {
		g.now = t
	}
}

func (g *Generator) page(v *visit) {
	ua := g.uas[v.ua]
	path := pages[g.r.IntN(len(pages)-1)]
	if v.pages == 1 && g.r.IntN(12) == 0 {
		path = "/checkout/thank-you"
	}
	ref := "https://" + g.o.Host + v.last
	if v.last == "" { // landing
		ref = v.referrer
		if v.redirect {
			g.emit(v.ip, "GET", "/go"+v.entry, 302, ref, ua)
		} else {
			path += v.entry
		}
	}
	if g.o.Values && strings.HasPrefix(path, "/checkout/thank-you") {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		n := g.now.Unix()
		if n%16 == 0 {
			path += sep + "value=n%2Fa"
		} else {
			path += fmt.Sprintf("%sorder=%d&value=%d.%02d", sep, n%1000, 5+n%200, n%100)
		}
	}
	status := 200
	if g.r.IntN(8) == 0 {
		status = 304
	}
	if g.r.IntN(40) == 0 {
		status = 404
	}
	g.emit(v.ip, "GET", path, status, ref, ua)
	for _, a := range assets[:g.r.IntN(len(assets))] {
		g.emit(v.ip, "GET", a, 200, "https://"+g.o.Host+path, ua)
	}
	if g.r.IntN(20) == 0 {
		g.emit(v.ip, "POST", "/api/cart", 201, "https://"+g.o.Host+path, ua)
	}
	v.last = path
	v.pages--
	if v.pages > 0 {
		v.next = g.now.Add(time.Duration(5+g.r.IntN(240)) * time.Second)
		heap.Push(&g.visits, v)
	}
}

func (g *Generator) emit(ip, method, uri string, status int, ref, ua string) {
	var b []byte
	switch g.o.Format {
	case Caddy:
		b = fmt.Appendf(nil, `{"level":"info","ts":%.3f,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":%q,"remote_port":"40000","client_ip":%q,"proto":"HTTP/2.0","method":%q,"host":%q,"uri":%q,"headers":{"User-Agent":[%q]`,
			float64(g.now.UnixMilli())/1000, ip, ip, method, g.o.Host, uri, ua)
		if ref != "-" {
			b = fmt.Appendf(b, `,"Referer":[%q]`, ref)
		}
		b = fmt.Appendf(b, `}},"bytes_read":0,"duration":0.01,"size":1234,"status":%d}`, status)
	case CloudFront:
		size := 500 + g.r.IntN(60000)
		stem, query, _ := strings.Cut(uri, "?")
		if query == "" {
			query = "-"
		}
		b = fmt.Appendf(nil, "%s\t%s\tFRA56-P1\t%d\t%s\t%s\td111111abcdef8.cloudfront.net\t%s\t%d\t%s\t%s\t%s\t-\tMiss\tq3Vd1Lh0-fA==\t%s\thttps\t312\t0.004\t-\tTLSv1.3\tTLS_AES_128_GCM_SHA256\tMiss\tHTTP/2.0\t-\t-\t51234\t0.004\tMiss\ttext/html\t%d\t-\t-",
			g.now.Format("2006-01-02"), g.now.Format("15:04:05"), size, ip, method, stem, status,
			urlEscape(ref), urlEscape(ua), query, g.o.Host, size)
	default:
		t := g.now.Format("02/Jan/2006:15:04:05 -0700")
		size := 500 + g.r.IntN(60000)
		switch g.o.Format {
		case Common:
			b = fmt.Appendf(nil, `%s - - [%s] "%s %s HTTP/1.1" %d %d`, ip, t, method, uri, status, size)
		case VhostCombined:
			b = fmt.Appendf(nil, `%s:443 %s - - [%s] "%s %s HTTP/1.1" %d %d "%s" "%s"`, g.o.Host, ip, t, method, uri, status, size, ref, ua)
		case Traefik:
			b = fmt.Appendf(nil, `%s - - [%s] "%s %s HTTP/1.1" %d %d "%s" "%s" %d "web@docker" "http://172.18.0.3:80" %dms`,
				ip, t, method, uri, status, size, ref, ua, size/7, size%97)
		case IngressNginx:
			b = fmt.Appendf(nil, `%s - - [%s] "%s %s HTTP/1.1" %d %d "%s" "%s" %d 0.%03d [default-web-80] [] `,
				ip, t, method, uri, status, size, ref, ua, 200+size%300, size%1000)
			if size%5 == 0 { // a retried upstream: values per attempt
				b = fmt.Appendf(b, `10.244.0.12:8080, 10.244.0.13:8080 0, %d 0.002, 0.%03d 502, %d %032x`, size, size%1000, status, size)
			} else {
				b = fmt.Appendf(b, `10.244.0.12:8080 %d 0.%03d %d %032x`, size, size%1000, status, size)
			}
		case Sessions:
			b = fmt.Appendf(nil, `%s - - [%s] "%s %s HTTP/1.1" %d %d "%s" "%s" "-" "%s"`, ip, t, method, uri, status, size, ref, ua, g.o.Host)
		default:
			b = fmt.Appendf(nil, `%s - - [%s] "%s %s HTTP/1.1" %d %d "%s" "%s"`, ip, t, method, uri, status, size, ref, ua)
		}
	}
	g.queue = append(g.queue, b)
}

// urlEscape writes s as CloudFront logs a header value: spaces, '%', '"',
// '\\' and bytes outside printable ASCII as %XX.
func urlEscape(s string) string {
	if s == "-" {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '%' || c == '"' || c == '\\' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Now returns the event time of the last line produced.
func (g *Generator) Now() time.Time { return g.now }
