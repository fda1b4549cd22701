package config

// Every validation rule of the configuration, one function per section in the
// order of docs/configuration.md, and the defaults they are checked after;
// one file, so a reviewer can see that every key has its check.

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/session-exporter/session-exporter/collector/accesslog"
)

// defaultOTLPInterval is otlp.interval when the key is absent.
const defaultOTLPInterval = 15 * time.Second

// Complete returns c normalised (normalize), validated (Validate) and with
// its derived fields filled: compiled expressions, proxy prefixes, the
// session time zone, syslog addresses. c itself is not changed.
func Complete(c Config) (*Config, error) {
	n := normalize(c)
	if err := n.Validate(); err != nil {
		return nil, err
	}
	if err := n.derive(); err != nil {
		return nil, err
	}
	return &n, nil
}

// normalize returns c with the values an empty key stands for written out
// (format auto, stream stdout with a container, OTLP protocol grpc and
// interval 15s), host names in lower case, and Sites: the distinct sites in
// log order. It shares nothing that it changes with c, and checks nothing.
func normalize(c Config) Config {
	c.Logs = slices.Clone(c.Logs)
	for i := range c.Logs {
		l := &c.Logs[i]
		if l.Format == "" {
			l.Format = "auto"
		}
		if l.Stream == "" && l.Container != "" {
			l.Stream = "stdout"
		}
	}
	c.OwnHosts = slices.Clone(c.OwnHosts)
	for i, h := range c.OwnHosts {
		c.OwnHosts[i] = strings.ToLower(strings.TrimSpace(h))
	}
	if c.OTLP != nil {
		o := *c.OTLP
		if o.Protocol == "" {
			o.Protocol = "grpc"
		}
		if o.Interval == 0 {
			o.Interval = Duration(defaultOTLPInterval)
		}
		c.OTLP = &o
	}
	c.Sites = nil
	for _, l := range c.Logs {
		if !slices.Contains(c.Sites, l.Site) {
			c.Sites = append(c.Sites, l.Site)
		}
	}
	return c
}

// derive fills the fields computed from validated values.
func (c *Config) derive() error {
	c.Proxies = nil
	for _, p := range c.TrustedProxies {
		pfx, err := parsePrefix(p)
		if err != nil {
			return err
		}
		c.Proxies = append(c.Proxies, pfx)
	}
	var err error
	if c.ExcludeRegex, err = compileAll(c.ExcludePaths); err != nil {
		return err
	}
	goals := make([]string, len(c.Goals))
	for i, g := range c.Goals {
		goals[i] = g.Path
	}
	if c.GoalRegex, err = compileAll(goals); err != nil {
		return err
	}
	landings := make([]string, len(c.LandingPages))
	for i, l := range c.LandingPages {
		landings[i] = l.Path
	}
	if c.LandingRegex, err = compileAll(landings); err != nil {
		return err
	}
	if c.Session.Location, err = parseZone(c.Session.Timezone); err != nil {
		return err
	}
	for i := range c.Logs {
		l := &c.Logs[i]
		if l.Syslog != "" {
			network, addr, _ := strings.Cut(l.Syslog, "://")
			if network == "unix" {
				network = "unixgram"
			}
			l.SyslogNetwork, l.SyslogAddress = network, addr
		}
	}
	return nil
}

func compileAll(exprs []string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, e := range exprs {
		re, err := regexp.Compile(e)
		if err != nil {
			return nil, err
		}
		out = append(out, re)
	}
	return out, nil
}

// Validate checks every value of c and returns the first mistake as an
// *Error naming its field. It changes nothing: an empty key that normalize
// fills is valid.
func (c *Config) Validate() error {
	if err := c.validateServing(); err != nil {
		return err
	}
	if err := c.validateLogs(); err != nil {
		return err
	}
	if err := c.validateReading(); err != nil {
		return err
	}
	if err := c.validateGoals(); err != nil {
		return err
	}
	if err := c.validateLandings(); err != nil {
		return err
	}
	if err := c.validateSession(); err != nil {
		return err
	}
	if err := c.validateMemory(); err != nil {
		return err
	}
	return c.validateOTLP()
}

