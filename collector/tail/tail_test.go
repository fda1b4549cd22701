package tail

// The tailer's behaviour, case by case, on the one harness of
// helpers_test.go: kept together so that every case reads against the same
// harness.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestStartPosition(t *testing.T) {
	tests := []struct {
		name       string
		startAtEnd bool
		before     string // in the file when the tailer starts
		wantFirst  []string
	}{
		{"beginning", false, "a\nb\npar", []string{"access.log: a", "access.log: b"}},
		{"end", true, "a\nb\npar", nil},
		{"end of an unfinished line", true, "par", nil},
		{"end of an empty file", true, "", nil},
		{"end of complete lines", true, "a\nb\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir+"/access.log", tt.before)
			h := start(t, dir, Config{Paths: []string{"access.log"}, StartAtEnd: tt.startAtEnd}, nil)
			if diff := cmp.Diff(tt.wantFirst, h.lines()); diff != "" {
				t.Errorf("first lines (-want +got):\n%s", diff)
			}
			h.write("access.log", "")
			want := []string{"access.log: c"}
			if strings.HasSuffix(tt.before, "par") {
				want = []string{"access.log: partial", "access.log: c"}
				h.write("access.log", "tial\n")
			}
			h.write("access.log", "c\n")
			if diff := cmp.Diff(want, h.lines()); diff != "" {
				t.Errorf("appended lines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAppendsAndPartialLine(t *testing.T) {
	h := start(t, t.TempDir(), Config{Paths: []string{"access.log"}}, nil)
	if diff := cmp.Diff([]string(nil), h.lines()); diff != "" {
		t.Errorf("no file yet (-want +got):\n%s", diff)
	}
	steps := []struct {
		write string
		want  []string
	}{
		{"one\ntw", []string{"access.log: one"}},
		{"", nil},
		{"o\nthree\n", []string{"access.log: two", "access.log: three"}},
		{"\n", []string{"access.log: "}},
		{"fo", nil},
		{"u", nil},
	}
	for i, s := range steps {
		h.write("access.log", s.write)
		if diff := cmp.Diff(s.want, h.lines()); diff != "" {
			t.Errorf("step %d: write %q (-want +got):\n%s", i, s.write, diff)
		}
	}
	ps := h.stop()
	if got, want := positionFor(t, ps, h.path("access.log")).Offset, int64(len("one\ntwo\nthree\n\n")); got != want {
		t.Errorf("offset = %d, want %d (before the unfinished line)", got, want)
	}
	c, open := h.rec.counts()
	if c.lines != 4 || c.bytes != int64(len("one\ntwo\nthree\n\n")) || open != 0 {
		t.Errorf("counted %+v, %d files open; want 4 lines, 15 bytes, 0 files open", c, open)
	}
}

// TestBacklog reads more than one pass's budget in one step, in order.
func TestBacklog(t *testing.T) {
	h := start(t, t.TempDir(), Config{Paths: []string{"access.log"}}, nil)
	h.step()
	const n = 12000 // about 3 MiB: more than one pass's budget
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%08d %s\n", i, strings.Repeat("x", 240))
	}
	h.write("access.log", b.String())
	got := h.lines()
	if len(got) != n {
		t.Fatalf("got %d lines, want %d", len(got), n)
	}
	for i, l := range got {
		if want := fmt.Sprintf("access.log: %08d ", i); !strings.HasPrefix(l, want) {
			t.Fatalf("line %d = %.30q, want prefix %q", i, l, want)
		}
	}
	if h.rec.idle == 0 {
		t.Error("Idle never called")
	}
}

// TestRotationBacklogOrder rotates files holding more than one pass can
// read: the old file's lines still all come before the new file's, live and
// after a restart.
func TestRotationBacklogOrder(t *testing.T) {
	backlog := func(tag string) (string, []string) {
		var b strings.Builder
		var want []string
		for i := range 12000 {
			l := fmt.Sprintf("%s-%05d %s", tag, i, strings.Repeat("x", 240))
			b.WriteString(l + "\n")
			want = append(want, "access.log: "+l)
		}
		return b.String(), want
	}
	check := func(t *testing.T, want, got []string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("got %d lines, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("line %d = %.40q, want %.40q", i, got[i], want[i])
			}
		}
	}
	t.Run("live", func(t *testing.T) {
		h := start(t, t.TempDir(), Config{Paths: []string{"access.log"}}, nil)
		h.write("access.log", "first\n")
		h.step()
		h.rec.takeLines()
		old, want := backlog("old")
		h.write("access.log", old)
		h.rename("access.log", "access.log.1")
		h.write("access.log", "new\n")
		check(t, append(want, "access.log: new"), h.lines())
	})
	t.Run("copytruncate", func(t *testing.T) {
		h := start(t, t.TempDir(), Config{Paths: []string{"access.log"}}, nil)
		h.write("access.log", "first\n")
		h.step()
		h.rec.takeLines()
		old, want := backlog("old")
		h.write("access.log", old)
		h.write("access.log.1", "first\n"+old)
		if err := os.Truncate(h.path("access.log"), 0); err != nil {
			t.Fatal(err)
		}
		h.write("access.log", "new\n")
		check(t, append(want, "access.log: new"), h.lines())
	})
	t.Run("restart", func(t *testing.T) {
		dir := t.TempDir()
		h := start(t, dir, Config{Paths: []string{"access.log"}}, nil)
		h.write("access.log", "first\n")
		h.step()
		ps := h.stop()
		old, want := backlog("old")
		h.write("access.log", old)
		h.rename("access.log", "access.log.1")
		h.write("access.log", "new\n")
		h = start(t, dir, Config{Paths: []string{"access.log"}}, ps)
		check(t, append(want, "access.log: new"), h.rec.takeLines())
	})
}

func TestRenameCreate(t *testing.T) {
	t.Run("one step at a time", func(t *testing.T) {
		h := start(t, t.TempDir(), Config{Paths: []string{"access.log"}}, nil)
		h.write("access.log", "old-1\n")
		h.step()
		h.rec.takeLines()
		h.rec.takeEvents()

		// logrotate renames; nginx keeps writing to its open file.
		h.rename("access.log", "access.log.1")
		h.write("access.log.1", "old-2\n")
		if diff := cmp.Diff([]string{"access.log: old-2"}, h.lines()); diff != "" {
			t.Errorf("after rename (-want +got):\n%s", diff)
		}
		h.write("access.log.1", "old-3\n")
		// nginx reopens on USR1; a worker still writes one more line to
		// the old file.
		h.write("access.log", "new-1\n")
		h.write("access.log.1", "old-4\n")
		want := []string{"access.log: old-3", "access.log: old-4", "access.log: new-1"}
		if diff := cmp.Diff(want, h.lines()); diff != "" {
			t.Errorf("after create (-want +got):\n%s", diff)
		}
		// Within the grace period the old file is still read.
		h.clock.Advance(4 * time.Second)
		h.write("access.log.1", "old-5\n")
		h.write("access.log", "new-2\n")
		want = []string{"access.log: old-5", "access.log: new-2"}
		if diff := cmp.Diff(want, h.lines()); diff != "" {
			t.Errorf("within grace (-want +got):\n%s", diff)
		}
		h.clock.Advance(4 * time.Second)
		h.step() // idle 4s: kept
		h.clock.Advance(2 * time.Second)
		h.step() // idle 6s: closed
		wantEvents := []string{
			"rotated access.log @12",
			"opened access.log @0",
			"closed access.log @30",
		}
		if diff := cmp.Diff(wantEvents, h.rec.takeEvents()); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		ps := h.stop()
		if len(ps) != 1 || ps[0].Offset != int64(len("new-1\nnew-2\n")) {
			t.Errorf("positions = %+v, want only the new file at 12", ps)
		}
		if c, _ := h.rec.counts(); c.events[EventRotated] != 1 || c.lines != 7 {
			t.Errorf("counted %+v, want 1 rotation, 7 lines", c)
		}
	})
	t.Run("all between two wake-ups", func(t *testing.T) {
		h := start(t, t.TempDir(), Config{Paths: []string{"access.log"}}, nil)
		h.write("access.log", "old-1\n")
		h.step()
		h.rec.takeLines()
		h.rename("access.log", "access.log.1")
		h.write("access.log.1", "old-2\n")
		h.write("access.log", "new-1\n")
		h.write("access.log.1", "old-3\n")
		h.write("access.log", "new-2\n")
		want := []string{"access.log: old-2", "access.log: old-3", "access.log: new-1", "access.log: new-2"}
		if diff := cmp.Diff(want, h.lines()); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("many rotations", func(t *testing.T) {
		h := start(t, t.TempDir(), Config{Paths: []string{"access.log"}}, nil)
		var want, got []string
		for i := range 50 {
			h.write("access.log", fmt.Sprintf("gen-%d-a\n", i))
			got = append(got, h.lines()...)
			h.rename("access.log", "access.log.1")
			h.write("access.log.1", fmt.Sprintf("gen-%d-b\n", i))
			want = append(want, fmt.Sprintf("access.log: gen-%d-a", i), fmt.Sprintf("access.log: gen-%d-b", i))
			got = append(got, h.lines()...)
			h.clock.Advance(10 * time.Second)
		}
		h.step()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if _, n := h.rec.counts(); n > 1 {
			t.Errorf("%d files still open, want at most 1", n)
		}
	})
}

func TestCopyTruncate(t *testing.T) {
	tests := []struct {
		name       string
		first      string // read before the rotation
		unread     string // written before the copy, not read yet
		copy       bool   // logrotate makes a copy before truncating
		after      string // written after the truncation
		wantLines  []string
		wantEvents []string
	}{
		{
			name: "caught up", first: "a\nb\n", copy: true, after: "c\n",
			wantLines:  []string{"access.log: c"},
			wantEvents: []string{"truncated access.log from 4"},
		},
		{
			name: "unread lines saved in the copy", first: "a\n", unread: "b\nc\n", copy: true, after: "dd\n",
			wantLines:  []string{"access.log: b", "access.log: c", "access.log: dd"},
			wantEvents: []string{"opened access.log.1 @2", "truncated access.log from 2"},
		},
		{
			name: "no copy, truncated to empty", first: "a\n",
			wantEvents: []string{"truncated access.log from 2"},
		},
		{
			name: "rewritten past the old offset between looks", first: "aaaa\n", after: "bbbbbbbbbb\ncc\n",
			wantLines:  []string{"access.log: bbbbbbbbbb", "access.log: cc"},
			wantEvents: []string{"truncated access.log from 5"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, t.TempDir(), Config{Paths: []string{"access.log"}}, nil)
			h.write("access.log", tt.first)
			h.step()
			h.rec.takeLines()
			h.rec.takeEvents()
			h.write("access.log", tt.unread)
			if tt.copy {
				b, err := os.ReadFile(h.path("access.log"))
				if err != nil {
					t.Fatal(err)
				}
				h.write("access.log.1", string(b))
			}
			if err := os.Truncate(h.path("access.log"), 0); err != nil {
				t.Fatal(err)
			}
			h.write("access.log", tt.after)
			if diff := cmp.Diff(tt.wantLines, h.lines()); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantEvents, h.rec.takeEvents()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			h.write("access.log", "next\n")
			if diff := cmp.Diff([]string{"access.log: next"}, h.lines()); diff != "" {
				t.Errorf("after (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFileAppearsAfterStart(t *testing.T) {
	h := start(t, t.TempDir(), Config{Paths: []string{"logs/access.log"}, StartAtEnd: true}, nil)
	h.step()
	if err := os.Mkdir(h.path("logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	h.step()
	h.write("logs/access.log", "a\nb\n")
	// Appeared after the start: read from 0 despite StartAtEnd.
	want := []string{"logs/access.log: a", "logs/access.log: b"}
	if diff := cmp.Diff(want, h.lines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"opened logs/access.log @0"}, h.rec.takeEvents()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{h.path("logs")}, h.waker.Dirs()); diff != "" {
		t.Errorf("watched dirs (-want +got):\n%s", diff)
	}
}

func TestVanishAndReturn(t *testing.T) {
	h := start(t, t.TempDir(), Config{Paths: []string{"access.log"}}, nil)
	h.write("access.log", "a\n")
	if diff := cmp.Diff([]string{"access.log: a"}, h.lines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	h.remove("access.log")
	for range 3 {
		h.step()
	}
	h.clock.Advance(time.Minute)
	for range 3 {
		h.step()
	}
	h.write("access.log", "b\n")
	if diff := cmp.Diff([]string{"access.log: b"}, h.lines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	want := []string{
		"opened access.log @0",
		"rotated access.log @2",
		"closed access.log @2",
		"opened access.log @0",
	}
	if diff := cmp.Diff(want, h.rec.takeEvents()); diff != "" {
		t.Errorf("events, no errors (-want +got):\n%s", diff)
	}
}

func TestGlob(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/a.log", "a-old\n")
	h := start(t, dir, Config{Paths: []string{"*.log", "sites/*/access.log"}, StartAtEnd: true}, nil)
	h.step()
	h.write("b.log", "b-1\n")
	h.write("a.log", "a-1\n")
	h.write("other.txt", "ignored\n")
	want := []string{"a.log: a-1", "b.log: b-1"}
	if diff := cmp.Diff(want, h.lines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if err := os.MkdirAll(h.path("sites/example"), 0o755); err != nil {
		t.Fatal(err)
	}
	h.write("sites/example/access.log", "site-1\n")
	if diff := cmp.Diff([]string{"sites/example/access.log: site-1"}, h.lines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{dir, h.path("sites/example")}, h.waker.Dirs()); diff != "" {
		t.Errorf("watched dirs (-want +got):\n%s", diff)
	}
}

func TestTooLong(t *testing.T) {
	h := start(t, t.TempDir(), Config{Paths: []string{"access.log"}, MaxLineBytes: 16}, nil)
	h.write("access.log", "ok-1\n"+strings.Repeat("x", 17)+"\nok-2\n"+strings.Repeat("y", 16)+"\n")
	want := []string{"access.log: ok-1", "access.log: ok-2", "access.log: " + strings.Repeat("y", 16)}
	if diff := cmp.Diff(want, h.lines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// An over-long line arriving in pieces.
	h.write("access.log", strings.Repeat("z", 10))
	h.step()
	h.write("access.log", strings.Repeat("z", 10))
	h.step()
	h.write("access.log", "zz\nok-3\n")
	if diff := cmp.Diff([]string{"access.log: ok-3"}, h.lines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A line longer than the whole read buffer.
	h.write("access.log", strings.Repeat("w", 200<<10)+"\nok-4\n")
	if diff := cmp.Diff([]string{"access.log: ok-4"}, h.lines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	wantEvents := []string{
		"opened access.log @0",
		"too_long access.log @5 len 17",
		"too_long access.log @45 len 22",
		fmt.Sprintf("too_long access.log @73 len %d", 200<<10),
	}
	if diff := cmp.Diff(wantEvents, h.rec.takeEvents()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if c, _ := h.rec.counts(); c.events[EventTooLong] != 3 || c.lines != 5 {
		t.Errorf("counted %+v, want 3 too long, 5 lines", c)
	}
}

// TestTooLongPosition checks that the position stays before a line being
// skipped until its newline arrives, across a restart.
func TestTooLongPosition(t *testing.T) {
	dir := t.TempDir()
	cfg := func() Config { return Config{Paths: []string{"access.log"}, MaxLineBytes: 16} }
	h := start(t, dir, cfg(), nil)
	h.write("access.log", "ok\n"+strings.Repeat("z", 40))
	h.lines()
	ps := h.stop()
	if got := ps[0].Offset; got != 3 {
		t.Fatalf("offset = %d, want 3", got)
	}
	writeFile(t, dir+"/access.log", "\nnext\n")
	h = start(t, dir, cfg(), ps)
	if diff := cmp.Diff([]string{"access.log: next"}, h.lines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"too_long access.log @3 len 40"}, eventsOf(h.rec.takeEvents(), EventTooLong)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestResume(t *testing.T) {
	dir := t.TempDir()
	cfg := func() Config { return Config{Paths: []string{"access.log"}, StartAtEnd: true} }
	writeFile(t, dir+"/access.log", "before start\n")
	h := start(t, dir, cfg(), nil)
	h.write("access.log", "a\nb\npar")
	if diff := cmp.Diff([]string{"access.log: a", "access.log: b"}, h.lines()); diff != "" {
		t.Errorf("first run (-want +got):\n%s", diff)
	}
	ps := h.stop()

	writeFile(t, dir+"/access.log", "tial\nc\n") // while stopped
	h = start(t, dir, cfg(), ps)
	if diff := cmp.Diff([]string{"access.log: partial", "access.log: c"}, h.lines()); diff != "" {
		t.Errorf("second run (-want +got):\n%s", diff)
	}
	h.write("access.log", "d\n")
	if diff := cmp.Diff([]string{"access.log: d"}, h.lines()); diff != "" {
		t.Errorf("second run (-want +got):\n%s", diff)
	}
	ps = h.stop()

	h = start(t, dir, cfg(), ps)
	if diff := cmp.Diff([]string(nil), h.lines()); diff != "" {
		t.Errorf("third run, nothing new (-want +got):\n%s", diff)
	}
}

func TestResumeAfterRotation(t *testing.T) {
	tests := []struct {
		name       string
		rotate     func(h *harness) // while stopped, after "b\n" was appended
		wantLines  []string
		wantEvents []string
	}{
		{
			name: "renamed",
			rotate: func(h *harness) {
				h.rename("access.log", "access.log.1")
				h.write("access.log.1", "c\n")
				h.write("access.log", "new\n")
			},
			wantLines:  []string{"access.log: b", "access.log: c", "access.log: new"},
			wantEvents: []string{"opened access.log.1 @2", "opened access.log @0"},
		},
		{
			name: "renamed twice",
			rotate: func(h *harness) {
				h.rename("access.log", "access.log.1")
				h.write("access.log", "mid\n")
				h.rename("access.log.1", "access.log.2")
				h.rename("access.log", "access.log.1")
				h.write("access.log", "new\n")
			},
			// The middle generation had no saved position: it is found
			// as the rotated sibling newer than the saved file, and read
			// whole before the live file.
			wantLines:  []string{"access.log: b", "access.log: mid", "access.log: new"},
			wantEvents: []string{"opened access.log.2 @2", "opened access.log.1 @0", "opened access.log @0"},
		},
		{
			name: "copied and truncated",
			rotate: func(h *harness) {
				b, err := os.ReadFile(h.path("access.log"))
				if err != nil {
					h.t.Fatal(err)
				}
				h.write("access.log.1", string(b))
				if err := os.Truncate(h.path("access.log"), 0); err != nil {
					h.t.Fatal(err)
				}
				h.write("access.log", "new\n")
			},
			wantLines:  []string{"access.log: b", "access.log: new"},
			wantEvents: []string{"opened access.log.1 @2", "opened access.log @0"},
		},
		{
			name: "deleted",
			rotate: func(h *harness) {
				h.remove("access.log")
				h.write("access.log", "new\n")
			},
			wantLines:  []string{"access.log: new"},
			wantEvents: []string{"lost access.log @2", "opened access.log @0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			// StartAtEnd must not apply to the file that replaced ours.
			cfg := func() Config { return Config{Paths: []string{"access.log"}, StartAtEnd: true} }
			h := start(t, dir, cfg(), nil)
			h.write("access.log", "a\n")
			h.lines()
			ps := h.stop()
			h.write("access.log", "b\n")
			tt.rotate(h)

			h = start(t, dir, cfg(), ps)
			if diff := cmp.Diff(tt.wantLines, h.lines()); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantEvents, eventsOf(h.rec.takeEvents(), EventOpened, EventLost)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			h.clock.Advance(time.Minute)
			h.step()
			ps = h.stop()
			if len(ps) != 1 || ps[0].Offset != 4 {
				t.Errorf("positions = %+v, want only the new file at 4", ps)
			}
		})
	}
}

// TestResumeWhileDraining stops while a rotated file is still being drained
// and nginx goes on writing to it.
func TestResumeWhileDraining(t *testing.T) {
	dir := t.TempDir()
	cfg := func() Config { return Config{Paths: []string{"access.log"}} }
	h := start(t, dir, cfg(), nil)
	h.write("access.log", "old-1\n")
	if diff := cmp.Diff([]string{"access.log: old-1"}, h.lines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	h.rename("access.log", "access.log.1")
	h.write("access.log", "new-1\n")
	if diff := cmp.Diff([]string{"access.log: new-1"}, h.lines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	ps := h.stop()
	if len(ps) != 2 {
		t.Fatalf("positions = %+v, want the rotated and the new file", ps)
	}
	h.write("access.log.1", "old-2\n")
	h.write("access.log", "new-2\n")

	h = start(t, dir, cfg(), ps)
	want := []string{"access.log: old-2", "access.log: new-2"}
	if diff := cmp.Diff(want, h.lines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestResumeFingerprintMismatch: a file at the saved inode that does not
// start with the saved bytes (the inode was reused) is a new file.
func TestResumeFingerprintMismatch(t *testing.T) {
	dir := t.TempDir()
	h := start(t, dir, Config{Paths: []string{"access.log"}}, nil)
	h.write("access.log", "a\n")
	h.lines()
	ps := h.stop()
	ps[0].Fingerprint ^= 1
	h = start(t, dir, Config{Paths: []string{"access.log"}}, ps)
	if diff := cmp.Diff([]string{"access.log: a"}, h.lines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"lost access.log @2"}, eventsOf(h.rec.takeEvents(), EventLost)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestUnreadable(t *testing.T) {
	if asUnprivileged(t) {
		return
	}
	h := start(t, t.TempDir(), Config{Paths: []string{"access.log"}}, nil)
	h.write("access.log", "a\n")
	if err := os.Chmod(h.path("access.log"), 0); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		h.step()
	}
	if len(h.rec.errs) != 1 || !errors.Is(h.rec.errs[0], os.ErrPermission) {
		t.Fatalf("errors = %v, want one permission error", h.rec.errs)
	}
	if err := os.Chmod(h.path("access.log"), 0o644); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"access.log: a"}, h.lines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestResumeUnreadable: a saved position whose file cannot be read yet is
// kept, not given up; once readable, the file resumes where it was.
func TestResumeUnreadable(t *testing.T) {
	if asUnprivileged(t) {
		return
	}
	dir := t.TempDir()
	h := start(t, dir, Config{Paths: []string{"access.log"}}, nil)
	h.write("access.log", "a\n")
	h.lines()
	ps := h.stop()
	h.write("access.log", "b\n")
	if err := os.Chmod(h.path("access.log"), 0); err != nil {
		t.Fatal(err)
	}
	h = start(t, dir, Config{Paths: []string{"access.log"}}, ps)
	h.step()
	if len(h.rec.errs) != 1 || !errors.Is(h.rec.errs[0], os.ErrPermission) {
		t.Fatalf("errors = %v, want one permission error", h.rec.errs)
	}
	if err := os.Chmod(h.path("access.log"), 0o644); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"access.log: b"}, h.lines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if err := os.Chmod(h.path("access.log"), 0); err != nil {
		t.Fatal(err)
	}
	h2 := h.stop()
	if diff := cmp.Diff(ps[0].Inode, h2[0].Inode); diff != "" {
		t.Errorf("inode (-want +got):\n%s", diff)
	}
}

// TestPendingPositionKept: Positions taken while a saved position cannot be
// resumed still holds it.
func TestPendingPositionKept(t *testing.T) {
	if asUnprivileged(t) {
		return
	}
	dir := t.TempDir()
	writeFile(t, dir+"/access.log", "a\n")
	if err := os.Chmod(dir+"/access.log", 0); err != nil {
		t.Fatal(err)
	}
	saved := []Position{{Path: dir + "/access.log", Inode: 1, Offset: 2}}
	h := start(t, dir, Config{Paths: []string{"access.log"}}, saved)
	if diff := cmp.Diff(saved, h.stop()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestNotRegular(t *testing.T) {
	h := start(t, t.TempDir(), Config{Paths: []string{"access.log"}}, nil)
	if err := os.Mkdir(h.path("access.log"), 0o755); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		h.step()
	}
	if len(h.rec.errs) != 1 || !errors.Is(h.rec.errs[0], ErrNotRegular) {
		t.Fatalf("errors = %v, want one ErrNotRegular", h.rec.errs)
	}
	if err := os.Remove(h.path("access.log")); err != nil {
		t.Fatal(err)
	}
	h.write("access.log", "a\n")
	if diff := cmp.Diff([]string{"access.log: a"}, h.lines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if c, _ := h.rec.counts(); c.events[EventReadError] != 1 {
		t.Errorf("counted %+v, want 1 error", c)
	}
}

func TestSameFileTwoPatterns(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/access.log", "a\n")
	if err := os.Symlink(dir+"/access.log", dir+"/link.log"); err != nil {
		t.Fatal(err)
	}
	h := start(t, dir, Config{Paths: []string{"access.log", "*.log"}}, nil)
	if diff := cmp.Diff([]string{"access.log: a"}, h.lines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		positions []Position
		wantErr   string
	}{
		{"no paths", Config{}, nil, "tail: no paths to follow"},
		{"empty path", Config{Paths: []string{""}}, nil, "tail: path 0 is empty"},
		{"bad glob", Config{Paths: []string{"/var/log/[.log"}}, nil, `tail: path "/var/log/[.log": syntax error in pattern`},
		{"negative line limit", Config{Paths: []string{"a"}, MaxLineBytes: -1}, nil, "tail: max line bytes -1 is negative"},
		{"negative poll", Config{Paths: []string{"a"}, PollInterval: -time.Second}, nil, "tail: poll interval -1s is negative"},
		{"bad position", Config{Paths: []string{"a"}}, []Position{{Path: "a", Offset: -1}}, "tail: position 0 (a): offset -1 is negative"},
		{"bad fingerprint", Config{Paths: []string{"a"}}, []Position{{Path: "a", FingerprintLen: 300}}, "tail: position 0 (a): fingerprint length 300 is out of range"},
		{"ok", Config{Paths: []string{"/var/log/nginx/*.log"}}, []Position{{Path: "/var/log/nginx/a.log"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg, tt.positions)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("New() error = %q, want %q", got, tt.wantErr)
			}
		})
	}
}

func TestRunTwice(t *testing.T) {
	h := start(t, t.TempDir(), Config{Paths: []string{"access.log"}}, nil)
	h.step()
	if err := h.tl.Run(t.Context(), h.rec); err == nil {
		t.Error("second Run returned nil")
	}
}

func TestEventKindString(t *testing.T) {
	got := []string{}
	for k := EventOpened; k <= EventLost+1; k++ {
		got = append(got, k.String())
	}
	want := []string{"opened", "closed", "rotated", "truncated", "too_long", "read_error", "lost", "event(8)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestNoAllocationPerLine checks that the steady state allocates per pass,
// not per line.
func TestNoAllocationPerLine(t *testing.T) {
	dir := t.TempDir()
	w := NewManualWaker()
	tl, err := New(Config{Paths: []string{dir + "/access.log"}, Waker: w, Now: newFakeClock().Now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var lines int
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- tl.Run(ctx, HandlerFuncs{LineFunc: func(*File, []byte, int64) { lines++ }}) }()
	step := func() {
		sctx, scancel := context.WithTimeout(ctx, stepTimeout)
		defer scancel()
		if err := w.Step(sctx); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.OpenFile(dir+"/access.log", os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	step()
	const line = "0123456789 GET /index.html 200\n"
	measure := func(n int) float64 {
		b := []byte(strings.Repeat(line, n))
		return testing.AllocsPerRun(20, func() {
			if _, err := f.Write(b); err != nil {
				t.Fatal(err)
			}
			step()
		})
	}
	few, many := measure(10), measure(2000)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("allocations per step: %v with 10 lines, %v with 2000 lines", few, many)
	if many-few > 5 {
		t.Errorf("2000 lines cost %v more allocations than 10: allocation per line", many-few)
	}
	if want := 21 * (10 + 2000); lines != want {
		t.Errorf("read %d lines, want %d", lines, want)
	}
}

// TestRotatedFileMatchedAgain: a pattern that also matches the rotated name
// picks the renamed file up again as the same file, not as a new one.
func TestRotatedFileMatchedAgain(t *testing.T) {
	h := start(t, t.TempDir(), Config{Paths: []string{"access.log", "access.log.1"}}, nil)
	h.write("access.log", "a\n")
	if diff := cmp.Diff([]string{"access.log: a"}, h.lines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	h.rec.takeEvents()
	h.rename("access.log", "access.log.1")
	h.write("access.log.1", "b\n")
	h.write("access.log", "c\n")
	want := []string{"access.log: b", "access.log: c"}
	if diff := cmp.Diff(want, h.lines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	h.clock.Advance(time.Hour)
	h.write("access.log.1", "d\n")
	if diff := cmp.Diff([]string{"access.log.1: d"}, h.lines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	wantEvents := []string{"rotated access.log @4", "opened access.log @0", "opened access.log.1 @4"}
	if diff := cmp.Diff(wantEvents, eventsOf(h.rec.takeEvents(), EventOpened, EventRotated, EventClosed)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestStartAtEndInsideLongLine starts at the end of a file whose unfinished
// last line is already too long: the rest of it is skipped.
func TestStartAtEndInsideLongLine(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/access.log", "a\n"+strings.Repeat("z", 200<<10))
	h := start(t, dir, Config{Paths: []string{"access.log"}, MaxLineBytes: 16, StartAtEnd: true}, nil)
	h.write("access.log", "zz\nok\n")
	if diff := cmp.Diff([]string{"access.log: ok"}, h.lines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := eventsOf(h.rec.takeEvents(), EventTooLong); len(got) != 1 {
		t.Errorf("too-long events = %v, want one", got)
	}
}

// TestLinesWrittenWhileCounting: lines written while the handler counts
// the ones read come in the same pass, not after an idle one.
func TestLinesWrittenWhileCounting(t *testing.T) {
	h := start(t, t.TempDir(), Config{Paths: []string{"access.log"}}, nil)
	h.rec.onLine = func(line string) {
		if line == "access.log: a" {
			h.write("access.log", "b\n")
		}
	}
	h.write("access.log", "a\n")
	h.rec.mu.Lock()
	idle := h.rec.idle
	h.rec.mu.Unlock()
	if diff := cmp.Diff([]string{"access.log: a", "access.log: b"}, h.lines()); diff != "" {
		t.Errorf("one step (-want +got):\n%s", diff)
	}
	h.rec.mu.Lock()
	defer h.rec.mu.Unlock()
	if h.rec.idle != idle+1 {
		t.Errorf("%d idle passes for the two lines, want 1", h.rec.idle-idle)
	}
}
