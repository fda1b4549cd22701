package accesslog

// scanQuotes is scanLine for 16 bytes or more (scan_amd64.s): it writes
// maskWords(len(b)) words from m on and reads no byte outside b.
//
//go:noescape
func scanQuotes(b []byte, m *uint64) bool
