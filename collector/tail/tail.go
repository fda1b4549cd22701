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
// A file that appears at a followed path is opened on the first pass that
// sees it, even while the rotated file before it is still being read (its
// lines wait, its discovery does not), so every file is in the positions
// from then on. Rotated files that were never opened (the path rotated twice
// between two passes) are found among the rotated siblings of the path,
// compressed ones included, and read in order (rotated.go).
//
// Positions (what to save in a checkpoint) name a file by inode and by a
// fingerprint of its first bytes, so a restarted tailer resumes each file
// where it left off, finds a file that was renamed or compressed while it
// was stopped in the same directory and drains it first, then the rotated
// files newer than it, and never mistakes a new file that reused an inode
// for the old one.
//
// The code: tail.go (Tailer, Run, Positions), config.go, pass.go (one pass:
// rotation and discovery), read.go (reading lines, truncation), resume.go
// (saved positions), rotated.go (rotated siblings, the bound on open files),
// compressed.go, fingerprint.go, glob.go, waker.go.
package tail

import (
	"context"
	"errors"
	"fmt"
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
	readChunk = 1 << 20
	// maxReadsPerPass bounds the reads from one file in one pass, so a file
	// written faster than it can be read does not starve the others.
	maxReadsPerPass = 16
)

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
		nw, err := newNotifyWaker(t.cfg.PollInterval, t.logger)
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
	return s
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
		t.emit(h, Event{Kind: EventClosed, File: &s.file, Path: s.name, Offset: s.pos})
	}
}

// readError reports err for an open file, once until it changes or clears.
func (t *Tailer) readError(s *stream, h Handler, err error) {
	if msg := err.Error(); msg != s.lastErr {
		s.lastErr = msg
		t.emit(h, Event{Kind: EventReadError, File: &s.file, Path: s.name, Offset: s.pos, Err: err})
	}
}

// pathError reports err for a path not open, once until it changes or
// clears.
func (t *Tailer) pathError(path string, h Handler, err error) {
	if msg := err.Error(); msg != t.pathErr[path] {
		t.pathErr[path] = msg
		t.emit(h, Event{Kind: EventReadError, Path: path, Err: err})
	}
}

func (t *Tailer) emit(h Handler, e Event) { h.Event(e) }
