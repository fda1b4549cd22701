package accesslog

import (
	"syscall"
	"testing"
)

// TestScanQuotesPageEnd puts lines at the very end of a readable page
// followed by one that may not be read, and at the very start of a page
// after one that may not be read: a load past either end of the line
// faults.
func TestScanQuotesPageEnd(t *testing.T) {
	page := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 3*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	defer syscall.Munmap(mem)
	for _, guard := range [][]byte{mem[:page], mem[2*page:]} {
		if err := syscall.Mprotect(guard, syscall.PROT_NONE); err != nil {
			t.Skipf("mprotect: %v", err)
		}
	}
	mid := mem[page : 2*page : 2*page]
	for i := range mid {
		mid[i] = "a\"b \x80"[i%5]
	}
	for n := 0; n <= 300; n++ {
		checkScan(t, mid[page-n:])                // ends at the guard page
		checkScan(t, mid[:n:n])                   // starts after the guard page
		checkScan(t, mid[page-n-3:page-3:page-3]) // ends three bytes before it
	}
}
