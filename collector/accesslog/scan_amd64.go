package accesslog

// scanQuotes is scanLine for 16 bytes or more (scan_amd64.s): it writes
// maskWords(len(b)) words from m on and reads no byte outside b.
//
//go:noescape
func scanQuotes(b []byte, m *uint64) bool

// hasAVX2 reports whether the processor and the OS support AVX2.
func hasAVX2() bool

// useAVX2 makes scanQuotes read 32 bytes a step. Tests turn it off to
// check the 16-byte path on machines that have AVX2.
var useAVX2 = hasAVX2()
