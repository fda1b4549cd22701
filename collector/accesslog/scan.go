package accesslog

import (
	"encoding/binary"
	"math/bits"
)

// Byte scanning a word at a time. A log line's short fields (an address,
// "-", a time stamp, a status, a size) end within a few bytes, where the
// call and set-up of bytes.IndexByte cost more than the scan itself. The
// long ones (request, referrer, user agent) end at quotes, which the
// nginx parsers find in the line's quote mask (scanLine, below), and the
// other formats with bytes.IndexByte.

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

// A structural pass over a line: one read of its bytes gives the text
// check (every byte ASCII and not NUL) and a bit mask of its quotes, bit
// i&63 of word i>>6 set when line[i] is '"'. The quoted values (request,
// referrer, user agent) then end where the mask says, found with
// bits.TrailingZeros64, not by reading the line again with
// bytes.IndexByte. On amd64 lines of 16 bytes or more are read 16 bytes a
// step with SSE2, or 32 with AVX2 where the processor and the OS have it
// (scan_amd64.s); elsewhere, and shorter lines, eight bytes a step by
// scanQuotesGeneric; TestScanQuotes, TestScanQuotesPageEnd and
// FuzzScanQuotes hold both to a byte loop.

// minVector is the shortest line scanQuotes reads 16 bytes a step.
const minVector = 16

// maskWords returns the number of mask words of a line of n bytes: those
// of its bytes and of the offset n, its end, so that quoteFrom can look
// in the word of any offset up to the end without checking that it is
// there.
func maskWords(n int) int { return n>>6 + 1 }

// scanLine fills m, of maskWords(len(b)) words, with the quote mask of b
// (the bits past the end of b zero) and reports whether b is ASCII
// without NUL bytes.
func scanLine(b []byte, m []uint64) bool {
	if len(b) < minVector {
		return scanQuotesGeneric(b, m)
	}
	_ = m[len(b)>>6]
	return scanQuotes(b, &m[0])
}

// scanQuotesGeneric is scanLine eight bytes at a time. In x = word XOR
// '"'*lows a byte is zero exactly where the word has a quote;
// ((x &^ highs) + ^highs) | x has its high bit clear exactly at those
// bytes (the addition cannot carry out of a byte), and the multiplication
// gathers the eight high bits into the top byte. The text check is
// plainASCII's, on the same words.
func scanQuotesGeneric(b []byte, m []uint64) bool {
	n := len(b)
	if n < 8 {
		var w uint64
		ok := true
		for i, c := range b {
			if c == '"' {
				w |= 1 << i
			}
			if c == 0 || c >= 0x80 {
				ok = false
			}
		}
		m[0] = w
		return ok
	}
	var acc, w uint64
	i := 0
	for ; i+8 <= n; i += 8 {
		v := binary.LittleEndian.Uint64(b[i : i+8 : i+8])
		acc |= (v - lows) | v
		w |= quoteBits(v) << (i & 63)
		if i&63 == 56 {
			m[i>>6] = w
			w = 0
		}
	}
	if i < n {
		// The last word overlaps the previous one: drop the bits of the
		// 8-(n-i) bytes already seen.
		v := binary.LittleEndian.Uint64(b[n-8:])
		acc |= (v - lows) | v
		w |= quoteBits(v) >> (8 - (n - i)) << (i & 63)
	}
	m[n>>6] = w
	return acc&highs == 0
}

// quoteBits returns one bit per byte of v, bit k for byte k, set where the
// byte is '"'.
func quoteBits(v uint64) uint64 {
	x := v ^ '"'*lows
	z := ^(((x &^ highs) + ^uint64(highs)) | x) & highs
	return (z >> 7) * 0x0102040810204080 >> 56
}

// quoteFrom returns the index of the first '"' at or after i in the line
// whose quote mask is m, or -1; i is at most the line's length, so its
// word is in m.
func quoteFrom(m []uint64, i int) int {
	k := i >> 6
	x := m[k] >> (i & 63) << (i & 63) // the bits from i on
	for x == 0 {
		if k++; k >= len(m) {
			return -1
		}
		x = m[k]
	}
	return k<<6 + bits.TrailingZeros64(x)
}
