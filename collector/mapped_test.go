package collector

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// mapData writes data to a file and maps it; the test is skipped where
// files are not mapped.
func mapData(t testing.TB, data []byte) (*mapping, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "a.log")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	m := openMapped(Input{Path: path})
	if m == nil {
		if !canMap {
			t.Skip("files are not mapped on this system")
		}
		t.Fatalf("%d bytes not mapped", len(data))
	}
	t.Cleanup(m.close)
	return m, path
}

// splitMapped is split over a mapping, cut in blocks of blk bytes and
// mapped in windows of win.
func splitMapped(t testing.TB, m *mapping, max, blk, win int) ([]string, error) {
	var got []string
	err := m.eachLine(t.Context(), max, blk, win,
		func(b []byte, n int) { got = append(got, fmt.Sprintf("%s/%d", b, n)) },
		func(n int) { got = append(got, fmt.Sprintf("long/%d", n)) })
	return got, err
}

// TestMappedLines: the cases worked out by hand for eachLine, cut from a
// mapping in blocks of every size from the smallest (max_line_bytes + 2,
// so that lines and long lines cross blocks) up.
func TestMappedLines(t *testing.T) {
	for _, tc := range lineCases {
		if tc.in == "" {
			continue // an empty file is read, not mapped
		}
		t.Run(tc.name, func(t *testing.T) {
			m, _ := mapData(t, []byte(tc.in))
			for _, blk := range []int{0, 11, 13, 64, mapBlock} {
				got, err := splitMapped(t, m, 8, blk, pageSize)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("blocks of %d (-want +got):\n%s", blk, diff)
				}
			}
		})
	}
}

// trickyLines is n lines of every kind the splitting treats apart: empty,
// CRLF, CR inside, exactly max_line_bytes with and without CR, one over,
// far over (longer than a block), and a last line without newline or of a
// lone CR.
func trickyLines(seed uint64, n, max int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	var b bytes.Buffer
	for i := range n {
		switch r.IntN(12) {
		case 0:
		case 1:
			b.WriteString("\r")
		case 2:
			b.WriteString(strings.Repeat("m", max))
		case 3:
			b.WriteString(strings.Repeat("m", max-1) + "\r")
		case 4:
			b.WriteString(strings.Repeat("o", max+1))
		case 5:
			b.WriteString(strings.Repeat("f", max*(2+r.IntN(40))))
		case 6:
			b.WriteString("a\rb")
		default:
			fmt.Fprintf(&b, "line %d %s", i, strings.Repeat("x", r.IntN(max)))
		}
		if i < n-1 || r.IntN(2) == 0 {
			b.WriteByte('\n')
		}
	}
	switch r.IntN(3) {
	case 0:
		b.WriteString("\r")
	case 1:
		b.WriteString(strings.Repeat("t", max+5))
	}
	return b.Bytes()
}

// TestMappedLinesAgree: over inputs of many pages of every kind of line,
// the mapping gives what reads give, whatever the block and window sizes.
func TestMappedLinesAgree(t *testing.T) {
	const max = 100
	for seed := range uint64(6) {
		data := trickyLines(seed, 3000, max)
		want := split(t, bytes.NewReader(data), max)
		if diff := cmp.Diff(want, split(t, iotest.HalfReader(bytes.NewReader(data)), max)); diff != "" {
			t.Fatalf("seed %d: reads of different sizes disagree:\n%s", seed, diff)
		}
		m, _ := mapData(t, data)
		for _, sz := range [][2]int{{0, pageSize}, {150, 3 * pageSize}, {4000, pageSize}, {mapBlock, mapWindow}} {
			got, err := splitMapped(t, m, max, sz[0], sz[1])
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("seed %d, blocks of %d, windows of %d (-read +mapped):\n%s", seed, sz[0], sz[1], diff)
			}
		}
	}
}

func FuzzMappedLines(f *testing.F) {
	for _, tc := range lineCases {
		f.Add([]byte(tc.in), uint8(8), uint16(0))
	}
	f.Add(trickyLines(1, 40, 20), uint8(20), uint16(30))
	f.Fuzz(func(t *testing.T, data []byte, max uint8, blk uint16) {
		if len(data) == 0 {
			return // read, not mapped
		}
		want := split(t, bytes.NewReader(data), int(max))
		m, _ := mapData(t, data)
		got, err := splitMapped(t, m, int(max), int(blk), pageSize)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-read +mapped):\n%s", diff)
		}
	})
}

