// Package config loads and validates the exporter's YAML configuration:
// defaults first, then a strict decode (an unknown key is an error naming
// its line), then validation of every value.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/session-exporter/session-exporter/collector/accesslog"
)

// Config is the whole configuration file.
type Config struct {
	Listen         string    `yaml:"listen"`
	TelemetryPath  string    `yaml:"telemetry_path"`
	Logs           []Log     `yaml:"logs"`
	StartAt        string    `yaml:"start_at"`
	MaxLineBytes   int       `yaml:"max_line_bytes"`
	PollInterval   Duration  `yaml:"poll_interval"`
	OwnHosts       []string  `yaml:"own_hosts"`
	TrustedProxies []string  `yaml:"trusted_proxies"`
	ExcludePaths   []string  `yaml:"exclude_paths"`
	Session        Session   `yaml:"session"`
	Goals          []Goal    `yaml:"goals"`
	LandingPages   []Landing `yaml:"landing_pages"`
	Visitors       Visitors  `yaml:"visitors"`
	StateFile      string    `yaml:"state_file"`
	StateInterval  Duration  `yaml:"state_interval"`
	MaxVisitors    int       `yaml:"max_visitors"`
	UACacheSize    int       `yaml:"user_agent_cache_size"`
	OTLP           *OTLP     `yaml:"otlp"`

	// Derived by Validate.
	Proxies      []netip.Prefix   `yaml:"-"`
	ExcludeRegex []*regexp.Regexp `yaml:"-"`
	GoalRegex    []*regexp.Regexp `yaml:"-"`
	LandingRegex []*regexp.Regexp `yaml:"-"`
	Sites        []string         `yaml:"-"` // distinct site names in log order; len > 1 means a site label
}

// Log is one access log to read: a file or glob of files (path), standard
// input (path "-"), or a syslog socket (syslog).
type Log struct {
	Path   string `yaml:"path"`
	Syslog string `yaml:"syslog"` // udp://host:port or unixgram:///path
	Format string `yaml:"format"`
	Site   string `yaml:"site"`
	// Container names the container runtime's log wrapper around each
	// line: "cri" (Kubernetes: "TIMESTAMP STREAM F|P line") or "docker"
	// (json-file records). Stream picks stdout, stderr or both of its
	// records (default stdout).
	Container string `yaml:"container"`
	Stream    string `yaml:"stream"`

	// Derived by Validate for syslog: the network ("udp", "unixgram") and
	// address to listen on.
	SyslogNetwork string `yaml:"-"`
	SyslogAddress string `yaml:"-"`
}

// Name is the log's label value: its path, or its syslog address.
func (l Log) Name() string {
	if l.Syslog != "" {
		return l.Syslog
	}
	return l.Path
}

// Session holds the session rules (docs/rules.md rule 6).
type Session struct {
	Timeout             Duration `yaml:"timeout"`
	Timezone            string   `yaml:"timezone"`
	SplitAtMidnight     bool     `yaml:"split_at_midnight"`
	SplitOnSourceChange bool     `yaml:"split_on_source_change"`
	MaxDelay            Duration `yaml:"max_delay"`
	MaxFuture           Duration `yaml:"max_future"`
	RedirectCarryOver   Duration `yaml:"redirect_carry_over"`

	Location *time.Location `yaml:"-"`
}

// Goal is a named path pattern; a session reaching it counts a conversion.
type Goal struct {
	Name string `yaml:"name"`
	Path string `yaml:"path"`
	// ValueParam names the query parameter holding the conversion's value
	// (e.g. value in /thank-you?value=59.90); empty for none.
	ValueParam string `yaml:"value_param"`
}

// MaxLandingPages is the most landing_pages groups a configuration may have.
const MaxLandingPages = 32

// Landing is a named group of landing paths (a regular expression matched
// against the path of a session's first pageview).
type Landing struct {
	Name string `yaml:"name"`
	Path string `yaml:"path"`
}

// Visitors configures the memory of past visitors (new or returning).
type Visitors struct {
	// ReturningWindow: a visitor with a session started this long before
	// is returning (30d).
	ReturningWindow Duration `yaml:"returning_window"`
	// Capacity is the number of visitors within the window the memory is
	// sized for (1,000,000: 8 MiB; 10,000,000: 64 MiB).
	Capacity int `yaml:"capacity"`
}

// OTLP configures pushing metrics to an OpenTelemetry collector.
type OTLP struct {
	Endpoint string            `yaml:"endpoint"`
	Protocol string            `yaml:"protocol"` // grpc | http
	Interval Duration          `yaml:"interval"`
	Insecure bool              `yaml:"insecure"`
	Headers  map[string]string `yaml:"headers"`
}

