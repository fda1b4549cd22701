package classify

// The visitor key (docs/rules.md rule 1) from end to end: the client
// address rules, the address parsers that run on every line and the keyed
// hash over them. It is longer than most files here because the key's byte
// layout is written once, in one place, for the general path and the plain
// IPv4 path that must give the same key.

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"net/netip"

	"github.com/session-exporter/session-exporter/collector/accesslog"
)

// visitorKey returns the keyed hash of the client address, user agent and,
// when sites are split, the request host (docs/rules.md rule 3). Each field
// is length-prefixed, so ("ab", "c") and ("a", "bc") differ. The address is
// hashed in its canonical binary form when it parses, so "::ffff:1.2.3.4"
// and "1.2.3.4" are the same visitor; it is not kept anywhere.
func (c *Classifier) visitorKey(r *accesslog.Request, uaHash uint64) uint64 {
	// Most requests come from a plain IPv4 address, not behind a trusted
	// proxy: their message is thirteen bytes, hashed straight from the
	// parsed address with no buffer.
	if len(r.ClientIP) == 0 && !c.cfg.splitSites && (len(c.cfg.trusted) == 0 || len(r.ForwardedFor) == 0) {
		if ip, ok := parsePlainIPv4(r.RemoteAddr); ok {
			return sipHashIPv4(c.cfg.k0, c.cfg.k1, ip, uaHash)
		}
	}
	// The message is laid out in a buffer and hashed in one pass: the same
	// bytes, and so the same key, as writing the fields one by one.
	msg := c.keyBuf[:0]
	addr, raw, ok := c.clientAddr(r)
	switch {
	case ok && addr.Is4():
		a := addr.As4()
		msg = append(append(msg, 4), a[:]...)
	case ok:
		a := addr.As16()
		msg = append(append(msg, 16), a[:]...)
	default:
		msg = appendField(append(msg, 0), raw)
	}
	// The user agent enters through its own keyed hash, cached with its
	// verdict: a visitor key hashes a few dozen bytes, not the whole agent.
	msg = binary.LittleEndian.AppendUint64(msg, uaHash)
	if c.cfg.splitSites {
		c.hostBuf = normalizeHost(c.hostBuf[:0], r.Host)
		msg = appendField(msg, c.hostBuf)
	}
	c.keyBuf = msg
	return sipHash24(c.cfg.k0, c.cfg.k1, msg)
}

// parsePlainIPv4 parses b when it is exactly a dotted-decimal IPv4 address
// as netip accepts it (no leading zeros, no port, no spaces), returning
// the address as a big-endian number. Anything else is left to
// parseHostPort.
func parsePlainIPv4(b []byte) (uint32, bool) {
	n := len(b)
	if n < 7 || n > 15 {
		return 0, false
	}
	var ip uint32
	i := 0
	for f := 0; f < 4; f++ {
		if f > 0 {
			if i >= n || b[i] != '.' {
				return 0, false
			}
			i++
		}
		if i >= n || b[i]-'0' > 9 {
			return 0, false
		}
		v := uint32(b[i] - '0')
		i++
		if i < n && b[i]-'0' <= 9 {
			if v == 0 {
				return 0, false // a leading zero
			}
			v = v*10 + uint32(b[i]-'0')
			i++
			if i < n && b[i]-'0' <= 9 {
				v = v*10 + uint32(b[i]-'0')
				i++
				if v > 255 {
					return 0, false
				}
			}
		}
		ip = ip<<8 | v
	}
	return ip, i == n
}

// sipHashIPv4 is sipHash24 of the message visitorKey lays out for an IPv4
// address and no host: 4, the four bytes of ip, uaHash little-endian.
func sipHashIPv4(k0, k1 uint64, ip uint32, uaHash uint64) uint64 {
	// newSipHash, block and final, in registers.
	a := uint64(bits.ReverseBytes32(ip)) // the address's bytes in message order
	m0, m1 := 4|a<<8|uaHash<<40, uaHash>>24|13<<56
	// The rounds are written out: as a loop they cost a fifth more.
	v0, v1, v2, v3 := k0^0x736f6d6570736575, k1^0x646f72616e646f6d, k0^0x6c7967656e657261, k1^0x7465646279746573^m0
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0 ^= m0
	v3 ^= m1
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0 ^= m1
	v2 ^= 0xff
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	return v0 ^ v1 ^ v2 ^ v3
}

// appendField appends b prefixed by its length as a uvarint, as
// sipHash.writeField writes it.
func appendField(dst, b []byte) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(b))), b...)
}