func (c *Config) validateServing() error {
	if c.Listen == "" {
		return bad("listen", "must not be empty (e.g. 127.0.0.1:9464)")
	}
	if err := checkHostPort(c.Listen); err != nil {
		return bad("listen", "%q is not host:port: %s", c.Listen, err)
	}
	if !strings.HasPrefix(c.TelemetryPath, "/") {
		return bad("telemetry_path", "%q must start with /", c.TelemetryPath)
	}
	if strings.ContainsAny(c.TelemetryPath, " ?#\t") {
		return bad("telemetry_path", "%q must be a plain URL path (no spaces, ? or #)", c.TelemetryPath)
	}
	return nil
}

// checkHostPort checks that s is host:port with a numeric port, as the
// listener and the OTLP exporters read it. An IPv6 host is in brackets.
func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			if ae.Err == "too many colons in address" {
				return errors.New("too many colons (write an IPv6 address in brackets, e.g. [::1]:9464)")
			}
			return errors.New(ae.Err)
		}
		return err
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("host %q is not a host name or address", host)
	}
	return nil
}

func (c *Config) validateLogs() error {
	stdin := false
	for i, l := range c.Logs {
		field := fmt.Sprintf("logs[%d]", i)
		if err := validateInput(field, l); err != nil {
			return err
		}
		if l.Path == "-" {
			if stdin {
				return bad(field+".path", "standard input (\"-\") can be read by one log only")
			}
			stdin = true
		}
		if l.Format != "" {
			if _, err := accesslog.New(l.Format); err != nil {
				return bad(field+".format", "%s", err)
			}
		}
		if l.Site != "" && !labelValue.MatchString(l.Site) {
			return bad(field+".site", "%q must be 1-64 letters, digits, '_', '-' or '.'", l.Site)
		}
	}
	sites := map[string]bool{}
	for _, l := range c.Logs {
		sites[l.Site] = true
	}
	if len(sites) > 1 {
		for i, l := range c.Logs {
			if l.Site == "" {
				return bad(fmt.Sprintf("logs[%d].site", i), "must be set when other logs name a site")
			}
		}
	}
	if len(sites) > 255 {
		return bad("logs", "at most 255 sites, got %d", len(sites))
	}
	return nil
}

// validateInput checks where the log at field comes from and how it is
// wrapped.
func validateInput(field string, l Log) error {
	switch {
	case l.Path == "" && l.Syslog == "":
		return bad(field, "give path (a file, a glob, or - for standard input) or syslog (udp://127.0.0.1:5140, unixgram:///run/session-exporter/syslog.sock)")
	case l.Path != "" && l.Syslog != "":
		return bad(field, "path and syslog are two inputs: give one per log")
	case l.Path != "":
		if _, err := filepath.Match(l.Path, ""); err != nil {
			return bad(field+".path", "%q is not a valid glob: %s", l.Path, err)
		}
		if strings.ContainsRune(l.Path, 0) {
			return bad(field+".path", "must not contain a NUL byte")
		}
	case l.Syslog != "":
		network, addr, ok := strings.Cut(l.Syslog, "://")
		switch {
		case !ok:
			return bad(field+".syslog", "%q is not udp://host:port or unixgram:///path", l.Syslog)
		case network == "udp":
			if err := checkHostPort(addr); err != nil {
				return bad(field+".syslog", "%q is not udp://host:port: %s", l.Syslog, err)
			}
		case network == "unixgram" || network == "unix":
			if !strings.HasPrefix(addr, "/") {
				return bad(field+".syslog", "%q: the socket path must be absolute", l.Syslog)
			}
		case network == "tcp":
			return bad(field+".syslog", "tcp is not supported: nginx sends syslog over UDP or a unix socket (udp://host:port, unixgram:///path)")
		default:
			return bad(field+".syslog", "unknown network %q (want udp or unixgram)", network)
		}
		if l.Container != "" {
			return bad(field+".container", "only for files and standard input, not syslog")
		}
	}
	switch l.Container {
	case "", "cri", "docker":
	default:
		return bad(field+".container", "%q is not cri or docker", l.Container)
	}
	switch {
	case l.Stream == "":
	case l.Container == "":
		return bad(field+".stream", "only with container: cri or docker")
	case l.Stream != "stdout" && l.Stream != "stderr" && l.Stream != "both":
		return bad(field+".stream", "%q is not stdout, stderr or both", l.Stream)
	}
	return nil
}

