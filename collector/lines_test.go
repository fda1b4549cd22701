package collector

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// split returns what eachLine hands on for data: "line/n" for a line, "long/n"
// for an over-long one.
func split(t *testing.T, r io.Reader, max int) []string {
	t.Helper()
	var got []string
	err := eachLine(t.Context(), r, max,
		func(b []byte, n int) { got = append(got, fmt.Sprintf("%s/%d", b, n)) },
		func(n int) { got = append(got, fmt.Sprintf("long/%d", n)) })
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// lineCases are worked out by hand with max_line_bytes 8.
var lineCases = []struct {
	name, in string
	want     []string
}{
	{"plain", "ab\ncd\n", []string{"ab/3", "cd/3"}},
	{"last line without newline", "ab\ncd", []string{"ab/3", "cd/2"}},
	{"crlf", "ab\r\ncd\r\n", []string{"ab/4", "cd/4"}},
	{"cr kept inside", "a\rb\n", []string{"a\rb/4"}},
	{"last line cr", "ab\r", []string{"ab/3"}},
	{"empty lines", "\n\r\n", []string{"/1", "/2"}},
	{"empty input", "", nil},
	{"exactly max", "12345678\n", []string{"12345678/9"}},
	{"max with cr is too long", "12345678\r\nab\n", []string{"long/10", "ab/3"}},
	{"one over", "123456789\nab\n", []string{"long/10", "ab/3"}},
	{"long counted whole", strings.Repeat("x", 100) + "\nab\n", []string{"long/101", "ab/3"}},
	{"long at the end", "ab\n" + strings.Repeat("x", 100), []string{"ab/3", "long/100"}},
	{"last line of max", "ab\n12345678", []string{"ab/3", "12345678/8"}},
	{"last line one over", "123456789", []string{"long/9"}},
}

func TestEachLine(t *testing.T) {
	for _, tc := range lineCases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, split(t, strings.NewReader(tc.in), 8)); diff != "" {
				t.Errorf("whole reads (-want +got):\n%s", diff)
			}
			// Reads of one byte cut every line and every long line apart.
			if diff := cmp.Diff(tc.want, split(t, iotest.OneByteReader(strings.NewReader(tc.in)), 8)); diff != "" {
				t.Errorf("one-byte reads (-want +got):\n%s", diff)
			}
		})
	}
}

// TestChunkReaderSplitsAsEachLine: the parallel replay's chunks, decoded,
// give the lines eachLine gives, over-long lines longer than a chunk and
// lines cut at every chunk boundary included.
func TestChunkReaderSplitsAsEachLine(t *testing.T) {
	var in bytes.Buffer
	for i := range 3000 {
		switch i % 97 {
		case 5:
			in.WriteString(strings.Repeat("y", 700) + "\n") // over 256 bytes
		case 6:
			in.WriteString(strings.Repeat("z", 9000) + "\n") // over a chunk
		default:
			fmt.Fprintf(&in, "line %d %s\r\n", i, strings.Repeat("a", i%50))
		}
	}
	in.WriteString("last")
	const max = 256
	want := split(t, bytes.NewReader(in.Bytes()), max)
	for _, fill := range []int{300, 1000, 4096} {
		for _, one := range []bool{false, true} {
			r := io.Reader(bytes.NewReader(in.Bytes()))
			if one {
				r = iotest.OneByteReader(r)
			}
			pool := newChunkPool(1000, nil)
			cr := newChunkReader([]Input{{Path: "a.log", Reader: r}}, []*source{{}}, pool, max, fill)
			buf := make([]byte, 0, chunkCap(fill, max))
			var got []string
			seq := 0
			for {
				ch := cr.read(t.Context(), buf)
				if ch == nil {
					break
				}
				if ch.seq != seq {
					t.Fatalf("chunk %d numbered %d", seq, ch.seq)
				}
				if cap(ch.data) != cap(buf) || len(ch.data) > 0 && &ch.data[:1][0] != &buf[:1][0] {
					t.Fatalf("chunk %d is not in the worker's buffer", ch.seq)
				}
				seq++
				for _, n := range ch.tooLong {
					got = append(got, fmt.Sprintf("long/%d", n))
				}
				line := func(b []byte, n int) { got = append(got, fmt.Sprintf("%s/%d", b, n)) }
				tooLong := func(n int) { got = append(got, fmt.Sprintf("long/%d", n)) }
				rest := splitLines(ch.data, max, line, tooLong)
				if ch.last {
					lastLine(rest, max, line, tooLong)
				} else if len(rest) > 0 {
					t.Fatalf("chunk %d ends inside a line", ch.seq)
				}
				buf, ch.data = ch.data[:0], nil
				pool.put(ch)
			}
			if cr.err != nil {
				t.Fatal(cr.err)
			}
			if seq < 2 {
				t.Fatalf("%d chunks: the input was not cut", seq)
			}
			// Over-long lines dropped while reading are listed before their
			// chunk's lines: compare as multisets.
			if diff := cmp.Diff(count(want), count(got)); diff != "" {
				t.Errorf("fill %d, one-byte reads %v (-eachLine +chunks):\n%s", fill, one, diff)
			}
		}
	}
}

func count(items []string) map[string]int {
	m := map[string]int{}
	for _, s := range items {
		m[s]++
	}
	return m
}

// TestEachLineDoesNotAllocatePerLine: splitting allocates its buffer once,
// whatever the number of lines.
func TestEachLineDoesNotAllocatePerLine(t *testing.T) {
	data := bytes.Repeat([]byte("198.51.100.7 - - [02/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5\n"), 50_000)
	r := bytes.NewReader(data)
	lines := 0
	allocs := testing.AllocsPerRun(5, func() {
		r.Reset(data)
		_ = eachLine(t.Context(), r, 64<<10, func([]byte, int) { lines++ }, func(int) {})
	})
	if lines != 6*50_000 {
		t.Fatalf("%d lines, want %d", lines, 6*50_000)
	}
	if allocs > 2 {
		t.Errorf("%v allocations for 50,000 lines", allocs)
	}
}

// BenchmarkEachLine measures line splitting alone over the benchmark log;
// compare with wc -l over the same bytes.
//
//	GOMAXPROCS=1 go test -run=^$ -bench=EachLine -count=5 ./collector/
func BenchmarkEachLine(b *testing.B) {
	data, n := benchLog()
	r := bytes.NewReader(data)
	var sum int
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(data)
		if err := eachLine(b.Context(), r, 64<<10, func(l []byte, n int) { sum += n }, func(int) {}); err != nil {
			b.Fatal(err)
		}
	}
	if sum != len(data)*b.N {
		b.Fatalf("%d bytes in lines, want %d", sum, len(data)*b.N)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
