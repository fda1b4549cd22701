package classify

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/session-exporter/session-exporter/collector/accesslog"
)

// TestSipHashVectors checks SipHash-2-4 against the reference
// implementation's vectors: key 00..0f, message 00..(n-1).
func TestSipHashVectors(t *testing.T) {
	var key [16]byte
	for i := range key {
		key[i] = byte(i)
	}
	k0 := binary.LittleEndian.Uint64(key[:8])
	k1 := binary.LittleEndian.Uint64(key[8:])
	msg := make([]byte, 64)
	for i := range msg {
		msg[i] = byte(i)
	}
	tests := []struct {
		n    int
		want uint64
	}{
		{0, 0x726fdb47dd0e0e31},
		{1, 0x74f839c593dc67fd},
		{7, 0xab0200f58b01d137},
		{8, 0x93f5f5799a932462},
		{15, 0xa129ca6149be45e5},
		{63, 0x958a324ceb064572},
	}
	for _, tt := range tests {
		h := newSipHash(k0, k1)
		h.write(msg[:tt.n])
		if got := h.sum(); got != tt.want {
			t.Errorf("SipHash(%d bytes) = %#x, want %#x", tt.n, got, tt.want)
		}
		if got := sipHash24(k0, k1, msg[:tt.n]); got != tt.want {
			t.Errorf("sipHash24(%d bytes) = %#x, want %#x", tt.n, got, tt.want)
		}
	}
}

// TestSipHashStreaming checks that splitting the input never changes the sum.
func TestSipHashStreaming(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	msg := make([]byte, 200)
	for i := range msg {
		msg[i] = byte(rng.Uint32())
	}
	for n := 0; n <= len(msg); n += 7 {
		whole := newSipHash(3, 4)
		whole.write(msg[:n])
		want := whole.sum()
		if got := sipHash24(3, 4, msg[:n]); got != want {
			t.Fatalf("sipHash24 of %d bytes = %#x, streamed %#x", n, got, want)
		}
		for range 5 {
			h := newSipHash(3, 4)
			for rest := msg[:n]; len(rest) > 0; {
				k := rng.IntN(len(rest) + 1)
				h.write(rest[:k])
				rest = rest[k:]
			}
			if got := h.sum(); got != want {
				t.Fatalf("split write of %d bytes = %#x, want %#x", n, got, want)
			}
		}
	}
}

// TestVisitorStable pins the visitor key of one request: it is saved with
// the state, so a change here splits every open session on upgrade.
func TestVisitorStable(t *testing.T) {
	c := newTestClassifier(t, testConfig())
	r := req(withUA(uaIPhone))
	const want = uint64(0x92a487e66e726232)
	got := c.keyOf(r)
	if got != want {
		t.Errorf("visitor key = %#x, want %#x (the key must stay stable across versions)", got, want)
	}
	if again := newTestClassifier(t, testConfig()).keyOf(r); again != got {
		t.Errorf("a second classifier with the same secret gives %#x, want %#x", again, got)
	}
	other := testConfig()
	other.Secret = []byte("another secret, 16+ bytes")
	if k := newTestClassifier(t, other).keyOf(r); k == got {
		t.Error("a different secret gives the same visitor key")
	}
}

func TestVisitorFields(t *testing.T) {
	split := testConfig()
	split.SplitSites = true
	c := newTestClassifier(t, testConfig())
	cs := newTestClassifier(t, split)
	key := func(c *Classifier, opts ...func(*accesslog.Request)) uint64 { return c.keyOf(req(opts...)) }
	addr := func(a string) func(*accesslog.Request) {
		return func(r *accesslog.Request) { r.RemoteAddr = []byte(a) }
	}
	tests := []struct {
		name  string
		a, b  uint64
		equal bool
	}{
		{"same request", key(c), key(c), true},
		{"other address", key(c), key(c, addr("203.0.113.8")), false},
		{"other user agent", key(c), key(c, withUA(uaWinChrome)), false},
		{"other URI, status, referrer", key(c), key(c, withURI("/x"), withStatus(304), withRef("https://a/")), true},
		{"host ignored when not split", key(c, withHost("a.example")), key(c, withHost("b.example")), true},
		{"host counts when split", key(cs, withHost("a.example")), key(cs, withHost("b.example")), false},
		{"host case and port ignored", key(cs, withHost("A.example:443")), key(cs, withHost("a.example")), true},
		{"fields are length-prefixed", key(cs, withUA("ab"), withHost("c")), key(cs, withUA("a"), withHost("bc")), false},
		{"IPv4-mapped IPv6 is IPv4", key(c, addr("::ffff:203.0.113.7")), key(c), true},
		{"port ignored", key(c, addr("203.0.113.7:5555")), key(c), true},
		{"IPv6 spelling ignored", key(c, addr("2001:DB8:0:0::1")), key(c, addr("[2001:db8::1]:443")), true},
		{"unparsable address still keyed", key(c, addr("unix:")), key(c, addr("unix:/x")), false},
		{"client_ip wins over remote address", key(c, func(r *accesslog.Request) {
			r.RemoteAddr = []byte("10.0.0.1")
			r.ClientIP = []byte("203.0.113.7")
		}), key(c), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.a == tt.b) != tt.equal {
				t.Errorf("keys %#x and %#x: equal = %v, want %v", tt.a, tt.b, tt.a == tt.b, tt.equal)
			}
		})
	}
}

