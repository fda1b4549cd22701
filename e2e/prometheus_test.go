//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// promAPI is a client of Prometheus' HTTP API.
type promAPI struct {
	base   string // http://127.0.0.1:port
	client *http.Client
}

func newPromAPI(addr string) *promAPI {
	return &promAPI{
		base:   "http://" + addr,
		client: &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second},
	}
}

// apiResponse is the envelope of every /api/v1 answer.
type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Warnings  []string        `json:"warnings"`
}

// get calls an API path with form values (POST for queries, which can be
// long) and decodes data into out.
func (p *promAPI) call(method, path string, form url.Values, out any) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var req *http.Request
	var err error
	if method == http.MethodPost {
		req, err = http.NewRequestWithContext(ctx, method, p.base+path, strings.NewReader(form.Encode()))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		u := p.base + path
		if len(form) > 0 {
			u += "?" + form.Encode()
		}
		req, err = http.NewRequestWithContext(ctx, method, u, nil)
	}
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, err
	}
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%s: HTTP %d, not JSON: %.200s", path, resp.StatusCode, body)
	}
	if r.Status != "success" {
		return r.Warnings, fmt.Errorf("%s (%s)", r.Error, r.ErrorType)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			return r.Warnings, fmt.Errorf("%s: decode data: %w", path, err)
		}
	}
	return r.Warnings, nil
}

// sample is one element of an instant vector.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// queryResult is the data of /api/v1/query.
type queryResult struct {
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

// query evaluates expr now and returns the raw result; errors are the
// query's own (parse errors, bad types).
func (p *promAPI) query(expr string) (queryResult, []string, error) {
	var r queryResult
	w, err := p.call(http.MethodPost, "/api/v1/query", url.Values{"query": {expr}}, &r)
	return r, w, err
}

// vector evaluates expr, which must give an instant vector.
func (p *promAPI) vector(expr string) ([]sample, error) {
	r, _, err := p.query(expr)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", expr, err)
	}
	if r.ResultType != "vector" {
		return nil, fmt.Errorf("query %q: result type %s, want vector", expr, r.ResultType)
	}
	var v []sample
	if err := json.Unmarshal(r.Result, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// intValue returns a sample's value, which must be a whole number.
func (s sample) intValue() (int, error) {
	str, _ := s.Value[1].(string)
	f, err := strconv.ParseFloat(str, 64)
	if err != nil {
		return 0, fmt.Errorf("value %v of %v: %w", s.Value[1], s.Metric, err)
	}
	if f != math.Trunc(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("value %v of %v is not a whole number", f, s.Metric)
	}
	return int(f), nil
}

// metricNamesKnown returns the metric names Prometheus has stored.
func (p *promAPI) metricNamesKnown() (map[string]bool, error) {
	var names []string
	if _, err := p.call(http.MethodGet, "/api/v1/label/__name__/values", nil, &names); err != nil {
		return nil, err
	}
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m, nil
}

// rulesState is the part of /api/v1/rules the test reads.
type rulesState struct {
	Groups []struct {
		Name           string  `json:"name"`
		File           string  `json:"file"`
		Interval       float64 `json:"interval"`
		LastEvaluation string  `json:"lastEvaluation"`
		Rules          []struct {
			Name      string `json:"name"`
			Type      string `json:"type"`
			Health    string `json:"health"`
			LastError string `json:"lastError"`
		} `json:"rules"`
	} `json:"groups"`
}

func (p *promAPI) rules() (rulesState, error) {
	var r rulesState
	_, err := p.call(http.MethodGet, "/api/v1/rules", nil, &r)
	return r, err
}

// targetsHealth describes the active scrape targets, for diagnostics.
func (p *promAPI) targetsHealth() string {
	var r struct {
		ActiveTargets []struct {
			ScrapeURL  string `json:"scrapeUrl"`
			Health     string `json:"health"`
			LastError  string `json:"lastError"`
			LastScrape string `json:"lastScrape"`
		} `json:"activeTargets"`
	}
	if _, err := p.call(http.MethodGet, "/api/v1/targets", nil, &r); err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, t := range r.ActiveTargets {
		fmt.Fprintf(&b, "%s health=%s last_scrape=%s last_error=%q\n", t.ScrapeURL, t.Health, t.LastScrape, t.LastError)
	}
	return b.String()
}
