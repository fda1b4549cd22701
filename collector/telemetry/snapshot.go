package telemetry

import (
	"sync/atomic"

	"github.com/session-exporter/session-exporter/collector/accesslog"
	"github.com/session-exporter/session-exporter/collector/classify"
)

// Snapshot is the cumulative value of every counter and histogram, with the
// label layout it was taken under, so a restart continues counters instead of
// resetting them. Gauges are not saved: they are recomputed.
type Snapshot struct {
	Dims     Dims     `json:"dims"`
	Channels []string `json:"channels"`
	Devices  []string `json:"devices"`
	Reasons  []string `json:"reasons"`

	Sessions    []uint64 `json:"sessions"`
	Pageviews   []uint64 `json:"pageviews"`
	Engaged     []uint64 `json:"engaged"`
	Bounced     []uint64 `json:"bounced"`
	DurBuckets  []uint64 `json:"duration_buckets"`
	DurSum      []int64  `json:"duration_sum_ms"`
	DurCount    []uint64 `json:"duration_count"`
	PVBuckets   []uint64 `json:"pageviews_buckets"`
	PVSum       []int64  `json:"pageviews_sum"`
	PVCount     []uint64 `json:"pageviews_count"`
	Conversions []uint64 `json:"conversions"`
	// The session counters by landing and visitor type (VisitorTypes
	// names them; absent in files of earlier builds): cell-major, then
	// landing, then visitor type.
	VisitorTypes []string `json:"visitor_types,omitempty"`
	XSessions    []uint64 `json:"sessions_by_landing_type,omitempty"`
	XEngaged     []uint64 `json:"engaged_by_landing_type,omitempty"`
	XBounced     []uint64 `json:"bounced_by_landing_type,omitempty"`
	XConversions []uint64 `json:"conversions_by_landing_type,omitempty"`
	Values       []int64  `json:"conversion_value_micros,omitempty"`
	Bots         []uint64 `json:"bots"`
	// Visitors are today's distinct-visitor sketches (absent before the
	// first visitor and in files of earlier builds).
	Visitors *VisitorsSnapshot `json:"visitors_today,omitempty"`

	LinesRead   []uint64 `json:"lines_read"`
	BytesRead   []uint64 `json:"bytes_read"`
	Rejected    []uint64 `json:"rejected"`
	Rotations   []uint64 `json:"rotations"`
	Truncations []uint64 `json:"truncations"`
	LostFiles   []uint64 `json:"lost_files,omitempty"`
	Late        uint64   `json:"late"`
	ValuesBad   uint64   `json:"conversion_values_rejected,omitempty"`
	Evicted     uint64   `json:"evicted"`
	StateSaves  uint64   `json:"state_saves"`
	SaveFailure uint64   `json:"state_save_failures"`
}

func load(a []atomic.Uint64) []uint64 {
	out := make([]uint64, len(a))
	for i := range a {
		out[i] = a[i].Load()
	}
	return out
}

func loadI(a []atomic.Int64) []int64 {
	out := make([]int64, len(a))
	for i := range a {
		out[i] = a[i].Load()
	}
	return out
}

func names[T interface{ String() string }](n int, f func(int) T) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i).String()
	}
	return out
}

func reasonNames() []string {
	out := make([]string, len(accesslog.Reasons))
	for i, r := range accesslog.Reasons {
		out[i] = string(r)
	}
	return out
}

// Snapshot returns the current values. Take it while no updates run if it
// must match other saved state exactly.
func (m *Metrics) Snapshot() Snapshot {
	return Snapshot{
		Dims:         m.dims,
		Channels:     names(nc, func(i int) classify.Channel { return classify.Channel(i) }),
		Devices:      names(nd, func(i int) classify.Device { return classify.Device(i) }),
		Reasons:      reasonNames(),
		Sessions:     load(m.sessions),
		Pageviews:    load(m.pageviews),
		Engaged:      load(m.engaged),
		Bounced:      load(m.bounced),
		DurBuckets:   load(m.duration.buckets),
		DurSum:       loadI(m.duration.sum),
		DurCount:     load(m.duration.count),
		PVBuckets:    load(m.pvs.buckets),
		PVSum:        loadI(m.pvs.sum),
		PVCount:      load(m.pvs.count),
		Conversions:  load(m.conversions),
		VisitorTypes: visitorTypes,
		XSessions:    load(m.xsessions),
		XEngaged:     load(m.xengaged),
		XBounced:     load(m.xbounced),
		XConversions: load(m.xconversions),
		Values:       loadI(m.values),
		Bots:         load(m.bots),
		Visitors:     m.visitorsSnapshot(),
		LinesRead:    load(m.linesRead),
		BytesRead:    load(m.bytesRead),
		Rejected:     load(m.rejected),
		Rotations:    load(m.rotations),
		Truncations:  load(m.truncations),
		LostFiles:    load(m.lostFiles),
		Late:         m.late.Load(),
		ValuesBad:    m.valuesRejected.Load(),
		Evicted:      m.evicted.Load(),
		StateSaves:   m.stateSaves.Load(),
		SaveFailure:  m.saveFailure.Load(),
	}
}

