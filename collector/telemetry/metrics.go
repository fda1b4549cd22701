// Package telemetry holds the exporter's counters and histograms and serves
// them through OpenTelemetry; it is the one place metric names live.
//
// The session counters are our own aggregates (atomic, allocation-free to
// update, saved in the state file and restored on start) exposed through an
// OpenTelemetry metric.Producer, so a restart is not a counter reset.
package telemetry

// The metric layout and every allocation-free update the sink and the readers
// call, beside the package's doc; the instruments are registered in
// export.go.

import (
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/session-exporter/session-exporter/collector/accesslog"
	"github.com/session-exporter/session-exporter/collector/classify"
	"github.com/session-exporter/session-exporter/collector/session"
)

// durationBounds are the upper bounds, in seconds, of the session duration
// histogram buckets.
var durationBounds = []float64{0, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200}

// DurationBounds returns a copy of the upper bounds, in seconds, of the
// session duration histogram buckets.
func DurationBounds() []float64 { return slices.Clone(durationBounds) }

// pageviewBounds are the upper bounds of the pageviews-per-session histogram.
var pageviewBounds = []float64{1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50}

const (
	nc    = classify.NumChannels
	nd    = classify.NumDevices
	cells = nc * nd
)

// Dims names the label values that come from the configuration: sites, goal
// names and log file patterns. Their order fixes the metric layout.
type Dims struct {
	Sites []string // empty or one entry: no site label
	Goals []string
	// Valued marks the goals that name a value parameter (empty: none);
	// only they have web_conversion_value_total series.
	Valued []bool `json:",omitempty"`
	// Landings are the landing page group names; with any, the session
	// counters carry a landing label (these names and "other").
	Landings []string `json:",omitempty"`
	Files    []string
}

// visitorTypes are the values of the visitor_type label, by
// session.Labels.Returning.
var visitorTypes = []string{"new", "returning"}

// landingNames are the values of the landing label by session.Labels.Landing.
func (d Dims) landingNames() []string { return append([]string{"other"}, d.Landings...) }

// valued reports whether goal g names a value parameter.
func (d Dims) valued(g int) bool { return g < len(d.Valued) && d.Valued[g] }

type histogram struct {
	bounds  []float64
	scale   float64 // observation units per bound unit (1e3 for seconds held as milliseconds)
	buckets []atomic.Uint64
	sum     []atomic.Int64
	count   []atomic.Uint64
	// ibounds are the bounds in observation units, when every one of them
	// is a whole number of units: then v/scale <= bound exactly when
	// v <= ibound, and observe compares integers.
	ibounds []int64
}

func newHistogram(bounds []float64, scale float64, n int) histogram {
	h := histogram{
		bounds:  bounds,
		scale:   scale,
		buckets: make([]atomic.Uint64, n*(len(bounds)+1)),
		sum:     make([]atomic.Int64, n),
		count:   make([]atomic.Uint64, n),
	}
	for _, ub := range bounds {
		u := ub * scale
		if u != math.Trunc(u) || math.Abs(u) > 1<<52 {
			return h
		}
		h.ibounds = append(h.ibounds, int64(u))
	}
	return h
}

func (h *histogram) observe(cell int, v int64) {
	nb := len(h.bounds) + 1
	b := len(h.bounds)
	if h.ibounds != nil {
		for i, ub := range h.ibounds {
			if v <= ub {
				b = i
				break
			}
		}
	} else {
		f := float64(v) / h.scale
		for i, ub := range h.bounds {
			if f <= ub {
				b = i
				break
			}
		}
	}
	h.buckets[cell*nb+b].Add(1)
	h.sum[cell].Add(v)
	h.count[cell].Add(1)
}

// Metrics is every value the exporter reports. Its methods are safe for
// concurrent use; updates are atomic and allocation-free.
type Metrics struct {
	dims  Dims
	sites int

	sessions, pageviews, engaged, bounced []atomic.Uint64 // per cell
	duration                              histogram       // milliseconds: an int64 sum lasts 290 million years of sessions
	pvs                                   histogram       // pageviews
	conversions                           []atomic.Uint64 // goal*cells + cell
	// The session counters by landing and visitor type too: cell*nx + x,
	// x = landing*2 + returning.
	nx                            int
	xsessions, xengaged, xbounced []atomic.Uint64
	xconversions                  []atomic.Uint64 // goal*cells*nx + cell*nx + x
	values                        []atomic.Int64  // millionths, goal*cells + cell
	valuesRejected                atomic.Uint64
	dayv                          dayVisitors     // web_visitors
	bots                          []atomic.Uint64 // per site

	linesRead, bytesRead    []atomic.Uint64 // per file
	rejected                []atomic.Uint64 // file*len(Reasons) + reason
	rotations, truncations  []atomic.Uint64 // per file
	lostFiles               []atomic.Uint64 // per file
	late, evicted           atomic.Uint64
	stateSaves, saveFailure atomic.Uint64

	visitors atomic.Int64
	lag      atomic.Int64 // nanoseconds; -1 unknown
	lagKnown atomic.Bool

	fileUp      []atomic.Bool // per file: the configured path is readable
	fileUpKnown atomic.Bool   // set once live mode has checked the paths
}

