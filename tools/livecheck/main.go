// Command livecheck measures the live exporter under load: it appends
// generated lines to a log at a fixed rate, runs the exporter on it, and
// reports how far /metrics lags behind the writes and how much CPU the
// exporter uses.
//
//	make build && go run ./tools/livecheck -bin bin/session-exporter -rate 50000 -for 20s
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/session-exporter/session-exporter/collector/loggen"
)

func main() {
	bin := flag.String("bin", "bin/session-exporter", "exporter binary")
	rate := flag.Int("rate", 50_000, "lines appended per second")
	dur := flag.Duration("for", 20*time.Second, "how long to append")
	flag.Parse()
	if err := run(*bin, *rate, *dur); err != nil {
		fmt.Fprintln(os.Stderr, "livecheck:", err)
		os.Exit(1)
	}
}

func run(bin string, rate int, dur time.Duration) error {
	dir, err := os.MkdirTemp("", "livecheck-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logPath := filepath.Join(dir, "access.log")
	if err := os.WriteFile(logPath, nil, 0o644); err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := l.Addr().String()
	l.Close()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "listen: %q\nlogs: [{path: %q, format: combined}]\nstart_at: beginning\nown_hosts: [www.example.com]\nsession: {max_delay: 0s}\n", addr, logPath), 0o644); err != nil {
		return err
	}
	cmd := exec.Command(bin, "-config", cfg, "-log.level", "warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	for i := 0; ; i++ {
		if _, err := scrape(addr); err == nil {
			break
		}
		if i > 200 {
			return fmt.Errorf("exporter did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}

	var written atomic.Int64
	stop := make(chan struct{})
	go func() {
		f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			panic(err)
		}
		defer f.Close()
		g := loggen.New(loggen.Options{Seed: 1, Start: time.Now(), Visitors: 50_000, Step: time.Second / time.Duration(rate)})
		w := bufio.NewWriterSize(f, 1<<20)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		start := time.Now()
		var line []byte
		for {
			select {
			case <-stop:
				return
			case now := <-tick.C:
				due := int64(now.Sub(start).Seconds() * float64(rate))
				for n := written.Load(); n < due; n++ {
					line = append(g.Next(line[:0]), '\n')
					w.Write(line)
				}
				w.Flush()
				written.Store(due)
			}
		}
	}()

	cpu0 := cpuTime(cmd.Process.Pid)
	t0 := time.Now()
	var lags []time.Duration
	deadline := t0.Add(dur)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		w := written.Load()
		read, err := scrape(addr)
		if err != nil {
			return err
		}
		// Lines written but not yet in /metrics, as time at the write rate.
		lag := time.Duration(float64(max(w-read, 0)) / float64(rate) * float64(time.Second))
		lags = append(lags, lag)
	}
	close(stop)
	cores := (cpuTime(cmd.Process.Pid) - cpu0).Seconds() / time.Since(t0).Seconds()
	slices.Sort(lags)
	p := func(q float64) time.Duration { return lags[int(q*float64(len(lags)-1))] }
	fmt.Printf("appending %d lines/s for %s: /metrics behind the writes by p50 %s, p99 %s, max %s; exporter CPU %.2f cores\n",
		rate, dur, p(0.5).Round(time.Millisecond), p(0.99).Round(time.Millisecond), lags[len(lags)-1].Round(time.Millisecond), cores)
	return nil
}

// scrape returns session_exporter_lines_read_total.
func scrape(addr string) (int64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "session_exporter_lines_read_total{") {
			v, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
			return int64(v), err
		}
	}
	return 0, fmt.Errorf("no lines_read metric")
}

// cpuTime returns the user+system CPU time of a process from /proc.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // clock ticks (USER_HZ = 100)
}
