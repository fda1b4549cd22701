//go:build !unix

package classify

// cpuTime is unknown here; the benchmarks then report wall time only.
func cpuTime() int64 { return 0 }
