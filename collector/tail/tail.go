// Package tail follows log files across rename, create, copytruncate and
// restarts, and hands each complete line to a handler exactly once, with the
// offset just after it.
//
// One goroutine (Tailer.Run) owns every file. It makes passes over them: on
// each pass it re-evaluates the configured paths and globs, reads every
// followed file to its end, and checks whether a path now names a different
// file (rotation) or a file shrank (truncation). Between passes it waits on a
// Waker: fsnotify watches on the parent directories plus a poll ticker in
// production, a hand-driven ManualWaker in tests.
//
// Positions (what to save in a checkpoint) name a file by inode and by a
// fingerprint of its first bytes, so a restarted tailer resumes each file
// where it left off, finds a file that was renamed while it was stopped in
// the same directory and drains it first, and never mistakes a new file that
// reused an inode for the old one.
package tail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"
)

// Defaults for the zero values in Config.
const (
	DefaultMaxLineBytes = 64 << 10    // longest line handed out
	DefaultPollInterval = time.Second // wake-up when fsnotify is quiet
	// DefaultDrainPolls is how many poll intervals a rotated file must stay
	// idle before it is closed, unless Config.DrainIdle says otherwise.
	DefaultDrainPolls = 5
)

// FingerprintSize is the most bytes at the start of a file that a
// Position's fingerprint covers.
const FingerprintSize = 256

const (
	// readChunk is the part of the read buffer beyond the longest line.
	readChunk = 64 << 10
	// maxReadsPerPass bounds the reads from one file in one pass, so a file
	// written faster than it can be read does not starve the others.
	maxReadsPerPass = 16
)

// Config says which files to follow and how.
type Config struct {
	// Paths are file paths or globs (filepath.Match syntax). Globs are
	// evaluated again on every pass, so new files are picked up. A file
	// matched by more than one entry is followed once, under the first.
	// Patterns should match the live log names only, not rotated ones
	// (access.log, not access.log*): a rotated file that is closed and
	// then matched again under a new name is read again from the start.
	Paths []string
	// StartAtEnd makes the tailer begin files it knows nothing about at
	// their current end (after the last complete line) instead of at 0.
	// It applies only to files present on the first pass that have no
	// saved position and, when positions were given, that are in a
	// directory holding no saved position: a file created in a followed
	// directory while the tailer was stopped, and every file that appears
	// after the first pass, is read from 0.
	StartAtEnd bool
	// MaxLineBytes is the longest line handed out, without its newline
	// (DefaultMaxLineBytes if 0). A longer line is skipped whole, up to and
	// including its newline, and reported as EventTooLong.
	MaxLineBytes int
	// PollInterval is how often the default Waker wakes the tailer when
	// fsnotify reports nothing (DefaultPollInterval if 0).
	PollInterval time.Duration
	// DrainIdle is how long a rotated file must go without new data before
	// it is closed (DefaultDrainPolls × PollInterval if 0). nginx and Caddy
	// keep writing to the renamed file until they reopen their logs; those
	// lines are read as long as they arrive within DrainIdle of each other.
	DrainIdle time.Duration
	// Waker wakes the tailer between passes. If nil, Run uses a
	// NotifyWaker with PollInterval (or a plain ticker if fsnotify cannot be
	// started). Run takes ownership of the Waker and closes it on return.
	Waker Waker
	// Now is the clock used for DrainIdle (time.Now if nil).
	Now func() time.Time
	// Logger receives the tailer's own diagnostics, such as a failure to
	// start fsnotify (nothing is logged per line). Discarded if nil.
	Logger *slog.Logger
}

// Position is where to resume one file: what to store in a checkpoint.
//
// A file is identified by its inode and a fingerprint: the 64-bit FNV-1a
// hash of its first FingerprintLen bytes (at most FingerprintSize; fewer if
// the file was shorter when last read). The fingerprint tells a file apart
// from a later one that reused its inode, and finds the copy logrotate's
// copytruncate leaves. Dev is recorded but not compared, since device
// numbers can change across reboots and remounts of the same file system.
type Position struct {
	Path           string `json:"path"`
	Dev            uint64 `json:"dev"`
	Inode          uint64 `json:"inode"`
	Fingerprint    uint64 `json:"fingerprint"`
	FingerprintLen int    `json:"fingerprint_len"`
	// Offset is just after the last line handed out (or skipped): the
	// start of the next line. (The one exception: a file first opened with
	// StartAtEnd in the middle of an unfinished line already longer than
	// the read buffer starts past it.)
	Offset int64 `json:"offset"`
}

