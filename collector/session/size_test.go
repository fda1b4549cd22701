package session

import (
	"testing"
	"unsafe"
)

func unsafeSizeofVisitor() uintptr { return unsafe.Sizeof(visitor{}) }

// An event is copied into and along the reorder buffer and the parallel
// replay's chunks: it is kept to one cache line.
func TestEventSize(t *testing.T) {
	if n := unsafe.Sizeof(Event{}); n != 64 {
		t.Fatalf("Event is %d bytes, want 64", n)
	}
}
