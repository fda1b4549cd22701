package collector

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"time"

	"github.com/session-exporter/session-exporter/collector/accesslog"
	"github.com/session-exporter/session-exporter/collector/input"
	"github.com/session-exporter/session-exporter/collector/tail"
)

// listenSyslog opens the socket of every syslog source (nil for others).
func (c *Collector) listenSyslog(srcs []*source) ([]net.PacketConn, error) {
	socks := make([]net.PacketConn, len(srcs))
	for i, src := range srcs {
		if src.kind != inputSyslog {
			continue
		}
		l := c.cfg.Logs[i]
		pc, err := input.ListenSyslog(l.SyslogNetwork, l.SyslogAddress)
		if err != nil {
			closeSockets(socks)
			return nil, err
		}
		socks[i] = pc
		c.metrics.SetFileUp(src.file, true)
		c.log.Info("receiving syslog", "network", l.SyslogNetwork, "address", pc.LocalAddr().String())
	}
	return socks, nil
}

func closeSockets(socks []net.PacketConn) {
	for _, pc := range socks {
		if pc == nil {
			continue
		}
		pc.Close()
		if a, ok := pc.LocalAddr().(*net.UnixAddr); ok && a.Name != "" {
			os.Remove(a.Name)
		}
	}
}

// syslogQueue datagrams wait at most between the socket and the counting
// path: a burst the counting path cannot keep up with (a cold user-agent
// cache) waits here instead of overflowing the socket's buffer, where the
// kernel would drop it without a trace.
const syslogQueue = 8192

// readSyslog counts the datagrams of one syslog socket until it is closed:
// each is one line, its RFC 3164 header taken off. One goroutine reads the
// socket into a queue of reused buffers, another counts; a datagram that
// finds the queue full is dropped and counted in the warning that follows.
func (h *liveHandler) readSyslog(ctx context.Context, src *source, pc net.PacketConn) {
	if u, ok := pc.(interface{ SetReadBuffer(int) error }); ok {
		_ = u.SetReadBuffer(4 << 20) // as far as net.core.rmem_max allows
	}
	max := h.c.cfg.MaxLineBytes
	free := make(chan []byte, syslogQueue)
	for range syslogQueue {
		free <- nil
	}
	work := make(chan []byte, syslogQueue)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for b := range work {
			h.syslogDatagram(src, b, max)
			free <- b
		}
	}()
	defer func() { close(work); <-done }()
	buf := make([]byte, max+1024+1) // the header, and one byte to tell a cut datagram
	var dropped uint64
	var warned time.Time
	for {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			h.c.log.Warn("syslog read failed", "address", src.name, "err", err)
			continue
		}
		select {
		case b := <-free:
			work <- append(b[:0], buf[:n]...)
		default:
			dropped++
			if now := time.Now(); now.Sub(warned) >= healthRepeat {
				warned = now
				h.c.log.Warn("syslog datagrams dropped: more arrive than can be counted", "address", src.name, "dropped", dropped)
			}
		}
	}
}

// syslogDatagram counts one datagram b of src.
func (h *liveHandler) syslogDatagram(src *source, b []byte, max int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch msg, ok := input.SyslogMessage(b); {
	case len(b) > max+1024 || ok && len(msg) > max:
		h.p.tooLong(src, len(b))
	case !ok:
		h.p.metrics.LineRead(src.file, len(b))
		h.p.reject(src, accesslog.ReasonSyntax, b)
	default:
		h.p.line(src, msg, len(b))
	}
	h.counted()
}

// readStdin counts the lines of standard input until it ends.
func (h *liveHandler) readStdin(ctx context.Context, src *source, r io.Reader) {
	err := eachLine(ctx, r, h.c.cfg.MaxLineBytes, func(line []byte, n int) {
		h.mu.Lock()
		h.p.line(src, line, n)
		h.counted()
		h.mu.Unlock()
	}, func(n int) {
		h.mu.Lock()
		h.p.tooLong(src, n)
		h.counted()
		h.mu.Unlock()
	})
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		h.c.log.Warn("standard input failed; no more lines from it", "err", err)
		return
	}
	h.c.log.Info("standard input ended; serving what was counted", "log", src.name)
}

// idleLoop drives the periodic work when no file is followed: it calls
// Idle at every wake-up of w (nil: every poll interval).
func idleLoop(ctx context.Context, w tail.Waker, every time.Duration, h tail.Handler) error {
	// A first pass at once, as the tailer's: nothing to read yet, so idle.
	// The exporter serves only after it (the first checkpoint).
	h.Idle()
	if w == nil {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
				h.Idle()
			}
		}
	}
	defer w.Close()
	for {
		if err := w.Wait(ctx); err != nil {
			return nil
		}
		h.Idle()
	}
}