// lineBytesLimit is the largest max_line_bytes.
const lineBytesLimit = 64 << 20

func (c *Config) validateReading() error {
	switch c.StartAt {
	case "end", "beginning":
	default:
		return bad("start_at", "%q is not end or beginning", c.StartAt)
	}
	if c.MaxLineBytes < 256 || c.MaxLineBytes > lineBytesLimit {
		return bad("max_line_bytes", "%d is out of range (256 to %d)", c.MaxLineBytes, lineBytesLimit)
	}
	if c.PollInterval.D() <= 0 {
		return bad("poll_interval", "must be positive, got %s", c.PollInterval.D())
	}
	for i, h := range c.OwnHosts {
		h = strings.TrimSpace(h)
		if h == "" || strings.ContainsAny(h, "/ ") {
			return bad(fmt.Sprintf("own_hosts[%d]", i), "%q is not a host name", c.OwnHosts[i])
		}
	}
	for i, p := range c.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			return bad(fmt.Sprintf("trusted_proxies[%d]", i), "%q is not a CIDR such as 10.0.0.0/8 or an address", p)
		}
	}
	for i, p := range c.ExcludePaths {
		if _, err := regexp.Compile(p); err != nil {
			return bad(fmt.Sprintf("exclude_paths[%d]", i), "bad regular expression %q: %s", p, reError(err))
		}
	}
	return nil
}

func (c *Config) validateGoals() error {
	if len(c.Goals) > 64 {
		return bad("goals", "at most 64 goals, got %d", len(c.Goals))
	}
	names := map[string]bool{}
	for i, g := range c.Goals {
		field := fmt.Sprintf("goals[%d]", i)
		if !labelValue.MatchString(g.Name) {
			return bad(field+".name", "%q must be 1-64 letters, digits, '_' or '-'", g.Name)
		}
		if names[g.Name] {
			return bad(field+".name", "%q is used twice", g.Name)
		}
		names[g.Name] = true
		if g.Path == "" {
			return bad(field+".path", "must not be empty")
		}
		if _, err := regexp.Compile(g.Path); err != nil {
			return bad(field+".path", "bad regular expression %q: %s", g.Path, reError(err))
		}
		if g.ValueParam != "" && !paramName.MatchString(g.ValueParam) {
			return bad(field+".value_param", "%q must be a query parameter name: 1-64 letters, digits, '_', '-', '.', '[' or ']'", g.ValueParam)
		}
	}
	return nil
}

func (c *Config) validateLandings() error {
	if len(c.LandingPages) > maxLandingPages {
		return bad("landing_pages", "at most %d groups, got %d", maxLandingPages, len(c.LandingPages))
	}
	landings := map[string]bool{"other": true}
	for i, l := range c.LandingPages {
		field := fmt.Sprintf("landing_pages[%d]", i)
		if !labelValue.MatchString(l.Name) {
			return bad(field+".name", "%q must be 1-64 letters, digits, '_', '-' or '.'", l.Name)
		}
		if landings[l.Name] {
			if l.Name == "other" {
				return bad(field+".name", "\"other\" is the name of paths no group matches")
			}
			return bad(field+".name", "%q is used twice", l.Name)
		}
		landings[l.Name] = true
		if _, err := regexp.Compile(l.Path); err != nil {
			return bad(field+".path", "bad regular expression %q: %s", l.Path, reError(err))
		}
		if l.Path == "" {
			return bad(field+".path", "must not be empty")
		}
	}
	return nil
}

