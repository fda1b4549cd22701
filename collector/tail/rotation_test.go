package tail

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"
)

// passChunk is a read size that makes bigBacklog(…, 12000) take several
// passes (maxReadsPerPass reads each), as the tests reading it need.
const passChunk = 64 << 10

// bigBacklog returns n lines of about 250 bytes tagged tag, as written and
// as recorded under access.log. 12,000 of them take more than one pass
// with reads of passChunk.
func bigBacklog(tag string, n int) (string, []string) {
	var b strings.Builder
	var want []string
	for i := range n {
		l := fmt.Sprintf("%s-%05d %s", tag, i, strings.Repeat("x", 240))
		b.WriteString(l + "\n")
		want = append(want, "access.log: "+l)
	}
	return b.String(), want
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func checkLines(t *testing.T, want, got []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d lines, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Fatalf("line %d = %.40q, want %.40q", i, got[i], want[i])
		}
	}
}

// compress replaces path by path+ext, compressed with gzip or zstd.
func compress(t *testing.T, path, ext string) {
	t.Helper()
	plain, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	switch ext {
	case ".gz":
		zw := gzip.NewWriter(&b)
		zw.Write(plain)
		zw.Close()
	case ".zst":
		zw, _ := zstd.NewWriter(&b)
		zw.Write(plain)
		zw.Close()
	default:
		t.Fatalf("no compressor for %s", ext)
	}
	if err := os.WriteFile(path+ext, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// A file that appears at the live path while the rotated file still has a
// backlog is opened and enters the positions at once; its lines wait.
func TestNewFileFoundWhileDraining(t *testing.T) {
	h := startChunk(t, t.TempDir(), Config{Paths: []string{"access.log"}}, nil, passChunk)
	h.write("access.log", "first\n")
	h.step()
	h.rec.takeLines()
	old, want := bigBacklog("old", 12000)
	h.write("access.log", old)
	h.rename("access.log", "access.log.1")
	h.write("access.log", "new\n")
	newIno := inode(t, h.path("access.log"))
	var during []Position
	h.rec.onLine = func(line string) {
		if during == nil && strings.HasPrefix(line, "access.log: old-11999") {
			during = h.tl.Positions()
		}
	}
	checkLines(t, append(want, "access.log: new"), h.lines())
	if len(during) != 2 || during[1].Inode != newIno || during[1].Offset != 0 || during[1].FingerprintLen != 4 {
		t.Errorf("positions while draining = %+v, want the rotated file then the new one (inode %d) at 0", during, newIno)
	}
}

// The live path rotates again while the first rotated file is drained: the
// file in between, never read yet, is kept open and read in order.
func TestDoubleRotationWhileDraining(t *testing.T) {
	h := startChunk(t, t.TempDir(), Config{Paths: []string{"access.log"}}, nil, passChunk)
	h.write("access.log", "first\n")
	h.step()
	h.rec.takeLines()
	old, want := bigBacklog("old", 12000)
	h.write("access.log", old)
	h.rename("access.log", "access.log.1")
	h.write("access.log", "mid\n")
	rotated := false
	h.rec.onLine = func(line string) {
		// Half way through the backlog, on a later pass than the one that
		// found "mid": rotate again and delete the first rotated file.
		if !rotated && strings.HasPrefix(line, "access.log: old-10000") {
			rotated = true
			h.remove("access.log.1")
			h.rename("access.log", "access.log.1")
			h.write("access.log.1", "mid-late\n")
			h.write("access.log", "new\n")
		}
	}
	want = append(want, "access.log: mid", "access.log: mid-late", "access.log: new")
	checkLines(t, want, h.lines())
	if !rotated {
		t.Fatal("the second rotation never happened")
	}
	if c, _ := h.rec.counts(); c.events[EventLost] != 0 || c.events[EventRotated] != 2 {
		t.Errorf("counted %+v, want 2 rotations and nothing lost", c)
	}
}

// While the tailer is not looking (stopped, throttled), the path rotates
// twice and the middle file is compressed: it is found as the sibling newer
// than the file being followed and read before the new live file.
func TestRotatedTwiceUnseenCompressed(t *testing.T) {
	h := start(t, t.TempDir(), Config{Paths: []string{"access.log"}}, nil)
	h.write("access.log", "a\n")
	if diff := cmp.Diff([]string{"access.log: a"}, h.lines()); diff != "" {
		t.Fatal(diff)
	}
	h.write("access.log", "b\n")
	h.rename("access.log", "access.log.1")
	h.write("access.log", "mid1\nmid2\n")
	h.rename("access.log.1", "access.log.2")
	h.rename("access.log", "access.log.1")
	compress(t, h.path("access.log.1"), ".gz")
	h.write("access.log", "new\n")
	want := []string{"access.log: b", "access.log: mid1", "access.log: mid2", "access.log: new"}
	if diff := cmp.Diff(want, h.lines()); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	h.clock.Advance(h.tl.cfg.DrainIdle)
	h.step()
	if ps := h.tl.Positions(); len(ps) != 1 || ps[0].Offset != 4 {
		t.Errorf("positions %+v, want only the live file at 4", ps)
	}
}

// On restart, the saved file compressed since is found by the fingerprint
// of its decompressed start and read from the saved offset; a newer rotated
// file never seen (zstd) is read whole before the live file.
func TestResumeCompressedSiblings(t *testing.T) {
	for _, tc := range []struct {
		name string
		rot  func(h *harness)
	}{
		{"numbered", func(h *harness) {
			h.rename("access.log", "access.log.1")
			h.write("access.log", "mid1\nmid2\n")
			h.rename("access.log.1", "access.log.2")
			compress(t, h.path("access.log.2"), ".gz")
			h.rename("access.log", "access.log.1")
			compress(t, h.path("access.log.1"), ".zst")
		}},
		{"dateext", func(h *harness) {
			h.write("access.log-20261130.gz", "older, never read\n") // not gzip: its start matches nothing
			h.rename("access.log", "access.log-20261201")
			compress(t, h.path("access.log-20261201"), ".gz")
			h.write("access.log", "mid1\nmid2\n")
			h.rename("access.log", "access.log-20261202")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := func() Config { return Config{Paths: []string{"access.log"}, StartAtEnd: true} }
			h := start(t, dir, cfg(), nil)
			h.write("access.log", "a-first-line-of-the-old-file\n")
			h.lines()
			ps := h.stop()
			h.write("access.log", "b\n")
			tc.rot(h)
			h.write("access.log", "new\n")

			h = start(t, dir, cfg(), ps)
			want := []string{"access.log: b", "access.log: mid1", "access.log: mid2", "access.log: new"}
			if diff := cmp.Diff(want, h.rec.takeLines()); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
			// Kill now: the positions name every file still open, the
			// compressed ones by their decompressed offset.
			ps = h.stop()
			h = start(t, dir, cfg(), ps)
			if got := h.rec.takeLines(); len(got) != 0 {
				t.Errorf("after a second restart, read again: %q", got)
			}
			if c, _ := h.rec.counts(); c.events[EventLost] != 0 {
				t.Errorf("lost %d files", c.events[EventLost])
			}
		})
	}
}

// Lines provably lost are counted: a saved file deleted unread, and rotated
// files past the bound of open files per path.
func TestLostAccounting(t *testing.T) {
	t.Run("deleted while stopped", func(t *testing.T) {
		dir := t.TempDir()
		h := start(t, dir, Config{Paths: []string{"access.log"}}, nil)
		h.write("access.log", "a\n")
		h.lines()
		ps := h.stop()
		h.write("access.log", "b\n")
		h.remove("access.log")
		h.write("access.log", "new\n")
		h = start(t, dir, Config{Paths: []string{"access.log"}}, ps)
		if diff := cmp.Diff([]string{"lost access.log @2"}, eventsOf(h.rec.takeEvents(), EventLost)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		if c, _ := h.rec.counts(); c.events[EventLost] != 1 {
			t.Errorf("lost events counted %d, want 1", c.events[EventLost])
		}
	})
	t.Run("bound", func(t *testing.T) {
		h := start(t, t.TempDir(), Config{Paths: []string{"access.log"}}, nil)
		h.write("access.log", "a\n")
		h.lines()
		const n = maxOpenPerPath + 6
		var want []string
		for i := range n {
			name := fmt.Sprintf("access.log-2026%04d", i)
			h.write("access.log", name+"\n")
			h.rename("access.log", name)
			want = append(want, "access.log: "+name)
		}
		h.write("access.log", "new\n")
		want = append(want, "access.log: new")
		// The first rotated file is the one followed: it is read to its
		// end and closed, nothing lost. The n-1 rotated files never seen
		// and the new one are opened; past the bound the oldest unread
		// ones are given up.
		lost := n - maxOpenPerPath
		got := h.lines()
		checkLines(t, append(want[:1:1], want[1+lost:]...), got)
		ev := eventsOf(h.rec.takeEvents(), EventLost)
		if c, _ := h.rec.counts(); len(ev) != lost || c.events[EventLost] != int64(lost) {
			t.Errorf("lost events %q, counted %d, want %d", ev, c.events[EventLost], lost)
		}
		if len(ev) > 0 && ev[0] != "lost access.log-20260001 @0" {
			t.Errorf("first lost %q, want access.log-20260001 @0", ev[0])
		}
	})
}

func TestRotationKey(t *testing.T) {
	names := []string{ // oldest first
		"access.log-20261130.gz",
		"access.log-20261201",
		"access.log-20261201-1200.bz2",
		"access.log.12.gz",
		"access.log.2.gz",
		"access.log.1",
	}
	for i := range names {
		ki, ok := rotationKey("access.log", names[i])
		if !ok {
			t.Fatalf("%s: not a rotation", names[i])
		}
		for j := i + 1; j < len(names); j++ {
			kj, _ := rotationKey("access.log", names[j])
			if !kj.newer(ki) || ki.newer(kj) {
				t.Errorf("%s should be newer than %s", names[j], names[i])
			}
		}
	}
	for _, n := range []string{"access.log", "access.log.bak", "access.logx1", "access.log.1.tmp", "access.log.", "other.log.1", "access.log.old.gz"} {
		if _, ok := rotationKey("access.log", n); ok {
			t.Errorf("%s taken as a rotation of access.log", n)
		}
	}
}

// A checkpoint taken at the first line of a file resumed at 0 with no
// fingerprint (it was empty when saved) already identifies the file, so it
// is found again after being rotated and compressed.
func TestPositionFromFirstLineIdentifiesFile(t *testing.T) {
	dir := t.TempDir()
	cfg := func() Config { return Config{Paths: []string{"access.log"}, StartAtEnd: true} }
	h := start(t, dir, cfg(), nil)
	h.write("access.log", "")
	h.step()
	ps := h.stop()
	if p := positionFor(t, ps, h.path("access.log")); p.FingerprintLen != 0 {
		t.Fatalf("empty file saved with a fingerprint: %+v", p)
	}
	h = start(t, dir, cfg(), ps)
	var atFirst []Position
	h.rec.onLine = func(string) {
		if atFirst == nil {
			atFirst = h.tl.Positions()
		}
	}
	h.write("access.log", "one\ntwo\nthree\n")
	h.lines()
	h.stop()
	if p := positionFor(t, atFirst, h.path("access.log")); p.Offset != 4 || p.FingerprintLen != 14 {
		t.Errorf("position at the first line = %+v, want offset 4 and the 14 bytes read fingerprinted", p)
	}
	// Killed right after that checkpoint; the file is rotated and
	// compressed before the restart.
	h.rename("access.log", "access.log.1")
	compress(t, h.path("access.log.1"), ".gz")
	h.write("access.log", "new\n")
	h = start(t, dir, cfg(), atFirst)
	want := []string{"access.log: two", "access.log: three", "access.log: new"}
	if diff := cmp.Diff(want, h.rec.takeLines()); diff != "" {
		t.Errorf("lines after restart (-want +got):\n%s", diff)
	}
	if c, _ := h.rec.counts(); c.events[EventLost] != 0 {
		t.Errorf("lost %d files", c.events[EventLost])
	}
}

// A new file found empty while an older one drains, and written to while it
// waits, is fingerprinted as it grows: its position identifies it even if it
// is rotated and compressed before it is read.
func TestWaitingFileFingerprinted(t *testing.T) {
	h := startChunk(t, t.TempDir(), Config{Paths: []string{"access.log"}}, nil, passChunk)
	h.write("access.log", "first\n")
	h.step()
	h.rec.takeLines()
	old, _ := bigBacklog("old", 12000)
	h.write("access.log", old)
	h.rename("access.log", "access.log.1")
	h.write("access.log", "")
	var during []Position
	h.rec.onLine = func(line string) {
		switch {
		case strings.HasPrefix(line, "access.log: old-05000"):
			h.write("access.log", "written while waiting\n")
		case strings.HasPrefix(line, "access.log: old-11999"):
			during = h.tl.Positions()
		}
	}
	h.lines()
	if len(during) != 2 || during[1].Offset != 0 || during[1].FingerprintLen != 22 {
		t.Errorf("positions at the end of the backlog = %+v, want the waiting file at 0 with 22 bytes fingerprinted", during)
	}
}

// A rotated file compressed between the listing of the directory and its
// opening is read from its compressed version.
func TestCompressedSinceListing(t *testing.T) {
	h := start(t, t.TempDir(), Config{Paths: []string{"access.log"}}, nil)
	h.write("access.log.1", "x\n")
	sibs, err := h.tl.siblings(h.path("access.log"))
	if err != nil || len(sibs) != 1 {
		t.Fatalf("siblings = %+v, %v", sibs, err)
	}
	compress(t, h.path("access.log.1"), ".gz")
	if h.tl.openSibling(&sibs[0], h.path("access.log"), 0, h.rec) {
		t.Fatal("opened a file that is gone")
	}
	c := compressedVersion(&sibs[0])
	if c == nil || c.name != h.path("access.log.1.gz") {
		t.Fatalf("compressed version = %+v", c)
	}
}

// The path is gone when a pass sees the rotation; before the next pass it
// is created, rotated again and created once more: the file in between is
// found when the new live file is.
func TestRotatedWhileGone(t *testing.T) {
	h := start(t, t.TempDir(), Config{Paths: []string{"access.log"}}, nil)
	h.write("access.log", "a\n")
	h.lines()
	h.rename("access.log", "access.log-20260001")
	if got := h.lines(); len(got) != 0 {
		t.Fatalf("lines %q", got)
	}
	h.write("access.log", "mid\n")
	h.rename("access.log", "access.log-20260002")
	h.write("access.log", "new\n")
	if diff := cmp.Diff([]string{"access.log: mid", "access.log: new"}, h.lines()); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}
