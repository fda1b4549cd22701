package collector

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// countingRun numbers its runs. When started is set, a run reports its
// number there and blocks until release receives.
type countingRun struct {
	n       atomic.Int64
	started chan int64
	release chan struct{}
}

func (c *countingRun) fn() (int64, error) {
	n := c.n.Add(1)
	if c.started != nil {
		c.started <- n
		<-c.release
	}
	return n, nil
}

// TestSharedSequentialCallersAreFresh: callers one after another each get
// a run of their own: nothing is reused after it was computed.
func TestSharedSequentialCallersAreFresh(t *testing.T) {
	c := &countingRun{}
	s := &shared[int64]{fn: c.fn}
	for want := int64(1); want <= 3; want++ {
		if got, err := s.do(); err != nil || got != want {
			t.Fatalf("call %d got run %d (%v)", want, got, err)
		}
	}
}

// TestSharedConcurrentCallersShareOne: 50 callers arriving while a run is
// under way share the run that starts after it, so each sees values read
// after it arrived, and a crowd costs two runs.
func TestSharedConcurrentCallersShareOne(t *testing.T) {
	c := &countingRun{started: make(chan int64, 4), release: make(chan struct{})}
	s := &shared[int64]{fn: c.fn}
	first := make(chan int64, 1)
	go func() {
		v, _ := s.do()
		first <- v
	}()
	if n := <-c.started; n != 1 {
		t.Fatalf("first run is number %d", n)
	}
	const waiters = 50
	var wg sync.WaitGroup
	got := make([]int64, waiters)
	for i := range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _ = s.do()
		}()
	}
	// Wait until every caller has queued behind run 1 (bounded by the
	// test's timeout).
	for {
		s.mu.Lock()
		queued := s.next != nil && s.next.waiters == waiters
		s.mu.Unlock()
		if queued {
			break
		}
		runtime.Gosched()
	}
	c.release <- struct{}{} // run 1 ends
	if n := <-c.started; n != 2 {
		t.Fatalf("second run is number %d", n)
	}
	c.release <- struct{}{} // run 2 ends
	wg.Wait()
	if f := <-first; f != 1 {
		t.Errorf("first caller got run %d", f)
	}
	for i, v := range got {
		if v != 2 {
			t.Errorf("caller %d got run %d, want run 2, the one begun after it arrived", i, v)
		}
	}
	if n := c.n.Load(); n != 2 {
		t.Errorf("%d runs for %d callers, want 2", n, waiters+1)
	}
}

// TestScrapeHandlerFormats: the handler serves the registry's text
// exposition, gzip-compressed when asked, and protobuf when asked.
func TestScrapeHandlerFormats(t *testing.T) {
	reg := prometheus.NewRegistry()
	ctr := prometheus.NewCounter(prometheus.CounterOpts{Name: "scrape_test_total", Help: "A test counter."})
	reg.MustRegister(ctr)
	ctr.Add(7)
	h := newScrapeHandler(reg, slog.New(slog.DiscardHandler))
	get := func(hdr map[string]string) *http.Response {
		req := httptest.NewRequest("GET", "/metrics", nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result()
	}
	resp := get(nil)
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") ||
		!strings.Contains(string(b), "scrape_test_total 7\n") || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("plain: %d %v\n%s", resp.StatusCode, resp.Header, b)
	}
	resp = get(map[string]string{"Accept-Encoding": "gzip"})
	zr, err := gzip.NewReader(resp.Body)
	if err != nil || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip: %v %v", err, resp.Header)
	}
	zb, _ := io.ReadAll(zr)
	if !bytes.Equal(zb, b) {
		t.Errorf("gzip body differs from the plain one:\n%s", zb)
	}
	resp = get(map[string]string{"Accept-Encoding": "gzip;q=0"})
	if resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 answered with %q", resp.Header.Get("Content-Encoding"))
	}
	resp = get(map[string]string{"Accept": "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"})
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/vnd.google.protobuf") {
		t.Errorf("protobuf asked, got %q", ct)
	}
	ctr.Add(1)
	resp = get(nil)
	b, _ = io.ReadAll(resp.Body)
	if !strings.Contains(string(b), "scrape_test_total 8\n") {
		t.Errorf("a later scrape shows an older value:\n%s", b)
	}
}
