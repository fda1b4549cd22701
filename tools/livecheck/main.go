//go:build linux

// Command livecheck measures the live exporter under load: it appends
// generated lines to a log at a fixed rate, runs the exporter on it, and
// reports the rate it actually wrote, how far /metrics lags behind the
// writes and how much CPU the exporter and the writer use.
//
//	make build && go run ./tools/livecheck -bin bin/session-exporter -rate 50000 -for 20s
//	make build && go run ./tools/livecheck -bin bin/session-exporter -rate 1000000 -for 20s
//
// The writer is cheap, so that what is measured is the exporter: a pool of
// generated lines (tens of thousands of visitors, the generator's few
// hundred user agents) is rendered once; every few milliseconds the lines
// due by the monotonic clock are taken from the pool in one contiguous
// block, their timestamps set to the current second in place, and written
// with one write call. The writer runs on a thread of its own and its CPU
// time (the write calls included) is printed, so a run where it took a
// good share of a core on a loaded machine can be told apart.
//
// The log is rotated by rename every -rotate-mib MiB (to access.log-000001,
// access.log-000002, ...: names the exporter finds as rotated siblings),
// and a rotated file is deleted once the exporter has counted all of its
// lines. This keeps the disk and page cache a run uses to a few rotations,
// and it keeps the writer cheap on a virtual machine that hands freed
// memory back to its host: there, every page the page cache takes for the
// first time costs a fault in the host (on the machine of
// docs/performance.md, dd wrote a new 2 GB file at 297 MB/s, about 14 µs a
// 4 KiB page, and the next one, into the pages the first had just freed,
// at 3.5 GB/s), which made an ever-growing log cost the writer most of a
// core at 1 M lines/s. A deleted rotation's pages are taken again by the
// next one before they are handed back. Before a run that will rotate, a
// scratch file of two rotations is written and deleted, for the same
// reason.
//
// It exits 1 when it wrote less than 98% of the asked rate (the writer
// could not keep up, so the figures are not a measurement of that rate),
// when /metrics lagged behind the writes by more than -max-lag, or when the
// exporter had not counted every line -max-lag after the last write.
//
// Linux only: it reads /proc and getrusage(RUSAGE_THREAD).
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/session-exporter/session-exporter/collector/loggen"
)

// minRatio is the share of the asked rate the writer must reach for the
// run to count.
const minRatio = 0.98

// catchUp is how long livecheck waits, after the last write, for the
// exporter to count what it has not counted yet, to report how far behind
// it was.
const catchUp = 30 * time.Second

func main() {
	o := options{}
	flag.StringVar(&o.bin, "bin", "bin/session-exporter", "exporter binary")
	flag.IntVar(&o.rate, "rate", 50_000, "lines appended per second")
	flag.DurationVar(&o.dur, "for", 20*time.Second, "how long to append")
	flag.DurationVar(&o.maxLag, "max-lag", time.Second, "the most /metrics may lag behind the writes")
	flag.DurationVar(&o.every, "scrape", 100*time.Millisecond, "how often /metrics is scraped")
	flag.DurationVar(&o.block, "block", 4*time.Millisecond, "how often the writer writes (one write call each)")
	flag.IntVar(&o.pool, "pool", 200_000, "distinct pre-rendered lines the writer cycles through")
	flag.IntVar(&o.rotateMiB, "rotate-mib", 256, "rotate the log by rename after this many MiB (0: never)")
	flag.IntVar(&o.visitors, "visitors", 50_000, "distinct visitors in the pool")
	flag.Parse()
	if err := o.check(); err != nil {
		fmt.Fprintln(os.Stderr, "livecheck:", err)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "livecheck:", err)
		os.Exit(1)
	}
}

type options struct {
	bin                string
	rate               int
	dur, maxLag, every time.Duration
	block              time.Duration
	pool, visitors     int
	rotateMiB          int
}

