package collector

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/session-exporter/session-exporter/collector/accesslog"
)

// rejectSampler logs at most one rejected line per reason per interval, at
// debug level, as its shape only (see MaskLine). Bad lines are counted, never
// logged one by one.
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
	s.log.Debug("rejected log line", "file", file, "reason", string(r), "suppressed_since_last", n, "shape", maskLine(line, 200))
}

// maskLine returns the shape of at most max bytes of line: every run of
// letters becomes "a", every run of digits "9", other bytes stay (control
// and non-ASCII bytes become '?'). It shows why a line does not match its
// format without showing any address, path, user agent or referrer.
func maskLine(line []byte, max int) string {
	if len(line) > max {
		line = line[:max]
	}
	out := make([]byte, 0, len(line))
	var last byte
	for _, c := range line {
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			c = 'a'
		case c >= '0' && c <= '9':
			c = '9'
		case c < 0x20 || c >= 0x7f:
			c = '?'
		}
		if (c == 'a' || c == '9') && c == last {
			continue
		}
		out = append(out, c)
		last = c
	}
	return string(out)
}
