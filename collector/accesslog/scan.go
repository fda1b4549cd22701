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
		v := binary.LittleEndian.Uint64(b[i:i+8:i+8]) ^ pat
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
// settled in one pass of 32 bytes per step. For a word v, (v - lows) | v
// has a high bit exactly where v has a byte of 0x80 or more, or at the
// lowest zero byte of a word that has none of those (a borrow starts only at
// a zero byte), so OR-ing that over the line's words leaves a high bit set
// if and only if some byte is NUL or not ASCII. A line's last bytes are read
// as one word that overlaps the previous ones: checking a byte twice does
// not change the OR.
func plainASCII(b []byte) bool {
	n := len(b)
	if n < 8 {
		for _, c := range b {
			if c == 0 || c >= 0x80 {
				return false
			}
		}
		return true
	}
	var acc uint64
	i := 0
	for ; i+32 <= n; i += 32 {
		w := b[i : i+32 : i+32]
		v0 := binary.LittleEndian.Uint64(w)
		v1 := binary.LittleEndian.Uint64(w[8:])
		v2 := binary.LittleEndian.Uint64(w[16:])
		v3 := binary.LittleEndian.Uint64(w[24:])
		acc |= (v0 - lows) | v0 | (v1 - lows) | v1 | (v2 - lows) | v2 | (v3 - lows) | v3
	}
	for ; i+8 <= n; i += 8 {
		v := binary.LittleEndian.Uint64(b[i:])
		acc |= (v - lows) | v
	}
	v := binary.LittleEndian.Uint64(b[n-8:])
	acc |= (v - lows) | v
	return acc&highs == 0
}