// Stats are running totals since New. They are safe to read from any
// goroutine.
type Stats struct {
	// Bytes counts bytes consumed: handed-out lines, their newlines, and
	// skipped over-long lines. A partial last line counts once complete.
	Bytes int64
	// Lines counts lines handed to the handler.
	Lines int64
	// TooLong counts skipped over-long lines.
	TooLong int64
	// Rotations counts files whose path came to name another file or none.
	Rotations int64
	// Truncations counts files that shrank or were rewritten.
	Truncations int64
	// Errors counts reported open and read errors.
	Errors int64
	// Files is the number of files open now.
	Files int64
	// Lost counts files given up with lines unread: a saved position that
	// matches no file, or a rotated file dropped to stay within the bound
	// of open files per path. Each is reported as an EventLost.
	Lost int64
}

// Tailer follows the files of one Config. Create it with New and call Run
// once.
type Tailer struct {
	cfg      Config
	patterns []pattern
	logger   *slog.Logger

	pending   []Position      // saved positions not resumed yet
	waiting   map[string]bool // paths of pending positions: not read from 0
	savedPath map[string]bool
	savedDir  map[string]bool

	buf     []byte
	fpBuf   [FingerprintSize]byte
	headBuf [FingerprintSize]byte

	streams []*stream          // every followed file, in the order opened
	active  map[string]*stream // by the path it is followed under
	byID    map[fileID]*stream
	pathErr map[string]string // last error reported per path not open
	hold    map[string]bool   // paths whose rotated file still has data this pass
	pass    uint64
	now     time.Time // clock at the start of the pass

	matches []match  // scratch: the pass's expanded paths
	dirs    []string // scratch: directories to watch

	started atomic.Bool
	stats   struct {
		bytes, lines, tooLong, rotations, truncations, errors, files, lost atomic.Int64
	}
}

type pattern struct {
	raw  string
	glob bool
	dir  string // the directory to watch, if it has no glob characters
}

type match struct {
	path    string
	pattern int
}

type fileID struct {
	dev, ino uint64
}

// stream is the reading state of one open file.
type stream struct {
	file File
	name string // the name it was last seen under
	f    *os.File
	id   fileID
	z    *zReader // reads a compressed rotated file; nil for plain ones
	zEOF bool     // z reached the clean end of the stream

	pos  int64 // after the last line handed out or skipped
	next int64 // where the next read starts: pos, or beyond it while skipping
	seen int64 // the furthest offset read: the size last seen

	fp       uint64
	fpLen    int
	skipping bool // inside a line longer than the limit, since pos
	draining bool // rotated away; closed when idle for DrainIdle

	lastData time.Time // when data was last read; for draining
	lastErr  string    // last read error reported
	visited  uint64    // last pass it was visited in
}