// clientAddr returns the client address of r (docs/rules.md rule 1):
// ClientIP when set, else RemoteAddr; when RemoteAddr is a trusted proxy and
// X-Forwarded-For is set, the right-most forwarded address that is not
// trusted, or the left-most one when all are. Forwarded entries that are not
// addresses are skipped. ok is false when the address does not parse; raw is
// then the bytes to hash instead.
func (c *Classifier) clientAddr(r *accesslog.Request) (addr netip.Addr, raw []byte, ok bool) {
	if len(r.ClientIP) > 0 {
		addr, ok = parseHostPort(r.ClientIP)
		return addr, r.ClientIP, ok
	}
	addr, ok = parseHostPort(r.RemoteAddr)
	if !ok || len(c.cfg.trusted) == 0 || len(r.ForwardedFor) == 0 || !c.trusted(addr) {
		return addr, r.RemoteAddr, ok
	}
	xff := r.ForwardedFor
	var leftmost netip.Addr
	for len(xff) > 0 {
		var entry []byte
		if i := bytes.LastIndexByte(xff, ','); i >= 0 {
			entry, xff = xff[i+1:], xff[:i]
		} else {
			entry, xff = xff, nil
		}
		a, good := parseHostPort(entry)
		if !good {
			continue
		}
		if !c.trusted(a) {
			return a, nil, true
		}
		leftmost = a
	}
	if leftmost.IsValid() {
		return leftmost, nil, true
	}
	return addr, r.RemoteAddr, ok
}