// New returns zeroed metrics laid out for dims.
func New(d Dims) *Metrics {
	sites := len(d.Sites)
	if sites == 0 {
		sites = 1
	}
	n := sites * cells
	files := len(d.Files)
	nx := 2 * (len(d.Landings) + 1)
	m := &Metrics{
		dims:         d,
		sites:        sites,
		sessions:     make([]atomic.Uint64, n),
		pageviews:    make([]atomic.Uint64, n),
		engaged:      make([]atomic.Uint64, n),
		bounced:      make([]atomic.Uint64, n),
		duration:     newHistogram(durationBounds, 1e3, n),
		pvs:          newHistogram(pageviewBounds, 1, n),
		conversions:  make([]atomic.Uint64, len(d.Goals)*n),
		values:       make([]atomic.Int64, len(d.Goals)*n),
		nx:           nx,
		xsessions:    make([]atomic.Uint64, n*nx),
		xengaged:     make([]atomic.Uint64, n*nx),
		xbounced:     make([]atomic.Uint64, n*nx),
		xconversions: make([]atomic.Uint64, len(d.Goals)*n*nx),
		bots:         make([]atomic.Uint64, sites),
		linesRead:    make([]atomic.Uint64, files),
		bytesRead:    make([]atomic.Uint64, files),
		rejected:     make([]atomic.Uint64, files*len(accesslog.Reasons)),
		rotations:    make([]atomic.Uint64, files),
		truncations:  make([]atomic.Uint64, files),
		lostFiles:    make([]atomic.Uint64, files),
		fileUp:       make([]atomic.Bool, files),
	}
	m.dayv.sketches = make([]*hll, n)
	return m
}

// SetFileUp records whether the configured path of file matches a file
// that can be read. The gauge is exported from the first call on.
func (m *Metrics) SetFileUp(file int, up bool) {
	if file >= 0 && file < len(m.fileUp) {
		m.fileUp[file].Store(up)
		m.fileUpKnown.Store(true)
	}
}

func (m *Metrics) cell(l session.Labels) int {
	s := int(l.Site)
	if s >= m.sites {
		s = 0
	}
	return (s*nc+int(l.Channel)%nc)*nd + int(l.Device)%nd
}

// x is the landing and visitor type index of l within a cell.
func (m *Metrics) x(l session.Labels) int {
	x := int(l.Landing) * 2
	if x >= m.nx {
		x = 0
	}
	if l.Returning {
		x++
	}
	return x
}

// SessionStarted implements session.Sink.
func (m *Metrics) SessionStarted(l session.Labels) {
	c := m.cell(l)
	m.sessions[c].Add(1)
	m.xsessions[c*m.nx+m.x(l)].Add(1)
}

// Pageview implements session.Sink.
func (m *Metrics) Pageview(l session.Labels) { m.pageviews[m.cell(l)].Add(1) }

// SessionEngaged implements session.Sink.
func (m *Metrics) SessionEngaged(l session.Labels) {
	c := m.cell(l)
	m.engaged[c].Add(1)
	m.xengaged[c*m.nx+m.x(l)].Add(1)
}

// GoalReached implements session.Sink.
func (m *Metrics) GoalReached(l session.Labels, goal int) {
	if goal >= 0 && goal < len(m.dims.Goals) {
		c := m.cell(l)
		m.conversions[goal*m.sites*cells+c].Add(1)
		m.xconversions[(goal*m.sites*cells+c)*m.nx+m.x(l)].Add(1)
	}
}

// ConversionValue implements session.Sink.
func (m *Metrics) ConversionValue(l session.Labels, goal int, micros int64) {
	if goal >= 0 && goal < len(m.dims.Goals) {
		m.values[goal*m.sites*cells+m.cell(l)].Add(micros)
	}
}

// ValuesRejected implements session.Sink.
func (m *Metrics) ValuesRejected(n int) { m.valuesRejected.Add(uint64(n)) }