// New checks cfg and returns a Tailer that resumes from positions (from a
// previous Positions call; nil on a first start). It does no I/O: files are
// opened by Run.
func New(cfg Config, positions []Position) (*Tailer, error) {
	if !identitySupported {
		return nil, errors.New("tail: file identity (inodes) is not available on this platform")
	}
	if len(cfg.Paths) == 0 {
		return nil, errors.New("tail: no paths to follow")
	}
	switch {
	case cfg.MaxLineBytes < 0:
		return nil, fmt.Errorf("tail: max line bytes %d is negative", cfg.MaxLineBytes)
	case cfg.MaxLineBytes == 0:
		cfg.MaxLineBytes = DefaultMaxLineBytes
	}
	switch {
	case cfg.PollInterval < 0:
		return nil, fmt.Errorf("tail: poll interval %v is negative", cfg.PollInterval)
	case cfg.PollInterval == 0:
		cfg.PollInterval = DefaultPollInterval
	}
	switch {
	case cfg.DrainIdle < 0:
		return nil, fmt.Errorf("tail: drain idle %v is negative", cfg.DrainIdle)
	case cfg.DrainIdle == 0:
		cfg.DrainIdle = DefaultDrainPolls * cfg.PollInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	t := &Tailer{
		cfg:       cfg,
		logger:    cfg.Logger,
		waiting:   make(map[string]bool),
		savedPath: make(map[string]bool),
		savedDir:  make(map[string]bool),
		buf:       make([]byte, readChunk+cfg.MaxLineBytes),
		active:    make(map[string]*stream),
		byID:      make(map[fileID]*stream),
		pathErr:   make(map[string]string),
		hold:      make(map[string]bool),
	}
	if t.logger == nil {
		t.logger = slog.New(slog.DiscardHandler)
	}
	for i, p := range cfg.Paths {
		if p == "" {
			return nil, fmt.Errorf("tail: path %d is empty", i)
		}
		p = filepath.Clean(p)
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, fmt.Errorf("tail: path %q: %w", cfg.Paths[i], err)
		}
		pt := pattern{raw: p, glob: hasMeta(p)}
		if d := filepath.Dir(p); !hasMeta(d) {
			pt.dir = d
		}
		t.patterns = append(t.patterns, pt)
	}
	for i, p := range positions {
		switch {
		case p.Path == "":
			return nil, fmt.Errorf("tail: position %d has no path", i)
		case p.Offset < 0:
			return nil, fmt.Errorf("tail: position %d (%s): offset %d is negative", i, p.Path, p.Offset)
		case p.FingerprintLen < 0 || p.FingerprintLen > FingerprintSize:
			return nil, fmt.Errorf("tail: position %d (%s): fingerprint length %d is out of range", i, p.Path, p.FingerprintLen)
		}
		p.Path = filepath.Clean(p.Path)
		t.pending = append(t.pending, p)
		t.savedPath[p.Path] = true
		t.savedDir[filepath.Dir(p.Path)] = true
	}
	return t, nil
}

// Run follows the files until ctx is done, calling h from this goroutine
// only. It returns nil once ctx is done, after closing every file and the
// Waker (and with it the fsnotify goroutine). Open and read errors are
// reported to h and retried; they never stop Run. Run may be called once.
func (t *Tailer) Run(ctx context.Context, h Handler) error {
	if !t.started.CompareAndSwap(false, true) {
		return errors.New("tail: run called twice")
	}
	w := t.cfg.Waker
	if w == nil {
		nw, err := NewNotifyWaker(t.cfg.PollInterval, t.logger)
		if err != nil {
			t.logger.Warn("file change notification unavailable, polling only", "err", err, "interval", t.cfg.PollInterval)
			w = newPollWaker(t.cfg.PollInterval)
		} else {
			w = nw
		}
	}
	defer func() {
		if err := w.Close(); err != nil {
			t.logger.Warn("closing waker", "err", err)
		}
	}()
	defer t.closeAll(h)

	first := true
	for {
		busy := t.runPass(h, first)
		first = false
		w.Watch(t.watchDirs())
		if ctx.Err() != nil {
			return nil
		}
		if busy {
			continue
		}
		h.Idle()
		if ctx.Err() != nil {
			return nil
		}
		if w.Wait(ctx) != nil {
			return nil
		}
	}
}

// Positions returns, for every file followed (or followed when Run
// returned), the position just after the last line handed to the handler,
// rotated files being drained first, followed by any saved positions not
// resumed yet (their file could not be read so far). A partial last line is
// not included: after a restart it is read whole once its newline arrives.
//
// Positions is not safe for concurrent use with Run. Call it from the
// handler (any of its methods, on Run's goroutine) or after Run has
// returned: then it matches exactly what the handler has seen, which is what
// a checkpoint needs. Within Line, the current line is already included.
func (t *Tailer) Positions() []Position {
	out := make([]Position, 0, len(t.streams)+len(t.pending))
	for _, s := range t.streams {
		out = append(out, Position{
			Path:           s.file.Path,
			Dev:            s.id.dev,
			Inode:          s.id.ino,
			Fingerprint:    s.fp,
			FingerprintLen: s.fpLen,
			Offset:         s.pos,
		})
	}
	// Positions that could not be resumed yet are kept as they were.
	return append(out, t.pending...)
}