// Duration is a time.Duration written as "30m", "5s" in YAML.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if days, ok := strings.CutSuffix(n.Value, "d"); ok && err != nil {
		var d int
		d, err = strconv.Atoi(days)
		if err == nil && (d < 0 || d > 100_000) {
			err = errors.New("out of range")
		}
		v = time.Duration(d) * 24 * time.Hour
	}
	if err != nil || n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: bad duration %q (want e.g. 30m, 5s, 30d)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Default returns the configuration used when a key is absent.
func Default() Config {
	return Config{
		Listen:        "127.0.0.1:9464",
		TelemetryPath: "/metrics",
		StartAt:       "end",
		MaxLineBytes:  64 << 10,
		PollInterval:  Duration(time.Second),
		Session: Session{
			Timeout:             Duration(30 * time.Minute),
			Timezone:            "UTC",
			SplitAtMidnight:     true,
			SplitOnSourceChange: true,
			MaxDelay:            Duration(5 * time.Second),
			MaxFuture:           Duration(10 * time.Minute),
			RedirectCarryOver:   Duration(10 * time.Second),
		},
		StateInterval: Duration(5 * time.Second),
		MaxVisitors:   1_000_000,
		Visitors: Visitors{
			ReturningWindow: Duration(30 * 24 * time.Hour),
			Capacity:        1_000_000,
		},
		UACacheSize: 10_000,
	}
}

// Load reads, decodes and validates the file at path.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

var (
	fieldNotFound = regexp.MustCompile(`line (\d+): field (\S+) not found in type \S+`)
	notMapping    = regexp.MustCompile(`(?s)^line (\d+): cannot unmarshal \S+ .* into config\.Config$`)
)

// oneLine keeps an error on one line: a value quoted in it may hold newlines.
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", `\n`) }

