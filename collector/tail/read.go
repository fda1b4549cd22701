package tail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

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
	pos0 := s.pos
	defer func() { consumed = s.pos - pos0 }()
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
			switch {
			case s.skipping || i > limit:
				s.skipping = false
				t.tooLong(s, h, end)
			default:
				s.pos, s.next = end, end
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
				if m > 0 {
					// Lines written while these were handled out come
					// in this pass too: the end is where a read finds
					// nothing new.
					continue
				}
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