// Restore adds the values of s to m, matching label values by name, so a
// configuration that renamed or dropped a goal, site or file keeps every
// series that still exists. Values whose labels no longer exist are dropped.
func (m *Metrics) Restore(s Snapshot) {
	oldSites := s.Dims.Sites
	if len(oldSites) == 0 {
		oldSites = []string{""}
	}
	newSites := m.dims.Sites
	if len(newSites) == 0 {
		newSites = []string{""}
	}
	siteMap := indexMap(oldSites, newSites)
	if len(oldSites) == 1 && len(newSites) == 1 {
		siteMap = []int{0} // one site before and after: same series whatever its name
	}
	chMap := indexMap(s.Channels, names(nc, func(i int) classify.Channel { return classify.Channel(i) }))
	devMap := indexMap(s.Devices, names(nd, func(i int) classify.Device { return classify.Device(i) }))
	goalMap := indexMap(s.Dims.Goals, m.dims.Goals)
	fileMap := indexMap(s.Dims.Files, m.dims.Files)
	reasonMap := indexMap(s.Reasons, reasonNames())

	oldCells := len(oldSites) * len(s.Channels) * len(s.Devices)
	// cellMap maps an old cell index to a new one, or -1.
	cellMap := make([]int, oldCells)
	for os := range oldSites {
		for oc := range s.Channels {
			for od := range s.Devices {
				i := (os*len(s.Channels)+oc)*len(s.Devices) + od
				ns, nch, ndv := siteMap[os], chMap[oc], devMap[od]
				if ns < 0 || nch < 0 || ndv < 0 {
					cellMap[i] = -1
					continue
				}
				cellMap[i] = (ns*nc+nch)*nd + ndv
			}
		}
	}
	add := func(dst []atomic.Uint64, src []uint64, idx []int) {
		for i, v := range src {
			if i < len(idx) && idx[i] >= 0 && idx[i] < len(dst) {
				dst[idx[i]].Add(v)
			}
		}
	}
	addI := func(dst []atomic.Int64, src []int64, idx []int) {
		for i, v := range src {
			if i < len(idx) && idx[i] >= 0 && idx[i] < len(dst) {
				dst[idx[i]].Add(v)
			}
		}
	}
	add(m.sessions, s.Sessions, cellMap)
	add(m.pageviews, s.Pageviews, cellMap)
	add(m.engaged, s.Engaged, cellMap)
	add(m.bounced, s.Bounced, cellMap)
	add(m.duration.count, s.DurCount, cellMap)
	addI(m.duration.sum, s.DurSum, cellMap)
	add(m.pvs.count, s.PVCount, cellMap)
	addI(m.pvs.sum, s.PVSum, cellMap)
	nb := len(durationBounds) + 1
	add(m.duration.buckets, s.DurBuckets, expand(cellMap, nb))
	add(m.pvs.buckets, s.PVBuckets, expand(cellMap, len(pageviewBounds)+1))
	// conversions: goal-major over cells.
	convMap := make([]int, len(goalMap)*oldCells)
	for g := range goalMap {
		for c := range cellMap {
			convMap[g*oldCells+c] = -1
			if goalMap[g] >= 0 && cellMap[c] >= 0 {
				convMap[g*oldCells+c] = goalMap[g]*m.sites*cells + cellMap[c]
			}
		}
	}
	add(m.conversions, s.Conversions, convMap)
	m.restoreVisitors(s.Visitors, cellMap)
	m.restoreX(s, cellMap, goalMap, oldCells)
	addI(m.values, s.Values, convMap)
	add(m.bots, s.Bots, siteMap)
	add(m.linesRead, s.LinesRead, fileMap)
	add(m.bytesRead, s.BytesRead, fileMap)
	add(m.rotations, s.Rotations, fileMap)
	add(m.truncations, s.Truncations, fileMap)
	add(m.lostFiles, s.LostFiles, fileMap)
	rejMap := make([]int, len(fileMap)*len(reasonMap))
	for f := range fileMap {
		for r := range reasonMap {
			rejMap[f*len(reasonMap)+r] = -1
			if fileMap[f] >= 0 && reasonMap[r] >= 0 {
				rejMap[f*len(reasonMap)+r] = fileMap[f]*len(accesslog.Reasons) + reasonMap[r]
			}
		}
	}
	add(m.rejected, s.Rejected, rejMap)
	m.late.Add(s.Late)
	m.valuesRejected.Add(s.ValuesBad)
	m.evicted.Add(s.Evicted)
	m.stateSaves.Add(s.StateSaves)
	m.saveFailure.Add(s.SaveFailure)
}