// Parse decodes and validates a configuration document.
func Parse(b []byte) (*Config, error) {
	c := Default()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			msg := te.Errors[0]
			if m := fieldNotFound.FindStringSubmatch(msg); m != nil {
				return nil, fmt.Errorf("line %s: unknown key %q", m[1], m[2])
			}
			if m := notMapping.FindStringSubmatch(msg); m != nil {
				return nil, fmt.Errorf("line %s: the configuration must be a mapping of keys such as listen: and logs: (see config.example.yaml)", m[1])
			}
			return nil, errors.New(oneLine(strings.TrimPrefix(msg, "yaml: ")))
		}
		return nil, errors.New(oneLine(strings.TrimPrefix(err.Error(), "yaml: ")))
	}
	// A second document is a mistake too.
	var extra any
	if err := dec.Decode(&extra); err == nil {
		return nil, errors.New("more than one YAML document")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// validateInput checks where logs[i] comes from and how it is wrapped.
func (c *Config) validateInput(i int) error {
	l := &c.Logs[i]
	switch {
	case l.Path == "" && l.Syslog == "":
		return fmt.Errorf("logs[%d]: give path (a file, a glob, or - for standard input) or syslog (udp://127.0.0.1:5140, unixgram:///run/session-exporter/syslog.sock)", i)
	case l.Path != "" && l.Syslog != "":
		return fmt.Errorf("logs[%d]: path and syslog are two inputs: give one per log", i)
	case l.Syslog != "":
		network, addr, ok := strings.Cut(l.Syslog, "://")
		switch {
		case !ok:
			return fmt.Errorf("logs[%d].syslog: %q is not udp://host:port or unixgram:///path", i, l.Syslog)
		case network == "udp":
			if _, _, err := splitHostPort(addr); err != nil {
				return fmt.Errorf("logs[%d].syslog: %q is not udp://host:port", i, l.Syslog)
			}
		case network == "unixgram" || network == "unix":
			if !strings.HasPrefix(addr, "/") {
				return fmt.Errorf("logs[%d].syslog: %q: the socket path must be absolute", i, l.Syslog)
			}
			network = "unixgram"
		case network == "tcp":
			return fmt.Errorf("logs[%d].syslog: tcp is not supported: nginx sends syslog over UDP or a unix socket (udp://host:port, unixgram:///path)", i)
		default:
			return fmt.Errorf("logs[%d].syslog: unknown network %q (want udp or unixgram)", i, network)
		}
		l.SyslogNetwork, l.SyslogAddress = network, addr
		if l.Container != "" {
			return fmt.Errorf("logs[%d].container: only for files and standard input, not syslog", i)
		}
	}
	switch l.Container {
	case "", "cri", "docker":
	default:
		return fmt.Errorf("logs[%d].container: %q is not cri or docker", i, l.Container)
	}
	switch {
	case l.Stream == "" && l.Container != "":
		l.Stream = "stdout"
	case l.Stream == "":
	case l.Container == "":
		return fmt.Errorf("logs[%d].stream: only with container: cri or docker", i)
	case l.Stream != "stdout" && l.Stream != "stderr" && l.Stream != "both":
		return fmt.Errorf("logs[%d].stream: %q is not stdout, stderr or both", i, l.Stream)
	}
	return nil
}

// Validate checks every value and fills the derived fields.
func (c *Config) Validate() error {
	if c.Listen == "" {
		return errors.New("listen: must not be empty (e.g. 127.0.0.1:9464)")
	}
	if _, _, err := splitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen: %q is not host:port", c.Listen)
	}
	if !strings.HasPrefix(c.TelemetryPath, "/") {
		return fmt.Errorf("telemetry_path: %q must start with /", c.TelemetryPath)
	}
	sites := map[string]bool{}
	c.Sites = nil
	stdin := false
	for i, l := range c.Logs {
		if err := c.validateInput(i); err != nil {
			return err
		}
		if l.Path == "-" {
			if stdin {
				return fmt.Errorf("logs[%d].path: standard input (\"-\") can be read by one log only", i)
			}
			stdin = true
		}
		if l.Format == "" {
			c.Logs[i].Format = "auto"
		}
		if _, err := accesslog.New(c.Logs[i].Format); err != nil {
			return fmt.Errorf("logs[%d].format: %w", i, err)
		}
		if !sites[l.Site] {
			sites[l.Site] = true
			c.Sites = append(c.Sites, l.Site)
		}
	}
	if len(c.Sites) > 1 {
		for i, l := range c.Logs {
			if l.Site == "" {
				return fmt.Errorf("logs[%d].site: must be set when other logs name a site", i)
			}
		}
	}
	if len(c.Sites) > 255 {
		return fmt.Errorf("logs: at most 255 sites, got %d", len(c.Sites))
	}
	switch c.StartAt {
	case "end", "beginning":
	default:
		return fmt.Errorf("start_at: %q is not end or beginning", c.StartAt)
	}
	if c.MaxLineBytes < 256 {
		return fmt.Errorf("max_line_bytes: %d is too small (at least 256)", c.MaxLineBytes)
	}
	if c.PollInterval.D() <= 0 {
		return fmt.Errorf("poll_interval: must be positive")
	}
	for i, h := range c.OwnHosts {
		c.OwnHosts[i] = strings.ToLower(strings.TrimSpace(h))
		if c.OwnHosts[i] == "" || strings.ContainsAny(c.OwnHosts[i], "/ ") {
			return fmt.Errorf("own_hosts[%d]: %q is not a host name", i, h)
		}
	}
	c.Proxies = nil
	for i, p := range c.TrustedProxies {
		pfx, err := parsePrefix(p)
		if err != nil {
			return fmt.Errorf("trusted_proxies[%d]: %q is not a CIDR such as 10.0.0.0/8 or an address", i, p)
		}
		c.Proxies = append(c.Proxies, pfx)
	}
	c.ExcludeRegex = nil
	for i, p := range c.ExcludePaths {
		re, err := regexp.Compile(p)
		if err != nil {
			return fmt.Errorf("exclude_paths[%d]: bad regular expression %q: %s", i, p, reError(err))
		}
		c.ExcludeRegex = append(c.ExcludeRegex, re)
	}
	if len(c.Goals) > 64 {
		return fmt.Errorf("goals: at most 64 goals, got %d", len(c.Goals))
	}
	c.GoalRegex = nil
	names := map[string]bool{}
	for i, g := range c.Goals {
		if !labelValue.MatchString(g.Name) {
			return fmt.Errorf("goals[%d].name: %q must be 1-64 letters, digits, '_' or '-'", i, g.Name)
		}
		if names[g.Name] {
			return fmt.Errorf("goals[%d].name: %q is used twice", i, g.Name)
		}
		names[g.Name] = true
		re, err := regexp.Compile(g.Path)
		if err != nil || g.Path == "" {
			if err == nil {
				return fmt.Errorf("goals[%d].path: must not be empty", i)
			}
			return fmt.Errorf("goals[%d].path: bad regular expression %q: %s", i, g.Path, reError(err))
		}
		c.GoalRegex = append(c.GoalRegex, re)
		if g.ValueParam != "" && !paramName.MatchString(g.ValueParam) {
			return fmt.Errorf("goals[%d].value_param: %q must be a query parameter name: 1-64 letters, digits, '_', '-', '.', '[' or ']'", i, g.ValueParam)
		}
	}
	if len(c.LandingPages) > MaxLandingPages {
		return fmt.Errorf("landing_pages: at most %d groups, got %d", MaxLandingPages, len(c.LandingPages))
	}
	c.LandingRegex = nil
	landings := map[string]bool{"other": true}
	for i, l := range c.LandingPages {
		if !labelValue.MatchString(l.Name) {
			return fmt.Errorf("landing_pages[%d].name: %q must be 1-64 letters, digits, '_', '-' or '.'", i, l.Name)
		}
		if landings[l.Name] {
			if l.Name == "other" {
				return fmt.Errorf("landing_pages[%d].name: \"other\" is the name of paths no group matches", i)
			}
			return fmt.Errorf("landing_pages[%d].name: %q is used twice", i, l.Name)
		}
		landings[l.Name] = true
		re, err := regexp.Compile(l.Path)
		if err != nil {
			return fmt.Errorf("landing_pages[%d].path: bad regular expression %q: %s", i, l.Path, reError(err))
		}
		if l.Path == "" {
			return fmt.Errorf("landing_pages[%d].path: must not be empty", i)
		}
		c.LandingRegex = append(c.LandingRegex, re)
	}
	if w := c.Visitors.ReturningWindow.D(); w < time.Hour || w > 365*24*time.Hour {
		return fmt.Errorf("visitors.returning_window: must be between 1h and 365d, got %s", w)
	}
	if c.Visitors.Capacity < 0 || c.Visitors.Capacity > 100_000_000 {
		return fmt.Errorf("visitors.capacity: must be between 0 and 100000000, got %d", c.Visitors.Capacity)
	}
	for _, s := range c.Sites {
		if s != "" && !labelValue.MatchString(s) {
			return fmt.Errorf("logs: site %q must be 1-64 letters, digits, '_', '-' or '.'", s)
		}
	}
	s := &c.Session
	if s.Timeout.D() <= 0 {
		return fmt.Errorf("session.timeout: must be positive")
	}
	if s.MaxDelay.D() < 0 || s.MaxDelay.D() > time.Hour {
		return fmt.Errorf("session.max_delay: must be between 0s and 1h")
	}
	if s.MaxFuture.D() <= 0 || s.MaxFuture.D() > 24*time.Hour {
		return fmt.Errorf("session.max_future: must be between 1ns and 24h, got %s", s.MaxFuture.D())
	}
	if s.RedirectCarryOver.D() < 0 || s.RedirectCarryOver.D() > s.Timeout.D() {
		return fmt.Errorf("session.redirect_carry_over: must be between 0s and session.timeout")
	}
	loc, err := ParseZone(s.Timezone)
	if err != nil {
		return fmt.Errorf("session.timezone: %w", err)
	}
	s.Location = loc
	if c.StateInterval.D() <= 0 {
		return fmt.Errorf("state_interval: must be positive")
	}
	if c.MaxVisitors <= 0 {
		return fmt.Errorf("max_visitors: must be positive, got %d", c.MaxVisitors)
	}
	if c.UACacheSize <= 0 {
		return fmt.Errorf("user_agent_cache_size: must be positive, got %d", c.UACacheSize)
	}
	if o := c.OTLP; o != nil {
		if o.Endpoint == "" {
			return errors.New("otlp.endpoint: must not be empty")
		}
		switch o.Protocol {
		case "":
			o.Protocol = "grpc"
		case "grpc", "http":
		default:
			return fmt.Errorf("otlp.protocol: %q is not grpc or http", o.Protocol)
		}
		if o.Interval == 0 {
			o.Interval = Duration(15 * time.Second)
		}
		if o.Interval.D() <= 0 {
			return errors.New("otlp.interval: must be positive")
		}
	}
	return nil
}

