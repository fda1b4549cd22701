package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/session-exporter/session-exporter/collector"
	"github.com/session-exporter/session-exporter/collector/classify"
	"github.com/session-exporter/session-exporter/collector/session"
	"github.com/session-exporter/session-exporter/collector/telemetry"
)

// TestReportListsChannelsInRuleOrder: the replay report shows ai_assistant
// like any other channel, and channels with as many sessions in the order of
// docs/rules.md rule 5 (ai_assistant, valued last, before email).
func TestReportListsChannelsInRuleOrder(t *testing.T) {
	m := telemetry.New(telemetry.Dims{})
	for _, ch := range []classify.Channel{classify.Unassigned, classify.Email, classify.AIAssistant, classify.OrganicSearch} {
		l := session.Labels{Channel: ch, Device: classify.Desktop}
		m.SessionStarted(l)
		m.Pageview(l)
		m.SessionClosed(l, session.Closed{Pageviews: 1})
	}
	l := session.Labels{Channel: classify.Referral, Device: classify.Desktop}
	m.SessionStarted(l) // the most sessions: listed first
	m.SessionStarted(l)
	s := collector.Summarize(m)

	var js bytes.Buffer
	if err := writeJSON(&js, s); err != nil {
		t.Fatal(err)
	}
	var decoded struct {
		By []struct{ Channel string } `json:"by"`
	}
	if err := json.Unmarshal(js.Bytes(), &decoded); err != nil {
		t.Fatal(err)
	}
	var byJSON []string
	for _, r := range decoded.By {
		byJSON = append(byJSON, r.Channel)
	}
	if diff := cmp.Diff([]string{"organic_search", "ai_assistant", "email", "referral", "unassigned"}, byJSON); diff != "" {
		t.Errorf("JSON rows (-want +got):\n%s", diff)
	}

	var table bytes.Buffer
	if err := writeTable(&table, s); err != nil {
		t.Fatal(err)
	}
	var byTable []string
	for _, line := range strings.Split(table.String(), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] != "sessions" && f[0] != "total" && f[0] != "desktop" {
			byTable = append(byTable, f[0])
		}
		if strings.HasPrefix(strings.TrimSpace(line), "device") {
			break
		}
	}
	if diff := cmp.Diff([]string{"referral", "organic_search", "ai_assistant", "email", "unassigned"}, byTable); diff != "" {
		t.Errorf("table rows by channel (-want +got):\n%s\n%s", diff, table.String())
	}
}
