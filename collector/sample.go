package collector

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/session-exporter/session-exporter/collector/accesslog"
)

// rejectSampler logs at most one rejected line per reason per interval, at
// debug level, cut short and with every digit and hex letter run that could be
// an address masked. Bad lines are counted, never logged one by one.
type rejectSampler struct {
	log      *slog.Logger
	every    time.Duration
	now      func() time.Time
	mu       sync.Mutex
	last     map[accesslog.Reason]time.Time
	suppress map[accesslog.Reason]int
}

func newRejectSampler(log *slog.Logger, every time.Duration, now func() time.Time) *rejectSampler {
	return &rejectSampler{log: log, every: every, now: now,
		last: map[accesslog.Reason]time.Time{}, suppress: map[accesslog.Reason]int{}}
}

func (s *rejectSampler) sample(file string, r accesslog.Reason, line []byte) {
	if s.log == nil || !s.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.now()
	if last, ok := s.last[r]; ok && t.Sub(last) < s.every {
		s.suppress[r]++
		return
	}
	s.last[r] = t
	n := s.suppress[r]
	s.suppress[r] = 0
	s.log.Debug("rejected log line", "file", file, "reason", string(r), "suppressed_since_last", n, "sample", MaskLine(line, 120))
}

// MaskLine returns at most max bytes of line with anything that looks like an
// IPv4 or IPv6 address replaced by "x", and control bytes replaced by '?'.
func MaskLine(line []byte, max int) string {
	if len(line) > max {
		line = line[:max]
	}
	out := make([]byte, 0, len(line))
	for i := 0; i < len(line); {
		if j := addrEnd(line, i); j > i {
			out = append(out, 'x')
			i = j
			continue
		}
		c := line[i]
		if c < 0x20 || c >= 0x7f {
			c = '?'
		}
		out = append(out, c)
		i++
	}
	return string(out)
}

// addrEnd returns the end of an address-like token starting at i (a run of
// hex digits, '.' and ':' containing at least two separators and a digit), or i.
func addrEnd(b []byte, i int) int {
	if i > 0 && isAddrByte(b[i-1]) {
		return i
	}
	j, seps, digits := i, 0, 0
	for j < len(b) && isAddrByte(b[j]) {
		switch {
		case b[j] == '.' || b[j] == ':':
			seps++
		case b[j] >= '0' && b[j] <= '9':
			digits++
		}
		j++
	}
	if seps >= 2 && digits > 0 {
		return j
	}
	return i
}

func isAddrByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':'
}
