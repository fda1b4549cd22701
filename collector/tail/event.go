package tail

import (
	"errors"
	"strconv"
)

// ErrNotRegular is reported (wrapped, in an EventReadError) when a
// configured path names something other than a regular file, such as a
// directory, a FIFO or a symbolic link to /dev/stdout. The path is polled
// again on every pass, so replacing it with a regular file is picked up.
var ErrNotRegular = errors.New("not a regular file")

// File is a file being followed, as the Handler sees it. The tailer owns it;
// the pointer stays the same for as long as the file is followed, so a
// handler may use it as a map key. Fields must not be modified.
type File struct {
	// Path is the name the file is followed under: the configured path or
	// glob match it was found at. A rotated file keeps the name it had
	// before the rotation, so its last lines are counted where they belong.
	Path string
	// Pattern is the index in Config.Paths of the pattern Path matched.
	Pattern int
	// Rotated is true once Path names a different file (or none) and this
	// one is being drained before it is closed.
	Rotated bool
}

// EventKind says what an Event reports.
type EventKind uint8

// The kinds of Event. Every kind except EventReadError comes with a File.
const (
	// EventOpened: a file is now followed. Offset is where reading starts.
	EventOpened EventKind = iota + 1
	// EventClosed: a file is no longer followed, because it was rotated
	// away and then stayed idle for Config.DrainIdle, or because Run is
	// returning. Offset is its final position.
	EventClosed
	// EventRotated: the file's path now names a different file, or none.
	// The file stays open and is drained (File.Rotated is set) until it
	// has been idle for Config.DrainIdle. Offset is the position reached.
	EventRotated
	// EventTruncated: the file shrank, or its first bytes changed
	// (copytruncate). Reading restarts at 0. Offset is the position
	// before the truncation; Bytes is the size seen before it.
	EventTruncated
	// EventTooLong: a line longer than Config.MaxLineBytes was skipped
	// whole. Offset is where it started; Bytes is its length without the
	// newline.
	EventTooLong
	// EventReadError: a path could not be opened, or an open file could
	// not be read. Err says why. It is reported once per path or file
	// until the error changes or clears; the tailer keeps retrying on every
	// pass. File is nil when the path has never been opened.
	EventReadError
	// EventLost: lines were provably lost. Either a saved Position matched
	// no file (its file was deleted while the tailer was stopped), and
	// Path and Offset come from the Position; or a rotated file was given
	// up with lines unread, to stay within the bound of files open per
	// path (or, compressed, it could not be read to its end within
	// Config.DrainIdle): Path is its name, Offset the position reached and
	// Bytes the bytes left unread (0 if unknown). File is the file as it
	// was followed (Pattern is -1 for a path no longer configured).
	EventLost
)

// String returns a short lower-case name for k, fit for a metric label.
func (k EventKind) String() string {
	switch k {
	case EventOpened:
		return "opened"
	case EventClosed:
		return "closed"
	case EventRotated:
		return "rotated"
	case EventTruncated:
		return "truncated"
	case EventTooLong:
		return "too_long"
	case EventReadError:
		return "read_error"
	case EventLost:
		return "lost"
	}
	return "event(" + strconv.Itoa(int(k)) + ")"
}

// Event reports something other than a line. Which fields are set depends
// on Kind; see the EventKind constants.
type Event struct {
	Kind EventKind
	// File is the file concerned, if it is (or was) followed.
	File *File
	// Path is the name the event concerns: for a file found under a new
	// name (a rotated file picked up again after a restart) it is that new
	// name, which can differ from File.Path.
	Path   string
	Offset int64
	Bytes  int64
	Err    error
}

// Handler receives lines and events. All its methods are called from the
// goroutine running Tailer.Run, one at a time, in file order; they may call
// Tailer.Positions.
type Handler interface {
	// Line is called for every complete line, in file order. line excludes
	// the newline and is valid only during the call. end is the offset just
	// after the newline; Positions already includes this line.
	Line(f *File, line []byte, end int64)
	// Event reports rotations, truncations, skipped lines, opens, closes
	// and errors.
	Event(e Event)
	// Idle is called after every pass that left every followed file read
	// to its end: the handler has seen every complete line written so far.
	// While the logs are quiet it is called at least once per poll.
	Idle()
}

// HandlerFuncs adapts functions to a Handler. Nil functions are skipped.
type HandlerFuncs struct {
	LineFunc  func(f *File, line []byte, end int64)
	EventFunc func(e Event)
	IdleFunc  func()
}

// Line calls h.LineFunc if it is set.
func (h HandlerFuncs) Line(f *File, line []byte, end int64) {
	if h.LineFunc != nil {
		h.LineFunc(f, line, end)
	}
}

// Event calls h.EventFunc if it is set.
func (h HandlerFuncs) Event(e Event) {
	if h.EventFunc != nil {
		h.EventFunc(e)
	}
}

// Idle calls h.IdleFunc if it is set.
func (h HandlerFuncs) Idle() {
	if h.IdleFunc != nil {
		h.IdleFunc()
	}
}
