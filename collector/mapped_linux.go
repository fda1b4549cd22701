//go:build linux

package collector

import (
	"os"
	"syscall"
)

const canMap = true

var pageSize = os.Getpagesize()

// madvPopulateRead maps a range's pages in one call (Linux 5.14); older
// kernels refuse it and the pages are mapped as they are touched.
const madvPopulateRead = 22

func mapFile(f *os.File, size int) ([]byte, error) {
	return syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
}

func unmap(b []byte) { _ = syscall.Munmap(b) }

func populate(b []byte) {
	if len(b) > 0 {
		_ = syscall.Madvise(b, madvPopulateRead)
	}
}

func releasePages(b []byte) {
	if len(b) > 0 {
		_ = syscall.Madvise(b, syscall.MADV_DONTNEED)
	}
}
