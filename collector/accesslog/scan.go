package accesslog

import (
	"encoding/binary"
	"math/bits"
)

// Byte scanning a word at a time. A log line's short fields (an address,
// "-", a time stamp, a status, a size) end within a few bytes, where the
// call and set-up of bytes.IndexByte cost more than the scan itself; the
// long ones (request, referrer, user agent) are left to bytes.IndexByte.

const (
	lows  = 0x0101010101010101
	highs = 0x8080808080808080
)

// indexFrom returns the index in b of the first c at or after i, or -1. It
// reads eight bytes at a time: in v = word XOR c*lows the first zero byte
// is the first c, and (v - lows) &^ v & highs flags it exactly (a borrow
// can flag only bytes above a true zero byte, never below it).
func indexFrom(b []byte, i int, c byte) int {
	pat := uint64(c) * lows
	for ; i+8 <= len(b); i += 8 {
		v := binary.LittleEndian.Uint64(b[i:]) ^ pat
		if t := (v - lows) &^ v & highs; t != 0 {
			return i + bits.TrailingZeros64(t)>>3
		}
	}
	for ; i < len(b); i++ {
		if b[i] == c {
			return i
		}
	}
	return -1
}

// plainASCII reports whether b is ASCII without NUL bytes, the common case,
// settled in one pass of 32 bytes per step. For a word v without high bits,
// v + 0x7f7f...7f sets the high bit of exactly the bytes that are not zero,
// with no carry between bytes; a word with high bits fails the first test
// whatever its sum.
func plainASCII(b []byte) bool {
	const sevens = 0x7f7f7f7f7f7f7f7f
	or, and := uint64(0), uint64(highs)
	for len(b) >= 32 {
		v0 := binary.LittleEndian.Uint64(b)
		v1 := binary.LittleEndian.Uint64(b[8:])
		v2 := binary.LittleEndian.Uint64(b[16:])
		v3 := binary.LittleEndian.Uint64(b[24:])
		or |= v0 | v1 | v2 | v3
		and &= (v0 + sevens) & (v1 + sevens) & (v2 + sevens) & (v3 + sevens)
		b = b[32:]
	}
	for len(b) >= 8 {
		v := binary.LittleEndian.Uint64(b)
		or |= v
		and &= v + sevens
		b = b[8:]
	}
	if or&highs != 0 || and&highs != highs {
		return false
	}
	for _, c := range b {
		if c == 0 || c >= 0x80 {
			return false
		}
	}
	return true
}