// restoreX restores the counters by landing and visitor type. A snapshot
// of a build without them puts its counts under landing other and visitor
// type new, so the totals go on.
func (m *Metrics) restoreX(s Snapshot, cellMap, goalMap []int, oldCells int) {
	if len(s.VisitorTypes) == 0 {
		for c, nc := range cellMap {
			if nc < 0 {
				continue
			}
			at := func(a []uint64) uint64 {
				if c < len(a) {
					return a[c]
				}
				return 0
			}
			m.xsessions[nc*m.nx].Add(at(s.Sessions))
			m.xengaged[nc*m.nx].Add(at(s.Engaged))
			m.xbounced[nc*m.nx].Add(at(s.Bounced))
			for g, ng := range goalMap {
				if ng >= 0 && g*oldCells+c < len(s.Conversions) {
					m.xconversions[(ng*m.sites*cells+nc)*m.nx].Add(s.Conversions[g*oldCells+c])
				}
			}
		}
		return
	}
	landMap := indexMap(s.Dims.landingNames(), m.dims.landingNames())
	typeMap := indexMap(s.VisitorTypes, visitorTypes)
	onx := len(s.Dims.landingNames()) * len(s.VisitorTypes)
	// xMap maps an old (cell, x) index to a new one, or -1.
	xMap := make([]int, oldCells*onx)
	for c := range cellMap {
		for l := range landMap {
			for v := range typeMap {
				i := c*onx + l*len(s.VisitorTypes) + v
				xMap[i] = -1
				if cellMap[c] >= 0 && typeMap[v] >= 0 {
					nl := landMap[l]
					if nl < 0 {
						nl = 0 // a group no longer configured: other
					}
					xMap[i] = cellMap[c]*m.nx + nl*2 + typeMap[v]
				}
			}
		}
	}
	addX := func(dst []atomic.Uint64, src []uint64) {
		for i, v := range src {
			if i < len(xMap) && xMap[i] >= 0 {
				dst[xMap[i]].Add(v)
			}
		}
	}
	addX(m.xsessions, s.XSessions)
	addX(m.xengaged, s.XEngaged)
	addX(m.xbounced, s.XBounced)
	for g, ng := range goalMap {
		if ng < 0 {
			continue
		}
		base := g * oldCells * onx
		for i, j := range xMap {
			if j >= 0 && base+i < len(s.XConversions) {
				m.xconversions[ng*m.sites*cells*m.nx+j].Add(s.XConversions[base+i])
			}
		}
	}
}

// indexMap maps each index of from to the index of the same name in to, or -1.
func indexMap(from, to []string) []int {
	pos := make(map[string]int, len(to))
	for i, n := range to {
		pos[n] = i
	}
	out := make([]int, len(from))
	for i, n := range from {
		j, ok := pos[n]
		if !ok {
			j = -1
		}
		out[i] = j
	}
	return out
}

// expand turns a cell map into a bucket map with nb buckets per cell.
func expand(cellMap []int, nb int) []int {
	out := make([]int, len(cellMap)*nb)
	for c, n := range cellMap {
		for b := 0; b < nb; b++ {
			out[c*nb+b] = -1
			if n >= 0 {
				out[c*nb+b] = n*nb + b
			}
		}
	}
	return out
}
