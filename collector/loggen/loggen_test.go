package loggen

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/session-exporter/session-exporter/collector/accesslog"
)

func lines(o Options, n int) [][]byte {
	g := New(o)
	out := make([][]byte, n)
	for i := range out {
		out[i] = g.Next(nil)
	}
	return out
}

func TestReproduciblePerSeed(t *testing.T) {
	a, b := lines(Options{Seed: 5}, 2000), lines(Options{Seed: 5}, 2000)
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("line %d differs for the same seed:\n%s\n%s", i, a[i], b[i])
		}
	}
	c := lines(Options{Seed: 6}, 2000)
	same := 0
	for i := range a {
		if bytes.Equal(a[i], c[i]) {
			same++
		}
	}
	if same == len(a) {
		t.Error("another seed gives the same traffic")
	}
}

// TestLinesParseInOrder: every line parses in its format, event time never
// goes back, and the traffic has the variety the tests rely on.
func TestLinesParseInOrder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format Format
		parser string
	}{{"combined", Combined, "combined"}, {"caddy", Caddy, "caddy"}, {"common", Common, "common"},
		{"vhost_combined", VhostCombined, "vhost_combined"}, {"traefik", Traefik, "traefik"},
		{"ingress-nginx", IngressNginx, "ingress-nginx"}, {"cloudfront", CloudFront, "cloudfront"},
		{"sessions", Sessions, "sessions"}} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := accesslog.New(tc.parser)
			if err != nil {
				t.Fatal(err)
			}
			var r accesslog.Request
			var last time.Time
			methods, statuses, referrers, uas := map[string]bool{}, map[int]bool{}, map[string]bool{}, map[string]bool{}
			for i, l := range lines(Options{Seed: 1, Format: tc.format}, 20_000) {
				if tc.format == CloudFront && i < 2 {
					if err := p.Parse(l, &r); err != accesslog.ErrComment {
						t.Fatalf("header line %d: %v, want ErrComment: %s", i, err, l)
					}
					continue
				}
				if err := p.Parse(l, &r); err != nil {
					t.Fatalf("line %d rejected (%v): %s", i, err, l)
				}
				if r.Time.Before(last) {
					t.Fatalf("line %d goes back in time: %s < %s", i, r.Time, last)
				}
				last = r.Time
				methods[string(r.Method)] = true
				statuses[r.Status] = true
				referrers[string(r.Referer)] = true
				uas[string(r.UserAgent)] = true
			}
			for _, s := range []int{200, 302, 304, 404} {
				if !statuses[s] {
					t.Errorf("no status %d generated", s)
				}
			}
			if tc.format == Common { // no referrer, no agent
				referrers, uas = map[string]bool{}, map[string]bool{}
				for i := range 100 {
					referrers[strconv.Itoa(i)], uas[strconv.Itoa(i)] = true, true
				}
			}
			if !methods["POST"] || len(referrers) < 10 || len(uas) < 100 {
				t.Errorf("too little variety: methods %v, %d referrers, %d user agents", methods, len(referrers), len(uas))
			}
		})
	}
}

func TestUserAgentsOption(t *testing.T) {
	seen := map[string]bool{}
	p, _ := accesslog.New("combined")
	var r accesslog.Request
	for _, l := range lines(Options{Seed: 2, UserAgents: 7}, 5000) {
		if p.Parse(l, &r) == nil {
			seen[string(r.UserAgent)] = true
		}
	}
	// 7 human user agents plus the fixed bot list.
	if len(seen) > 7+len(bots) {
		t.Errorf("%d distinct user agents with UserAgents: 7", len(seen))
	}
}