func (c *Classifier) trusted(a netip.Addr) bool {
	for _, p := range c.cfg.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHostPort parses an address as logged: "1.2.3.4", "1.2.3.4:5678",
// "2001:db8::1", "[2001:db8::1]:443", with surrounding spaces. An IPv6 zone
// is dropped and an IPv4-mapped IPv6 address is unmapped. It does not
// allocate.
func parseHostPort(b []byte) (netip.Addr, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return netip.Addr{}, false
	}
	var a netip.Addr
	var ok bool
	if b[0] == '[' {
		end := bytes.IndexByte(b, ']')
		if end < 0 || !isPort(b[end+1:]) {
			return netip.Addr{}, false
		}
		a, ok = parseIP(b[1:end])
	} else if i := bytes.IndexByte(b, ':'); i >= 0 && bytes.IndexByte(b[i+1:], ':') < 0 {
		if !isPort(b[i:]) {
			return netip.Addr{}, false
		}
		a, ok = parseIP(b[:i])
	} else {
		a, ok = parseIP(b)
	}
	if !ok {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// isPort reports whether b is empty or ":" followed by 1-5 digits.
func isPort(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	if b[0] != ':' || len(b) < 2 || len(b) > 6 {
		return false
	}
	for _, c := range b[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseIP parses an IPv4 or IPv6 address from bytes, accepting exactly what
// netip.ParseAddr accepts, except that an IPv6 zone is dropped. It exists
// because converting the bytes to a string for netip.ParseAddr allocates.
func parseIP(b []byte) (netip.Addr, bool) {
	for _, c := range b {
		switch c {
		case '.':
			return parseIPv4(b)
		case ':':
			return parseIPv6(b)
		case '%':
			return netip.Addr{}, false
		}
	}
	return netip.Addr{}, false
}

func parseIPv4(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	if !parseIPv4Fields(b, &ip) {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}

// parseIPv4Fields parses dotted decimal without leading zeros, as netip does.
func parseIPv4Fields(b []byte, ip *[4]byte) bool {
	var field, digits, pos int
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			if digits == 1 && field == 0 {
				return false // leading zero
			}
			field = field*10 + int(c-'0')
			digits++
			if field > 255 {
				return false
			}
		case c == '.':
			if i == 0 || i == len(b)-1 || b[i-1] == '.' || pos == 3 {
				return false
			}
			ip[pos] = byte(field)
			pos++
			field, digits = 0, 0
		default:
			return false
		}
	}
	if pos != 3 || digits == 0 {
		return false
	}
	ip[3] = byte(field)
	return true
}

// parseIPv6 follows netip's parseIPv6.
func parseIPv6(s []byte) (netip.Addr, bool) {
	if i := bytes.IndexByte(s, '%'); i >= 0 {
		if i == len(s)-1 {
			return netip.Addr{}, false // netip rejects an empty zone
		}
		s = s[:i]
	}
	var ip [16]byte
	ellipsis := -1
	if len(s) >= 2 && s[0] == ':' && s[1] == ':' {
		ellipsis = 0
		s = s[2:]
		if len(s) == 0 {
			return netip.IPv6Unspecified(), true
		}
	}
	i := 0
	for i < 16 {
		off := 0
		acc := uint32(0)
	digits:
		for ; off < len(s); off++ {
			c := s[off]
			switch {
			case c >= '0' && c <= '9':
				acc = acc<<4 + uint32(c-'0')
			case c >= 'a' && c <= 'f':
				acc = acc<<4 + uint32(c-'a'+10)
			case c >= 'A' && c <= 'F':
				acc = acc<<4 + uint32(c-'A'+10)
			default:
				break digits
			}
			if off > 3 || acc > 0xffff {
				return netip.Addr{}, false
			}
		}
		if off == 0 {
			return netip.Addr{}, false
		}
		if off < len(s) && s[off] == '.' {
			if ellipsis < 0 && i != 12 || i+4 > 16 {
				return netip.Addr{}, false
			}
			var ip4 [4]byte
			if !parseIPv4Fields(s, &ip4) {
				return netip.Addr{}, false
			}
			copy(ip[i:], ip4[:])
			i += 4
			s = nil
			break
		}
		ip[i] = byte(acc >> 8)
		ip[i+1] = byte(acc)
		i += 2
		s = s[off:]
		if len(s) == 0 {
			break
		}
		if s[0] != ':' || len(s) == 1 {
			return netip.Addr{}, false
		}
		s = s[1:]
		if s[0] == ':' {
			if ellipsis >= 0 {
				return netip.Addr{}, false
			}
			ellipsis = i
			s = s[1:]
			if len(s) == 0 {
				break
			}
		}
	}
	if len(s) != 0 {
		return netip.Addr{}, false
	}
	if i < 16 {
		if ellipsis < 0 {
			return netip.Addr{}, false
		}
		n := 16 - i
		for j := i - 1; j >= ellipsis; j-- {
			ip[j+n] = ip[j]
		}
		clear(ip[ellipsis : ellipsis+n])
	} else if ellipsis >= 0 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom16(ip), true
}

// sipHash is a streaming SipHash-2-4 (Aumasson and Bernstein), the keyed
// PRF behind visitor keys. It lives on the stack and does not allocate.
type sipHash struct {
	v0, v1, v2, v3 uint64
	tail           [8]byte
	ntail          int
	length         uint64
}

func newSipHash(k0, k1 uint64) sipHash {
	return sipHash{
		v0: k0 ^ 0x736f6d6570736575,
		v1: k1 ^ 0x646f72616e646f6d,
		v2: k0 ^ 0x6c7967656e657261,
		v3: k1 ^ 0x7465646279746573,
	}
}

// sipRounds applies n SipRounds to the state. The state goes in and out
// in registers: a round on the struct in memory costs twice as much.
func sipRounds(v0, v1, v2, v3 uint64, n int) (uint64, uint64, uint64, uint64) {
	for range n {
		v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	}
	return v0, v1, v2, v3
}

// sipRound is one SipRound.
func sipRound(v0, v1, v2, v3 uint64) (uint64, uint64, uint64, uint64) {
	v0 += v1
	v1 = bits.RotateLeft64(v1, 13)
	v1 ^= v0
	v0 = bits.RotateLeft64(v0, 32)
	v2 += v3
	v3 = bits.RotateLeft64(v3, 16)
	v3 ^= v2
	v0 += v3
	v3 = bits.RotateLeft64(v3, 21)
	v3 ^= v0
	v2 += v1
	v1 = bits.RotateLeft64(v1, 17)
	v1 ^= v2
	v2 = bits.RotateLeft64(v2, 32)
	return v0, v1, v2, v3
}

func (s *sipHash) block(m uint64) {
	v0, v1, v2, v3 := sipRounds(s.v0, s.v1, s.v2, s.v3^m, 2)
	s.v0, s.v1, s.v2, s.v3 = v0^m, v1, v2, v3
}

func (s *sipHash) write(b []byte) {
	s.length += uint64(len(b))
	if s.ntail > 0 {
		n := copy(s.tail[s.ntail:], b)
		s.ntail += n
		b = b[n:]
		if s.ntail < 8 {
			return
		}
		s.block(binary.LittleEndian.Uint64(s.tail[:]))
		s.ntail = 0
	}
	for len(b) >= 8 {
		s.block(binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	s.ntail = copy(s.tail[:], b)
}

// writeField writes b prefixed by its length as a uvarint.
func (s *sipHash) writeField(b []byte) {
	var n [binary.MaxVarintLen64]byte
	s.write(binary.AppendUvarint(n[:0], uint64(len(b))))
	s.write(b)
}

// sipHash24 is SipHash-2-4 of msg in one pass: what writing msg to a
// sipHash and taking its sum gives.
func sipHash24(k0, k1 uint64, msg []byte) uint64 {
	s := newSipHash(k0, k1)
	n := len(msg)
	for len(msg) >= 8 {
		s.block(binary.LittleEndian.Uint64(msg))
		msg = msg[8:]
	}
	return s.finish(msg, uint64(n))
}

func (s *sipHash) sum() uint64 {
	h := s.finish(s.tail[:s.ntail], s.length)
	s.tail = [8]byte{}
	return h
}

// finish hashes the last block (the message's last len(rest) < 8 bytes,
// with the low byte of its length n on top) and returns the hash.
func (s *sipHash) finish(rest []byte, n uint64) uint64 {
	var last [8]byte
	copy(last[:], rest)
	last[7] = byte(n)
	return s.final(binary.LittleEndian.Uint64(last[:]))
}

// final hashes the last block, m, and returns the hash.
func (s *sipHash) final(m uint64) uint64 {
	s.block(m)
	v0, v1, v2, v3 := sipRounds(s.v0, s.v1, s.v2^0xff, s.v3, 4)
	return v0 ^ v1 ^ v2 ^ v3
}
