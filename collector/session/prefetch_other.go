//go:build !amd64 && !arm64

package session

// prefetch does nothing where no prefetch instruction is wired up: the
// reads it would start are made when the event is applied, as always.
func prefetch(addr uintptr) {}
