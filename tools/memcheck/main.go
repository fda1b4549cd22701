//go:build linux

// Command memcheck measures the memory cost of an open session: it pipes one
// pageview from each of N distinct visitors (all within the session timeout,
// so every session is open at the end) into `session-exporter replay -`,
// twice, and reports the difference in peak RSS per extra visitor. The
// budget is 150 bytes an open session with the default configuration;
// -config measures another (docs/performance.md has the formula).
//
//	make build && go run ./tools/memcheck -bin bin/session-exporter
//
// Linux only: it reads the child's peak RSS from getrusage.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("bin", "bin/session-exporter", "exporter binary")
	small := flag.Int("small", 10_000, "visitors in the baseline run")
	big := flag.Int("big", 1_000_000, "visitors in the measured run")
	config := flag.String("config", "", "configuration file for both runs (default: none, the built-in defaults)")
	budget := flag.Float64("budget", 150, "bytes of peak RSS allowed per open session")
	flag.Parse()
	if *big <= *small {
		fmt.Fprintf(os.Stderr, "memcheck: -big (%d) must be larger than -small (%d)\n", *big, *small)
		os.Exit(2)
	}
	base, err := peakRSS(*bin, *config, *small)
	if err != nil {
		fmt.Fprintln(os.Stderr, "memcheck:", err)
		os.Exit(1)
	}
	peak, err := peakRSS(*bin, *config, *big)
	if err != nil {
		fmt.Fprintln(os.Stderr, "memcheck:", err)
		os.Exit(1)
	}
	per := float64(peak-base) / float64(*big-*small)
	fmt.Printf("peak RSS: %d visitors %.1f MiB, %d visitors %.1f MiB\n", *small, float64(base)/(1<<20), *big, float64(peak)/(1<<20))
	fmt.Printf("per open session: %.0f bytes\n", per)
	if per > *budget {
		fmt.Printf("over the %.0f-byte budget\n", *budget)
		os.Exit(1)
	}
}

// peakRSS runs one replay of n visitors on one core and returns its peak
// resident set size in bytes.
func peakRSS(bin, config string, n int) (int64, error) {
	args := []string{"replay", "-o", "json", "-format", "combined"}
	if config != "" {
		args = append(args, "-config", config)
	}
	cmd := exec.Command(bin, append(args, "-")...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	in, err := cmd.StdinPipe()
	if err != nil {
		return 0, err
	}
	cmd.Stdout = io.Discard
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(in, 1<<20)
	start := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	const ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	for i := 0; i < n; i++ {
		// 1,000 visitors a second of event time: 1M visitors span 17
		// minutes, inside the 30-minute timeout.
		t := start.Add(time.Duration(i) * time.Millisecond)
		fmt.Fprintf(w, "%d.%d.%d.%d - - [%s] \"GET /p/%d HTTP/1.1\" 200 512 \"-\" \"%s\"\n",
			11+i>>24&0x7f, i>>16&0xff, i>>8&0xff, i&0xff, t.Format("02/Jan/2006:15:04:05 -0700"), i%50, ua)
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		return 0, fmt.Errorf("replay of %d visitors: %w", n, err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, fmt.Errorf("no resource usage on this platform")
	}
	return int64(ru.Maxrss) * 1024, nil // Linux reports kilobytes (an int32 on 32-bit platforms)
}