// SessionClosed implements session.Sink.
func (m *Metrics) SessionClosed(l session.Labels, c session.Closed) {
	i := m.cell(l)
	if !c.Engaged {
		m.bounced[i].Add(1)
		m.xbounced[i*m.nx+m.x(l)].Add(1)
	}
	if c.Evicted {
		m.evicted.Add(1)
	}
	d := c.Duration
	if d < 0 {
		d = 0
	}
	m.duration.observe(i, d.Milliseconds())
	m.pvs.observe(i, int64(c.Pageviews))
}

// LateEvent implements session.Sink.
func (m *Metrics) LateEvent() { m.late.Add(1) }

// BotRequest counts one bot request for site.
func (m *Metrics) BotRequest(site uint8) {
	s := int(site)
	if s >= m.sites {
		s = 0
	}
	m.bots[s].Add(1)
}

// LineRead counts one line of n bytes (newline included) read from file.
func (m *Metrics) LineRead(file int, n int) {
	if file >= 0 && file < len(m.linesRead) {
		m.linesRead[file].Add(1)
		m.bytesRead[file].Add(uint64(n))
	}
}

// ChunkRead counts lines read from file, n bytes in all (newlines
// included), at once.
func (m *Metrics) ChunkRead(file int, lines, n uint64) {
	if lines > 0 && file >= 0 && file < len(m.linesRead) {
		m.linesRead[file].Add(lines)
		m.bytesRead[file].Add(n)
	}
}

// LineRejected counts one rejected line of file.
func (m *Metrics) LineRejected(file int, r accesslog.Reason) {
	if file < 0 || file >= len(m.linesRead) {
		return
	}
	for j, x := range accesslog.Reasons {
		if x == r {
			m.rejected[file*len(accesslog.Reasons)+j].Add(1)
			return
		}
	}
}

// Rotation counts a rotation of file.
func (m *Metrics) Rotation(file int) {
	if file >= 0 && file < len(m.rotations) {
		m.rotations[file].Add(1)
	}
}

// Truncation counts a truncation (copytruncate) of file.
func (m *Metrics) Truncation(file int) {
	if file >= 0 && file < len(m.truncations) {
		m.truncations[file].Add(1)
	}
}

// LostFile counts a file of file given up with lines unread.
func (m *Metrics) LostFile(file int) {
	if file >= 0 && file < len(m.lostFiles) {
		m.lostFiles[file].Add(1)
	}
}

// StateSaved counts a state save attempt.
func (m *Metrics) StateSaved() { m.stateSaves.Add(1) }

// StateSaveFailed counts a failed state save.
func (m *Metrics) StateSaveFailed() { m.saveFailure.Add(1) }

// SetVisitors sets the number of visitors in memory.
func (m *Metrics) SetVisitors(n int) { m.visitors.Store(int64(n)) }

// SetReadLag sets the read lag: wall clock minus newest event time.
func (m *Metrics) SetReadLag(d time.Duration) {
	m.lag.Store(int64(d))
	m.lagKnown.Store(true)
}

// Row is one (site, channel, device) cell of the session metrics.
type Row struct {
	Site        string  `json:"site,omitempty"`
	Channel     string  `json:"channel"`
	Device      string  `json:"device"`
	Sessions    uint64  `json:"sessions"`
	Active      uint64  `json:"active"`
	Pageviews   uint64  `json:"pageviews"`
	Engaged     uint64  `json:"engaged"`
	Bounced     uint64  `json:"bounced"`
	Conversions uint64  `json:"conversions"`
	Value       float64 `json:"conversion_value"` // sum of conversion values
	Returning   uint64  `json:"returning"`        // sessions of returning visitors
	DurationSum float64 `json:"duration_sum"`     // seconds, over closed sessions
	Closed      uint64  `json:"closed"`
}

// Add adds the counts of o to r; r's labels stay as they are.
func (r *Row) Add(o Row) {
	r.Sessions += o.Sessions
	r.Active += o.Active
	r.Pageviews += o.Pageviews
	r.Engaged += o.Engaged
	r.Bounced += o.Bounced
	r.Conversions += o.Conversions
	r.Value += o.Value
	r.Returning += o.Returning
	r.DurationSum += o.DurationSum
	r.Closed += o.Closed
}

