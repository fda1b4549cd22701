package classify

import (
	"testing"
	"time"

	"github.com/session-exporter/session-exporter/collector/accesslog"
)

// TestNoUserAgentFormat: a request from a format that logs no user agent
// (the common log format) is a human's pageview of device other, its
// visitor the address alone; the same empty agent from a format that logs
// one is a bot (docs/rules.md rules 1 and 2).
func TestNoUserAgentFormat(t *testing.T) {
	c := newTestClassifier(t, Config{Secret: []byte("0123456789abcdef")})
	req := func(addr string, noAgent bool) *accesslog.Request {
		return &accesslog.Request{Time: time.Unix(1793621742, 0).UTC(), RemoteAddr: []byte(addr),
			Method: []byte("GET"), URI: []byte("/pricing"), Status: 200, NoUserAgent: noAgent}
	}
	var a, b, other, bot Result
	c.Classify(req("192.0.2.10", true), &a)
	c.Classify(req("192.0.2.10", true), &b)
	c.Classify(req("192.0.2.11", true), &other)
	c.Classify(req("192.0.2.10", false), &bot)
	if a.Kind != KindPageview || a.Device != OtherDevice {
		t.Errorf("no-agent format: kind %v device %v, want pageview of device other", a.Kind, a.Device)
	}
	if a.Visitor != b.Visitor || a.Visitor == other.Visitor {
		t.Errorf("visitor keys: same address %x %x, other address %x: want equal, then different", a.Visitor, b.Visitor, other.Visitor)
	}
	if bot.Kind != KindBot {
		t.Errorf("empty agent in a format that logs one: kind %v, want bot", bot.Kind)
	}
}
