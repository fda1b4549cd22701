package collector

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/session-exporter/session-exporter/collector/accesslog"
	"github.com/session-exporter/session-exporter/collector/telemetry"
)

// Summary is what replay reports: per (site, channel, device) rows, their
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

// WriteJSON writes s as indented JSON.
func (s Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// WriteTable writes s for people: one table by channel, one by device.
func (s Summary) WriteTable(w io.Writer) error {
	group := func(key func(telemetry.Row) string) []telemetry.Row {
		idx := map[string]int{}
		var out []telemetry.Row
		for _, r := range s.Rows {
			k := key(r)
			i, ok := idx[k]
			if !ok {
				i = len(out)
				idx[k] = i
				out = append(out, telemetry.Row{Channel: k})
			}
			out[i].Add(r)
		}
		sort.SliceStable(out, func(a, b int) bool { return out[a].Sessions > out[b].Sessions })
		return out
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	write := func(title string, rows []telemetry.Row) {
		fmt.Fprintf(tw, "%s\tsessions\tpages/session\tbounce rate\tengaged rate\tavg duration\tconversions\tvalue\tvalue/session\t\n", title)
		for _, r := range append(rows, withName(s.Total, "total")) {
			fmt.Fprintf(tw, "%s\t%d\t%.2f\t%s\t%s\t%s\t%d\t%.2f\t%.2f\t\n", r.Channel, r.Sessions,
				ratio(float64(r.Pageviews), float64(r.Sessions)),
				pct(r.Bounced, r.Closed), pct(r.Engaged, r.Sessions),
				avgDuration(r), r.Conversions, r.Value, ratio(r.Value, float64(r.Sessions)))
		}
		fmt.Fprintln(tw, "\t\t\t\t\t\t\t\t\t")
	}
	write("channel", group(func(r telemetry.Row) string { return r.Channel }))
	write("device", group(func(r telemetry.Row) string { return r.Device }))
	if len(s.Landings) > 0 {
		fmt.Fprintf(tw, "landing\tsessions\treturning\tbounce rate\tengaged rate\tconversions\t\n")
		for _, l := range s.Landings {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t\n", l.Landing, l.Sessions,
				pct(l.Returning, l.Sessions), pct(l.Bounced, l.Sessions), pct(l.Engaged, l.Sessions), l.Conversions)
		}
		fmt.Fprintln(tw, "\t\t\t\t\t\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "returning visitors %.1f%% of sessions, visitors on the last day %.0f (estimate), conversion value %.2f, %.2f per session\n",
		100*s.ReturningShare, s.VisitorsToday, s.Total.Value, s.ValuePerSession); err != nil {
		return err
	}
	var rejected uint64
	for _, v := range s.Rejected {
		rejected += v
	}
	_, err := fmt.Fprintf(w, "lines read %d, rejected %d, bot requests %d, late events %d, evicted sessions %d, conversion values rejected %d\n",
		s.Lines, rejected, s.Bots, s.Late, s.Evicted, s.ValuesRejected)
	return err
}

func withName(r telemetry.Row, name string) telemetry.Row { r.Channel = name; return r }

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func pct(a, b uint64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b))
}

func avgDuration(r telemetry.Row) string {
	if r.Closed == 0 {
		return "-"
	}
	d := r.DurationSum / float64(r.Closed)
	return fmt.Sprintf("%dm%02ds", int(d)/60, int(d)%60)
}