// TestClientAddr covers rule 1's client address with trusted proxies.
func TestClientAddr(t *testing.T) {
	cfg := testConfig()
	cfg.TrustedProxies = []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("192.168.1.1/32"),
		netip.MustParsePrefix("fd00::/8"),
		netip.MustParsePrefix("::ffff:172.16.0.0/108"), // IPv4-mapped form of 172.16.0.0/12
	}
	c := newTestClassifier(t, cfg)
	noProxies := newTestClassifier(t, testConfig())
	tests := []struct {
		name                string
		c                   *Classifier
		remote, client, xff string
		want                string // "" when the address does not parse
	}{
		{"no XFF", c, "10.1.2.3", "", "", "10.1.2.3"},
		{"untrusted remote ignores XFF", c, "198.51.100.1", "", "203.0.113.9", "198.51.100.1"},
		{"no trusted proxies configured", noProxies, "10.1.2.3", "", "203.0.113.9", "10.1.2.3"},
		{"single entry", c, "10.1.2.3", "", "203.0.113.9", "203.0.113.9"},
		{"right-most untrusted", c, "10.1.2.3", "", "198.51.100.1, 203.0.113.9, 10.9.9.9", "203.0.113.9"},
		{"spoofed left entries ignored", c, "10.1.2.3", "", "1.1.1.1,203.0.113.9", "203.0.113.9"},
		{"all trusted: left-most", c, "10.1.2.3", "", "10.0.0.5, 192.168.1.1, 10.0.0.6", "10.0.0.5"},
		{"no spaces", c, "10.1.2.3", "", "198.51.100.1,10.0.0.1", "198.51.100.1"},
		{"IPv4 with port", c, "10.1.2.3", "", "203.0.113.9:4711, 10.0.0.1", "203.0.113.9"},
		{"IPv6", c, "fd00::1", "", "2001:db8::7, fd00::2", "2001:db8::7"},
		{"IPv6 bracketed with port", c, "[fd00::1]:8080", "", "[2001:db8::7]:443", "2001:db8::7"},
		{"IPv6 zone dropped", c, "fd00::1%eth0", "", "2001:db8::7", "2001:db8::7"},
		{"mapped remote matches mapped prefix", c, "::ffff:172.16.0.9", "", "203.0.113.9", "203.0.113.9"},
		{"IPv4 remote matches mapped prefix", c, "172.16.0.9", "", "203.0.113.9", "203.0.113.9"},
		{"mapped XFF entry is unmapped", c, "10.0.0.1", "", "::ffff:203.0.113.9", "203.0.113.9"},
		{"garbage entries skipped", c, "10.1.2.3", "", "203.0.113.9, unknown, ", "203.0.113.9"},
		{"only garbage: remote", c, "10.1.2.3", "", "unknown", "10.1.2.3"},
		{"remote with port", c, "10.1.2.3:5000", "", "203.0.113.9", "203.0.113.9"},
		{"client_ip wins", c, "10.1.2.3", "198.51.100.7", "203.0.113.9", "198.51.100.7"},
		{"client_ip IPv6", c, "10.1.2.3", "2001:DB8::1", "", "2001:db8::1"},
		{"unparsable remote", c, "unix:", "", "203.0.113.9", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &accesslog.Request{RemoteAddr: []byte(tt.remote), ClientIP: []byte(tt.client), ForwardedFor: []byte(tt.xff)}
			a, raw, ok := tt.c.clientAddr(r)
			got := ""
			if ok {
				got = a.String()
			} else if len(raw) == 0 {
				t.Error("unparsable address without raw bytes to hash")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("client address (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseHostPort(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.2.3.4", "1.2.3.4"},
		{" 1.2.3.4 ", "1.2.3.4"},
		{"1.2.3.4:80", "1.2.3.4"},
		{"1.2.3.4:", ""},
		{"1.2.3.4:http", ""},
		{"1.2.3.4:123456", ""},
		{"::1", "::1"},
		{"[::1]", "::1"},
		{"[::1]:443", "::1"},
		{"[::1]x", ""},
		{"[::1", ""},
		{"::ffff:1.2.3.4", "1.2.3.4"},
		{"fe80::1%eth0", "fe80::1"},
		{"fe80::1%", ""},
		{"01.2.3.4", ""},
		{"256.1.1.1", ""},
		{"1.2.3", ""},
		{"1.2.3.4.5", ""},
		{"", ""},
		{"-", ""},
		{"unknown", ""},
		{"2001:db8::1:2:3:4:5:6", ""},
		{"2001:db8:0:0:0:0:0:1", "2001:db8::1"},
		{"::", "::"},
		{"1::2::3", ""},
		{"12345::", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := ""
			if a, ok := parseHostPort([]byte(tt.in)); ok {
				got = a.String()
			}
			if got != tt.want {
				t.Errorf("parseHostPort(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// keyOf is the visitor key Classify gives r.
func (c *Classifier) keyOf(r *accesslog.Request) uint64 {
	return c.visitorKey(r, c.userAgent(r.UserAgent).hash)
}

// TestLongUserAgentsKeepWholeHash: user agents sharing their first
// maxUALen bytes are still different visitors.
func TestLongUserAgentsKeepWholeHash(t *testing.T) {
	c := newTestClassifier(t, testConfig())
	long := strings.Repeat("Mozilla/5.0 ", 200)
	a, b := req(withUA(long+"A")), req(withUA(long+"B"))
	if c.keyOf(a) == c.keyOf(b) {
		t.Error("user agents differing after the first 1 KiB share a visitor key")
	}
	var ra, rb Result
	c.Classify(a, &ra)
	c.Classify(b, &rb)
	if ra.Visitor == rb.Visitor {
		t.Error("Classify gives them one visitor key")
	}
}

// refVisitorKey is visitorKey as it was, writing field by field: the keys
// are saved with the state, so the one-pass hash must give the same.
func refVisitorKey(c *Classifier, r *accesslog.Request, uaHash uint64) uint64 {
	h := newSipHash(c.cfg.k0, c.cfg.k1)
	addr, raw, ok := c.clientAddr(r)
	if ok {
		if addr.Is4() {
			a := addr.As4()
			h.write([]byte{4})
			h.write(a[:])
		} else {
			a := addr.As16()
			h.write([]byte{16})
			h.write(a[:])
		}
	} else {
		h.write([]byte{0})
		h.writeField(raw)
	}
	var ub [8]byte
	binary.LittleEndian.PutUint64(ub[:], uaHash)
	h.write(ub[:])
	if c.cfg.splitSites {
		h.writeField(normalizeHost(nil, r.Host))
	}
	return h.sum()
}

func TestVisitorKeyOnePass(t *testing.T) {
	for _, split := range []bool{false, true} {
		cfg := testConfig()
		cfg.SplitSites = split
		c := newTestClassifier(t, cfg)
		for _, addr := range []string{"203.0.113.7", "203.0.113.7:443", "2001:db8::17", "[2001:db8::1]:8080",
			"::ffff:1.2.3.4", "", "not an address", strings.Repeat("x", 200), "unix:/run/nginx.sock"} {
			for _, host := range []string{"", "www.example.com", "WWW.Example.COM:8443", strings.Repeat("h", 300)} {
				r := &accesslog.Request{RemoteAddr: []byte(addr), Host: []byte(host)}
				for _, ua := range []uint64{0, 1, 0xdeadbeefcafef00d} {
					if got, want := c.visitorKey(r, ua), refVisitorKey(c, r, ua); got != want {
						t.Errorf("split %v, %q, %q, %x: key %x, written field by field %x", split, addr, host, ua, got, want)
					}
				}
			}
		}
	}
}