var paramName = regexp.MustCompile(`^[A-Za-z0-9_.\-\[\]]{1,64}$`)

var labelValue = regexp.MustCompile(`^[A-Za-z0-9_.\-]{1,64}$`)

var fixedOffset = regexp.MustCompile(`^(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})?$`)

// ParseZone returns the location named s: "UTC", an IANA name such as
// "Europe/Paris", or a fixed offset such as "+01:00" or "-0530".
func ParseZone(s string) (*time.Location, error) {
	if s == "" || s == "UTC" || s == "Z" {
		return time.UTC, nil
	}
	if m := fixedOffset.FindStringSubmatch(s); m != nil {
		h, _ := strconv.Atoi(m[2])
		mi := 0
		if m[3] != "" {
			mi, _ = strconv.Atoi(m[3])
		}
		if h > 14 || mi > 59 {
			return nil, fmt.Errorf("offset %q is out of range", s)
		}
		off := h*3600 + mi*60
		if m[1] == "-" {
			off = -off
		}
		return time.FixedZone(s, off), nil
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q (want UTC, an IANA name such as Europe/Paris, or an offset such as +01:00)", s)
	}
	return loc, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func splitHostPort(s string) (string, int, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", 0, errors.New("missing port")
	}
	p, err := strconv.Atoi(s[i+1:])
	if err != nil || p < 0 || p > 65535 {
		return "", 0, errors.New("bad port")
	}
	return s[:i], p, nil
}

func reError(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}
