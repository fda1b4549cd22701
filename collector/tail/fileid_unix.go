//go:build unix

package tail

import (
	"os"
	"syscall"
)

// identitySupported reports whether identity can tell files apart here.
const identitySupported = true

// openFlags opens log files without blocking, so that a FIFO that slipped
// past the regular-file check cannot stall the tailer.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK

// identity returns the device and inode numbers of fi.
func identity(fi os.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, true
}
