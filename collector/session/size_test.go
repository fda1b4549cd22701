package session

import "unsafe"

func unsafeSizeofVisitor() uintptr { return unsafe.Sizeof(visitor{}) }
