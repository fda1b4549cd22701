package collector

import (
	"github.com/session-exporter/session-exporter/collector/accesslog"
	"github.com/session-exporter/session-exporter/collector/telemetry"
)

// Summary is what replay reports (the command formats it as JSON or
// tables): per (site, channel, device) rows, their
// total, and the health counters.
type Summary struct {
	Rows     []telemetry.Row             `json:"by"`
	Total    telemetry.Row               `json:"total"`
	Bots     uint64                      `json:"bot_requests"`
	Lines    uint64                      `json:"lines"`
	Rejected map[accesslog.Reason]uint64 `json:"rejected"`
	Late     uint64                      `json:"late"`
	Evicted  uint64                      `json:"evicted"`
	// ValuesRejected counts malformed or negative conversion values.
	ValuesRejected uint64 `json:"conversion_values_rejected"`
	// ValuePerSession is the conversion value over all sessions.
	ValuePerSession float64 `json:"value_per_session"`
	// ReturningShare is the share of sessions by returning visitors.
	ReturningShare float64 `json:"returning_share"`
	// Landings are the sessions by landing page group (absent without
	// landing_pages).
	Landings []telemetry.LandingRow `json:"by_landing,omitempty"`
	// VisitorsToday estimates the distinct visitors of the last day seen
	// (web_visitors summed over its cells).
	VisitorsToday float64 `json:"visitors_today"`
}

// Summarize reads m into a Summary.
func Summarize(m *telemetry.Metrics) Summary {
	s := Summary{Rows: m.Rows(), Bots: m.Bots(), Rejected: m.Rejected(), Late: m.Late(), Evicted: m.Evicted()}
	s.Lines, _ = m.LinesRead()
	for _, r := range s.Rows {
		s.Total.Add(r)
	}
	s.Total.Channel, s.Total.Device = "all", "all"
	s.ValuesRejected = m.ValuesRejectedTotal()
	s.ValuePerSession = ratio(s.Total.Value, float64(s.Total.Sessions))
	s.ReturningShare = ratio(float64(s.Total.Returning), float64(s.Total.Sessions))
	s.Landings = m.Landings()
	s.VisitorsToday = m.VisitorsToday()
	if s.Rows == nil {
		s.Rows = []telemetry.Row{}
	}
	return s
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
