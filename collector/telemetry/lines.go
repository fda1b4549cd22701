package telemetry

import "github.com/session-exporter/session-exporter/collector/accesslog"

// LineCounter counts the lines one goroutine reads from one file in plain
// integers, where LineRead and LineRejected pay two atomic additions per
// line: it adds what it counted to the Metrics every flushEvery lines and
// on Flush, so the exported counters trail the lines read by at most that
// many. Scrapes read only the Metrics' atomic counters, never the plain
// ones, so counting and scraping never race. A LineCounter is not safe
// for concurrent use; its owner calls Flush when it runs out of lines
// (end of a read, end of a file, before waiting for more), so that an idle
// log's counts are all exported.
type LineCounter struct {
	m            *Metrics
	file         int
	lines, bytes uint64
	rejected     [maxReasons]uint64
	nrejected    uint64
}

// flushEvery bounds how many lines a LineCounter holds back.
const flushEvery = 1024

// maxReasons is room for every accesslog.Reason.
const maxReasons = 16

func init() {
	if len(accesslog.Reasons) > maxReasons {
		panic("telemetry: more rejection reasons than a LineCounter has room for")
	}
}

// LineCounter returns a counter for the lines of file.
func (m *Metrics) LineCounter(file int) *LineCounter {
	return &LineCounter{m: m, file: file}
}

// Read counts one line of n bytes (newline included), as LineRead.
func (c *LineCounter) Read(n int) {
	c.lines++
	c.bytes += uint64(n)
	if c.lines >= flushEvery {
		c.Flush()
	}
}

// Rejected counts one rejected line, as LineRejected.
func (c *LineCounter) Rejected(r accesslog.Reason) {
	for j, x := range accesslog.Reasons {
		if x == r {
			c.rejected[j]++
			c.nrejected++
			return
		}
	}
}

// Flush adds the lines counted since the last Flush to the Metrics.
func (c *LineCounter) Flush() {
	m, f := c.m, c.file
	if f < 0 || f >= len(m.linesRead) {
		*c = LineCounter{m: m, file: f}
		return
	}
	if c.lines > 0 || c.bytes > 0 {
		m.linesRead[f].Add(c.lines)
		m.bytesRead[f].Add(c.bytes)
		c.lines, c.bytes = 0, 0
	}
	if c.nrejected > 0 {
		nr := len(accesslog.Reasons)
		for j := range nr {
			if n := c.rejected[j]; n > 0 {
				m.rejected[f*nr+j].Add(n)
				c.rejected[j] = 0
			}
		}
		c.nrejected = 0
	}
}
