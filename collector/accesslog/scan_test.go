package accesslog

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"
)

// slowMask is the quote mask and text check of b by a byte loop, the
// definition the scans are held to.
func slowMask(b []byte) ([]uint64, bool) {
	m := make([]uint64, maskWords(len(b)))
	ok := true
	for i, c := range b {
		if c == '"' {
			m[i>>6] |= 1 << (i & 63)
		}
		if c == 0 || c >= 0x80 {
			ok = false
		}
	}
	return m, ok
}

// checkScan compares scanLine, scanQuotes (on 16 bytes or more) and
// scanQuotesGeneric on b with slowMask. The mask they write to starts full
// of ones and is two words longer than b needs, so a bit they fail to
// clear or a word written past the line shows.
func checkScan(t *testing.T, b []byte) {
	t.Helper()
	want, wantOK := slowMask(b)
	words := len(want)
	defer restoreVectorMode()()
	type scan struct {
		name string
		f    func([]byte, []uint64) bool
	}
	scans := []scan{{"scanQuotesGeneric", scanQuotesGeneric}}
	for _, mode := range vectorModes() {
		scans = append(scans, scan{"scanLine/" + mode.name, func(b []byte, m []uint64) bool {
			mode.set()
			return scanLine(b, m)
		}})
		if len(b) >= minVector {
			scans = append(scans, scan{"scanQuotes/" + mode.name, func(b []byte, m []uint64) bool {
				mode.set()
				return scanQuotes(b, &m[0])
			}})
		}
	}
	for _, s := range scans {
		name, scan := s.name, s.f
		m := make([]uint64, words+2)
		for k := range m {
			m[k] = ^uint64(0)
		}
		ok := scan(b, m[:words])
		if ok != wantOK {
			t.Fatalf("%s(%q) text check = %v, want %v", name, b, ok, wantOK)
		}
		if !slices.Equal(m[:words], want) {
			t.Fatalf("%s(%q) mask = %x, want %x", name, b, m[:words], want)
		}
		if m[words] != ^uint64(0) || m[words+1] != ^uint64(0) {
			t.Fatalf("%s(%q) wrote past the line's %d mask words", name, b, words)
		}
	}
	// quoteFrom on the mask finds the first quote from every offset up to
	// the line's end.
	next := -1 // the first quote at or after i, going down from the end
	for i := len(b); i >= 0; i-- {
		if i < len(b) && b[i] == '"' {
			next = i
		}
		if got := quoteFrom(want, i); got != next {
			t.Fatalf("%q: quoteFrom(%d) = %d, want %d", b, i, got, next)
		}
	}
}

// scanMode is a path of scanQuotes and the function that selects it.
type scanMode struct {
	name string
	set  func()
}

// scanLines are lines of every length up to two mask words and a little
// more, with quotes, NULs and high bytes at each end and across the
// 16-byte and 64-byte steps.
func scanLines() [][]byte {
	var out [][]byte
	for n := 0; n <= 300; n++ {
		base := bytes.Repeat([]byte("ab cd"), n/5+1)[:n]
		out = append(out, base)
		for _, c := range []byte{'"', 0, 0x80, 0xff, 0x7f, 0x01, '#', '!'} {
			for _, i := range []int{0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 95, 96, 127, 128, n - 33, n - 32, n - 31, n - 17, n - 16, n - 15, n - 9, n - 8, n - 1} {
				if i < 0 || i >= n {
					continue
				}
				l := bytes.Clone(base)
				l[i] = c
				out = append(out, l)
			}
		}
		// Every byte a quote, and quotes next to bytes one away from '"'.
		out = append(out, bytes.Repeat([]byte{'"'}, n), bytes.Repeat([]byte(`"#!"`), n/4+1)[:n])
	}
	return out
}

func TestScanQuotes(t *testing.T) {
	lines := scanLines()
	for _, fx := range fixtures {
		lines = append(lines, readLines(t, filepath.Join("testdata", fx.file))...)
	}
	long := bytes.Repeat([]byte(`x "y" z `), 1000)
	lines = append(lines, long, long[:4095], long[3:], append(bytes.Clone(long[:4091]), 0x80),
		append(bytes.Repeat([]byte{'a'}, 1000), '"'))
	quotes := 0
	for _, l := range lines {
		checkScan(t, l)
		quotes += bytes.Count(l, []byte{'"'})
	}
	if quotes == 0 {
		t.Fatal("no quotes in the lines: the comparison saw nothing")
	}
	for _, mode := range vectorModes() {
		t.Logf("scanQuotes path checked: %s", mode.name)
	}
}

// FuzzScanQuotes compares scanQuotes and scanQuotesGeneric with a byte loop
// on arbitrary bytes, at every start offset of the first 16 (so that loads
// are unaligned every way).
func FuzzScanQuotes(f *testing.F) {
	for _, l := range readLines(f, filepath.Join("testdata", "combined.log")) {
		f.Add(l)
	}
	f.Add([]byte("\"\x00\x80\"\x7f\x01\"\"\"#!\"\"\"\"\"\"\""))
	f.Fuzz(func(t *testing.T, b []byte) {
		for off := 0; off < 16 && off <= len(b); off++ {
			checkScan(t, b[off:])
		}
	})
}

// TestQuoteBits checks the word gathering on every byte value in every
// position, with the other bytes set to the values one away from '"'.
func TestQuoteBits(t *testing.T) {
	for _, fill := range []byte{'"' - 1, '"' + 1, '"', 0, 0xff, '"' ^ 0x80} {
		for k := range 8 {
			for c := range 256 {
				var b [8]byte
				for i := range b {
					b[i] = fill
				}
				b[k] = byte(c)
				var want uint64
				for i, x := range b {
					if x == '"' {
						want |= 1 << i
					}
				}
				v := uint64(0)
				for i := 7; i >= 0; i-- {
					v = v<<8 | uint64(b[i])
				}
				if got := quoteBits(v); got != want {
					t.Fatalf("quoteBits(% x) = %08b, want %08b", b, got, want)
				}
			}
		}
	}
}