// TestMappedFileShrinks: a file cut short while mapped is an error naming
// it, not a crash, and no line is made up from the pages that went away.
func TestMappedFileShrinks(t *testing.T) {
	var lines []string
	var data []byte
	for i := 0; len(data) < 8*pageSize; i++ {
		l := fmt.Sprintf("line %d %s", i, strings.Repeat("y", i%90))
		lines = append(lines, l)
		data = append(append(data, l...), '\n')
	}
	for _, size := range []int64{0, 100, 2 * int64(pageSize), 5*int64(pageSize) + 7} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			m, path := mapData(t, data)
			if err := os.Truncate(path, size); err != nil {
				t.Fatal(err)
			}
			// Blocks of a page: the lines of the pages kept are counted
			// before the fault.
			got, err := splitMapped(t, m, 200, pageSize, pageSize)
			if !errors.Is(err, errShrank) {
				t.Fatalf("error %v, want %v", err, errShrank)
			}
			for i, g := range got {
				if want := fmt.Sprintf("%s/%d", lines[i], len(lines[i])+1); g != want {
					t.Fatalf("line %d is %q, want %q", i, g, want)
				}
			}
			if size >= 2*int64(pageSize) && len(got) == 0 {
				t.Errorf("no line of the %d bytes kept was counted", size)
			}
		})
	}
}

// TestReplayOfAShrunkFile: the replay of a file cut short once mapped fails
// with the file's name.
func TestReplayOfAShrunkFile(t *testing.T) {
	if !canMap {
		t.Skip("files are not mapped on this system")
	}
	path := filepath.Join(t.TempDir(), "a.log")
	if err := os.WriteFile(path, pathsInput(), 0o644); err != nil {
		t.Fatal(err)
	}
	mappedHook = func(p string) {
		if err := os.Truncate(p, 1000); err != nil {
			t.Error(err)
		}
	}
	defer func() { mappedHook = nil }()
	c, err := New(mustConfig(t, pathsConfig), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Replay(t.Context(), []Input{{Path: path}}, ReplayOptions{Workers: 1})
	if err == nil || !errors.Is(err, errShrank) || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v, want one naming %s that says it shrank", err, path)
	}
}

// TestMappedReplayKeepsNothing: a replay through a mapping counts what one
// through reads counts, and keeps no slice of the mapping once it is
// unmapped: the metrics are read after, and a second replay on the same
// collector looks up the user agents the first one left in the cache its
// classifier shares (a slice of the unmapped file would crash it).
func TestMappedReplayKeepsNothing(t *testing.T) {
	if !canMap {
		t.Skip("files are not mapped on this system")
	}
	data := pathsInput()
	path := filepath.Join(t.TempDir(), "a.log")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := mustConfig(t, pathsConfig)
	secret := []byte("0123456789abcdef")
	fresh, err := New(cfg, Options{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	res, err := fresh.Replay(t.Context(), []Input{{Path: path, Reader: bytes.NewReader(data)}}, ReplayOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll(exposition(t, fresh, res.Metrics), path, "a.log")

	c, err := New(cfg, Options{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	mapped := 0
	mappedHook = func(string) { mapped++ }
	defer func() { mappedHook = nil }()
	first, err := c.Replay(t.Context(), []Input{{Path: path}}, ReplayOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if mapped != 1 {
		t.Fatalf("the file was mapped %d times, want 1", mapped)
	}
	second, err := c.Replay(t.Context(), []Input{{Path: "a.log", Reader: bytes.NewReader(data)}}, ReplayOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for name, res := range map[string]*ReplayResult{"mapped": first, "read after it": second} {
		got := strings.ReplaceAll(exposition(t, c, res.Metrics), path, "a.log")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s replay differs (-read +%s):\n%s", name, name, diff)
		}
	}
}

// TestWhatIsMapped: only regular, non-empty, uncompressed files are mapped.
func TestWhatIsMapped(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("a\n"))
	zw.Close()
	plain := write("plain.log", []byte("a\n"))
	for name, in := range map[string]Input{
		"empty":           {Path: write("empty.log", nil)},
		"gzip":            {Path: write("rotated.log", gz.Bytes())},
		"directory":       {Path: dir},
		"missing":         {Path: filepath.Join(dir, "missing.log")},
		"standard input":  {Path: "-"},
		"given as reader": {Path: plain, Reader: strings.NewReader("a\n")},
	} {
		if m := openMapped(in); m != nil {
			m.close()
			t.Errorf("%s is mapped", name)
		}
	}
	m := openMapped(Input{Path: plain})
	if canMap != (m != nil) {
		t.Errorf("a plain file mapped: %v, on a system that maps: %v", m != nil, canMap)
	}
	if m != nil {
		m.close()
	}
}

// TestMappedLinesDoNotAllocate: cutting a mapping allocates nothing.
func TestMappedLinesDoNotAllocate(t *testing.T) {
	data, _ := benchLog()
	m, _ := mapData(t, data[:len(data)/8])
	lines := 0
	allocs := testing.AllocsPerRun(3, func() {
		if err := eachMappedLine(t.Context(), m, 64<<10, func([]byte, int) { lines++ }, func(int) {}); err != nil {
			t.Fatal(err)
		}
	})
	if lines == 0 || allocs != 0 {
		t.Errorf("%v allocations a pass over %d lines, want none", allocs, lines/4)
	}
}