func (c *Config) validateSession() error {
	s := &c.Session
	if s.Timeout.D() <= 0 {
		return bad("session.timeout", "must be positive")
	}
	if s.MaxDelay.D() < 0 || s.MaxDelay.D() > time.Hour {
		return bad("session.max_delay", "must be between 0s and 1h")
	}
	if s.MaxFuture.D() <= 0 || s.MaxFuture.D() > 24*time.Hour {
		return bad("session.max_future", "must be between 1ns and 24h, got %s", s.MaxFuture.D())
	}
	if s.RedirectCarryOver.D() < 0 || s.RedirectCarryOver.D() > s.Timeout.D() {
		return bad("session.redirect_carry_over", "must be between 0s and session.timeout")
	}
	if _, err := parseZone(s.Timezone); err != nil {
		return bad("session.timezone", "%s", err)
	}
	return nil
}

func (c *Config) validateMemory() error {
	if w := c.Visitors.ReturningWindow.D(); w < time.Hour || w > 365*24*time.Hour {
		return bad("visitors.returning_window", "must be between 1h and 365d, got %s", w)
	}
	if c.Visitors.Capacity < 0 || c.Visitors.Capacity > 100_000_000 {
		return bad("visitors.capacity", "must be between 0 and 100000000, got %d", c.Visitors.Capacity)
	}
	if c.StateFile != "" {
		if strings.ContainsRune(c.StateFile, 0) {
			return bad("state_file", "must not contain a NUL byte")
		}
		if strings.HasSuffix(c.StateFile, "/") || filepath.Base(c.StateFile) == "." || filepath.Base(c.StateFile) == ".." {
			return bad("state_file", "%q names a directory, not a file", c.StateFile)
		}
	}
	if c.StateInterval.D() <= 0 {
		return bad("state_interval", "must be positive")
	}
	if c.MaxVisitors <= 0 {
		return bad("max_visitors", "must be positive, got %d", c.MaxVisitors)
	}
	if c.UACacheSize <= 0 {
		return bad("user_agent_cache_size", "must be positive, got %d", c.UACacheSize)
	}
	return nil
}

func (c *Config) validateOTLP() error {
	o := c.OTLP
	if o == nil {
		return nil
	}
	if o.Endpoint == "" {
		return bad("otlp.endpoint", "must not be empty")
	}
	if err := checkEndpoint(o.Endpoint); err != nil {
		return bad("otlp.endpoint", "%q is neither host:port nor an http or https URL: %s", o.Endpoint, err)
	}
	switch o.Protocol {
	case "", "grpc", "http":
	default:
		return bad("otlp.protocol", "%q is not grpc or http", o.Protocol)
	}
	if o.Interval < 0 {
		return bad("otlp.interval", "must be positive")
	}
	for _, k := range slices.Sorted(maps.Keys(o.Headers)) {
		if !headerName.MatchString(k) {
			return bad("otlp.headers", "%q is not an HTTP header name", k)
		}
		if strings.ContainsAny(o.Headers[k], "\r\n\x00") {
			return bad("otlp.headers", "the value of %s must be one line", http.CanonicalHeaderKey(k))
		}
	}
	return nil
}

// checkEndpoint checks an OTLP endpoint: host:port, or an http or https URL
// with a host (the exporter's collector/otlp.go reads it so).
func checkEndpoint(s string) error {
	if !strings.Contains(s, "://") {
		return checkHostPort(s)
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		var ue *url.Error
		if errors.As(err, &ue) {
			return ue.Err
		}
		return err
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("scheme %q is not http or https", u.Scheme)
	case u.Hostname() == "":
		return errors.New("no host")
	case u.Port() != "":
		return checkHostPort(u.Host)
	}
	return nil
}

var headerName = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$")
