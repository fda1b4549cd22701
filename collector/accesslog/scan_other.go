//go:build !amd64

package accesslog

import "unsafe"

// scanQuotes is scanLine for 16 bytes or more. Where no vector version is
// written (arm64 included), it is the eight-bytes-a-step one.
func scanQuotes(b []byte, m *uint64) bool {
	return scanQuotesGeneric(b, unsafe.Slice(m, maskWords(len(b))))
}
