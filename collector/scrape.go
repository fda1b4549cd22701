package collector

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// maxScrapesInFlight bounds the /metrics requests served at once; past it a
// request is answered 503 at once. With the shared gather below a scrape
// costs only its encoding, so this is a bound on memory (each in-flight
// scrape holds one encoded exposition), not on concurrency worth having.
const maxScrapesInFlight = 1024

// sharedGatherer gathers the metrics once for every scrape waiting at that
// moment. A scrape that arrives while a gather runs waits for the next one,
// which starts when the running one ends and serves every scrape that came
// meanwhile: each scrape sees values read after it arrived (never an older
// rendering), and however many scrapers there are, at most one gather runs
// and one waits.
type sharedGatherer struct {
	g prometheus.Gatherer

	mu      sync.Mutex
	running bool
	next    *gatherCall // the gather the scrapes arriving now will share
}

type gatherCall struct {
	start chan struct{} // closed when the gather before it has ended
	once  sync.Once     // one of the waiting scrapes runs it
	done  chan struct{} // closed when mfs and err are set
	mfs   []*dto.MetricFamily
	err   error
}

func newSharedGatherer(g prometheus.Gatherer) *sharedGatherer { return &sharedGatherer{g: g} }

// Gather implements prometheus.Gatherer. The families returned are shared
// between scrapes: callers only read them (promhttp only encodes them).
func (s *sharedGatherer) Gather() ([]*dto.MetricFamily, error) {
	s.mu.Lock()
	if !s.running {
		s.running = true
		s.mu.Unlock()
		return s.run(&gatherCall{done: make(chan struct{})})
	}
	// A gather began before this scrape arrived: share the one after it.
	if s.next == nil {
		s.next = &gatherCall{start: make(chan struct{}), done: make(chan struct{})}
	}
	call := s.next
	s.mu.Unlock()
	<-call.start
	call.once.Do(func() { s.run(call) })
	<-call.done
	return call.mfs, call.err
}

// run gathers for call, then starts the gather queued meanwhile, if any.
func (s *sharedGatherer) run(call *gatherCall) ([]*dto.MetricFamily, error) {
	call.mfs, call.err = s.g.Gather()
	close(call.done)
	s.mu.Lock()
	if n := s.next; n != nil {
		s.next = nil
		close(n.start) // still running: one of n's scrapes runs it now
	} else {
		s.running = false
	}
	s.mu.Unlock()
	return call.mfs, call.err
}
