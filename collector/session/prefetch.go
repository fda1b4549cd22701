//go:build amd64 || arm64

package session

// prefetch asks the processor to bring the cache line at addr closer
// without waiting for it (PREFETCHT0 on amd64, PRFM PLDL1KEEP on arm64).
// It never faults, whatever addr is; the sessionizer uses it to start the
// memory reads of an event while the event waits for max_delay.
func prefetch(addr uintptr)
