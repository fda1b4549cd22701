package collector

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// countingGatherer numbers its gathers; each returns one family named by
// its number. A gather blocks until release receives a value when gate is set.
type countingGatherer struct {
	n       atomic.Int64
	started chan int64
	release chan struct{}
}

func (g *countingGatherer) Gather() ([]*dto.MetricFamily, error) {
	n := g.n.Add(1)
	if g.started != nil {
		g.started <- n
		<-g.release
	}
	name := strconv.FormatInt(n, 10)
	return []*dto.MetricFamily{{Name: &name}}, nil
}

// TestSharedGatherSequentialScrapesAreFresh: scrapes one after another each
// get a gather of their own: nothing is reused after it was rendered.
func TestSharedGatherSequentialScrapesAreFresh(t *testing.T) {
	g := &countingGatherer{}
	s := newSharedGatherer(g)
	for want := 1; want <= 3; want++ {
		mfs, err := s.Gather()
		if err != nil || mfs[0].GetName() != strconv.Itoa(want) {
			t.Fatalf("scrape %d got gather %s (%v)", want, mfs[0].GetName(), err)
		}
	}
}

// TestSharedGatherConcurrentScrapesShareOne: 50 scrapes arriving while a
// gather runs share the single gather that starts after it, so each sees
// values read after it arrived.
func TestSharedGatherConcurrentScrapesShareOne(t *testing.T) {
	g := &countingGatherer{started: make(chan int64, 4), release: make(chan struct{})}
	s := newSharedGatherer(g)
	first := make(chan string, 1)
	go func() {
		mfs, _ := s.Gather()
		first <- mfs[0].GetName()
	}()
	if n := <-g.started; n != 1 {
		t.Fatalf("first gather is number %d", n)
	}
	const waiters = 50
	var wg sync.WaitGroup
	got := make([]string, waiters)
	var arrived sync.WaitGroup
	arrived.Add(waiters)
	for i := range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			arrived.Done()
			mfs, _ := s.Gather()
			got[i] = mfs[0].GetName()
		}()
	}
	arrived.Wait()
	// Let the waiters reach the queue: they block on the next gather's
	// start; poll until they have (bounded by the test timeout).
	for {
		s.mu.Lock()
		queued := s.next != nil
		s.mu.Unlock()
		if queued {
			break
		}
	}
	g.release <- struct{}{} // gather 1 ends
	if n := <-g.started; n != 2 {
		t.Fatalf("second gather is number %d", n)
	}
	g.release <- struct{}{} // gather 2 ends
	go func() { // a waiter that queued late gets gather 3
		for range g.started {
			g.release <- struct{}{}
		}
	}()
	wg.Wait()
	close(g.started)
	if f := <-first; f != "1" {
		t.Errorf("first scrape got gather %s", f)
	}
	for i, name := range got {
		// A scrape that queued after gather 2 began gets gather 3.
		if name != "2" && name != "3" {
			t.Errorf("waiter %d got gather %s, want one begun after it arrived", i, name)
		}
	}
	if n := g.n.Load(); n > 3 {
		t.Errorf("%d gathers for %d scrapes, want at most 3", n, waiters+1)
	}
}
