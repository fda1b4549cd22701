package tail

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// restore opens the files named by the saved positions that are still
// pending, before each pass. A file still at its path resumes there; one
// renamed (or, for copytruncate, copied) within its directory, or
// compressed next to it, is drained from the saved offset; for one that is
// gone, EventLost is reported. When the newest saved file of a path was
// rotated away, the rotated siblings newer than it are then read whole, in
// order, before the live file. A position whose path or directory cannot be
// read now (permissions, say) stays pending, and its path is not read from
// 0 meanwhile.
func (t *Tailer) restore(h Handler) {
	if len(t.pending) == 0 {
		return
	}
	clear(t.waiting)
	kept := t.pending[:0]
	var order []string
	newest := make(map[string]*stream)
	lastFound := make(map[string]int)
	type gone struct {
		i int
		p Position
	}
	var unknown []gone // gone, but nothing was read from them
	for i, p := range t.pending {
		if p.FingerprintLen == 0 && p.Offset == 0 {
			// Empty when saved: nothing identifies it (an inode alone may
			// have been reused by a newer file). Whatever it holds now is
			// read from 0 as a rotated file newer than the one before it,
			// or as the live file if it is still there.
			if t.patternFor(p.Path) >= 0 {
				unknown = append(unknown, gone{i, p})
			}
			continue
		}
		s, st := t.restoreOne(p, h)
		switch st {
		case restoreRetry:
			kept = append(kept, p)
			t.waiting[p.Path] = true
		case restoreDone:
			if _, ok := newest[p.Path]; !ok {
				order = append(order, p.Path)
			}
			newest[p.Path] = s
			lastFound[p.Path] = i
		case restoreGone:
			t.lost(p, h)
		}
	}
	for _, u := range unknown {
		// A file found empty and not read since: what it holds now, if it
		// is still there, is read with the rotated files newer than the
		// newest one found, if it comes after that one.
		switch {
		case lastFound[u.p.Path] > u.i && newest[u.p.Path] != nil:
			t.lost(u.p, h) // older than a file found: nothing to place it by
		case newest[u.p.Path] == nil && !t.atPath(u.p):
			t.lost(u.p, h) // rotated away, with nothing to place it after
		}
	}
	clear(t.pending[len(kept):])
	t.pending = kept
	for _, path := range order {
		if s := newest[path]; !t.waiting[path] && s.draining {
			t.enqueueNewer(s, h)
		}
	}
}

// atPath reports whether the file at p's path still has p's inode.
func (t *Tailer) atPath(p Position) bool {
	fi, err := os.Stat(p.Path)
	if err != nil {
		return false
	}
	id, _ := identity(fi)
	return id.ino == p.Inode
}

// lost reports a saved position whose file is gone.
func (t *Tailer) lost(p Position, h Handler) {
	f := &File{Path: p.Path, Pattern: t.patternFor(p.Path), Rotated: true}
	t.emit(h, Event{Kind: EventLost, File: f, Path: p.Path, Offset: p.Offset})
}

// What restoreOne did with a saved position.
const (
	restoreDone    = iota // the file is followed
	restoreDropped        // nothing to do: not configured, or a duplicate
	restoreGone           // no file matches
	restoreRetry          // cannot tell now; try again before the next pass
)

// restoreOne resumes p, returning the stream opened.
func (t *Tailer) restoreOne(p Position, h Handler) (*stream, int) {
	pi := t.patternFor(p.Path)
	if pi < 0 {
		t.logger.Debug("dropping saved position: path no longer configured", "path", p.Path)
		return nil, restoreDropped
	}
	f, id, err := openRegular(p.Path)
	switch {
	case err == nil && id.ino == p.Inode && t.prefixMatches(f, p.Fingerprint, p.FingerprintLen):
		if t.byID[id] != nil {
			f.Close() // a duplicate position
			return nil, restoreDropped
		}
		delete(t.pathErr, p.Path)
		s := t.addStream(f, id, p.Path, p.Path, pi)
		s.setResume(p)
		t.active[p.Path] = s
		t.emit(h, Event{Kind: EventOpened, File: &s.file, Path: s.name, Offset: s.pos})
		return s, restoreDone
	case err == nil:
		f.Close()
	case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, ErrNotRegular):
		t.pathError(p.Path, h, err)
		return nil, restoreRetry
	}
	f, id, name, err := t.locate(p.Path, p.Inode, p.Fingerprint, p.FingerprintLen, p.Offset)
	switch {
	case err == nil:
		s := t.addStream(f, id, p.Path, name, pi)
		s.setResume(p)
		s.draining = true
		s.file.Rotated = true
		s.lastData = t.now
		t.emit(h, Event{Kind: EventOpened, File: &s.file, Path: name, Offset: s.pos})
		return s, restoreDone
	case errors.Is(err, errNotFound) || errors.Is(err, fs.ErrNotExist):
		if s := t.locateCompressed(p, pi, h); s != nil {
			return s, restoreDone
		}
		return nil, restoreGone
	default:
		t.pathError(p.Path, h, err)
		return nil, restoreRetry
	}
}

// errNotFound is returned by locate when no file matches.
var errNotFound = errors.New("no matching file")

// locate looks in the directory of the live path for a file not yet
// followed that is either the file with inode ino and the given fingerprint
// (renamed), or failing that a rotated sibling of path (see rotated.go) with
// the same fingerprint and more than after bytes (a copy made by
// copytruncate; a copy under another name, such as a backup, is not taken
// for it). It returns the file opened, with its name, or errNotFound, or
// the error reading the directory.
func (t *Tailer) locate(path string, ino, fp uint64, fpLen int, after int64) (*os.File, fileID, string, error) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fileID{}, "", fmt.Errorf("look for rotated log file: %w", err)
	}
	type candidate struct {
		name string
		id   fileID
		size int64
	}
	var copies []candidate
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		id, ok := identity(fi)
		if !ok || t.byID[id] != nil {
			continue
		}
		name := filepath.Join(dir, e.Name())
		if id.ino != ino {
			if _, rotated := rotationKey(base, e.Name()); rotated && fpLen > 0 && fi.Size() > after && fi.Size() >= int64(fpLen) {
				copies = append(copies, candidate{name, id, fi.Size()})
			}
			continue
		}
		if f, ok := t.openMatching(name, id, fp, fpLen); ok {
			return f, id, name, nil
		}
	}
	for _, c := range copies {
		if f, ok := t.openMatching(c.name, c.id, fp, fpLen); ok {
			return f, c.id, c.name, nil
		}
	}
	return nil, fileID{}, "", errNotFound
}

// openMatching opens name if it is still the file id and starts with the
// fingerprinted bytes.
func (t *Tailer) openMatching(name string, id fileID, fp uint64, fpLen int) (*os.File, bool) {
	f, got, err := openRegular(name)
	if err != nil {
		return nil, false
	}
	if got != id || !t.prefixMatches(f, fp, fpLen) {
		f.Close()
		return nil, false
	}
	return f, true
}

// setResume positions s as p says.
func (s *stream) setResume(p Position) {
	s.pos, s.next, s.seen = p.Offset, p.Offset, p.Offset
	s.fp, s.fpLen = p.Fingerprint, p.FingerprintLen
}
