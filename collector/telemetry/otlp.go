package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/session-exporter/session-exporter/collector/config"
)

// OTLPShutdownTimeout bounds the last push when the exporter stops.
const OTLPShutdownTimeout = 5 * time.Second

// StartOTLP pushes p, the producer /metrics serves, to the OpenTelemetry
// collector of o every o.Interval, cumulative, until the returned function is
// called; that function pushes once more and stops (calling it again does
// nothing). With o nil (no otlp section) both do nothing. version is the
// service.version resource attribute; log gets the push's failures.
func StartOTLP(ctx context.Context, o *config.OTLP, version string, log *slog.Logger, p *Producer) (shutdown func(context.Context) error, err error) {
	if o == nil {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := newOTLPExporter(ctx, o)
	if err != nil {
		return nil, err
	}
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(
			attribute.String("service.name", "session-exporter"),
			attribute.String("service.version", version)),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
	)
	if err != nil {
		log.Warn("OTLP resource incomplete", "err", err)
	}
	if res == nil {
		res = resource.Default()
	}
	reader := sdkmetric.NewPeriodicReader(
		&loggedExporter{Exporter: exp, log: log, endpoint: o.Endpoint},
		sdkmetric.WithInterval(o.Interval.D()),
		sdkmetric.WithProducer(p),
	)
	// The provider has no instruments: it only runs the reader over p.
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithResource(res))
	log.Info("pushing metrics over OTLP", "endpoint", o.Endpoint, "protocol", o.Protocol, "interval", o.Interval.D())
	var once sync.Once
	var serr error
	return func(ctx context.Context) error {
		once.Do(func() {
			if err := mp.Shutdown(ctx); err != nil {
				serr = fmt.Errorf("stop OTLP push: %w", err)
			}
		})
		return serr
	}, nil
}

// newOTLPExporter returns the OTLP exporter for o. The endpoint is host:port,
// or a URL: http:// means no TLS, and with protocol http a path other than
// "/" replaces /v1/metrics.
func newOTLPExporter(ctx context.Context, o *config.OTLP) (sdkmetric.Exporter, error) {
	endpoint, path, insecure := o.Endpoint, "", o.Insecure
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("otlp.endpoint: %q is neither host:port nor an http or https URL", o.Endpoint)
		}
		endpoint, insecure = u.Host, insecure || u.Scheme == "http"
		if u.Path != "/" {
			path = u.Path
		}
	}
	// Our producer's data is cumulative whatever the selector; it is set so
	// that the exporter never asks for delta.
	cumulative := sdkmetric.DefaultTemporalitySelector
	switch o.Protocol {
	case "http":
		opts := []otlpmetrichttp.Option{
			otlpmetrichttp.WithEndpoint(endpoint),
			otlpmetrichttp.WithTemporalitySelector(cumulative),
		}
		if path != "" {
			opts = append(opts, otlpmetrichttp.WithURLPath(path))
		}
		if insecure {
			opts = append(opts, otlpmetrichttp.WithInsecure())
		}
		if len(o.Headers) > 0 {
			opts = append(opts, otlpmetrichttp.WithHeaders(o.Headers))
		}
		exp, err := otlpmetrichttp.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("otlp: %w", err)
		}
		return exp, nil
	default: // grpc
		opts := []otlpmetricgrpc.Option{
			otlpmetricgrpc.WithEndpoint(endpoint),
			otlpmetricgrpc.WithTemporalitySelector(cumulative),
		}
		if insecure {
			opts = append(opts, otlpmetricgrpc.WithInsecure())
		}
		if len(o.Headers) > 0 {
			opts = append(opts, otlpmetricgrpc.WithHeaders(o.Headers))
		}
		exp, err := otlpmetricgrpc.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("otlp: %w", err)
		}
		return exp, nil
	}
}

// loggedExporter reports failed pushes in the exporter's log, once when they
// start failing and once when they work again, instead of through the
// OpenTelemetry global error handler (which writes its own format to
// stderr). The next interval pushes the cumulative values again, so a failed
// push loses nothing once the collector is back.
type loggedExporter struct {
	sdkmetric.Exporter
	log      *slog.Logger
	endpoint string
	failing  atomic.Bool
}

func (e *loggedExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	if err := e.Exporter.Export(ctx, rm); err != nil {
		if !e.failing.Swap(true) {
			e.log.Warn("OTLP push failed; retrying every interval", "endpoint", e.endpoint, "err", err)
		} else {
			e.log.Debug("OTLP push failed", "endpoint", e.endpoint, "err", err)
		}
		return nil
	}
	if e.failing.Swap(false) {
		e.log.Info("OTLP push works again", "endpoint", e.endpoint)
	}
	return nil
}
