package classify

import (
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/session-exporter/session-exporter/collector/accesslog"
)

// User agents used across the tests, all from the sample logs.
const (
	uaMacChrome   = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36"
	uaWinChrome   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	uaIPhone      = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
	uaIPad        = "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
	uaGooglebot   = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	uaCurl        = "curl/8.4.0"
	testSecretStr = "0123456789abcdef0123456789abcdef"
)

// testConfig is the configuration of the sample logs' ground truth.
func testConfig() Config {
	return Config{
		OwnHosts: []string{"www.example.com", "Example.COM"},
		Goals: []*regexp.Regexp{
			regexp.MustCompile(`^/checkout/thank-you`),
			regexp.MustCompile(`^/signup/done$`),
		},
		ExcludePaths: []*regexp.Regexp{regexp.MustCompile(`^/(healthz|api/)`)},
		Secret:       []byte(testSecretStr),
	}
}

func newTestClassifier(tb testing.TB, cfg Config) *Classifier {
	tb.Helper()
	c, err := New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return c
}

// req builds a human GET pageview; options adjust it.
func req(opts ...func(*accesslog.Request)) *accesslog.Request {
	r := &accesslog.Request{
		Time:       time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC),
		RemoteAddr: []byte("203.0.113.7"),
		Method:     []byte("GET"),
		URI:        []byte("/pricing"),
		Status:     200,
		UserAgent:  []byte(uaMacChrome),
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

func withMethod(m string) func(*accesslog.Request) {
	return func(r *accesslog.Request) { r.Method = []byte(m) }
}
func withURI(u string) func(*accesslog.Request) {
	return func(r *accesslog.Request) { r.URI = []byte(u) }
}
func withStatus(s int) func(*accesslog.Request) {
	return func(r *accesslog.Request) { r.Status = s }
}
func withRef(ref string) func(*accesslog.Request) {
	return func(r *accesslog.Request) { r.Referer = []byte(ref) }
}
func withUA(ua string) func(*accesslog.Request) {
	return func(r *accesslog.Request) { r.UserAgent = []byte(ua) }
}
func withHost(h string) func(*accesslog.Request) {
	return func(r *accesslog.Request) { r.Host = []byte(h) }
}

func TestNewErrors(t *testing.T) {
	tooManyGoals := make([]*regexp.Regexp, MaxGoals+1)
	for i := range tooManyGoals {
		tooManyGoals[i] = regexp.MustCompile("x")
	}
	tests := []struct {
		name string
		cfg  func(*Config)
		want string
	}{
		{"short secret", func(c *Config) { c.Secret = []byte("short") }, "secret has 5 bytes"},
		{"no secret", func(c *Config) { c.Secret = nil }, "secret has 0 bytes"},
		{"too many goals", func(c *Config) { c.Goals = tooManyGoals }, "65 goals"},
		{"nil goal", func(c *Config) { c.Goals = []*regexp.Regexp{nil} }, "goal 0 is nil"},
		{"nil exclude", func(c *Config) { c.ExcludePaths = []*regexp.Regexp{nil} }, "exclude path 0 is nil"},
		{"empty own host", func(c *Config) { c.OwnHosts = []string{""} }, "own host \"\" is empty"},
		{"own host with scheme", func(c *Config) { c.OwnHosts = []string{"https://www.example.com"} }, "is not a host name"},
		{"invalid prefix", func(c *Config) { c.TrustedProxies = []netip.Prefix{{}} }, "invalid trusted proxy"},
		{"negative cache", func(c *Config) { c.CacheSize = -1 }, "negative user-agent cache size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.cfg(&cfg)
			_, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := New(testConfig()); err != nil {
		t.Fatalf("New(valid) = %v", err)
	}
}

// TestKind covers rule 2: which requests are pageviews, redirects, bots or
// ignored.
func TestKind(t *testing.T) {
	c := newTestClassifier(t, testConfig())
	type kindTest struct {
		name string
		r    *accesslog.Request
		want Kind
	}
	tests := []kindTest{
		{"GET 200 page", req(), KindPageview},
		{"GET 200 root", req(withURI("/")), KindPageview},
		{"GET 201", req(withStatus(201)), KindPageview},
		{"GET 204", req(withStatus(204)), KindPageview},
		{"GET 299", req(withStatus(299)), KindPageview},
		{"GET 304 page", req(withStatus(304)), KindPageview},
		{"GET 100", req(withStatus(100)), KindIgnored},
		{"GET 101", req(withStatus(101)), KindIgnored},
		{"GET 199", req(withStatus(199)), KindIgnored},
		{"GET 400", req(withStatus(400)), KindIgnored},
		{"GET 404", req(withStatus(404)), KindIgnored},
		{"GET 500", req(withStatus(500)), KindIgnored},
		{"GET 503", req(withStatus(503)), KindIgnored},
		{"GET 0", req(withStatus(0)), KindIgnored},
		{"POST 200", req(withMethod("POST")), KindIgnored},
		{"POST 204", req(withMethod("POST"), withStatus(204)), KindIgnored},
		{"HEAD 200", req(withMethod("HEAD")), KindIgnored},
		{"PUT 200", req(withMethod("PUT")), KindIgnored},
		{"OPTIONS 204", req(withMethod("OPTIONS"), withStatus(204)), KindIgnored},
		{"lower-case get", req(withMethod("get")), KindIgnored},
		{"empty method", req(withMethod("")), KindIgnored},
		{"page with query", req(withURI("/search?q=blue+widget")), KindPageview},
		{"html page", req(withURI("/about.html")), KindPageview},
		{"php page", req(withURI("/index.php?id=3")), KindPageview},
		{"dot in directory", req(withURI("/v1.2/docs")), KindPageview},
		{"extension-like directory", req(withURI("/files.css/")), KindPageview},
		{"asset extension in query only", req(withURI("/page?f=a.css")), KindPageview},
		{"absolute-form page", req(withURI("http://www.example.com/pricing?x=1")), KindPageview},
		{"absolute-form asset", req(withURI("https://www.example.com/app.js")), KindIgnored},
		{"fragment", req(withURI("/app.js#x")), KindIgnored},
		{"asset 304", req(withURI("/img/logo.png"), withStatus(304)), KindIgnored},
		{"asset with query", req(withURI("/app.css?v=3")), KindIgnored},
		{"asset upper-case", req(withURI("/IMG/PHOTO.JPG")), KindIgnored},
		{"asset mixed case", req(withURI("/fonts/a.WoFf2")), KindIgnored},
		{"excluded path", req(withURI("/healthz")), KindIgnored},
		{"excluded path with query", req(withURI("/api/cart?id=1")), KindIgnored},
		{"excluded path 304", req(withURI("/api/cart"), withStatus(304)), KindIgnored},
		{"not excluded: match is on path only", req(withURI("/docs?next=/api/")), KindPageview},
		{"redirect without campaign", req(withStatus(301)), KindIgnored},
		{"redirect with referrer only", req(withStatus(302), withRef("https://www.google.com/")), KindIgnored},
		{"redirect 301 utm", req(withStatus(301), withURI("/go?utm_source=news")), KindRedirect},
		{"redirect 302 gclid", req(withStatus(302), withURI("/?gclid=abc")), KindRedirect},
		{"redirect 303 fbclid", req(withStatus(303), withURI("/?fbclid=abc")), KindRedirect},
		{"redirect 307 msclkid", req(withStatus(307), withURI("/?msclkid=abc")), KindRedirect},
		{"redirect 308 utm_campaign", req(withStatus(308), withURI("/?utm_campaign=x")), KindRedirect},
		{"redirect 300 utm_medium", req(withStatus(300), withURI("/?utm_medium=x")), KindRedirect},
		{"redirect 399 utm", req(withStatus(399), withURI("/?utm_source=x")), KindRedirect},
		{"304 with utm is a pageview", req(withStatus(304), withURI("/?utm_source=x")), KindPageview},
		{"redirect utm decoding to nothing", req(withStatus(302), withURI("/?utm_source=+%20")), KindIgnored},
		{"redirect empty utm", req(withStatus(302), withURI("/?utm_source=&gclid=")), KindIgnored},
		{"POST redirect with utm", req(withMethod("POST"), withStatus(302), withURI("/?utm_source=x")), KindIgnored},
		{"redirect of an asset", req(withStatus(302), withURI("/pixel.gif?utm_source=news")), KindIgnored},
		{"redirect of excluded path", req(withStatus(302), withURI("/api/go?utm_source=news")), KindIgnored},
		{"bot 200", req(withUA(uaGooglebot)), KindBot},
		{"bot 404", req(withUA(uaGooglebot), withStatus(404)), KindBot},
		{"bot POST asset", req(withUA(uaCurl), withMethod("POST"), withURI("/x.js")), KindBot},
		{"empty user agent", req(withUA("")), KindBot},
		{"dash user agent", req(withUA("-")), KindBot},
		{"blank user agent", req(withUA("  ")), KindBot},
	}
	for _, ext := range []string{".css", ".js", ".mjs", ".map", ".png", ".jpg",
		".jpeg", ".gif", ".svg", ".webp", ".avif", ".ico", ".bmp", ".woff",
		".woff2", ".ttf", ".otf", ".eot", ".mp4", ".webm", ".mp3", ".wav",
		".json", ".xml", ".txt", ".zip", ".gz"} {
		tests = append(tests,
			kindTest{"asset " + ext, req(withURI("/static/file" + ext)), KindIgnored},
			kindTest{"asset upper " + ext, req(withURI("/static/FILE" + strings.ToUpper(ext))), KindIgnored},
			kindTest{"not asset " + ext + "x", req(withURI("/static/file" + ext + "x")), KindPageview},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Result
			c.Classify(tt.r, &got)
			if got.Kind != tt.want {
				t.Errorf("Kind = %v, want %v", got.Kind, tt.want)
			}
			if got.Kind != KindPageview && got.Kind != KindRedirect {
				if diff := cmp.Diff(Result{Kind: got.Kind, Device: got.Device}, got); diff != "" {
					t.Errorf("non-session request carries session fields (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestClassifyResult(t *testing.T) {
	c := newTestClassifier(t, testConfig())
	visitor := func(r *accesslog.Request) uint64 { return c.keyOf(r) }
	tests := []struct {
		name string
		r    *accesslog.Request
		want func(r *accesslog.Request) Result
	}{
		{
			name: "direct pageview",
			r:    req(),
			want: func(r *accesslog.Request) Result {
				return Result{Kind: KindPageview, Visitor: visitor(r), Device: Desktop, Channel: Direct}
			},
		},
		{
			name: "organic search pageview on iPhone",
			r:    req(withUA(uaIPhone), withRef("https://www.google.co.uk/")),
			want: func(r *accesslog.Request) Result {
				return Result{Kind: KindPageview, Visitor: visitor(r), Device: Mobile,
					Source: sourceHash([]byte("google"), []byte("organic"), nil), Channel: OrganicSearch}
			},
		},
		{
			name: "goal reached",
			r:    req(withURI("/checkout/thank-you?order=12"), withRef("https://www.example.com/checkout")),
			want: func(r *accesslog.Request) Result {
				return Result{Kind: KindPageview, Visitor: visitor(r), Device: Desktop, Goals: 1}
			},
		},
		{
			name: "second goal",
			r:    req(withURI("/signup/done")),
			want: func(r *accesslog.Request) Result {
				return Result{Kind: KindPageview, Visitor: visitor(r), Device: Desktop, Goals: 2}
			},
		},
		{
			name: "goal anchored on the path",
			r:    req(withURI("/signup/done/again")),
			want: func(r *accesslog.Request) Result {
				return Result{Kind: KindPageview, Visitor: visitor(r), Device: Desktop}
			},
		},
		{
			name: "goal in the query does not count",
			r:    req(withURI("/cart?next=/checkout/thank-you")),
			want: func(r *accesslog.Request) Result {
				return Result{Kind: KindPageview, Visitor: visitor(r), Device: Desktop}
			},
		},
		{
			name: "redirect with gclid",
			r:    req(withStatus(302), withURI("/go?gclid=Cj0KCQ"), withUA(uaIPad)),
			want: func(r *accesslog.Request) Result {
				return Result{Kind: KindRedirect, Visitor: visitor(r), Device: Tablet,
					Source: sourceHash([]byte("google"), []byte("cpc"), nil), Channel: PaidSearch, Tagged: true}
			},
		},
		{
			name: "redirect to goal path sets no goal",
			r:    req(withStatus(302), withURI("/checkout/thank-you?utm_source=x")),
			want: func(r *accesslog.Request) Result {
				return Result{Kind: KindRedirect, Visitor: visitor(r), Device: Desktop,
					Source: sourceHash([]byte("x"), nil, nil), Channel: Unassigned, Tagged: true}
			},
		},
		{
			name: "bot",
			r:    req(withUA(uaCurl), withRef("https://www.google.com/")),
			want: func(*accesslog.Request) Result { return Result{Kind: KindBot, Device: OtherDevice} },
		},
		{
			name: "ignored asset keeps its device",
			r:    req(withUA(uaIPhone), withURI("/a.css")),
			want: func(*accesslog.Request) Result { return Result{Kind: KindIgnored, Device: Mobile} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Result{Goals: 99, Source: 7} // Classify must reset out
			c.Classify(tt.r, &got)
			if diff := cmp.Diff(tt.want(tt.r), got); diff != "" {
				t.Errorf("Classify (-want +got):\n%s", diff)
			}
		})
	}
}

// TestClone checks that clones share configuration, not state, and give the
// same answers in parallel (run with -race).
func TestClone(t *testing.T) {
	c := newTestClassifier(t, testConfig())
	reqs := benchRequests()
	want := make([]Result, len(reqs))
	for i, r := range reqs {
		c.Classify(r, &want[i])
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 4 {
		cl := c.Clone()
		if cl.cfg != c.cfg || cl.ua != c.ua || cl.uaCache.len() != 0 {
			t.Fatal("Clone must share config and parser and start with an empty cache")
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				for i, r := range reqs {
					var got Result
					cl.Classify(r, &got)
					if diff := cmp.Diff(want[i], got); diff != "" {
						errs <- diff
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for d := range errs {
		t.Errorf("clone result differs (-want +got):\n%s", d)
	}
}

func TestSplitURI(t *testing.T) {
	tests := []struct{ uri, path, query string }{
		{"/", "/", ""},
		{"", "/", ""},
		{"/a/b", "/a/b", ""},
		{"/a?b=c", "/a", "b=c"},
		{"/a?b=c?d", "/a", "b=c?d"},
		{"/a?b#frag", "/a", "b"},
		{"/a#f?x", "/a", ""},
		{"?x=1", "/", "x=1"},
		{"http://h/p?q", "/p", "q"},
		{"https://h", "/", ""},
		{"https://h?q=1", "/", "q=1"},
		{"*", "*", ""},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			p, q := splitURI([]byte(tt.uri))
			if string(p) != tt.path || string(q) != tt.query {
				t.Errorf("splitURI(%q) = %q, %q; want %q, %q", tt.uri, p, q, tt.path, tt.query)
			}
		})
	}
}

func TestUACacheBounded(t *testing.T) {
	cfg := testConfig()
	cfg.CacheSize = 3
	c := newTestClassifier(t, cfg)
	for i := range 10 {
		var res Result
		c.Classify(req(withUA(uaWinChrome+strings.Repeat(" x", i))), &res)
		if res.Device != Desktop {
			t.Fatalf("device = %v, want desktop", res.Device)
		}
		if n := c.uaCache.len(); n > 3 {
			t.Fatalf("cache holds %d entries, bound is 3", n)
		}
	}
	long := uaWinChrome + strings.Repeat("x", 5000)
	var res Result
	c.Classify(req(withUA(long)), &res)
	for _, s := range c.uaCache.sets {
		for _, n := range s.lens {
			if n > maxUALen {
				t.Fatalf("cache entry of an agent of %d bytes, limit is %d", n, maxUALen)
			}
		}
	}
	if d := newTestClassifier(t, testConfig()); d.cfg.cacheSize != DefaultCacheSize {
		t.Errorf("default cache size = %d, want %d", d.cfg.cacheSize, DefaultCacheSize)
	}
}
