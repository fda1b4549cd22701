package collector

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"time"

	"github.com/session-exporter/session-exporter/collector/classify"
	"github.com/session-exporter/session-exporter/collector/config"
	"github.com/session-exporter/session-exporter/collector/session"
	"github.com/session-exporter/session-exporter/collector/telemetry"
)

// Options are the collector's dependencies. Zero values get defaults.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time // wall clock
	Build  telemetry.BuildInfo
	Secret []byte // visitor-key secret; nil draws a random one (live mode loads it from state)
}

// Collector counts sessions for one configuration.
type Collector struct {
	cfg     *config.Config
	opts    Options
	log     *slog.Logger
	metrics *telemetry.Metrics   // the live metrics (Run); each Replay has its own
	cl      *classify.Classifier // keyed with opts.Secret: Run counts with it (or one keyed with the saved secret), each Replay with a clone
	sampler *rejectSampler
}

// New returns a Collector for cfg, which must have been validated.
func New(cfg *config.Config, opts Options) (*Collector, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Secret == nil {
		opts.Secret = make([]byte, 32)
		if _, err := rand.Read(opts.Secret); err != nil {
			return nil, fmt.Errorf("draw visitor-key secret: %w", err)
		}
	}
	files := make([]string, len(cfg.Logs))
	for i, l := range cfg.Logs {
		files[i] = l.Name()
	}
	c := &Collector{
		cfg:  cfg,
		opts: opts,
		log:  opts.Logger,
	}
	c.metrics = c.newMetrics(files)
	c.sampler = newRejectSampler(c.log, 10*time.Second, opts.Now)
	cl, err := c.newClassifier(opts.Secret)
	if err != nil {
		return nil, err
	}
	c.cl = cl
	return c, nil
}

// newMetrics lays out metrics for the configured sites and goals and the
// given file labels.
func (c *Collector) newMetrics(files []string) *telemetry.Metrics {
	goals := make([]string, len(c.cfg.Goals))
	var valued []bool
	for i, g := range c.cfg.Goals {
		goals[i] = g.Name
		if g.ValueParam != "" {
			if valued == nil {
				valued = make([]bool, len(c.cfg.Goals))
			}
			valued[i] = true
		}
	}
	var landings []string
	for _, l := range c.cfg.LandingPages {
		landings = append(landings, l.Name)
	}
	return telemetry.New(telemetry.Dims{Sites: c.cfg.Sites, Goals: goals, Valued: valued, Landings: landings, Files: files})
}

// Metrics returns the metrics Run counts into.
func (c *Collector) Metrics() *telemetry.Metrics { return c.metrics }

// NewExporter returns a Prometheus registry serving m (the live metrics,
// or a replay's).
func (c *Collector) NewExporter(m *telemetry.Metrics, start time.Time) (*telemetry.Exporter, error) {
	return telemetry.NewExporter(telemetry.NewProducer(m, c.opts.Build, start, c.opts.Now))
}

// newClassifier returns a classifier of the configuration that keys
// visitors with secret.
func (c *Collector) newClassifier(secret []byte) (*classify.Classifier, error) {
	return classify.New(classify.Config{
		OwnHosts:       c.cfg.OwnHosts,
		TrustedProxies: c.cfg.Proxies,
		ExcludePaths:   c.cfg.ExcludeRegex,
		Goals:          c.cfg.GoalRegex,
		GoalValues:     c.goalValues(),
		Landings:       c.cfg.LandingRegex,
		Secret:         secret,
		SplitSites:     len(c.cfg.Sites) > 1,
		CacheSize:      c.cfg.UACacheSize,
	})
}

// goalValues are the goals' value parameters, nil when none has one.
func (c *Collector) goalValues() []string {
	var out []string
	for i, g := range c.cfg.Goals {
		if g.ValueParam != "" {
			if out == nil {
				out = make([]string, len(c.cfg.Goals))
			}
			out[i] = g.ValueParam
		}
	}
	return out
}

func (c *Collector) sessionConfig() session.Config {
	s := c.cfg.Session
	return session.Config{
		Timeout:             s.Timeout.D(),
		Location:            s.Location,
		SplitAtMidnight:     s.SplitAtMidnight,
		SplitOnSourceChange: s.SplitOnSourceChange,
		MaxDelay:            s.MaxDelay.D(),
		CarryOver:           s.RedirectCarryOver.D(),
		MaxVisitors:         c.cfg.MaxVisitors,
		ReturningWindow:     c.cfg.Visitors.ReturningWindow.D(),
		ReturningCapacity:   c.cfg.Visitors.Capacity,
	}
}

func (c *Collector) siteIndex(name string) uint8 {
	for i, s := range c.cfg.Sites {
		if s == name {
			return uint8(i)
		}
	}
	return 0
}