// Rows returns every cell that has seen a session, by site, then channel
// in the order of classify.Channels, then device.
func (m *Metrics) Rows() []Row {
	var rows []Row
	for s := 0; s < m.sites; s++ {
		for _, ch := range classify.Channels {
			c := int(ch)
			for d := 0; d < nd; d++ {
				i := (s*nc+c)*nd + d
				n := m.sessions[i].Load()
				if n == 0 {
					continue
				}
				r := Row{
					Site:        m.siteName(s),
					Channel:     classify.Channel(c).String(),
					Device:      classify.Device(d).String(),
					Sessions:    n,
					Pageviews:   m.pageviews[i].Load(),
					Engaged:     m.engaged[i].Load(),
					Bounced:     m.bounced[i].Load(),
					DurationSum: float64(m.duration.sum[i].Load()) / 1e3,
					Closed:      m.duration.count[i].Load(),
				}
				for x := 1; x < m.nx; x += 2 {
					r.Returning += m.xsessions[i*m.nx+x].Load()
				}
				if r.Closed <= n {
					r.Active = n - r.Closed
				}
				for g := range m.dims.Goals {
					r.Conversions += m.conversions[g*m.sites*cells+i].Load()
					r.Value += float64(m.values[g*m.sites*cells+i].Load()) / 1e6
				}
				rows = append(rows, r)
			}
		}
	}
	return rows
}

// LandingRow is one landing group's sessions, over sites, channels and
// devices.
type LandingRow struct {
	Landing     string `json:"landing"`
	Sessions    uint64 `json:"sessions"`
	Returning   uint64 `json:"returning"`
	Engaged     uint64 `json:"engaged"`
	Bounced     uint64 `json:"bounced"`
	Conversions uint64 `json:"conversions"`
}

// Landings returns the sessions by landing group, in configuration order
// and "other" last; nil when no landing pages are configured.
func (m *Metrics) Landings() []LandingRow {
	if len(m.dims.Landings) == 0 {
		return nil
	}
	names := m.dims.landingNames()
	rows := make([]LandingRow, len(names))
	n := m.sites * cells
	for c := 0; c < n; c++ {
		for x := 0; x < m.nx; x++ {
			r := &rows[x/2]
			i := c*m.nx + x
			s := m.xsessions[i].Load()
			r.Sessions += s
			if x%2 == 1 {
				r.Returning += s
			}
			r.Engaged += m.xengaged[i].Load()
			r.Bounced += m.xbounced[i].Load()
			for g := range m.dims.Goals {
				r.Conversions += m.xconversions[g*n*m.nx+i].Load()
			}
		}
	}
	for i := range rows {
		rows[i].Landing = names[i]
	}
	return append(rows[1:], rows[0])
}

// Bots returns the bot requests counted, over all sites.
func (m *Metrics) Bots() uint64 {
	var n uint64
	for i := range m.bots {
		n += m.bots[i].Load()
	}
	return n
}

// LinesRead returns lines read and lines rejected, over all files.
func (m *Metrics) LinesRead() (read, rejected uint64) {
	for i := range m.linesRead {
		read += m.linesRead[i].Load()
	}
	for i := range m.rejected {
		rejected += m.rejected[i].Load()
	}
	return read, rejected
}

// FileLines returns the lines read from file, those rejected, and the
// reason most of them were rejected for ("" when none was).
func (m *Metrics) FileLines(file int) (read, rejected uint64, top accesslog.Reason) {
	if file < 0 || file >= len(m.linesRead) {
		return 0, 0, ""
	}
	nr := len(accesslog.Reasons)
	var most uint64
	for j := range nr {
		v := m.rejected[file*nr+j].Load()
		rejected += v
		if v > most {
			most, top = v, accesslog.Reasons[j]
		}
	}
	return m.linesRead[file].Load(), rejected, top
}

// Rejected returns the rejected lines by reason, over all files.
func (m *Metrics) Rejected() map[accesslog.Reason]uint64 {
	out := map[accesslog.Reason]uint64{}
	nr := len(accesslog.Reasons)
	for i := range m.rejected {
		if v := m.rejected[i].Load(); v > 0 {
			out[accesslog.Reasons[i%nr]] += v
		}
	}
	return out
}

// Late returns the number of late events.
func (m *Metrics) Late() uint64 { return m.late.Load() }

// ValuesRejectedTotal returns the number of malformed or negative conversion
// values skipped.
func (m *Metrics) ValuesRejectedTotal() uint64 { return m.valuesRejected.Load() }

// Evicted returns the number of sessions closed early by max_visitors.
func (m *Metrics) Evicted() uint64 { return m.evicted.Load() }

func (m *Metrics) siteName(s int) string {
	if len(m.dims.Sites) > 1 && s < len(m.dims.Sites) {
		return m.dims.Sites[s]
	}
	return ""
}
