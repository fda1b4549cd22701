// Package dashboards holds the Grafana dashboard (sessions.json) and the
// Prometheus recording and alerting rules (alerts.yml) for session-exporter.
// It has no code: its tests check that every query names only metrics the
// exporter exposes and run promtool on the rules and their unit tests.
package dashboards
