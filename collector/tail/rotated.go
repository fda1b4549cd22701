package tail

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/session-exporter/session-exporter/collector/decompress"
)

// Rotated siblings
//
// When the live path of a followed file comes to name another file, or when
// a restart finds that the file of the newest saved position was rotated
// away, the files rotated in between may never have been opened: the path
// rotated twice before a pass saw it (a busy log, a stopped or throttled
// exporter), or while the exporter was down. They are found among the
// rotated siblings of the live path, ordered by name, and read whole, oldest
// first, after the file they follow and before the new live file.
//
// A rotated sibling of dir/NAME is dir/NAME, then '.', '-' or '_', then
// either a number of at most six digits (logrotate's NAME.1, NAME.2: higher
// is older) or a stamp of digits and the characters - _ . : T Z starting
// with a digit (logrotate's dateext NAME-20261201, kubelet's
// 0.log.20261201-150405: later in byte order is newer), optionally followed
// by .gz, .bz2 or .zst. A numbered name is taken as newer than a stamped
// one. Compressed files are recognised by their magic bytes and matched by
// the fingerprint of their decompressed start.

// maxOpenPerPath bounds the files open for one followed path: the live file
// and the rotated files still to be read. When a rotation would exceed it,
// the oldest rotated file already read to its end is closed; if none is,
// the oldest one is given up and its unread part reported as lost.
const maxOpenPerPath = 256

// compressedExts are the file name endings of compressed rotations.
var compressedExts = [...]string{".gz", ".bz2", ".zst"}

// rotKey orders the rotated siblings of one live name.
type rotKey struct {
	numbered bool
	n        int64  // numbered: higher is older
	stamp    string // stamped: later in byte order is newer
}

// newer reports whether k names a later rotation than o.
func (k rotKey) newer(o rotKey) bool {
	if k.numbered != o.numbered {
		return k.numbered
	}
	if k.numbered {
		return k.n < o.n
	}
	return k.stamp > o.stamp
}

// rotationKey reports whether name is a rotated sibling of the live name
// base, and where it stands among them.
func rotationKey(base, name string) (rotKey, bool) {
	if len(name) < len(base)+2 || name[:len(base)] != base {
		return rotKey{}, false
	}
	switch name[len(base)] {
	case '.', '-', '_':
	default:
		return rotKey{}, false
	}
	rest := name[len(base)+1:]
	for _, ext := range compressedExts {
		if strings.HasSuffix(rest, ext) {
			rest = rest[:len(rest)-len(ext)]
			break
		}
	}
	if rest == "" || rest[0] < '0' || rest[0] > '9' {
		return rotKey{}, false
	}
	digits := true
	for i := 0; i < len(rest); i++ {
		switch c := rest[i]; {
		case c >= '0' && c <= '9':
		case c == '-' || c == '_' || c == '.' || c == ':' || c == 'T' || c == 'Z':
			digits = false
		default:
			return rotKey{}, false
		}
	}
	if digits && len(rest) <= 6 {
		n, _ := strconv.ParseInt(rest, 10, 64)
		return rotKey{numbered: true, n: n}, true
	}
	return rotKey{stamp: rest}, true
}

// sibling is a rotated file found next to a live path.
type sibling struct {
	name       string
	id         fileID
	key        rotKey
	head       []byte // the plain text at its start, up to FingerprintSize
	compressed bool
	loaded     bool // head and compressed are set
	bad        bool // its start could not be read
}

// siblings lists the rotated siblings of path, newest first.
func (t *Tailer) siblings(path string) ([]sibling, error) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("look for rotated log files: %w", err)
	}
	var out []sibling
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		key, ok := rotationKey(base, e.Name())
		if !ok {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		id, ok := identity(fi)
		if !ok {
			continue
		}
		out = append(out, sibling{name: filepath.Join(dir, e.Name()), id: id, key: key})
	}
	slices.SortStableFunc(out, func(a, b sibling) int {
		switch {
		case a.key.newer(b.key):
			return -1
		case b.key.newer(a.key):
			return 1
		}
		return 0
	})
	return out, nil
}

// load reads the plain text at the start of c, decompressing if need be.
func (c *sibling) load() {
	if c.loaded {
		return
	}
	c.loaded = true
	head, kind, err := decompress.Head(c.name, FingerprintSize)
	if err != nil {
		c.bad = true
		return
	}
	c.head, c.compressed = head, kind != decompress.None
}

// streamHead returns the first bytes of an open plain file (up to
// FingerprintSize), or nil for a compressed one or on error.
func (t *Tailer) streamHead(s *stream) []byte {
	if s.z != nil || s.f == nil {
		return nil
	}
	n, _ := s.f.ReadAt(t.headBuf[:], 0)
	return t.headBuf[:n]
}

// copyOf reports whether c holds the same text as the open plain file s
// under another inode: compressed since it was opened, or copied.
func (t *Tailer) copyOf(c *sibling, s *stream) bool {
	head := t.streamHead(s)
	if len(head) == 0 {
		return false
	}
	c.load()
	return !c.bad && bytes.HasPrefix(c.head, head)
}

// followedCopy reports whether c is a file already followed under path, or
// a copy of one.
func (t *Tailer) followedCopy(c *sibling, path string) bool {
	if t.byID[c.id] != nil {
		return true
	}
	for _, s := range t.streams {
		if s.f != nil && s.file.Path == path && t.copyOf(c, s) {
			return true
		}
	}
	return false
}