// Stats returns running totals. It is safe to call from any goroutine.
func (t *Tailer) Stats() Stats {
	return Stats{
		Bytes:       t.stats.bytes.Load(),
		Lines:       t.stats.lines.Load(),
		TooLong:     t.stats.tooLong.Load(),
		Rotations:   t.stats.rotations.Load(),
		Truncations: t.stats.truncations.Load(),
		Errors:      t.stats.errors.Load(),
		Files:       t.stats.files.Load(),
		Lost:        t.stats.lost.Load(),
	}
}

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
	var unknown []Position // gone, but nothing was read from them
	for _, p := range t.pending {
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
		case restoreGone:
			if p.FingerprintLen > 0 || p.Offset > 0 {
				t.lost(p, h)
			} else {
				unknown = append(unknown, p)
			}
		}
	}
	clear(t.pending[len(kept):])
	t.pending = kept
	for _, path := range order {
		if s := newest[path]; !t.waiting[path] && s.draining {
			t.enqueueNewer(s, h)
		}
	}
	for _, p := range unknown {
		// A file found empty and not read since: what it holds now, if it
		// is still there, is read with the rotated files newer than the
		// one before it.
		if newest[p.Path] == nil {
			t.lost(p, h)
		}
	}
}

// lost reports a saved position whose file is gone.
func (t *Tailer) lost(p Position, h Handler) {
	t.stats.lost.Add(1)
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
		if !held {
			if _, more := t.follow(s, h); more {
				hold() // its lines come before the next file's
			}
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
	t.stats.rotations.Add(1)
	t.emit(h, Event{Kind: EventRotated, File: &s.file, Path: s.file.Path, Offset: s.pos})
}

// follow checks s for truncation and reads it to its end (or to the pass's
// read budget). It returns the bytes consumed and whether the budget ran
// out with data left.
func (t *Tailer) follow(s *stream, h Handler) (n int64, more bool) {
	if s.z != nil {
		if s.zEOF {
			return 0, false
		}
		return t.drain(s, h) // compressed files neither grow nor shrink
	}
	fi, err := s.f.Stat()
	if err != nil {
		t.readError(s, h, fmt.Errorf("stat log file: %w", err))
		return 0, false
	}
	size := fi.Size()
	if t.truncated(s, size) && t.truncate(s, h) {
		return 0, true // the copy's lines come first
	}
	if size == s.seen {
		return 0, false
	}
	n, more = t.drain(s, h)
	t.updateFingerprint(s)
	return n, more
}

// truncated reports whether the file shrank below what was read, or its
// first bytes are no longer the ones fingerprinted (truncated and written
// again past the old offset between two passes).
func (t *Tailer) truncated(s *stream, size int64) bool {
	if size < s.seen || size < int64(s.fpLen) {
		return true
	}
	if s.fpLen > 0 && size > s.seen {
		sum, ok := t.hashPrefix(s.f, s.fpLen)
		return ok && sum != s.fp
	}
	return false
}

// truncate restarts s at 0. The bytes after s.pos that were not read yet
// may survive in a copy (logrotate's copytruncate): if one is found in the
// same directory, it is drained from s.pos first. truncate reports whether
// the copy has more to read than one pass allows.
func (t *Tailer) truncate(s *stream, h Handler) (more bool) {
	if s.fpLen > 0 && !s.draining {
		if f, id, name, err := t.locate(s.file.Path, s.id.ino, s.fp, s.fpLen, s.pos); err == nil {
			c := t.addStream(f, id, s.file.Path, name, s.file.Pattern)
			c.pos, c.next, c.seen, c.skipping = s.pos, s.next, s.next, s.skipping
			c.fp, c.fpLen = s.fp, s.fpLen
			c.draining, c.file.Rotated = true, true
			c.lastData = t.now
			c.visited = t.pass
			t.emit(h, Event{Kind: EventOpened, File: &c.file, Path: name, Offset: c.pos})
			_, more = t.follow(c, h)
		}
	}
	t.stats.truncations.Add(1)
	t.emit(h, Event{Kind: EventTruncated, File: &s.file, Path: s.name, Offset: s.pos, Bytes: s.seen})
	s.pos, s.next, s.seen, s.skipping = 0, 0, 0, false
	s.fp, s.fpLen = 0, 0
	return more
}

// drain reads s from s.next to its end, handing out complete lines.
func (t *Tailer) drain(s *stream, h Handler) (consumed int64, more bool) {
	buf := t.buf
	limit := t.cfg.MaxLineBytes
	var r io.ReaderAt = s.f
	if s.z != nil {
		r = s.z
	}
	base := s.next // file offset of buf[0]
	have := 0
	var lines int64
	defer func() {
		t.stats.bytes.Add(consumed)
		t.stats.lines.Add(lines)
	}()
	for reads := 0; ; reads++ {
		if reads == maxReadsPerPass {
			return consumed, true
		}
		m, err := r.ReadAt(buf[have:], base+int64(have))
		have += m
		if end := base + int64(have); end > s.seen {
			s.seen = end
			// Before any line is handed out: Positions, which a handler
			// may save from Line, must identify the file by what was read.
			t.updateFingerprint(s)
		}
		start := 0
		for start < have {
			i := bytes.IndexByte(buf[start:have], '\n')
			if i < 0 {
				break
			}
			lineEnd := start + i
			end := base + int64(lineEnd) + 1
			consumed += end - s.pos
			if s.skipping || i > limit {
				s.skipping = false
				t.tooLong(s, h, end)
			} else {
				s.pos, s.next = end, end
				lines++
				h.Line(&s.file, buf[start:lineEnd], end)
			}
			start = lineEnd + 1
		}
		// buf[start:have] is the start of a line whose newline has not
		// been read yet.
		if s.skipping || have-start > limit {
			s.skipping = true
			base += int64(have)
			have = 0
			s.next = base
		} else {
			have = copy(buf, buf[start:have])
			base += int64(start)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				s.lastErr = ""
				s.zEOF = s.z != nil
			} else {
				t.readError(s, h, fmt.Errorf("read log file: %w", err))
			}
			return consumed, false
		}
	}
}

