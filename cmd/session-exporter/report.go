package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/session-exporter/session-exporter/collector"
	"github.com/session-exporter/session-exporter/collector/telemetry"
)

// The replay report: a collector.Summary as JSON (-o json) or as tables
// for people (-o table).

// writeJSON writes s as indented JSON.
func writeJSON(w io.Writer, s collector.Summary) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// writeTable writes s for people: one table by channel, one by device.
func writeTable(w io.Writer, s collector.Summary) error {
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
