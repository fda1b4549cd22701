//go:build unix

package classify

import "syscall"

// cpuTime returns the CPU time the process has used, user and system, in
// nanoseconds; 0 where it cannot tell. The user-agent benchmarks report it
// per op beside the wall time, which a busy machine inflates.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