// tooLong skips the over-long line from s.pos to end (after its newline).
func (t *Tailer) tooLong(s *stream, h Handler, end int64) {
	start := s.pos
	s.pos, s.next = end, end
	t.stats.tooLong.Add(1)
	t.emit(h, Event{Kind: EventTooLong, File: &s.file, Path: s.name, Offset: start, Bytes: end - 1 - start})
}

// seekEnd positions a newly found file after its last complete line, so
// that a line being written is handed out whole once finished.
func (t *Tailer) seekEnd(s *stream, h Handler) {
	fi, err := s.f.Stat()
	if err != nil {
		t.readError(s, h, fmt.Errorf("stat log file: %w", err))
		return
	}
	size := fi.Size()
	if size == 0 {
		return
	}
	n := min(size, int64(len(t.buf)))
	m, err := s.f.ReadAt(t.buf[:n], size-n)
	if err != nil && !errors.Is(err, io.EOF) {
		t.readError(s, h, fmt.Errorf("read log file: %w", err))
		return
	}
	s.seen = size
	switch i := bytes.LastIndexByte(t.buf[:m], '\n'); {
	case i >= 0:
		s.pos = size - n + int64(i) + 1
		s.next = s.pos
	case n == size:
		// One unfinished line is all there is: it is handed out once
		// finished.
	default:
		// An unfinished line longer than the buffer: skip its rest.
		s.pos, s.next, s.skipping = size, size, true
	}
}

