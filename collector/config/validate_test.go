package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestValidateChangesNothing: Validate is a check only; normalize and
// Complete leave their argument as it was.
func TestValidateChangesNothing(t *testing.T) {
	c := Default()
	c.Logs = []Log{{Path: "/a.log", Container: "cri"}, {Syslog: "unix:///run/s.sock"}}
	c.OwnHosts = []string{" WWW.Example.COM "}
	c.Goals = []Goal{{Name: "buy", Path: "^/thanks$"}}
	c.OTLP = &OTLP{Endpoint: "localhost:4317"}
	before := c
	before.Logs = append([]Log(nil), c.Logs...)
	before.OwnHosts = append([]string(nil), c.OwnHosts...)
	otlp := *c.OTLP
	before.OTLP = &otlp
	opts := cmp.AllowUnexported(Config{})

	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	n := normalize(c)
	done, err := Complete(c)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, c, opts); diff != "" {
		t.Errorf("config changed (-before +after):\n%s", diff)
	}

	// What normalize writes out, and what Complete derives.
	if n.Logs[0].Format != "auto" || n.Logs[0].Stream != "stdout" || n.Logs[1].Stream != "" {
		t.Errorf("logs not normalised: %+v", n.Logs)
	}
	if n.OwnHosts[0] != "www.example.com" {
		t.Errorf("own_hosts[0] = %q", n.OwnHosts[0])
	}
	if n.OTLP.Protocol != "grpc" || n.OTLP.Interval.D() != 15*time.Second {
		t.Errorf("otlp not normalised: %+v", n.OTLP)
	}
	if n.Session.Location != nil || n.GoalRegex != nil {
		t.Error("normalize derived values; that is Complete's job")
	}
	if done.Session.Location != time.UTC || len(done.GoalRegex) != 1 || !done.GoalRegex[0].MatchString("/thanks") {
		t.Errorf("derived values missing: %v %v", done.Session.Location, done.GoalRegex)
	}
	if done.Logs[1].SyslogNetwork != "unixgram" || done.Logs[1].SyslogAddress != "/run/s.sock" {
		t.Errorf("syslog derived as %q %q", done.Logs[1].SyslogNetwork, done.Logs[1].SyslogAddress)
	}
	if len(done.Sites) != 1 || done.Sites[0] != "" {
		t.Errorf("sites %q", done.Sites)
	}
}

// TestValidateAcceptsRawAndNormalised: an empty key that normalize fills
// is valid before and after.
func TestValidateAcceptsRawAndNormalised(t *testing.T) {
	c := Default()
	c.Logs = []Log{{Path: "/a.log"}}
	c.OTLP = &OTLP{Endpoint: "https://otlp.example.com/v1/metrics"}
	if err := c.Validate(); err != nil {
		t.Errorf("raw: %v", err)
	}
	n := normalize(c)
	if err := n.Validate(); err != nil {
		t.Errorf("normalised: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"sesion:\n  timeout: 1m\n", `line 1: unknown key "sesion" (did you mean session?)`},
		{"session:\n  timout: 1m\n", `line 2: session: unknown key "timout" (did you mean timeout?)`},
		{"logs:\n  - path: /a\n    formt: x\n", `line 3: logs[0]: unknown key "formt" (did you mean format?)`},
		{"zzz: 1\n", `line 1: unknown key "zzz"`},
		{"listen: a:1\nlisten: b:2\n", `line 2: listen: given twice (first on line 1)`},
		{"listen: a:1\n---\nlisten: b:2\n", `line 2: more than one YAML document`},
		{"listen: \"::1:9999\"\n", `line 1: listen: "::1:9999" is not host:port: too many colons (write an IPv6 address in brackets, e.g. [::1]:9464)`},
		{"listen: \"[::1]:99999\"\n", `line 1: listen: "[::1]:99999" is not host:port: port "99999" is not a number from 0 to 65535`},
		{"otlp:\n  endpoint: ftp://x\n", `line 2: otlp.endpoint: "ftp://x" is neither host:port nor an http or https URL: scheme "ftp" is not http or https`},
		{"otlp:\n  endpoint: http://:4318\n", `line 2: otlp.endpoint: "http://:4318" is neither host:port nor an http or https URL: no host`},
		{"otlp:\n  endpoint: collector\n", `line 2: otlp.endpoint: "collector" is neither host:port nor an http or https URL: missing port in address`},
		{"otlp:\n  protocol: http\n", `line 1: otlp.endpoint: must not be empty`},
		{"session: [1]\n", `line 1: session: want keys and values, got a list`},
		{"goals: {name: x}\n", `line 1: goals: want a list, got keys and values`},
		{"max_visitors: many\n", "line 1: max_visitors: cannot unmarshal !!str `many` into int"},
		{"state_interval: 0s\n", `line 1: state_interval: must be positive`},
	} {
		_, err := Parse([]byte(tc.yaml))
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("%q: error %v is not an *Error", tc.yaml, err)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.yaml, err, tc.want)
		}
	}
}

// TestAcceptedForms: what the strict decoder must still take.
func TestAcceptedForms(t *testing.T) {
	for _, y := range []string{
		"",
		"# only a comment\n",
		"otlp:\n",
		"logs: []\nown_hosts: ~\n",
		"base: &b {timeout: 10m}\nsession: *b\n",
		"listen: \"[::1]:9464\"\nlogs: [{syslog: \"udp://[::1]:5140\"}]\n",
		"otlp: {endpoint: \"http://collector:4318/v1/metrics\", protocol: http, headers: {Authorization: Bearer x}}\n",
	} {
		_, err := Parse([]byte(y))
		if y == "base: &b {timeout: 10m}\nsession: *b\n" {
			if err == nil || !strings.Contains(err.Error(), `unknown key "base"`) {
				t.Errorf("an unknown key holding an anchor: %v", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", y, err)
		}
	}
	c, err := Parse([]byte("s: &s {timeout: 10m}\n"))
	if err == nil {
		t.Errorf("unknown key accepted: %+v", c)
	}
	c, err = Parse([]byte("logs:\n  - &l {path: /a.log, format: combined, site: shop}\n  - <<: *l\n    path: /b.log\n    site: blog\n"))
	if err != nil || len(c.Logs) != 2 || c.Logs[1].Path != "/b.log" || c.Logs[1].Format != "combined" || c.Logs[1].Site != "blog" {
		t.Errorf("merge key: %v %+v", err, c)
	}
	if _, err := Parse([]byte("logs:\n  - &l {path: /a.log, fromat: combined}\n  - <<: *l\n")); err == nil || !strings.Contains(err.Error(), `unknown key "fromat"`) {
		t.Errorf("unknown key in a merged mapping: %v", err)
	}
	c, err = Parse([]byte("session: &s {timeout: 10m}\n"))
	if err != nil || c.Session.Timeout.D() != 10*time.Minute || c.Session.MaxDelay.D() != 5*time.Second {
		t.Errorf("anchored mapping: %v %+v", err, c)
	}
}

func TestSuggest(t *testing.T) {
	fields := yamlFields(reflect.TypeFor[Config]())
	for key, want := range map[string]string{
		"lisen": "listen", "sesion": "session", "Listen": "listen", "goal": "goals",
		"x": "", "window": "", "max_visitor": "max_visitors",
	} {
		if got := suggest(key, fields); got != want {
			t.Errorf("suggest(%q) = %q, want %q", key, got, want)
		}
	}
}
