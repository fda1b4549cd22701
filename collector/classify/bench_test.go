package classify

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/session-exporter/session-exporter/collector/accesslog"
)

// benchRequests is a mix shaped like the sample logs: for every pageview a
// few assets and 304s, some bots, API posts and 404s; referrers from search,
// social and other sites; campaigns and click ids; proxied clients.
func benchRequests() []*accesslog.Request {
	uas := []string{
		uaMacChrome, uaWinChrome, uaIPhone, uaIPad,
		"Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
		"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/120.3.1 like Chrome/120.0.6099.230 Safari/537.36",
	}
	type line struct {
		remote, xff, method, uri string
		status                   int
		ref, ua, host            string
	}
	lines := []line{
		{"203.226.161.117", "", "GET", "/docs/getting-started", 200, "https://www.reddit.com/r/webdev/", uas[0], ""},
		{"203.226.161.117", "", "GET", "/img/logo.png", 200, "https://www.example.com/docs/getting-started", uas[0], ""},
		{"203.226.161.117", "", "GET", "/static/app.js", 304, "https://www.example.com/docs/getting-started", uas[0], ""},
		{"81.55.3.114", "", "GET", "/products/widget-a", 304, "", uas[1], ""},
		{"81.55.3.114", "", "GET", "/favicon.ico", 200, "https://www.example.com/products/widget-a", uas[1], ""},
		{"10.0.0.2", "198.51.100.23, 10.0.0.9", "GET", "/?utm_source=newsletter&utm_medium=email&utm_campaign=weekly", 200, "", uas[2], "www.example.com"},
		{"10.0.0.2", "198.51.100.23, 10.0.0.9", "GET", "/static/app.css", 200, "https://www.example.com/", uas[2], "www.example.com"},
		{"178.85.126.246", "", "GET", "/pricing?gclid=Cj0KCQiA", 200, "https://www.google.com/", uas[3], "www.example.com"},
		{"178.85.126.246", "", "GET", "/search?q=blue+widget", 200, "https://www.google.co.uk/", uas[4], ""},
		{"2001:db8::17", "", "GET", "/blog/launch", 200, "https://t.co/abc123", uas[5], ""},
		{"2001:db8::17", "", "POST", "/api/cart", 204, "https://www.example.com/blog/launch", uas[5], ""},
		{"66.249.66.1", "", "GET", "/blog/launch", 200, "", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", ""},
		{"192.0.2.44", "", "GET", "/checkout/thank-you", 200, "https://www.example.com/checkout", uas[6], ""},
		{"192.0.2.44", "", "GET", "/missing", 404, "", uas[6], ""},
		{"192.0.2.80", "", "GET", "/?utm_source=Google%20Ads&utm_medium=cpc&utm_campaign=Shopping+Q4", 200, "android-app://com.google.android.googlequicksearchbox/", uas[4], ""},
		{"192.0.2.81", "", "GET", "/go?fbclid=IwAR0x", 302, "https://m.facebook.com/", uas[2], ""},
		{"192.0.2.82", "", "GET", "/partners", 200, "https://partner-site.io/deals", uas[1], ""},
		{"192.0.2.83", "", "GET", "/", 200, "https://mail.google.com/mail/u/0/", uas[0], ""},
		{"192.0.2.84", "", "GET", "/", 200, "", uaCurl, ""},
		{"192.0.2.85", "", "GET", "/fonts/inter.woff2", 304, "https://www.example.com/", uas[3], ""},
	}
	reqs := make([]*accesslog.Request, len(lines))
	for i, l := range lines {
		reqs[i] = &accesslog.Request{
			RemoteAddr: []byte(l.remote), ForwardedFor: []byte(l.xff),
			Method: []byte(l.method), URI: []byte(l.uri), Status: l.status,
			Referer: []byte(l.ref), UserAgent: []byte(l.ua), Host: []byte(l.host),
		}
	}
	return reqs
}

func requestBytes(r *accesslog.Request) int {
	return len(r.RemoteAddr) + len(r.ClientIP) + len(r.ForwardedFor) + len(r.Method) +
		len(r.URI) + len(r.Referer) + len(r.UserAgent) + len(r.Host)
}

// BenchmarkClassify measures one Classify call on a warm user-agent cache.
// It must report 0 allocs/op.
//
//	go test -run '^$' -bench Classify -benchmem ./collector/classify/
func BenchmarkClassify(b *testing.B) {
	cfg := testConfig()
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	c := newTestClassifier(b, cfg)
	reqs := benchRequests()
	var res Result
	total := 0
	for _, r := range reqs {
		c.Classify(r, &res) // warm the cache and scratch buffers
		total += requestBytes(r)
	}
	b.SetBytes(int64(total / len(reqs)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c.Classify(reqs[i%len(reqs)], &res)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkClassifyParallel runs one Clone per goroutine.
//
//	go test -run '^$' -bench ClassifyParallel -benchmem ./collector/classify/
func BenchmarkClassifyParallel(b *testing.B) {
	c := newTestClassifier(b, testConfig())
	reqs := benchRequests()
	total := 0
	for _, r := range reqs {
		total += requestBytes(r)
	}
	b.SetBytes(int64(total / len(reqs)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		cl := c.Clone()
		var res Result
		for _, r := range reqs {
			cl.Classify(r, &res)
		}
		for i := 0; pb.Next(); i++ {
			cl.Classify(reqs[i%len(reqs)], &res)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// TestClassifyDoesNotAllocate is the allocation guarantee as a test.
func TestClassifyDoesNotAllocate(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counting needs a normal build")
	}
	cfg := testConfig()
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	cfg.SplitSites = true
	c := newTestClassifier(t, cfg)
	reqs := benchRequests()
	var res Result
	for _, r := range reqs {
		c.Classify(r, &res)
	}
	for _, r := range reqs {
		if n := testing.AllocsPerRun(20, func() { c.Classify(r, &res) }); n != 0 {
			t.Errorf("Classify(%s %s, ref %q) allocates %.1f times", r.Method, r.URI, r.Referer, n)
		}
	}
}

// corpusAgents returns the real agents of testdata/ua, every file, for the
// first-sight benchmark.
func corpusAgents(tb testing.TB) [][]byte {
	files, err := filepath.Glob(filepath.Join("testdata", "ua", "*.tsv"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no corpus: %v", err)
	}
	var uas [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			if _, ua, ok := bytes.Cut(line, []byte("\t")); ok {
				uas = append(uas, ua)
			}
		}
	}
	return uas
}

// reportCPU adds the CPU time per op since start (a cpuTime reading) to
// b's results as cpu-ns/op.
func reportCPU(b *testing.B, start int64) {
	if end := cpuTime(); start > 0 && end > start {
		b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkUserAgentFirstSight measures the engine on an agent it has not
// seen: no cache, every agent of the corpus in turn (about 21,000 real
// browsers and bots). It must report 0 allocs/op.
//
//	GOMAXPROCS=1 go test -run '^$' -bench UserAgentFirstSight -benchmem -count 5 ./collector/classify/
func BenchmarkUserAgentFirstSight(b *testing.B) {
	e, err := engine()
	if err != nil {
		b.Fatal(err)
	}
	uas := corpusAgents(b)
	total := 0
	for _, ua := range uas {
		total += len(ua)
	}
	b.SetBytes(int64(total / len(uas)))
	b.ReportAllocs()
	start := cpuTime()
	for i := 0; b.Loop(); i++ {
		e.classify(uas[i%len(uas)])
	}
	reportCPU(b, start)
}

// BenchmarkEngineBuild measures building the automaton, once per process.
func BenchmarkEngineBuild(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := buildEngine(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestUserAgentDoesNotAllocate: the first sight of an agent allocates
// nothing either.
func TestUserAgentDoesNotAllocate(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counting needs a normal build")
	}
	e, err := engine()
	if err != nil {
		t.Fatal(err)
	}
	uas := corpusAgents(t)
	for i := 0; i < len(uas); i += 97 {
		if n := testing.AllocsPerRun(5, func() { e.classify(uas[i]) }); n != 0 {
			t.Errorf("classify(%q) allocates %.1f times", uas[i], n)
		}
	}
}

// longTail returns the agents of the corpus and the order in which n
// requests of a real site's log bring them (indices into the agents): runs
// of one to four requests (a page and its assets) by one agent, 97% of
// runs from 300 regular agents, 3% drawn at random from every other agent
// of the corpus (about 21,000, twice longTailCache; over n = 4M requests
// nearly all of them come). The order is the same on every run.
func longTail(tb testing.TB, n int) ([][]byte, []uint32) {
	uas := corpusAgents(tb)
	const regular = 300
	if len(uas) < 2*longTailCache {
		tb.Fatalf("corpus has %d agents, need %d", len(uas), 2*longTailCache)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	seq := make([]uint32, 0, n)
	for len(seq) < n {
		i := rng.IntN(regular)
		if rng.IntN(100) < 3 {
			i = regular + rng.IntN(len(uas)-regular)
		}
		for k := 1 + rng.IntN(4); k > 0 && len(seq) < n; k-- {
			seq = append(seq, uint32(i))
		}
	}
	return uas, seq
}

// longTailCache is the cache BenchmarkUserAgentLongTail runs with: half
// the corpus's agents, so that the tail keeps evicting (the default cache
// would hold them all).
const longTailCache = 10_000

// BenchmarkUserAgentLongTail measures the user-agent cache under a long
// tail of agents (see longTail): lookups, evictions and the first sights
// of the tail. One op is one request's agent.
//
//	GOMAXPROCS=1 go test -run '^$' -bench UserAgentLongTail -benchmem -count 5 ./collector/classify/
func BenchmarkUserAgentLongTail(b *testing.B) {
	uas, seq := longTail(b, 1<<22)
	cfg := testConfig()
	cfg.CacheSize = longTailCache
	c := newTestClassifier(b, cfg)
	for _, i := range seq {
		c.userAgent(uas[i]) // the cache as it is after the first minutes of a log
	}
	b.ReportAllocs()
	start := cpuTime()
	for i := 0; b.Loop(); i++ {
		c.userAgent(uas[seq[i&(len(seq)-1)]])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	reportCPU(b, start)
}

// regulars returns n requests' agents drawn from the first 300 agents of
// the corpus, a site's regular agents, in runs of one to four requests (a
// page and its assets). The order is the same on every run.
func regulars(tb testing.TB, n int) [][]byte {
	uas := corpusAgents(tb)
	const regular = 300
	rng := rand.New(rand.NewPCG(3, 4))
	seq := make([][]byte, 0, n)
	for len(seq) < n {
		ua := uas[rng.IntN(regular)]
		for k := 1 + rng.IntN(4); k > 0 && len(seq) < n; k-- {
			seq = append(seq, ua)
		}
	}
	return seq
}

// BenchmarkUserAgentCached measures the user-agent lookup when every
// agent is in the cache: a site's 300 regular agents in runs of one to
// four requests (see regulars). One op is one request's agent. It must
// report 0 allocs/op.
//
//	GOMAXPROCS=1 go test -run '^$' -bench 'UserAgentCached' -benchmem -count 6 ./collector/classify/
func BenchmarkUserAgentCached(b *testing.B) {
	seq := regulars(b, 1<<16)
	c := newTestClassifier(b, testConfig())
	for _, ua := range seq {
		c.userAgent(ua)
	}
	b.ReportAllocs()
	start := cpuTime()
	for i := 0; b.Loop(); i++ {
		c.userAgent(seq[i&(len(seq)-1)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	reportCPU(b, start)
}

// BenchmarkUserAgentCachedDistinct is BenchmarkUserAgentCached with a
// different agent on every request, so that no lookup is the previous
// request's agent again.
func BenchmarkUserAgentCachedDistinct(b *testing.B) {
	seq := regulars(b, 1<<16)
	out := seq[:0:0]
	for i, ua := range seq {
		if i == 0 || !bytes.Equal(ua, seq[i-1]) {
			out = append(out, ua)
		}
	}
	for len(out)&(len(out)-1) != 0 {
		out = out[:len(out)-1] // a power of two, for the index mask
	}
	c := newTestClassifier(b, testConfig())
	for _, ua := range out {
		c.userAgent(ua)
	}
	b.ReportAllocs()
	start := cpuTime()
	for i := 0; b.Loop(); i++ {
		c.userAgent(out[i&(len(out)-1)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	reportCPU(b, start)
}
