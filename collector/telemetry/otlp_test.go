package telemetry

import (
	"testing"

	"github.com/session-exporter/session-exporter/collector/config"
)

// TestOTLPBadEndpoint: an endpoint that is neither host:port nor an http or
// https URL is refused here too, whatever validation let through.
func TestOTLPBadEndpoint(t *testing.T) {
	for _, e := range []string{"ftp://collector:4317", "http://"} {
		if _, err := newOTLPExporter(t.Context(), &config.OTLP{Endpoint: e, Protocol: "grpc"}); err == nil {
			t.Errorf("%q accepted", e)
		}
	}
}
