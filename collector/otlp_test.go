package collector

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/session-exporter/session-exporter/collector/telemetry"
)

const otlpConfig = `
logs: [{path: %q, format: combined}]
start_at: beginning
own_hosts: [www.example.com]
goals: [{name: purchase, path: ^/checkout/thank-you}]
poll_interval: 1h
otlp:
  endpoint: %s
  protocol: %s
  interval: 100ms
  insecure: true
  headers: {x-otlp-token: s3cret}
`

// otlpReceiver collects what an OTLP endpoint receives.
type otlpReceiver struct {
	mu     sync.Mutex
	reqs   []*colmetricpb.ExportMetricsServiceRequest
	tokens []string // the x-otlp-token header of each request
	notify chan struct{}
}

func newOTLPReceiver() *otlpReceiver { return &otlpReceiver{notify: make(chan struct{}, 1)} }

func (r *otlpReceiver) add(req *colmetricpb.ExportMetricsServiceRequest, token string) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.tokens = append(r.tokens, token)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (r *otlpReceiver) received() (reqs []*colmetricpb.ExportMetricsServiceRequest, tokens []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs), slices.Clone(r.tokens)
}

// waitFor returns the first request for which mismatch returns "", waiting
// at most 20 seconds for it.
func (r *otlpReceiver) waitFor(t *testing.T, mismatch func(*colmetricpb.ExportMetricsServiceRequest) string) *colmetricpb.ExportMetricsServiceRequest {
	t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	seen, last := 0, "no request received"
	for {
		reqs, _ := r.received()
		for _, req := range reqs[seen:] {
			if last = mismatch(req); last == "" {
				return req
			}
		}
		seen = len(reqs)
		select {
		case <-r.notify:
		case <-deadline.C:
			t.Fatalf("no matching OTLP request in 20s (%d received); last: %s", seen, last)
		}
	}
}

type grpcMetricsService struct {
	colmetricpb.UnimplementedMetricsServiceServer
	r *otlpReceiver
}

func (s *grpcMetricsService) Export(ctx context.Context, req *colmetricpb.ExportMetricsServiceRequest) (*colmetricpb.ExportMetricsServiceResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	s.r.add(req, firstOf(md.Get("x-otlp-token")))
	return &colmetricpb.ExportMetricsServiceResponse{}, nil
}

func firstOf(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// serveOTLPGRPC starts an OTLP/gRPC metrics receiver and returns its address.
func serveOTLPGRPC(t *testing.T, r *otlpReceiver) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	colmetricpb.RegisterMetricsServiceServer(srv, &grpcMetricsService{r: r})
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return ln.Addr().String()
}

// serveOTLPHTTP starts an OTLP/HTTP (protobuf) metrics receiver on path and
// returns its address.
func serveOTLPHTTP(t *testing.T, r *otlpReceiver, path string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || req.URL.Path != path {
			http.NotFound(w, req)
			return
		}
		if ct := req.Header.Get("Content-Type"); ct != "application/x-protobuf" {
			http.Error(w, "content type "+ct, http.StatusUnsupportedMediaType)
			return
		}
		var body io.Reader = req.Body
		if req.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		msg := &colmetricpb.ExportMetricsServiceRequest{}
		if err := proto.Unmarshal(b, msg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.add(msg, req.Header.Get("X-Otlp-Token"))
		resp, _ := proto.Marshal(&colmetricpb.ExportMetricsServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(resp)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// otlpMismatch compares the session metrics of req with want and describes
// the first difference ("" when there is none).
func otlpMismatch(req *colmetricpb.ExportMetricsServiceRequest, want Summary) string {
	metrics := map[string]*metricpb.Metric{}
	for _, rm := range req.GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				metrics[m.GetName()] = m
			}
		}
	}
	wantRows := map[string]telemetry.Row{}
	for _, r := range want.Rows {
		wantRows[r.Channel+"/"+r.Device] = r
	}
	sum := func(name string, value func(telemetry.Row) uint64) string {
		m := metrics[name]
		if m == nil || m.GetSum() == nil {
			return name + ": missing or not a sum"
		}
		s := m.GetSum()
		if !s.GetIsMonotonic() || s.GetAggregationTemporality() != metricpb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE {
			return name + ": not a cumulative monotonic sum"
		}
		// Session counters come per visitor type too: add them up by cell.
		got := map[string]int64{}
		for _, p := range s.GetDataPoints() {
			got[cellKey(p.GetAttributes())] += p.GetAsInt()
		}
		if len(got) != len(wantRows) {
			return fmt.Sprintf("%s: %d cells, want %d", name, len(got), len(wantRows))
		}
		for k, v := range got {
			r, ok := wantRows[k]
			if !ok {
				return fmt.Sprintf("%s: unexpected cell %s", name, k)
			}
			if v != int64(value(r)) {
				return fmt.Sprintf("%s{%s} = %d, want %d", name, k, v, value(r))
			}
		}
		return ""
	}
	if d := sum("web_sessions", func(r telemetry.Row) uint64 { return r.Sessions }); d != "" {
		return d
	}
	if d := sum("web_pageviews", func(r telemetry.Row) uint64 { return r.Pageviews }); d != "" {
		return d
	}
	m := metrics["web_session_duration"]
	if m == nil || m.GetHistogram() == nil {
		return "web_session_duration: missing or not a histogram"
	}
	if m.GetUnit() != "s" {
		return fmt.Sprintf("web_session_duration: unit %q", m.GetUnit())
	}
	h := m.GetHistogram()
	if h.GetAggregationTemporality() != metricpb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE {
		return "web_session_duration: not cumulative"
	}
	if len(h.GetDataPoints()) != len(wantRows) {
		return fmt.Sprintf("web_session_duration: %d points, want %d", len(h.GetDataPoints()), len(wantRows))
	}
	for _, p := range h.GetDataPoints() {
		k := cellKey(p.GetAttributes())
		r, ok := wantRows[k]
		if !ok {
			return "web_session_duration: unexpected cell " + k
		}
		if !slices.Equal(p.GetExplicitBounds(), telemetry.DurationBounds()) {
			return fmt.Sprintf("web_session_duration{%s}: bounds %v", k, p.GetExplicitBounds())
		}
		var n uint64
		for _, c := range p.GetBucketCounts() {
			n += c
		}
		if p.GetCount() != r.Closed || n != r.Closed || len(p.GetBucketCounts()) != len(telemetry.DurationBounds())+1 {
			return fmt.Sprintf("web_session_duration{%s}: count %d, buckets %v, want %d", k, p.GetCount(), p.GetBucketCounts(), r.Closed)
		}
		if math.Abs(p.GetSum()-r.DurationSum) > 1e-6 {
			return fmt.Sprintf("web_session_duration{%s}: sum %v, want %v", k, p.GetSum(), r.DurationSum)
		}
	}
	return ""
}

