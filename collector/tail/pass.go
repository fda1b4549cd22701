package tail

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// runPass makes one pass over every file. It reports whether some file was
// left with data unread (so another pass should follow at once).
func (t *Tailer) runPass(h Handler, first bool) (busy bool) {
	t.pass++
	t.now = t.cfg.Now()
	clear(t.hold)
	t.restore(h)

	// Rotated files first: their lines are older than the current files'.
	for i := 0; i < len(t.streams); i++ {
		s := t.streams[i]
		if !s.draining || s.f == nil {
			continue
		}
		if t.hold[s.file.Path] {
			// An older rotated file of the same path comes first.
			s.lastData = t.now
			t.fingerprintUnread(s)
			continue
		}
		s.visited = t.pass
		n, more := t.follow(s, h)
		busy = busy || more
		if more {
			t.hold[s.file.Path] = true
		}
		switch {
		case s.z != nil && s.zEOF:
			t.closeStream(s, h) // a compressed file is complete
			i--
		case n > 0 || more:
			s.lastData = t.now
		case t.now.Sub(s.lastData) >= t.cfg.DrainIdle:
			if s.z != nil {
				t.lose(s, h) // could not be read to its end
			} else {
				t.closeStream(s, h)
			}
			i--
		}
	}

	t.expand()
	for _, m := range t.matches {
		if t.visit(m.path, m.pattern, h, first) {
			busy = true
		}
	}
	// Followed files whose path the patterns no longer produce: find out
	// what happened to them.
	for i := 0; i < len(t.streams); i++ {
		s := t.streams[i]
		if s.draining || s.visited == t.pass || s.f == nil {
			continue
		}
		if t.visit(s.file.Path, s.file.Pattern, h, first) {
			busy = true
		}
	}
	return busy
}

// visit reads the file at path, if followed, then checks that path still
// names it, and starts following whatever path names now. While an older
// file of path still has lines to read (hold), the files at path are not
// read, but a new file there is still opened, so that it is in the
// checkpoint and cannot be rotated away unseen.
func (t *Tailer) visit(path string, pi int, h Handler, first bool) (busy bool) {
	if t.waiting[path] {
		return false // a saved position for path is not resumed yet
	}
	held := t.hold[path]
	hold := func() { held = true; t.hold[path] = true }
	if s := t.active[path]; s != nil {
		if s.visited == t.pass {
			return held // matched by two patterns
		}
		s.visited = t.pass
		if held {
			t.fingerprintUnread(s)
		} else if _, more := t.follow(s, h); more {
			hold() // its lines come before the next file's
		}
		fi, err := os.Stat(path)
		if err == nil {
			delete(t.pathErr, path)
			if id, _ := identity(fi); id == s.id {
				return held
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			t.pathError(path, h, fmt.Errorf("check log file for rotation: %w", err))
			return held
		}
		t.retire(s, h)
		if !held {
			// Read the old file again now that the change is seen:
			// whatever was written to it before the new file appeared
			// comes first.
			if _, more := t.follow(s, h); more {
				hold()
			}
		}
		// Files rotated in between, never opened, come next.
		if t.enqueueNewer(s, h) {
			hold()
		}
		if err != nil {
			return held // gone; polled until it comes back
		}
	}
	return t.adopt(path, pi, h, first, held) || held
}

// adopt starts following the file at path, if there is one. If held, the
// file is opened and fingerprinted but not read yet.
func (t *Tailer) adopt(path string, pi int, h Handler, first, held bool) (busy bool) {
	f, id, err := openRegular(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			delete(t.pathErr, path)
			return false
		}
		t.pathError(path, h, err)
		return false
	}
	delete(t.pathErr, path)
	if s := t.byID[id]; s != nil {
		f.Close()
		if !s.draining {
			return false // already followed under another name
		}
		// A rotated file came back under a followed name: keep reading it.
		s.draining = false
		s.file.Path, s.file.Pattern, s.file.Rotated = path, pi, false
		s.name = path
		t.active[path] = s
		s.visited = t.pass
		t.emit(h, Event{Kind: EventOpened, File: &s.file, Path: path, Offset: s.pos})
		if held {
			return true
		}
		_, busy = t.follow(s, h)
		return busy
	}
	if last := t.newest(path); last != nil && last.draining {
		// The path was gone when its last file was rotated away: files
		// rotated since, never opened, come before this one.
		if t.enqueueNewer(last, h) {
			held = true
			t.hold[path] = true
		}
	}
	s := t.addStream(f, id, path, path, pi)
	t.active[path] = s
	s.visited = t.pass
	dir := filepath.Dir(path)
	if first && t.cfg.StartAtEnd && !t.savedPath[path] && !t.savedDir[dir] {
		t.seekEnd(s, h)
	}
	if held {
		t.fingerprintNow(s)
	} else {
		t.updateFingerprint(s)
	}
	t.emit(h, Event{Kind: EventOpened, File: &s.file, Path: path, Offset: s.pos})
	t.bound(path, h)
	if held || t.drainOlder(s, h) {
		return true
	}
	_, busy = t.follow(s, h)
	return busy
}

// newest returns the file opened last under path, if one is still open.
func (t *Tailer) newest(path string) *stream {
	for i := len(t.streams) - 1; i >= 0; i-- {
		if s := t.streams[i]; s.f != nil && s.file.Path == path {
			return s
		}
	}
	return nil
}

// drainOlder reads again the rotated files of s's path, oldest first, just
// before s, a file new at the path, is first read: what was written to them
// before s appeared comes before its lines. It reports whether one of them
// has more than a pass allows, so s must wait.
func (t *Tailer) drainOlder(s *stream, h Handler) bool {
	for _, o := range t.streams {
		if o == s || !o.draining || o.f == nil || o.file.Path != s.file.Path {
			continue
		}
		n, more := t.follow(o, h)
		if n > 0 || more {
			o.lastData = t.now
		}
		if more {
			t.hold[s.file.Path] = true
			return true
		}
	}
	return false
}

// retire marks a followed file as rotated away: it is drained until idle.
func (t *Tailer) retire(s *stream, h Handler) {
	delete(t.active, s.file.Path)
	s.draining = true
	s.file.Rotated = true
	s.lastData = t.now
	t.emit(h, Event{Kind: EventRotated, File: &s.file, Path: s.file.Path, Offset: s.pos})
}
