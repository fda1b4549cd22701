package collector

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// maxScrapesInFlight bounds the /metrics requests served at once; past it a
// request is answered 503 at once. Scrapes waiting together share one
// rendering, so this bounds memory and goroutines, not useful concurrency.
const maxScrapesInFlight = 1024

// shared runs fn once for every caller waiting at that moment. A caller
// that arrives while fn runs waits for the next run, which starts when the
// running one ends and serves every caller that came meanwhile: each caller
// gets a result computed after it arrived (never an older one), and however
// many callers there are, at most one run is under way and one waits.
type shared[T any] struct {
	fn func() (T, error)

	mu      sync.Mutex
	running bool
	next    *sharedCall[T] // the run the callers arriving now will share
}

type sharedCall[T any] struct {
	start   chan struct{} // closed when the run before it has ended
	once    sync.Once     // one of the waiting callers runs it
	waiters int           // callers sharing it; guarded by shared.mu
	done    chan struct{} // closed when v and err are set
	v       T
	err     error
}

func (s *shared[T]) do() (T, error) {
	s.mu.Lock()
	if !s.running {
		s.running = true
		s.mu.Unlock()
		return s.run(&sharedCall[T]{done: make(chan struct{})})
	}
	// A run began before this caller arrived: share the one after it.
	if s.next == nil {
		s.next = &sharedCall[T]{start: make(chan struct{}), done: make(chan struct{})}
	}
	call := s.next
	call.waiters++
	s.mu.Unlock()
	<-call.start
	call.once.Do(func() { s.run(call) })
	<-call.done
	return call.v, call.err
}

// run computes call, then starts the run queued meanwhile, if any.
func (s *shared[T]) run(call *sharedCall[T]) (T, error) {
	call.v, call.err = s.fn()
	close(call.done)
	s.mu.Lock()
	if n := s.next; n != nil {
		s.next = nil
		close(n.start) // still running: one of n's callers runs it now
	} else {
		s.running = false
	}
	s.mu.Unlock()
	return call.v, call.err
}

// scrapeHandler serves the exposition. Scrapes that wait together share
// one gather and one encoding (and one compression) per format asked for,
// so a crowd of scrapers costs about what one does.
type scrapeHandler struct {
	g   prometheus.Gatherer
	log *slog.Logger
	sem chan struct{}

	mu      sync.Mutex
	renders map[renderKey]*shared[[]byte]
}

type renderKey struct {
	format expfmt.Format
	gzip   bool
}

func newScrapeHandler(g prometheus.Gatherer, log *slog.Logger) *scrapeHandler {
	return &scrapeHandler{g: g, log: log, sem: make(chan struct{}, maxScrapesInFlight), renders: map[renderKey]*shared[[]byte]{}}
}

func (h *scrapeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case h.sem <- struct{}{}:
		defer func() { <-h.sem }()
	default:
		http.Error(w, fmt.Sprintf("more than %d scrapes in flight, try again later", maxScrapesInFlight), http.StatusServiceUnavailable)
		return
	}
	key := renderKey{format: expfmt.NegotiateAccept(r.Header, expfmt.DefaultAcceptedFormats()...), gzip: acceptsGzip(r.Header.Get("Accept-Encoding"))}
	body, err := h.render(key).do()
	if err != nil {
		h.log.Warn("cannot render metrics", "err", err)
		http.Error(w, "cannot render metrics: "+err.Error(), http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Add("Vary", "Accept")
	hd.Add("Vary", "Accept-Encoding")
	hd.Set("Content-Type", string(key.format))
	if key.gzip {
		hd.Set("Content-Encoding", "gzip")
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

func (h *scrapeHandler) render(k renderKey) *shared[[]byte] {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.renders[k]
	if !ok {
		// One run at a time per key: the compressor (about 1 MB) is
		// kept from one scrape to the next instead of made for each.
		var zw *gzip.Writer
		s = &shared[[]byte]{fn: func() ([]byte, error) { return h.encode(k, &zw) }}
		h.renders[k] = s
	}
	return s
}

// encode gathers the metrics and encodes them for k, compressing with *zwp
// (made on first use, at gzip's fastest level: the exposition is
// repetitive text, so it still shrinks about tenfold). The bytes are
// shared by every scrape of the run: nobody writes to them afterwards.
func (h *scrapeHandler) encode(k renderKey, zwp **gzip.Writer) ([]byte, error) {
	mfs, err := h.g.Gather()
	if err != nil {
		return nil, fmt.Errorf("gather: %w", err)
	}
	var b bytes.Buffer
	var zw *gzip.Writer
	var out interface{ Write([]byte) (int, error) } = &b
	if k.gzip {
		if *zwp == nil {
			*zwp, _ = gzip.NewWriterLevel(&b, gzip.BestSpeed) // a valid level: no error
		} else {
			(*zwp).Reset(&b)
		}
		zw = *zwp
		out = zw
	}
	enc := expfmt.NewEncoder(out, k.format)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return nil, fmt.Errorf("encode: %w", err)
		}
	}
	if c, ok := enc.(expfmt.Closer); ok {
		if err := c.Close(); err != nil {
			return nil, fmt.Errorf("encode: %w", err)
		}
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("compress: %w", err)
		}
	}
	return b.Bytes(), nil
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip (a
// q=0 weight refuses it).
func acceptsGzip(h string) bool {
	for part := range strings.SplitSeq(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// httpHandler serves the metrics and a health check, GET and HEAD only.
func (c *Collector) httpHandler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	metrics := newScrapeHandler(reg, c.log)
	mux.Handle(c.cfg.TelemetryPath, getOnly(metrics))
	mux.Handle("/healthz", getOnly(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})))
	if c.cfg.TelemetryPath != "/" {
		mux.Handle("/{$}", getOnly(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, "<html><head><title>session-exporter</title></head><body><h1>session-exporter</h1>"+
				"<p><a href=%q>Metrics</a> &middot; <a href=\"/healthz\">Health</a></p></body></html>\n", c.cfg.TelemetryPath)
		})))
	}
	return mux
}

func getOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}
