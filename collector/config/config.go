// Package config loads and validates the exporter's YAML configuration:
// defaults first, then a strict decode that walks the YAML node tree
// against the Config struct (an unknown key is an error naming its line),
// then normalisation (normalize), validation of every value (Validate, which
// changes nothing) and the values derived from them (Complete).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
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

	// Derived by Complete.
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

	// Derived by Complete for syslog: the network ("udp", "unixgram") and
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

// maxLandingPages is the most landing_pages groups a configuration may have.
const maxLandingPages = 32

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
		return fmt.Errorf("bad duration %q (want e.g. 30m, 5s, 30d)", n.Value)
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
		UACacheSize: 32_768,
	}
}

// Error is a configuration mistake: the line it is on (0 when the value is
// a default or the mistake is in no one place), the field it is in, what
// is wrong.
type Error struct {
	Line  int
	Field string // e.g. logs[0].format; "" for the document as a whole
	Msg   string
}

func (e *Error) Error() string {
	s := e.Msg
	if e.Field != "" {
		s = e.Field + ": " + s
	}
	if e.Line > 0 {
		s = fmt.Sprintf("line %d: %s", e.Line, s)
	}
	return s
}

// at returns e's message as file:line: field: msg.
func (e *Error) at(path string) string {
	s := e.Msg
	if e.Field != "" {
		s = e.Field + ": " + s
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", path, e.Line, s)
	}
	return path + ": " + s
}

func bad(field, format string, args ...any) *Error {
	return &Error{Field: field, Msg: oneLine(fmt.Sprintf(format, args...))}
}

// Load reads the file at path and returns the completed configuration
// (see Parse). Errors name the file once, and the line where there is one:
// "config.yaml:12: session: unknown key "timout" (did you mean timeout?)".
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			return nil, errors.New(ce.at(path))
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// oneLine keeps an error on one line: a value quoted in it may hold newlines.
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", `\n`) }

// Parse decodes a configuration document over Default and returns it
// completed (see Complete). Every error is an *Error.
func Parse(b []byte) (*Config, error) {
	c := Default()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, syntaxError(err)
	}
	d := decoder{lines: map[string]int{}}
	if len(doc.Content) > 0 {
		if err := d.decode(doc.Content[0], reflect.ValueOf(&c).Elem(), ""); err != nil {
			return nil, err
		}
		// A second document is a mistake too.
		var extra yaml.Node
		if err := dec.Decode(&extra); err == nil {
			return nil, &Error{Line: extra.Line, Msg: "more than one YAML document"}
		} else if !errors.Is(err, io.EOF) {
			return nil, syntaxError(err)
		}
	}
	done, err := Complete(c)
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) && ce.Line == 0 {
			ce.Line = d.line(ce.Field)
		}
		return nil, err
	}
	return done, nil
}

// line returns the line of field, or of its nearest ancestor in the file.
func (d *decoder) line(field string) int {
	for field != "" {
		if l, ok := d.lines[field]; ok {
			return l
		}
		i := strings.LastIndexAny(field, ".[")
		if i < 0 {
			break
		}
		field = field[:i]
	}
	return 0
}

var syntaxLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// syntaxError turns the YAML library's parse error into an *Error.
func syntaxError(err error) *Error {
	msg := oneLine(err.Error())
	if m := syntaxLine.FindStringSubmatch(msg); m != nil {
		l, _ := strconv.Atoi(m[1])
		return &Error{Line: l, Msg: m[2]}
	}
	return &Error{Msg: strings.TrimPrefix(msg, "yaml: ")}
}

var paramName = regexp.MustCompile(`^[A-Za-z0-9_.\-\[\]]{1,64}$`)

var labelValue = regexp.MustCompile(`^[A-Za-z0-9_.\-]{1,64}$`)

var fixedOffset = regexp.MustCompile(`^(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})?$`)

// parseZone returns the location named s: "UTC", an IANA name such as
// "Europe/Paris", or a fixed offset such as "+01:00" or "-0530".
func parseZone(s string) (*time.Location, error) {
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

func reError(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}
