package tail

import (
	"fmt"
	"os"
	"path/filepath"
)

// expand evaluates the patterns into t.matches, in pattern order and, within
// a glob, in lexical order.
func (t *Tailer) expand() {
	t.matches = t.matches[:0]
	for i, p := range t.patterns {
		if !p.glob {
			t.matches = append(t.matches, match{p.raw, i})
			continue
		}
		paths, _ := filepath.Glob(p.raw) // the pattern was checked in New
		for _, path := range paths {
			t.matches = append(t.matches, match{path, i})
		}
	}
}

// watchDirs returns the directories to watch: each pattern's directory, or
// for a pattern whose directory is itself a glob, the directories of its
// matches; and the directories of the followed files.
func (t *Tailer) watchDirs() []string {
	t.dirs = t.dirs[:0]
	for _, p := range t.patterns {
		if p.dir != "" {
			t.dirs = append(t.dirs, p.dir)
		}
	}
	for _, m := range t.matches {
		if t.patterns[m.pattern].dir == "" {
			t.dirs = append(t.dirs, filepath.Dir(m.path))
		}
	}
	for _, s := range t.streams {
		if s.f != nil {
			t.dirs = append(t.dirs, filepath.Dir(s.name))
		}
	}
	t.dirs = cleanDirs(t.dirs)
	return t.dirs
}

// patternFor returns the index of the first pattern path matches, or -1.
func (t *Tailer) patternFor(path string) int {
	for i, p := range t.patterns {
		if p.raw == path {
			return i
		}
		if ok, _ := filepath.Match(p.raw, path); ok && p.glob {
			return i
		}
	}
	return -1
}

// openRegular opens path for reading if it is a regular file, and returns
// the identity of what it opened.
func openRegular(path string) (*os.File, fileID, error) {
	// Check before opening: opening a FIFO could block.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fileID{}, fmt.Errorf("open log file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fileID{}, fmt.Errorf("open log file %s: %w (%v)", path, ErrNotRegular, fi.Mode().Type())
	}
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, fileID{}, fmt.Errorf("open log file: %w", err)
	}
	fi, err = f.Stat()
	if err != nil {
		f.Close()
		return nil, fileID{}, fmt.Errorf("open log file: %w", err)
	}
	id, ok := identity(fi)
	if !ok || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fileID{}, fmt.Errorf("open log file %s: %w", path, ErrNotRegular)
	}
	return f, id, nil
}

// hasMeta reports whether path holds glob characters.
func hasMeta(path string) bool {
	for i := 0; i < len(path); i++ {
		switch path[i] {
		case '*', '?', '[', '\\':
			return true
		}
	}
	return false
}
