package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestBadConfigs pins the one-line message a user sees for each mistake:
// the file and line, the field, what is wrong.
func TestBadConfigs(t *testing.T) {
	want := map[string]string{
		"bad_cidr":                 `1: trusted_proxies[0]: "10.0.0.0/33" is not a CIDR such as 10.0.0.0/8 or an address`,
		"bad_duration":             `2: session.timeout: bad duration "30 minutes" (want e.g. 30m, 5s, 30d)`,
		"bad_format":               `3: logs[0].format: unknown log format "combnied" (want combined, main, sessions, common, vhost_combined, traefik, ingress-nginx, caddy, cloudfront, auto or an nginx log_format string)`,
		"bad_goal_regex":           "3: goals[0].path: bad regular expression \"[a-\": missing closing ]: `[a-`",
		"bad_listen":               `1: listen: "localhost" is not host:port: missing port in address`,
		"bad_offset":               `2: session.timezone: offset "+25:00" is out of range`,
		"bad_regex":                "1: exclude_paths[0]: bad regular expression \"^/health(z$\": missing closing ): `^/health(z$`",
		"bad_start_at":             `1: start_at: "middle" is not end or beginning`,
		"bad_zone":                 `2: session.timezone: unknown time zone "Mars/Olympus" (want UTC, an IANA name such as Europe/Paris, or an offset such as +01:00)`,
		"carry_over":               `3: session.redirect_carry_over: must be between 0s and session.timeout`,
		"container_unknown":        `3: logs[0].container: "containerd" is not cri or docker`,
		"goal_name":                `2: goals[0].name: "buy now" must be 1-64 letters, digits, '_' or '-'`,
		"goal_twice":               `3: goals[1].name: "buy" is used twice`,
		"goal_value_param":         `4: goals[0].value_param: "order value" must be a query parameter name: 1-64 letters, digits, '_', '-', '.', '[' or ']'`,
		"input_both":               `2: logs[0]: path and syslog are two inputs: give one per log`,
		"input_missing":            `2: logs[0]: give path (a file, a glob, or - for standard input) or syslog (udp://127.0.0.1:5140, unixgram:///run/session-exporter/syslog.sock)`,
		"landing_empty":            `3: landing_pages[0].path: must not be empty`,
		"landing_many":             `1: landing_pages: at most 32 groups, got 33`,
		"landing_name":             `2: landing_pages[0].name: "blog posts" must be 1-64 letters, digits, '_', '-' or '.'`,
		"landing_other":            `4: landing_pages[1].name: "other" is the name of paths no group matches`,
		"landing_regex":            "3: landing_pages[0].path: bad regular expression \"^/(blog\": missing closing ): `^/(blog`",
		"landing_twice":            `4: landing_pages[1].name: "blog" is used twice`,
		"max_future":               `2: session.max_future: must be between 1ns and 24h, got 0s`,
		"max_visitors":             `1: max_visitors: must be positive, got 0`,
		"negative_timeout":         `2: session.timeout: must be positive`,
		"not_mapping":              `1: the configuration must be a mapping of keys such as listen: and logs: (see config.example.yaml)`,
		"not_yaml":                 `1: did not find expected ',' or ']'`,
		"otlp_protocol":            `3: otlp.protocol: "udp" is not grpc or http`,
		"returning_window":         `2: visitors.returning_window: must be between 1h and 365d, got 10m0s`,
		"site_missing":             `3: logs[1].site: must be set when other logs name a site`,
		"stdin_twice":              `3: logs[1].path: standard input ("-") can be read by one log only`,
		"stream_unknown":           `4: logs[0].stream: "stdin" is not stdout, stderr or both`,
		"stream_without_container": `3: logs[0].stream: only with container: cri or docker`,
		"syslog_addr":              `2: logs[0].syslog: "udp://5140" is not udp://host:port: missing port in address`,
		"syslog_container":         `3: logs[0].container: only for files and standard input, not syslog`,
		"syslog_relative":          `2: logs[0].syslog: "unixgram://run/syslog.sock": the socket path must be absolute`,
		"syslog_scheme":            `2: logs[0].syslog: "127.0.0.1:5140" is not udp://host:port or unixgram:///path`,
		"syslog_tcp":               `2: logs[0].syslog: tcp is not supported: nginx sends syslog over UDP or a unix socket (udp://host:port, unixgram:///path)`,
		"unknown_key":              `4: logs[0]: unknown key "fromat" (did you mean format?)`,
		"unknown_top":              `1: unknown key "lisen" (did you mean listen?)`,
		"visitors_key":             `3: visitors: unknown key "window"`,
		"wrong_type":               `1: own_hosts: want a list, got "www.example.com"`,
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.bad.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(want) {
		t.Errorf("%d bad configs in testdata, %d expected messages", len(files), len(want))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".bad.yaml")
		t.Run(name, func(t *testing.T) {
			_, err := Load(f)
			if err == nil {
				t.Fatal("accepted")
			}
			if got, w := err.Error(), f+":"+want[name]; got != w {
				t.Errorf("error\n got: %s\nwant: %s", got, w)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Error("error spans several lines")
			}
		})
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Logs) != 1 || c.Logs[0].Format != "combined" || len(c.GoalRegex) != 1 || len(c.Proxies) != 1 {
		t.Errorf("example config decoded unexpectedly: %+v", c)
	}
}

