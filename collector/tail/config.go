package tail

import (
	"log/slog"
	"time"
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
