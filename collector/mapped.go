package collector

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"unsafe"

	"github.com/session-exporter/session-exporter/collector/decompress"
)

// Replay of a regular uncompressed file reads it through a read-only memory
// mapping: lines are cut straight from the page cache, without the copy a
// read makes (about a tenth of a replay's time). Everything else (standard
// input, pipes, compressed files, the live tailer, and any file the system
// will not map) goes through eachLine; both cut lines with splitLines and
// lastLine, so the lines and the counts are the same (TestMappedLinesAgree).
//
// The mapping is walked a window at a time: the window's pages are mapped
// in one call before its lines are cut (where the system can), and the
// pages of the windows done are given back after it, so a replay's resident
// memory holds about two windows of the file, not all of it.
//
// A file that shrinks while it is mapped (truncated, or rewritten in place)
// leaves pages that fault when touched: SIGBUS, which would end the
// process. The goroutines that touch a mapping run with
// debug.SetPanicOnFault, and a fault on the mapping's pages becomes
// errShrank, which ends the replay. Such a fault can come in the middle of
// a line's parsing, classification or counting, and leave the replay's own
// state half updated: that is harmless, since a replay that fails returns
// none of its counts. State shared beyond the replay, the user-agent cache
// shared by a classifier's clones, is only ever left with an entry whose
// copied agent matches no agent (it is compared whole before it is used).
// Nothing keeps a slice of a line after its callback returns (parsers,
// classifier caches and the sessionizer copy what they keep), so unmapping
// at the end of an input leaves nothing dangling
// (TestMappedNothingKeptAfterUnmap).

// mapWindow is how much of a mapping is cut into lines between two checks of
// the context, and the unit pages are mapped and given back in.
const mapWindow = 16 << 20

// mapBlock is how much of a mapping is brought into the processor's cache
// and cut into lines at a time.
const mapBlock = 128 << 10

// errShrank is the error of a mapped file whose pages went away while it
// was read.
var errShrank = errors.New("the file shrank while it was being read (truncated or rewritten in place?)")

// mapping is a file mapped read-only.
type mapping struct {
	data     []byte
	released int  // the pages before this offset were given back
	sink     byte // what warm read, kept so that its loads are made
}

// openMapped maps the input in when it is a regular, non-empty, uncompressed
// file the system maps; otherwise it returns nil and the input is read. A
// file that cannot be opened is nil too: openInput reports it as it always
// has.
func openMapped(in Input) *mapping {
	if in.Reader != nil || in.Path == "-" || !canMap {
		return nil
	}
	f, err := os.Open(in.Path)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() <= 0 || fi.Size() > maxMapped {
		return nil
	}
	var head [decompress.MagicLen]byte
	n, err := f.ReadAt(head[:], 0)
	if err != nil && err != io.EOF || decompress.Detect(head[:n]) != decompress.None {
		return nil
	}
	data, err := mapFile(f, int(fi.Size()))
	if err != nil {
		return nil
	}
	return &mapping{data: data}
}

// maxMapped is the largest file mapped: any on 64-bit systems; where the
// address space is 32 bits the heap needs it, and larger files are read.
var maxMapped = func() int64 {
	if strconv.IntSize == 64 {
		return math.MaxInt64
	}
	return 256 << 20
}()

// release gives back the pages wholly before offset upTo; they are read
// again from the page cache if touched.
func (m *mapping) release(upTo int) {
	upTo &^= pageSize - 1
	if upTo > m.released {
		releasePages(m.data[m.released:upTo])
		m.released = upTo
	}
}

// close unmaps m; it may be called again.
func (m *mapping) close() {
	if m.data != nil {
		unmap(m.data)
		m.data = nil
	}
}

// holds reports whether addr is in m's pages.
func (m *mapping) holds(addr uintptr) bool {
	base := uintptr(unsafe.Pointer(unsafe.SliceData(m.data)))
	return addr >= base && addr-base < uintptr(len(m.data)+pageSize)
}

// catchFault, deferred on a goroutine that runs with debug.SetPanicOnFault,
// turns a fault on m's pages into errShrank in *err; any other panic goes on.
func (m *mapping) catchFault(err *error) {
	r := recover()
	if r == nil {
		return
	}
	if f, ok := r.(interface{ Addr() uintptr }); ok && m.holds(f.Addr()) {
		*err = errShrank
		return
	}
	panic(r)
}

// eachMappedLine is eachLine over a mapped file: the same lines, cut from
// the mapping.
func eachMappedLine(ctx context.Context, m *mapping, max int, line func(b []byte, n int), tooLong func(n int)) error {
	return m.eachLine(ctx, max, mapBlock, mapWindow, line, tooLong)
}

// eachLine cuts m into lines a block of blk bytes at a time, brought into
// the cache first; the pages are mapped in and given back win bytes at a
// time.
func (m *mapping) eachLine(ctx context.Context, max, blk, win int, line func(b []byte, n int), tooLong func(n int)) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer m.catchFault(&err)
	data := m.data
	// A block longer than max_line_bytes holds a newline or is a too long
	// line, so every block ends past the one before.
	if blk < max+2 {
		blk = max + 2
	}
	if win < blk {
		win = blk
	}
	mapped := 0 // the pages before this offset are mapped in
	for off := 0; off < len(data); {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(off+blk, len(data))
		if end > mapped {
			m.release(off)
			mapped = min(off+win, len(data))
			populate(data[off:mapped])
		}
		b := data[off:end]
		m.sink |= warm(b)
		rest := splitLines(b, max, line, tooLong)
		if end == len(data) {
			lastLine(rest, max, line, tooLong)
			return nil
		}
		start := end - len(rest) // the incomplete line at the block's end
		off = start
		if len(rest) > max {
			i := bytes.IndexByte(data[end:], '\n')
			if i < 0 {
				tooLong(len(data) - start)
				return nil
			}
			tooLong(end + i + 1 - start)
			off = end + i + 1
		}
	}
	return nil
}

// warm loads a byte of every cache line of b: the loads are independent, so
// the processor has many in flight at once and brings b into its cache
// faster than the cutting and parsing that touch it a line at a time.
func warm(b []byte) byte {
	var s byte
	for i := 0; i < len(b); i += 64 {
		s |= b[i]
	}
	return s
}