// TestExampleDocumentsEveryKey: every YAML key the Config type accepts is
// written in config.example.yaml (commented out or not).
func TestExampleDocumentsEveryKey(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"listen", "telemetry_path", "logs", "path", "format", "site", "start_at",
		"max_line_bytes", "poll_interval", "own_hosts", "trusted_proxies", "exclude_paths", "session",
		"timeout", "timezone", "split_at_midnight", "split_on_source_change", "max_delay", "max_future",
		"redirect_carry_over", "goals", "name", "state_file", "state_interval", "max_visitors",
		"user_agent_cache_size", "otlp", "endpoint", "protocol", "interval", "insecure", "headers"} {
		if !strings.Contains(string(b), key+":") {
			t.Errorf("config.example.yaml does not document %q", key)
		}
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse([]byte("logs: [{path: /x.log}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := []any{c.Listen, c.Logs[0].Format, c.StartAt, c.Session.Timeout.D(), c.Session.Location,
		c.Session.SplitAtMidnight, c.Session.SplitOnSourceChange, c.Session.MaxDelay.D(),
		c.Session.RedirectCarryOver.D(), c.MaxVisitors, c.MaxLineBytes, c.Session.MaxFuture.D()}
	want := []any{"127.0.0.1:9464", "auto", "end", 30 * time.Minute, time.UTC, true, true,
		5 * time.Second, 10 * time.Second, 1_000_000, 65536, 10 * time.Minute}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b *time.Location) bool { return a.String() == b.String() })); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestParseZone(t *testing.T) {
	for _, tc := range []struct {
		in     string
		offset int // seconds east of UTC on 2026-11-02 noon UTC
	}{
		{"UTC", 0}, {"", 0}, {"+01:00", 3600}, {"-0530", -19800}, {"+5", 18000},
		{"Europe/Paris", 3600}, {"America/New_York", -18000}, {"Asia/Kolkata", 19800},
	} {
		loc, err := parseZone(tc.in)
		if err != nil {
			t.Errorf("parseZone(%q): %v", tc.in, err)
			continue
		}
		_, off := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC).In(loc).Zone()
		if off != tc.offset {
			t.Errorf("parseZone(%q) offset %d, want %d", tc.in, off, tc.offset)
		}
	}
}

// FuzzParse: no input crashes the loader; accepted configs are valid.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml")); err == nil {
		f.Add(b)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.bad.yaml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error: %q", err)
			}
			return
		}
		if c.Session.Location == nil || c.Session.Timeout <= 0 || c.MaxVisitors <= 0 {
			t.Errorf("accepted an invalid config: %+v", c)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("a completed config fails validation: %v", err)
		}
	})
}
