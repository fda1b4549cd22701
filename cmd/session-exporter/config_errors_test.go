package main

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/session-exporter/session-exporter/collector/config"
)

// badField is one configuration mistake and the field its message must name.
type badField struct {
	field string // the field path the message names, e.g. logs[0].format
	yaml  string
}

// badFields holds one mistake for every key of the configuration.
var badFields = []badField{
	{"listen", `listen: "::1:9999"`},
	{"telemetry_path", `telemetry_path: metrics`},
	{"logs", `logs: {path: /a.log}`},
	{"logs[0].path", `logs: [{path: "/var/log/[a"}]`},
	{"logs[0].syslog", `logs: [{syslog: "ftp://x"}]`},
	{"logs[0].format", `logs: [{path: /a.log, format: "combnied"}]`},
	{"logs[0].site", `logs: [{path: /a.log, site: "my shop"}]`},
	{"logs[0].container", `logs: [{path: /a.log, container: podman}]`},
	{"logs[0].stream", `logs: [{path: /a.log, container: cri, stream: stdin}]`},
	{"start_at", `start_at: now`},
	{"max_line_bytes", `max_line_bytes: 100`},
	{"poll_interval", `poll_interval: 0s`},
	{"own_hosts[0]", `own_hosts: ["www.example.com/shop"]`},
	{"trusted_proxies[0]", `trusted_proxies: ["10.0.0.0/40"]`},
	{"exclude_paths[0]", `exclude_paths: ["(health"]`},
	{"session.timeout", "session:\n  timeout: -1m"},
	{"session.timezone", "session:\n  timezone: Moon/Base"},
	{"session.split_at_midnight", "session:\n  split_at_midnight: perhaps"},
	{"session.split_on_source_change", "session:\n  split_on_source_change: [yes]"},
	{"session.max_delay", "session:\n  max_delay: 2h"},
	{"session.max_future", "session:\n  max_future: 48h"},
	{"session.redirect_carry_over", "session:\n  timeout: 1m\n  redirect_carry_over: 2m"},
	{"goals[0].name", `goals: [{name: "buy now", path: ^/thanks$}]`},
	{"goals[0].path", `goals: [{name: buy, path: "^/(thanks"}]`},
	{"goals[0].value_param", `goals: [{name: buy, path: ^/thanks$, value_param: "order value"}]`},
	{"landing_pages[0].name", `landing_pages: [{name: other, path: ^/blog/}]`},
	{"landing_pages[0].path", `landing_pages: [{name: blog, path: ""}]`},
	{"visitors.returning_window", "visitors:\n  returning_window: 400d"},
	{"visitors.capacity", "visitors:\n  capacity: -1"},
	{"state_file", `state_file: /var/lib/session-exporter/`},
	{"state_interval", `state_interval: 0s`},
	{"max_visitors", `max_visitors: 0`},
	{"user_agent_cache_size", `user_agent_cache_size: lots`},
	{"otlp.endpoint", "otlp:\n  endpoint: ftp://x"},
	{"otlp.protocol", "otlp:\n  endpoint: localhost:4317\n  protocol: thrift"},
	{"otlp.interval", "otlp:\n  endpoint: localhost:4317\n  interval: -15s"},
	{"otlp.insecure", "otlp:\n  endpoint: localhost:4317\n  insecure: 2"},
	{"otlp.headers", "otlp:\n  endpoint: localhost:4317\n  headers: {\"x key\": v}"},
}

// TestEveryConfigMistakeExits2: each mistake is caught when the
// configuration is read, by replay and by the live command alike: exit 2
// and one line that names the file and the field once each.
func TestEveryConfigMistakeExits2(t *testing.T) {
	dir := t.TempDir()
	log := writeFile(t, filepath.Join(dir, "a.log"), "")
	for _, tc := range badFields {
		t.Run(tc.field, func(t *testing.T) {
			cfg := writeFile(t, filepath.Join(dir, "c.yaml"), tc.yaml+"\n")
			for _, args := range [][]string{{"replay", "-config", cfg, log}, {"-config", cfg}} {
				code, _, stderr := runCLI(args...)
				if code != exitUsage {
					t.Fatalf("%v: exit %d, want %d (stderr %q)", args, code, exitUsage, stderr)
				}
				msg := strings.TrimSpace(stderr)
				if strings.Contains(msg, "\n") {
					t.Errorf("%v: not one line: %q", args, msg)
				}
				if n := strings.Count(msg, cfg); n != 1 {
					t.Errorf("%v: names the file %d times: %q", args, n, msg)
				}
				if n := strings.Count(strings.ReplaceAll(msg, cfg, ""), tc.field); n != 1 {
					t.Errorf("%v: names %s %d times: %q", args, tc.field, n, msg)
				}
			}
		})
	}
}

// TestBadFieldsCoverEveryKey: badFields has a mistake for every key the
// configuration accepts.
func TestBadFieldsCoverEveryKey(t *testing.T) {
	var covered []string
	for _, b := range badFields {
		covered = append(covered, strings.ReplaceAll(b.field, "[0]", ""))
	}
	for _, key := range yamlKeys(reflect.TypeFor[config.Config](), "") {
		if !slices.Contains(covered, key) {
			t.Errorf("no bad config for %s", key)
		}
	}
}

// yamlKeys lists the leaf keys of a config struct as dotted paths.
func yamlKeys(t reflect.Type, prefix string) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || name == "" {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[config.Duration]() {
			out = append(out, yamlKeys(ft, prefix+name+".")...)
			continue
		}
		out = append(out, prefix+name)
	}
	return out
}

// TestWebConfigFileChecked: a missing web config file is a start-up error
// naming the file once.
func TestWebConfigFileChecked(t *testing.T) {
	dir := t.TempDir()
	log := writeFile(t, filepath.Join(dir, "a.log"), "")
	cfg := writeFile(t, filepath.Join(dir, "c.yaml"), "listen: 127.0.0.1:0\nlogs: [{path: "+log+"}]\n")
	web := filepath.Join(dir, "web.yaml")
	code, _, stderr := runCLI("-config", cfg, "-web.config.file", web)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d (stderr %q)", code, exitUsage, stderr)
	}
	if n := strings.Count(stderr, web); n != 1 {
		t.Errorf("names %s %d times: %q", web, n, stderr)
	}
}
