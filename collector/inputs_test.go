package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/session-exporter/session-exporter/collector/tail"
)

// runWithStdin is runCollector with a standard input.
func runWithStdin(t *testing.T, c *Collector, clock *fakeClock, stdin io.Reader) *liveRun {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	r := &liveRun{t: t, c: c, waker: tail.NewManualWaker(), clock: clock, stop: cancel, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() {
		r.done <- c.Run(ctx, RunOptions{Listener: ln, Waker: r.waker, Stdin: stdin, Ready: func(a net.Addr) { ready <- a.String() }})
	}()
	select {
	case r.addr = <-ready:
	case err := <-r.done:
		t.Fatalf("Run returned before it was ready: %v", err)
	}
	return r
}

func newLiveCollector(t *testing.T, yaml string, clock *fakeClock) *Collector {
	t.Helper()
	c, err := New(mustConfig(t, yaml), Options{Now: clock.Now, Secret: []byte("0123456789abcdef"),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitLines waits (bounded) until n lines have been read.
func (r *liveRun) waitLines(n uint64) {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		read, _ := r.c.Metrics().LinesRead()
		if read >= n {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("read %d lines, want %d", read, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const inputConfig = `
logs: [{%s, format: combined}]
own_hosts: [www.example.com]
goals: [{name: purchase, path: ^/checkout/thank-you}]
poll_interval: 1h
`

// TestLiveStdin: lines piped to standard input count as the same lines
// replayed.
func TestLiveStdin(t *testing.T) {
	lines := genLines(41, 3000)
	data := join(lines)
	clock := &fakeClock{t: time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)}
	r := runWithStdin(t, newLiveCollector(t, fmt.Sprintf(inputConfig, `path: "-"`), clock), clock, bytes.NewReader(data))
	r.waitLines(uint64(len(lines)))
	r.step() // the lines read set the event clock; then time passes
	r.closeSessions()
	got := Summarize(r.c.Metrics())
	r.shutdown()
	sameRows(t, replayed(t, data), got)
}

// TestLiveSyslog: lines sent as nginx sends them to a syslog socket, over
// UDP and over a unix datagram socket, count as the same lines replayed.
func TestLiveSyslog(t *testing.T) {
	lines := genLines(43, 2000)
	data := join(lines)
	want := replayed(t, data)
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := udp.LocalAddr().(*net.UDPAddr).Port
	udp.Close()
	sock := filepath.Join(t.TempDir(), "syslog.sock")
	for _, tc := range []struct{ name, url, network, addr string }{
		{"udp", fmt.Sprintf("udp://127.0.0.1:%d", port), "udp", fmt.Sprintf("127.0.0.1:%d", port)},
		{"unixgram", "unixgram://" + sock, "unixgram", sock},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)}
			r := runWithStdin(t, newLiveCollector(t, fmt.Sprintf(inputConfig, "syslog: "+tc.url), clock), clock, nil)
			conn, err := net.Dial(tc.network, tc.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// In batches no bigger than a small socket buffer holds, each
			// read before the next is sent: the kernel drops UDP datagrams
			// that find the buffer full (at most net.core.rmem_max, often
			// 208 KiB, and a datagram takes a kilobyte or more of it), and
			// on a busy machine the reader can fall behind a burst of 2,000.
			const batch = 100
			for i, l := range lines {
				host := "web-1 "
				if i%2 == 1 {
					host = "" // nginx's nohostname
				}
				if _, err := conn.Write(append([]byte("<190>Nov  2 10:15:42 "+host+"nginx: "), l[:len(l)-1]...)); err != nil {
					t.Fatal(err)
				}
				if (i+1)%batch == 0 {
					r.waitLines(uint64(i + 1))
				}
			}
			if _, err := conn.Write([]byte("not syslog at all")); err != nil {
				t.Fatal(err)
			}
			r.waitLines(uint64(len(lines) + 1))
			r.step()
			if m := r.scrape(); !strings.Contains(m, fmt.Sprintf("session_exporter_file_up{file=%q} 1", tc.url)) {
				t.Errorf("file_up of the socket:\n%s", grepLines(m, "file_up"))
			}
			r.closeSessions()
			got := Summarize(r.c.Metrics())
			r.shutdown()
			sameRows(t, want, got)
			if got.Rejected["syntax"] != 1 {
				t.Errorf("rejected %v, want the one datagram without a syslog header", got.Rejected)
			}
		})
	}
}

// criWrap writes lines as kubelet does, splitting some into partial
// records and adding error-log lines on stderr.
func criWrap(lines [][]byte, docker bool) []byte {
	var b bytes.Buffer
	ts := "2026-11-02T10:15:42.123456789Z"
	rec := func(stream, text string, partial bool) {
		if docker {
			if !partial {
				text += "\n"
			}
			q, _ := json.Marshal(text)
			fmt.Fprintf(&b, `{"log":%s,"stream":%q,"time":%q}`+"\n", q, stream, ts)
			return
		}
		tag := "F"
		if partial {
			tag = "P"
		}
		fmt.Fprintf(&b, "%s %s %s %s\n", ts, stream, tag, text)
	}
	for i, l := range lines {
		s := string(l[:len(l)-1])
		if i%7 == 0 {
			rec("stderr", "2026/11/02 10:15:42 [error] 12#12: *1 open() failed", false)
		}
		if i%5 == 0 && len(s) > 40 { // split in three
			rec("stdout", s[:20], true)
			rec("stdout", s[20:40], true)
			rec("stdout", s[40:], false)
			continue
		}
		rec("stdout", s, false)
	}
	return b.Bytes()
}

// TestContainerLogs: CRI and Docker records, partial lines joined and the
// stderr stream left out, count as the plain lines do, live and replayed.
func TestContainerLogs(t *testing.T) {
	lines := genLines(47, 3000)
	want := replayed(t, join(lines))
	for _, runtime := range []string{"cri", "docker"} {
		t.Run(runtime, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "ingress_default_controller-abc.log")
			appendFile(t, path, criWrap(lines, runtime == "docker"))
			yaml := fmt.Sprintf(inputConfig+"start_at: beginning\n", fmt.Sprintf("path: %q, container: %s", filepath.Join(dir, "*.log"), runtime))
			clock := &fakeClock{t: time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)}
			r := runCollector(t, newLiveCollector(t, yaml, clock), clock)
			r.closeSessions()
			got := Summarize(r.c.Metrics())
			r.shutdown()
			sameRows(t, want, got)
			if len(got.Rejected) != 0 {
				t.Errorf("live: rejected %v, want none", got.Rejected)
			}

			c := newLiveCollector(t, yaml, clock)
			res, err := c.Replay(t.Context(), []Input{{Path: path}}, ReplayOptions{})
			if err != nil {
				t.Fatal(err)
			}
			rep := Summarize(res.Metrics)
			sameRows(t, want, rep)
			if len(rep.Rejected) != 0 {
				t.Errorf("replay: rejected %v, want none", rep.Rejected)
			}
		})
	}
}