// enqueueNewer opens, to be read after ref and in order, every rotated
// sibling of ref's path that is newer than ref and not followed yet. ref is
// a file rotated away from its path. It reports whether any was opened.
func (t *Tailer) enqueueNewer(ref *stream, h Handler) bool {
	path := ref.file.Path
	sibs, err := t.siblings(path)
	if err != nil {
		t.pathError(path, h, err)
		return false
	}
	var newer []*sibling
	found := false
	for i := range sibs {
		c := &sibs[i]
		if c.id == ref.id {
			found = true
			break
		}
		if compressing(sibs, i) {
			continue // the plain file is still there: it is the one to read
		}
		if t.copyOf(c, ref) {
			found = true
			break
		}
		if !t.followedCopy(c, path) {
			newer = append(newer, c)
		}
	}
	if !found {
		// Without ref among them, which siblings are newer is unknown.
		t.logger.Debug("rotated file not found among its siblings; not looking for newer ones", "path", path)
		return false
	}
	opened := false
	for i := len(newer) - 1; i >= 0; i-- {
		c := newer[i]
		if !t.openSibling(c, path, ref.file.Pattern, h) {
			// Compressed since the listing: read the compressed file.
			c = compressedVersion(c)
			if c == nil || !t.openSibling(c, path, ref.file.Pattern, h) {
				continue
			}
		}
		opened = true
	}
	return opened
}

// compressedVersion returns the compressed file that replaced the plain
// rotated file c, if there is one.
func compressedVersion(c *sibling) *sibling {
	for _, ext := range compressedExts {
		fi, err := os.Stat(c.name + ext)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if id, ok := identity(fi); ok {
			return &sibling{name: c.name + ext, id: id, key: c.key}
		}
	}
	return nil
}

// compressing reports whether sibs[i] is a compressed file whose plain
// original, under the same name without the compression suffix, is still
// there: the compression is under way (or was cut short), and the plain
// file holds the lines.
func compressing(sibs []sibling, i int) bool {
	name := sibs[i].name
	for _, ext := range compressedExts {
		if plain, ok := strings.CutSuffix(name, ext); ok {
			for j := range sibs {
				if sibs[j].name == plain {
					return true
				}
			}
		}
	}
	return false
}

// openSibling starts draining c from its beginning as a rotated file of
// path.
func (t *Tailer) openSibling(c *sibling, path string, pi int, h Handler) bool {
	c.load()
	if c.bad {
		return false
	}
	f, id, err := openRegular(c.name)
	if err != nil {
		return false // gone since the listing
	}
	if id != c.id || t.byID[id] != nil {
		f.Close()
		return false
	}
	s := t.addStream(f, id, path, c.name, pi)
	if c.compressed {
		s.z = &zReader{f: f}
	}
	s.fp, s.fpLen = fnv64a(c.head), len(c.head)
	s.draining, s.file.Rotated = true, true
	s.lastData = t.now
	s.visited = t.pass
	t.emit(h, Event{Kind: EventOpened, File: &s.file, Path: c.name, Offset: 0})
	t.bound(path, h)
	return true
}

// locateCompressed finds, among the rotated siblings of p's path, a
// compressed file whose plain text starts with p's fingerprinted bytes: the
// file of p, compressed while the tailer was stopped.
func (t *Tailer) locateCompressed(p Position, pi int, h Handler) *stream {
	if p.FingerprintLen == 0 {
		return nil // nothing to recognise it by
	}
	sibs, err := t.siblings(p.Path)
	if err != nil {
		return nil
	}
	for i := range sibs {
		c := &sibs[i]
		if t.byID[c.id] != nil {
			continue
		}
		c.load()
		if c.bad || !c.compressed || len(c.head) < p.FingerprintLen || fnv64a(c.head[:p.FingerprintLen]) != p.Fingerprint {
			continue
		}
		f, id, err := openRegular(c.name)
		if err != nil || id != c.id {
			if f != nil {
				f.Close()
			}
			continue
		}
		s := t.addStream(f, id, p.Path, c.name, pi)
		s.z = &zReader{f: f}
		s.setResume(p)
		s.draining, s.file.Rotated = true, true
		s.lastData = t.now
		t.emit(h, Event{Kind: EventOpened, File: &s.file, Path: c.name, Offset: s.pos})
		return s
	}
	return nil
}

// bound keeps the files open for path within maxOpenPerPath, closing the
// oldest rotated ones: first those read to their end, then, counting what
// they still held as lost, the others.
func (t *Tailer) bound(path string, h Handler) {
	for {
		n := 0
		var oldest, oldestDone *stream
		for _, s := range t.streams {
			if s.f == nil || s.file.Path != path {
				continue
			}
			n++
			if !s.draining {
				continue
			}
			if oldest == nil {
				oldest = s
			}
			if oldestDone == nil && t.readToEnd(s) {
				oldestDone = s
			}
		}
		if n <= maxOpenPerPath || oldest == nil {
			return
		}
		if oldestDone != nil {
			t.closeStream(oldestDone, h)
			continue
		}
		t.lose(oldest, h)
	}
}

// readToEnd reports whether everything s holds has been read.
func (t *Tailer) readToEnd(s *stream) bool {
	if s.z != nil {
		return s.zEOF
	}
	fi, err := s.f.Stat()
	return err == nil && fi.Size() == s.seen && s.seen == s.pos
}

// lose gives up a rotated file that still has unread lines: it is reported
// as lost (with the unread byte count, when known) and closed.
func (t *Tailer) lose(s *stream, h Handler) {
	var unread int64
	if s.z == nil {
		if fi, err := s.f.Stat(); err == nil {
			unread = max(fi.Size()-s.pos, 0)
		}
	}
	t.emit(h, Event{Kind: EventLost, File: &s.file, Path: s.name, Offset: s.pos, Bytes: unread})
	t.closeStream(s, h)
}
