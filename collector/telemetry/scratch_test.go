package telemetry

import (
	"os"
	"testing"
	"time"

	"github.com/session-exporter/session-exporter/collector/session"
)

func TestScratch(t *testing.T) {
	m := New(Dims{Goals: []string{"purchase"}, Files: []string{"/var/log/a.log"}})
	l := session.Labels{Channel: 11, Device: 1}
	m.SessionStarted(l)
	m.Pageview(l)
	m.SessionClosed(l, session.Closed{Duration: 42 * time.Second, Pageviews: 1})
	m.SetReadLag(time.Second)
	e, err := NewExporter(NewProducer(m, BuildInfo{"v", "r"}, time.Unix(0, 0), time.Now))
	if err != nil {
		t.Fatal(err)
	}
	e.WriteText(os.Stdout)
}
