package classify

import (
	"testing"

	"github.com/session-exporter/session-exporter/collector/accesslog"
)

// benchHosts are referrer hosts as they come: search engines at home and in
// country domains, social and video sites with their www., m. and l.
// prefixes, unlisted subdomains of listed sites, webmail, AI assistants and
// sites no list names.
var benchHosts = []string{
	"www.google.com", "www.google.co.uk", "google.com.br", "www.bing.com", "duckduckgo.com",
	"news.google.com", "support.google.com", "m.facebook.com", "l.instagram.com", "t.co",
	"www.reddit.com", "out.reddit.com", "www.youtube.com", "www.amazon.de", "mail.google.com",
	"chatgpt.com", "some-blog.net", "www.partner-site.co.uk", "github.com", "docs.example.org",
}

// BenchmarkLookupHost measures one referrer-host lookup on the site lists.
// It must report 0 allocs/op.
//
//	go test -run '^$' -bench LookupHost -benchmem -count 5 ./collector/classify/
func BenchmarkLookupHost(b *testing.B) {
	hosts := make([][]byte, len(benchHosts))
	for i, h := range benchHosts {
		hosts[i] = []byte(h)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		lookupHost(hosts[i%len(hosts)])
	}
}

// BenchmarkNameCategory measures the list lookup of a utm_source value:
// names, and names that are hosts.
//
//	go test -run '^$' -bench NameCategory -benchmem -count 5 ./collector/classify/
func BenchmarkNameCategory(b *testing.B) {
	names := [][]byte{[]byte("google"), []byte("newsletter"), []byte("facebook"), []byte("chatgpt.com"),
		[]byte("www.google.de"), []byte("partner"), []byte("linkedin"), []byte("m.youtube.com")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		nameCategory(names[i%len(names)])
	}
}

// BenchmarkClassifyReferrers measures whole pageviews that each carry an
// external referrer (the case the site lists are looked up for), on a warm
// user-agent cache.
//
//	go test -run '^$' -bench ClassifyReferrers -benchmem -count 5 ./collector/classify/
func BenchmarkClassifyReferrers(b *testing.B) {
	c := newTestClassifier(b, testConfig())
	reqs := make([]*accesslog.Request, len(benchHosts))
	for i, h := range benchHosts {
		reqs[i] = req(withURI("/docs/getting-started"), withRef("https://"+h+"/some/path?q=1"))
	}
	var res Result
	for _, r := range reqs {
		c.Classify(r, &res)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.Classify(reqs[i%len(reqs)], &res)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// TestLookupDoesNotAllocate is the allocation guarantee of the site lists
// as a test.
func TestLookupDoesNotAllocate(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counting needs a normal build")
	}
	for _, h := range benchHosts {
		host := []byte(h)
		if n := testing.AllocsPerRun(50, func() { lookupHost(host); nameCategory(host) }); n != 0 {
			t.Errorf("lookupHost(%q) allocates %.1f times", h, n)
		}
	}
}
