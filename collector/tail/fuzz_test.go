package tail

import (
	"bytes"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzLines writes arbitrary data in two pieces, with a tiny read buffer
// and line limit, and checks that exactly the complete lines within the
// limit come out, in order, and that the position ends after the last
// complete line.
//
// Run with:
//
//	go test -run '^$' -fuzz FuzzLines -fuzztime 30s ./collector/tail/
func FuzzLines(f *testing.F) {
	f.Add([]byte("a\nb\nc"), uint16(2), uint8(4), uint8(3))
	f.Add([]byte("toolongline\nok\n"), uint16(5), uint8(4), uint8(1))
	f.Add([]byte("\n\n\nx\n"), uint16(1), uint8(1), uint8(1))
	f.Add([]byte("12345678\n1234\n123456789012\nend\n"), uint16(20), uint8(8), uint8(2))
	f.Add(bytes.Repeat([]byte("line of text\n"), 40), uint16(100), uint8(12), uint8(7))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16, limit, chunk uint8) {
		if len(data) > 4096 {
			return
		}
		lim := int(limit%32) + 1
		at := int(cut) % (len(data) + 1)

		var want []string
		var end int64
		rest := data
		for {
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				break
			}
			if i <= lim {
				want = append(want, "access.log: "+string(rest[:i]))
			}
			end += int64(i) + 1
			rest = rest[i+1:]
		}

		dir := t.TempDir()
		h := startChunk(t, dir, Config{Paths: []string{"access.log"}, MaxLineBytes: lim}, nil, int(chunk%16)+1)
		f, err := os.OpenFile(h.path("access.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, piece := range [][]byte{data[:at], data[at:]} {
			if _, err := f.Write(piece); err != nil {
				t.Fatal(err)
			}
			h.step()
		}
		got := h.rec.takeLines()
		ps := h.stop()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("lines (-want +got):\n%s", diff)
		}
		if len(ps) != 1 || ps[0].Offset != end {
			t.Errorf("positions = %+v, want one at %d", ps, end)
		}
	})
}