func (o options) check() error {
	switch {
	case o.rate <= 0:
		return fmt.Errorf("-rate %d: must be positive", o.rate)
	case o.dur < time.Second:
		return fmt.Errorf("-for %s: must be at least 1s", o.dur)
	case o.maxLag <= 0 || o.every <= 0 || o.block <= 0:
		return errors.New("-max-lag, -scrape and -block must be positive")
	case o.pool < 1000:
		return fmt.Errorf("-pool %d: must be at least 1000", o.pool)
	case o.visitors <= 0:
		return fmt.Errorf("-visitors %d: must be positive", o.visitors)
	case o.rotateMiB < 0:
		return fmt.Errorf("-rotate-mib %d: must be 0 (never) or positive", o.rotateMiB)
	}
	return nil
}

func run(o options) error {
	dir, err := os.MkdirTemp("", "livecheck-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logPath := filepath.Join(dir, "access.log")
	if err := os.WriteFile(logPath, nil, 0o644); err != nil {
		return err
	}
	p := newPool(o.pool, o.visitors)

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
	cmd := exec.Command(o.bin, "-config", cfg, "-log.level", "warn")
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

	if expect := float64(o.rate) * o.dur.Seconds() * float64(len(p.buf)) / float64(p.len()); o.rotateMiB > 0 && expect > float64(o.rotateMiB<<20) {
		if err := warm(filepath.Join(dir, "warm"), 2*int64(o.rotateMiB)<<20, p.buf); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	w := &writer{f: f, path: logPath, rotate: int64(o.rotateMiB) << 20, pool: p, rate: o.rate, block: o.block, dur: o.dur}
	cpu0, err := cpuTime(cmd.Process.Pid)
	if err != nil {
		return err
	}
	wrote := make(chan error, 1)
	go func() { wrote <- w.run() }()

	var lags []time.Duration
	tick := time.NewTicker(o.every)
	defer tick.Stop()
	var werr error
	for running := true; running; {
		select {
		case werr = <-wrote:
			running = false
		case <-tick.C:
			lag, read, err := lagNow(addr, w, o.rate)
			if err != nil {
				return err
			}
			lags = append(lags, lag)
			if err := w.deleteCounted(read); err != nil {
				return err
			}
		}
	}
	cpu1, err := cpuTime(cmd.Process.Pid)
	if err != nil {
		return err
	}
	elapsed := w.elapsed
	if werr != nil {
		return fmt.Errorf("writing the log: %w", werr)
	}
	// Every line written must be counted within the bound; how long the
	// rest took is reported either way.
	total := w.written.Load()
	last := time.Now()
	var behind int64
	for {
		read, err := scrape(addr)
		if err != nil {
			return err
		}
		behind = total - read
		if behind <= 0 || time.Since(last) > max(o.maxLag, catchUp) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	drained := time.Since(last)

	cores := (cpu1 - cpu0).Seconds() / elapsed.Seconds()
	// What livecheck's own scrapes cost the exporter, measured now that it
	// is idle with every series of the run: Prometheus scrapes every 15 s
	// or so, not ten times a second.
	perScrape, err := scrapeCost(addr, cmd.Process.Pid)
	if err != nil {
		return err
	}
	scrapeCores := perScrape.Seconds() * float64(len(lags)) / elapsed.Seconds()
	avg := float64(total) / elapsed.Seconds()
	worst := w.worstSecond()
	slices.Sort(lags)
	q := func(f float64) time.Duration { return lags[int(f*float64(len(lags)-1))].Round(time.Millisecond) }
	fmt.Printf("asked %d lines/s for %s: wrote %d lines, %.0f lines/s on average, %d in the slowest second\n",
		o.rate, o.dur, total, avg, worst)
	if w.seq > 0 {
		fmt.Printf("the log was rotated %d times (every %d MiB)\n", w.seq, o.rotateMiB)
	}
	fmt.Printf("/metrics behind the writes (%d scrapes): p50 %s, p99 %s, max %s\n", len(lags), q(0.5), q(0.99), lags[len(lags)-1].Round(time.Millisecond))
	fmt.Printf("exporter CPU: %.3f cores; %.3f without livecheck's scrapes (%s of CPU each, %.1f a second)\n",
		cores, max(cores-scrapeCores, 0), perScrape.Round(10*time.Microsecond), float64(len(lags))/elapsed.Seconds())
	fmt.Printf("writer CPU: %.3f cores (%.0f ns a line, writes included)\n",
		w.cpu.Seconds()/elapsed.Seconds(), float64(w.cpu.Nanoseconds())/float64(max(total, 1)))

	if behind > 0 {
		fmt.Printf("after the last write: %d lines still not counted %s later\n", behind, drained.Round(time.Millisecond))
	} else {
		fmt.Printf("after the last write: every line counted within %s\n", drained.Round(time.Millisecond))
	}

	var fail []string
	if behind > 0 || drained > o.maxLag {
		fail = append(fail, fmt.Sprintf("the last lines took more than %s to be counted", o.maxLag))
	}
	if avg < minRatio*float64(o.rate) {
		fail = append(fail, fmt.Sprintf("wrote %.0f lines/s, under %.0f%% of the asked %d: not a measurement of that rate", avg, 100*minRatio, o.rate))
	}
	if m := lags[len(lags)-1]; m > o.maxLag {
		fail = append(fail, fmt.Sprintf("/metrics lagged by %s, more than %s", m.Round(time.Millisecond), o.maxLag))
	}
	if len(fail) > 0 {
		return errors.New(strings.Join(fail, "; "))
	}
	return nil
}

// lagNow scrapes /metrics and returns how old the oldest line written
// before the scrape began and not yet counted is, at the write rate.
// It also returns the lines the exporter has counted.
func lagNow(addr string, w *writer, rate int) (time.Duration, int64, error) {
	written := w.written.Load()
	read, err := scrape(addr)
	if err != nil {
		return 0, 0, err
	}
	return time.Duration(float64(max(written-read, 0)) / float64(rate) * float64(time.Second)), read, nil
}

// scrapeCost returns the exporter's CPU time per /metrics scrape, from
// scrapes in a row.
func scrapeCost(addr string, pid int) (time.Duration, error) {
	const n = 100
	before, err := cpuTime(pid)
	if err != nil {
		return 0, err
	}
	for range n {
		if _, err := scrape(addr); err != nil {
			return 0, err
		}
	}
	after, err := cpuTime(pid)
	if err != nil {
		return 0, err
	}
	return (after - before) / n, nil
}

// pool is a block of pre-rendered lines, cycled through by the writer.
type pool struct {
	buf   []byte
	start []int // start of each line in buf, and len(buf) at the end
	stamp []int // offset in buf of each line's timestamp
}

// stampLen is the length of an nginx $time_local: 02/Jan/2006:15:04:05 +0000.
const stampLen = 26

func newPool(n, visitors int) *pool {
	g := loggen.New(loggen.Options{Seed: 1, Start: time.Now().UTC(), Visitors: visitors, Step: time.Millisecond})
	p := &pool{start: make([]int, 0, n+1), stamp: make([]int, 0, n)}
	for range n {
		at := len(p.buf)
		p.buf = append(g.Next(p.buf), '\n')
		i := bytes.IndexByte(p.buf[at:], '[')
		if i < 0 || at+i+1+stampLen >= len(p.buf) || p.buf[at+i+1+stampLen] != ']' {
			panic("livecheck: generated line without a $time_local: " + string(p.buf[at:]))
		}
		p.start = append(p.start, at)
		p.stamp = append(p.stamp, at+i+1)
	}
	p.start = append(p.start, len(p.buf))
	return p
}

// lines returns lines [i, j) of the pool (j ≤ its length) with their
// timestamps set to stamp.
func (p *pool) lines(i, j int, stamp []byte) []byte {
	for k := i; k < j; k++ {
		copy(p.buf[p.stamp[k]:], stamp)
	}
	return p.buf[p.start[i]:p.start[j]]
}

func (p *pool) len() int { return len(p.stamp) }

// writer appends lines at rate for dur, paced by the monotonic clock.
type writer struct {
	f      *os.File
	path   string
	rotate int64 // bytes after which the log is rotated; 0: never
	pool   *pool
	rate   int
	block  time.Duration
	dur    time.Duration

	written atomic.Int64
	elapsed time.Duration // set when run returns
	cpu     time.Duration // the writer's CPU time (its thread's user + system), set when run returns
	perSec  []int64       // lines written in each whole second

	size    int64 // bytes written to the current file
	seq     int   // rotations so far
	mu      sync.Mutex
	rotated []rotation // rotated files not deleted yet, oldest first
}

// rotation is a rotated log file and the count of lines written up to its
// end.
type rotation struct {
	path string
	end  int64
}

// rotateNow renames the log to its next rotated name and opens a new one
// at the path, as logrotate's default (rename, create) does. n is the count
// of lines written so far.
func (w *writer) rotateNow(n int64) error {
	w.seq++
	name := fmt.Sprintf("%s-%06d", w.path, w.seq)
	if err := os.Rename(w.path, name); err != nil {
		return err
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	old := w.f
	w.f, w.size = f, 0
	w.mu.Lock()
	w.rotated = append(w.rotated, rotation{name, n})
	w.mu.Unlock()
	return old.Close()
}

// warm writes n bytes of b, repeated, to a scratch file and deletes it, so
// that the first two rotations of the log take pages the page cache has
// had before (see the package comment).
func warm(path string, n int64, b []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	for n > 0 {
		k, err := f.Write(b[:min(int64(len(b)), n)])
		if err != nil {
			f.Close()
			return err
		}
		n -= int64(k)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Remove(path)
}

// deleteCounted deletes the rotated files whose every line the exporter
// has counted (read of them).
func (w *writer) deleteCounted(read int64) error {
	w.mu.Lock()
	var done []rotation
	for len(w.rotated) > 0 && w.rotated[0].end <= read {
		done = append(done, w.rotated[0])
		w.rotated = w.rotated[1:]
	}
	w.mu.Unlock()
	for _, r := range done {
		if err := os.Remove(r.path); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) run() error {
	// The writer has a thread of its own, so that its CPU time can be told
	// apart from the scrapes'.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer func() { w.f.Close() }()
	cpu0, err := threadCPU()
	if err != nil {
		return err
	}
	defer func() {
		if cpu1, err := threadCPU(); err == nil {
			w.cpu = cpu1 - cpu0
		}
	}()
	start := time.Now()
	next := 0 // next line of the pool
	var sec int64
	var secStart int64 // w.written at the start of the current second
	stamp := make([]byte, 0, stampLen)
	var stampSec int64 = -1
	for {
		now := time.Now()
		el := now.Sub(start)
		if el >= w.dur {
			el = w.dur
		}
		due := int64(el.Seconds() * float64(w.rate))
		n := w.written.Load()
		if s := int64(now.UTC().Unix()); s != stampSec {
			stampSec = s
			stamp = now.UTC().AppendFormat(stamp[:0], "02/Jan/2006:15:04:05 -0700")
		}
		for n < due {
			if w.rotate > 0 && w.size >= w.rotate {
				if err := w.rotateNow(n); err != nil {
					return err
				}
			}
			j := min(w.pool.len(), next+int(due-n))
			b := w.pool.lines(next, j, stamp)
			if _, err := w.f.Write(b); err != nil {
				return err
			}
			w.size += int64(len(b))
			n += int64(j - next)
			next = j % w.pool.len()
		}
		w.written.Store(n)
		for s := int64(el / time.Second); sec < s; sec++ {
			// Approximately: the count at the first write past the second.
			w.perSec = append(w.perSec, n-secStart)
			secStart = n
		}
		if el >= w.dur {
			w.elapsed = w.dur
			if d := time.Since(start); d > w.dur {
				w.elapsed = d
			}
			return nil
		}
		time.Sleep(w.block - time.Since(now))
	}
}

// worstSecond returns the fewest lines written in one whole second.
func (w *writer) worstSecond() int64 {
	if len(w.perSec) == 0 {
		return w.written.Load()
	}
	return slices.Min(w.perSec)
}

// scrape returns session_exporter_lines_read_total.
func scrape(addr string) (int64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "session_exporter_lines_read_total{") {
			v, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
			return int64(v), err
		}
	}
	return 0, fmt.Errorf("no lines_read metric")
}

// threadCPU returns the user+system CPU time of the calling thread.
func threadCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, fmt.Errorf("writer CPU time: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// rusageThread is Linux's RUSAGE_THREAD: getrusage for the calling thread.
const rusageThread = 1

// cpuTime returns the user+system CPU time of a process from /proc.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("exporter CPU time: %w", err)
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("exporter CPU time: short /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("exporter CPU time: %w", err)
	}
	return time.Duration(utime+stime) * time.Second / 100, nil // clock ticks (USER_HZ = 100)
}
