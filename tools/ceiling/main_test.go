package main

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestCount(t *testing.T) {
	const size = 16                     // the block size; small, so lines cross blocks
	long := strings.Repeat("x", 3*size) // longer than the first buffer
	for _, c := range []struct {
		name, in    string
		lines, keys int
	}{
		{"empty", "", 0, 0},
		{"one without newline", "1.2.3.4 - -", 1, 1},
		{"repeats", "a x\nb y\na z\n", 3, 2},
		{"no space", "abc\nabc\n", 2, 1},
		{"empty lines", "\n\n", 2, 1},
		{"line longer than the buffer", "k " + long + "\nk\n" + long, 3, 2},
		{"lines across blocks", "10.0.0.1 a\n10.0.0.22 bb\n10.0.0.1 ccc\n10.0.0.333 d\n", 4, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			readers := map[string]io.Reader{
				"whole":      strings.NewReader(c.in),
				"half reads": iotest.HalfReader(strings.NewReader(c.in)),
				"one byte":   iotest.OneByteReader(strings.NewReader(c.in)),
				// The last bytes come with io.EOF in the same Read.
				"data with EOF": iotest.DataErrReader(strings.NewReader(c.in)),
			}
			for name, r := range readers {
				lines, keys, err := count(r, size)
				if err != nil || lines != c.lines || keys != c.keys {
					t.Errorf("%s: count = %d lines, %d keys, %v; want %d, %d", name, lines, keys, err, c.lines, c.keys)
				}
			}
		})
	}
}

func TestCountReadError(t *testing.T) {
	broken := errors.New("disk gone")
	r := io.MultiReader(strings.NewReader("a\nb\n"), iotest.ErrReader(broken))
	lines, _, err := count(r, 16)
	if !errors.Is(err, broken) || lines != 2 {
		t.Fatalf("count = %d lines, %v; want 2 lines, %v", lines, err, broken)
	}
}

func TestKeyAllocs(t *testing.T) {
	seen := map[string]*int{}
	line := []byte("10.0.0.1 - - [x]")
	key(seen, line)
	if n := testing.AllocsPerRun(100, func() { key(seen, line) }); n != 0 {
		t.Fatalf("key allocates %v times for a known address", n)
	}
	if got := *seen["10.0.0.1"]; got != 102 { // 1 + AllocsPerRun's warm-up + 100
		t.Fatalf("count = %d, want 102", got)
	}
}
