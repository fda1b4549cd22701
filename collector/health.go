package collector

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/session-exporter/session-exporter/collector/telemetry"
)

// Live health of the configured logs: a path that names no readable file,
// and a file of which most recent lines are rejected (a wrong format), are
// warned about at start and again at most every healthRepeat while they
// last, and session_exporter_file_up says which paths are readable.
const (
	healthEvery  = 10 * time.Second // how often paths are checked
	healthRepeat = 5 * time.Minute  // a warning is repeated at most this often
	// rejectWindow lines at least make a judgement on the rejected share.
	rejectWindow = 20
)

type logHealth struct {
	path   string
	format string
	file   int

	known, up  bool
	warnedDown time.Time

	baseRead, baseRejected uint64
	warnedRejects          time.Time
}

type healthWatch struct {
	log     *slog.Logger
	metrics *telemetry.Metrics
	logs    []logHealth
	next    time.Time
}

func newHealthWatch(log *slog.Logger, m *telemetry.Metrics, srcs []*source) *healthWatch {
	w := &healthWatch{log: log, metrics: m}
	for _, s := range srcs {
		if s.kind != inputFile {
			continue // standard input and sockets are up once open
		}
		w.logs = append(w.logs, logHealth{path: s.name, format: s.parser.Name(), file: s.file})
	}
	return w
}

// check runs the checks that are due at now; force runs them regardless.
func (w *healthWatch) check(now time.Time, force bool) {
	if !force && now.Before(w.next) {
		return
	}
	w.next = now.Add(healthEvery)
	for i := range w.logs {
		l := &w.logs[i]
		w.checkPath(l, now)
		w.checkRejects(l, now)
	}
}

func (w *healthWatch) checkPath(l *logHealth, now time.Time) {
	err := probePath(l.path)
	up := err == nil
	w.metrics.SetFileUp(l.file, up)
	switch {
	case up && l.known && !l.up:
		w.log.Info("configured log can be read again", "path", l.path)
	case !up && (l.up || !l.known || now.Sub(l.warnedDown) >= healthRepeat):
		attrs := []any{"path", l.path, "err", err}
		if errors.Is(err, fs.ErrPermission) {
			attrs = append(attrs, "hint", "the exporter's user cannot read this log: add it to the log's group (adm on Debian/Ubuntu) or adjust the file mode")
		} else {
			attrs = append(attrs, "hint", "check logs[].path; the exporter reads the log as soon as it appears")
		}
		w.log.Warn("configured log cannot be read", attrs...)
		l.warnedDown = now
	}
	l.known, l.up = true, up
}

func (w *healthWatch) checkRejects(l *logHealth, now time.Time) {
	read, rejected, top := w.metrics.FileLines(l.file)
	if read < l.baseRead || rejected < l.baseRejected { // counters restored or reset
		l.baseRead, l.baseRejected = read, rejected
	}
	n, bad := read-l.baseRead, rejected-l.baseRejected
	if n < rejectWindow {
		return // too few lines to judge: keep counting
	}
	l.baseRead, l.baseRejected = read, rejected
	if 2*bad <= n || now.Sub(l.warnedRejects) < healthRepeat && !l.warnedRejects.IsZero() {
		return
	}
	l.warnedRejects = now
	w.log.Warn("most lines of a log are rejected: is its format right?", "path", l.path, "format", l.format,
		"lines", n, "rejected", bad, "mostly", string(top),
		"hint", "set logs[].format to the log's preset or log_format (docs/formats.md), or auto; at debug level the shapes of rejected lines are logged")
}

// probePath reports why path names no readable file, or nil when it does.
// A glob must match at least one readable file.
func probePath(path string) error {
	if path == "-" {
		return nil
	}
	matches := []string{path}
	if strings.ContainsAny(path, "*?[") {
		m, err := filepath.Glob(path)
		if err != nil {
			return err
		}
		if len(m) == 0 {
			return fmt.Errorf("no file matches %s", path)
		}
		matches = m
	}
	var first error
	for _, p := range matches {
		f, err := os.Open(p)
		if err == nil {
			fi, serr := f.Stat()
			f.Close()
			if serr == nil && fi.IsDir() {
				err = fmt.Errorf("%s is a directory", p)
			} else {
				return nil
			}
		}
		if first == nil {
			first = err
		}
	}
	return first
}