// updateFingerprint extends the fingerprint of s while the file is shorter
// than FingerprintSize was when it was last computed.
func (t *Tailer) updateFingerprint(s *stream) {
	if s.z != nil || s.fpLen >= FingerprintSize || s.seen <= int64(s.fpLen) {
		return
	}
	n := int(min(s.seen, FingerprintSize))
	if sum, ok := t.hashPrefix(s.f, n); ok {
		s.fp, s.fpLen = sum, n
	}
}

// fingerprintNow fingerprints the first bytes of a file just opened and not
// read yet, so that its position identifies it.
func (t *Tailer) fingerprintNow(s *stream) {
	fi, err := s.f.Stat()
	if err != nil {
		return
	}
	n := int(min(fi.Size(), FingerprintSize))
	if sum, ok := t.hashPrefix(s.f, n); ok {
		s.fp, s.fpLen = sum, n
	}
}

// hashPrefix returns the fingerprint of the first n bytes of f.
func (t *Tailer) hashPrefix(f *os.File, n int) (uint64, bool) {
	if n == 0 {
		return 0, true // the fingerprint of nothing is 0
	}
	if _, err := f.ReadAt(t.fpBuf[:n], 0); err != nil {
		return 0, false
	}
	return fnv64a(t.fpBuf[:n]), true
}

// prefixMatches reports whether f starts with the fingerprinted bytes.
func (t *Tailer) prefixMatches(f *os.File, fp uint64, n int) bool {
	sum, ok := t.hashPrefix(f, n)
	return ok && sum == fp
}

// addStream registers a newly opened file.
func (t *Tailer) addStream(f *os.File, id fileID, path, name string, pi int) *stream {
	s := &stream{
		file: File{Path: path, Pattern: pi},
		name: name,
		f:    f,
		id:   id,
	}
	t.streams = append(t.streams, s)
	t.byID[id] = s
	t.stats.files.Add(1)
	return s
}

// setResume positions s as p says.
func (s *stream) setResume(p Position) {
	s.pos, s.next, s.seen = p.Offset, p.Offset, p.Offset
	s.fp, s.fpLen = p.Fingerprint, p.FingerprintLen
}

// closeStream stops following s for good.
func (t *Tailer) closeStream(s *stream, h Handler) {
	if s.z != nil {
		s.z.close()
	}
	s.f.Close()
	s.f = nil
	t.streams = slices.DeleteFunc(t.streams, func(o *stream) bool { return o == s })
	delete(t.byID, s.id)
	if t.active[s.file.Path] == s {
		delete(t.active, s.file.Path)
	}
	t.stats.files.Add(-1)
	t.emit(h, Event{Kind: EventClosed, File: &s.file, Path: s.name, Offset: s.pos})
}

// closeAll closes every file when Run returns, keeping their positions.
func (t *Tailer) closeAll(h Handler) {
	for _, s := range t.streams {
		if s.f == nil {
			continue
		}
		if s.z != nil {
			s.z.close()
		}
		s.f.Close()
		s.f = nil
		t.stats.files.Add(-1)
		t.emit(h, Event{Kind: EventClosed, File: &s.file, Path: s.name, Offset: s.pos})
	}
}

// readError reports err for an open file, once until it changes or clears.
func (t *Tailer) readError(s *stream, h Handler, err error) {
	if msg := err.Error(); msg != s.lastErr {
		s.lastErr = msg
		t.stats.errors.Add(1)
		t.emit(h, Event{Kind: EventReadError, File: &s.file, Path: s.name, Offset: s.pos, Err: err})
	}
}

// pathError reports err for a path not open, once until it changes or
// clears.
func (t *Tailer) pathError(path string, h Handler, err error) {
	if msg := err.Error(); msg != t.pathErr[path] {
		t.pathErr[path] = msg
		t.stats.errors.Add(1)
		t.emit(h, Event{Kind: EventReadError, Path: path, Err: err})
	}
}

func (t *Tailer) emit(h Handler, e Event) { h.Event(e) }

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

// fnv64a is the 64-bit FNV-1a hash of b.
func fnv64a(b []byte) uint64 {
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
	)
	h := uint64(offset64)
	for _, c := range b {
		h ^= uint64(c)
		h *= prime64
	}
	return h
}