// cellKey is "channel/device" of a point's attributes.
func cellKey(kvs []*commonpb.KeyValue) string {
	var channel, device string
	for _, kv := range kvs {
		switch kv.GetKey() {
		case "channel":
			channel = kv.GetValue().GetStringValue()
		case "device":
			device = kv.GetValue().GetStringValue()
		}
	}
	return channel + "/" + device
}

func resourceAttr(req *colmetricpb.ExportMetricsServiceRequest, key string) string {
	for _, rm := range req.GetResourceMetrics() {
		for _, kv := range rm.GetResource().GetAttributes() {
			if kv.GetKey() == key {
				return kv.GetValue().GetStringValue()
			}
		}
	}
	return ""
}

// TestOTLPPush runs the exporter with an otlp section against an in-process
// receiver, over gRPC and over HTTP: the session metrics arrive with their
// labels and values, the configured header with them, and one last push
// when the exporter stops.
func TestOTLPPush(t *testing.T) {
	lines := genLines(8, 1500)
	for _, tc := range []struct {
		name, protocol string
		serve          func(*testing.T, *otlpReceiver) string // returns the endpoint
	}{
		{"grpc", "grpc", serveOTLPGRPC},
		{"http", "http", func(t *testing.T, r *otlpReceiver) string { return serveOTLPHTTP(t, r, "/v1/metrics") }},
		{"http URL", "http", func(t *testing.T, r *otlpReceiver) string {
			return "http://" + serveOTLPHTTP(t, r, "/otlp/v1/metrics") + "/otlp/v1/metrics"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newOTLPReceiver()
			logPath := filepath.Join(t.TempDir(), "access.log")
			appendFile(t, logPath, join(lines))
			r := startLiveConfig(t, fmt.Sprintf(otlpConfig, logPath, tc.serve(t, rec), tc.protocol), newClock())
			r.closeSessions()
			want := Summarize(r.c.Metrics())
			if want.Total.Sessions == 0 || want.Total.Closed == 0 {
				t.Fatalf("test data produced no closed sessions: %+v", want.Total)
			}
			req := rec.waitFor(t, func(req *colmetricpb.ExportMetricsServiceRequest) string { return otlpMismatch(req, want) })
			if got := resourceAttr(req, "service.name"); got != "session-exporter" {
				t.Errorf("service.name %q", got)
			}
			before, _ := rec.received()
			r.shutdown()
			after, tokens := rec.received()
			if len(after) == len(before) {
				t.Error("no push when the exporter stopped")
			} else if d := otlpMismatch(after[len(after)-1], want); d != "" {
				t.Errorf("last push: %s", d)
			}
			for i, tok := range tokens {
				if tok != "s3cret" {
					t.Fatalf("request %d: x-otlp-token %q, want the configured header", i, tok)
				}
			}
		})
	}
}
