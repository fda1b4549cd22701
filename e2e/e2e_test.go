//go:build e2e

// Package e2e runs the built exporter beside a real nginx and a real Caddy,
// sends them a scripted set of visits, lets a real Prometheus scrape the
// exporter and checks the counts, the dashboards and the alert rules
// against it. Run it with `make e2e`; it needs the Debian packages
// prometheus, nginx-light and caddy (see .ci/run).
package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Paths relative to this package's directory, where go test runs.
const (
	binPath       = "../bin/session-exporter"
	dashboardsDir = "../dashboards"
	runningDoc    = "../docs/running.md"
)

// TestMain builds the exporter if `make build` has not.
func TestMain(m *testing.M) {
	if _, err := os.Stat(binPath); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %s missing, building it\n", binPath)
		cmd := exec.Command("go", "build", "-trimpath", "-o", binPath, "../cmd/session-exporter")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: build %s: %v\n", binPath, err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// placeholder matches the @NAME@ values of the files in testdata.
var placeholder = regexp.MustCompile(`@[A-Z_]+@`)

// render returns testdata/name with its placeholders replaced by values;
// a placeholder without a value is an error.
func render(name string, values map[string]string) (string, error) {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		return "", err
	}
	var missing []string
	out := placeholder.ReplaceAllStringFunc(string(b), func(p string) string {
		v, ok := values[p]
		if !ok {
			missing = append(missing, p)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("testdata/%s: no value for %s", name, strings.Join(missing, ", "))
	}
	return out, nil
}

// writeRendered renders testdata/name into dir.
func writeRendered(t *testing.T, dir, name string, values map[string]string) string {
	t.Helper()
	s, err := render(name, values)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// mkdirs creates directories.
func mkdirs(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// writeSite writes the static site into dir.
func writeSite(t *testing.T, dir string) {
	t.Helper()
	for name, body := range sitePages {
		p := filepath.Join(dir, name)
		mkdirs(t, filepath.Dir(p))
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for x := 0; x < 16; x++ {
		for y := 0; y < 16; y++ {
			img.Set(x, y, color.RGBA{R: 0x20, G: uint8(x * 16), B: uint8(y * 16), A: 0xff})
		}
	}
	f, err := os.Create(filepath.Join(dir, "logo.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// env is the running test environment.
type env struct {
	dir                  string
	values               map[string]string // placeholder values of this run
	nginx, caddy         *proc
	exporter, prom       *proc
	nginxAddr, caddyAddr string
	exporterAddr         string
	api                  *promAPI // Prometheus
	diagnosed            bool     // diagnostics printed
}

func TestEndToEnd(t *testing.T) {
	t.Parallel() // beside TestPromtool
	nginxBin := requireTool(t, "nginx")
	caddyBin := requireTool(t, "caddy")
	promBin := requireTool(t, "prometheus")
	promtool := requireTool(t, "promtool")
	if _, err := os.Stat(binPath); err != nil {
		t.Fatal(err)
	}
	exporterBin, _ := filepath.Abs(binPath)
	rulesDir, _ := filepath.Abs(dashboardsDir)

	start := time.Now()
	dir := t.TempDir()
	e := &env{dir: dir}
	siteDir := filepath.Join(dir, "site")
	nginxDir := filepath.Join(dir, "nginx")
	caddyDir := filepath.Join(dir, "caddy")
	exporterDir := filepath.Join(dir, "exporter")
	promDir := filepath.Join(dir, "prometheus")
	mkdirs(t, siteDir, filepath.Join(nginxDir, "logs"), filepath.Join(nginxDir, "tmp"),
		filepath.Join(caddyDir, "logs"), filepath.Join(caddyDir, "home"), exporterDir, promDir)
	writeSite(t, siteDir)

	// The values of the testdata placeholders in this run; docs/running.md
	// shows the same files with productionValues (docs_test.go).
	e.values = map[string]string{
		"@NGINX_LOG_DIR@":     filepath.Join(nginxDir, "logs"),
		"@CADDY_LOG_DIR@":     filepath.Join(caddyDir, "logs"),
		"@SITE_DIR@":          siteDir,
		"@CONF_DIR@":          caddyDir,
		"@USER_DIRECTIVE@":    "",
		"@START_AT@":          "beginning",
		"@TRUSTED_PROXIES@":   "127.0.0.1/32", // the test client plays the load balancer
		"@SESSION_TIMEOUT@":   sessionTimeout.String(),
		"@SPLIT_AT_MIDNIGHT@": "false", // a run across midnight UTC would split sessions
		"@MAX_DELAY@":         "0s",    // count every line at once
		"@STATE_DIR@":         exporterDir,
		"@SCRAPE_INTERVAL@":   "1s",
		"@RULES_DIR@":         rulesDir,
	}
	if os.Geteuid() == 0 {
		// Workers as nobody could not read the temporary directory.
		e.values["@USER_DIRECTIVE@"] = "user root;"
	}

	// nginx.
	writeRendered(t, nginxDir, "nginx-sessions.conf", e.values)
	e.nginx, e.nginxAddr = startServer(t, "nginx", func(port int) *proc {
		v := with(e.values, "@PORT@", fmt.Sprint(port))
		conf := writeRendered(t, nginxDir, "nginx.conf", v)
		return startProc(t, "nginx", dir, nil, nginxBin, "-p", nginxDir+"/",
			"-e", filepath.Join(nginxDir, "logs", "error.log"), "-c", conf, "-g", "daemon off;")
	}, dialable)

	// Caddy, with its storage and autosave under the temporary directory.
	writeRendered(t, caddyDir, "caddy-log.caddyfile", e.values)
	home := filepath.Join(caddyDir, "home")
	e.caddy, e.caddyAddr = startServer(t, "caddy", func(port int) *proc {
		v := with(e.values, "@PORT@", fmt.Sprint(port))
		conf := writeRendered(t, caddyDir, "Caddyfile", v)
		return startProc(t, "caddy", dir,
			[]string{"HOME=" + home, "XDG_DATA_HOME=" + home, "XDG_CONFIG_HOME=" + home},
			caddyBin, "run", "--adapter", "caddyfile", "--config", conf)
	}, dialable)

	// The exporter.
	e.exporter, e.exporterAddr = startServer(t, "session-exporter", func(port int) *proc {
		e.values["@EXPORTER_ADDR@"] = fmt.Sprintf("127.0.0.1:%d", port)
		conf := writeRendered(t, exporterDir, "session-exporter.yml", e.values)
		return startProc(t, "session-exporter", dir, nil, exporterBin, "-config", conf)
	}, httpOK("/healthz"))

	// Prometheus, scraping the exporter every second, with the repository's
	// rules.
	promConf := writeRendered(t, promDir, "prometheus.yml", e.values)
	if out, err := exec.Command(promtool, "check", "config", promConf).CombinedOutput(); err != nil {
		t.Fatalf("promtool check config %s: %v\n%s", promConf, err, out)
	}
	var promAddr string
	e.prom, promAddr = startServer(t, "prometheus", func(port int) *proc {
		return startProc(t, "prometheus", dir, nil, promBin,
			"--config.file="+promConf,
			"--storage.tsdb.path="+filepath.Join(promDir, "data"),
			fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
			"--log.level=warn")
	}, httpOK("/-/ready"))
	e.api = newPromAPI(promAddr)

	// Diagnostics, run before the processes are stopped.
	t.Cleanup(func() {
		if t.Failed() && !e.diagnosed {
			e.diagnostics(t)
		}
	})
	t.Logf("servers up after %v", time.Since(start).Round(time.Millisecond))

	runScript(t, map[string]string{siteShop: "http://" + e.nginxAddr, siteBlog: "http://" + e.caddyAddr})
	t.Logf("script of %d requests sent after %v", len(script), time.Since(start).Round(time.Millisecond))

	t.Run("counts", e.checkCounts)
	t.Run("dashboards", e.checkExpressions)
	t.Run("rules", e.checkRules)
	if t.Failed() {
		e.diagnostics(t) // while the exporter still serves /metrics
	}
	t.Run("shutdown", e.checkShutdown)
	t.Logf("done after %v", time.Since(start).Round(time.Millisecond))
}

// sessionTimeout closes every session of the script soon after it ends; the
// script's requests of one visitor are milliseconds apart.
const sessionTimeout = 10 * time.Second

// with returns a copy of m with k set to v.
func with(m map[string]string, k, v string) map[string]string {
	c := make(map[string]string, len(m)+1)
	for a, b := range m {
		c[a] = b
	}
	c[k] = v
	return c
}

// httpOK checks that GET path on addr answers 200.
func httpOK(path string) func(addr string) func() error {
	return func(addr string) func() error {
		return func() error {
			c := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 2 * time.Second}
			resp, err := c.Get("http://" + addr + path)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET %s: %s", path, resp.Status)
			}
			return nil
		}
	}
}

// got reads the session table, bot requests and lines read from Prometheus.
func (e *env) got() (map[cell]counts, map[string]int, int, error) {
	table := map[cell]counts{}
	set := func(expr string, f func(*counts, int)) error {
		v, err := e.api.vector(expr)
		if err != nil {
			return err
		}
		for _, s := range v {
			n, err := s.intValue()
			if err != nil {
				return err
			}
			if n == 0 {
				continue
			}
			k := cell{s.Metric["site"], s.Metric["channel"], s.Metric["device"]}
			c := table[k]
			f(&c, n)
			table[k] = c
		}
		return nil
	}
	by := "sum by (site, channel, device) "
	for _, q := range []struct {
		expr string
		f    func(*counts, int)
	}{
		{by + "(web_sessions_total)", func(c *counts, n int) { c.Sessions = n }},
		{by + "(web_pageviews_total)", func(c *counts, n int) { c.Pageviews = n }},
		{by + "(web_sessions_engaged_total)", func(c *counts, n int) { c.Engaged = n }},
		{by + "(web_sessions_bounced_total)", func(c *counts, n int) { c.Bounced = n }},
		{by + `(web_conversions_total{goal="purchase"})`, func(c *counts, n int) { c.Conversions = n }},
		{by + "(web_session_duration_seconds_count)", func(c *counts, n int) { c.Closed = n }},
		{by + "(web_session_pageviews_sum)", func(c *counts, n int) { c.PVSum = n }},
		{by + "(web_session_pageviews_count)", func(c *counts, n int) { c.PVCount = n }},
		{by + "(web_sessions_active)", func(c *counts, n int) { c.Active = n }},
	} {
		if err := set(q.expr, q.f); err != nil {
			return nil, nil, 0, err
		}
	}
	bots := map[string]int{}
	v, err := e.api.vector("sum by (site) (web_bot_requests_total)")
	if err != nil {
		return nil, nil, 0, err
	}
	for _, s := range v {
		n, err := s.intValue()
		if err != nil {
			return nil, nil, 0, err
		}
		if n != 0 {
			bots[s.Metric["site"]] = n
		}
	}
	lines := 0
	v, err = e.api.vector("sum(session_exporter_lines_read_total)")
	if err != nil {
		return nil, nil, 0, err
	}
	if len(v) == 1 {
		if lines, err = v[0].intValue(); err != nil {
			return nil, nil, 0, err
		}
	}
	return table, bots, lines, nil
}

// errNotFinal is checkCounts' reason to keep polling.
var errNotFinal = errors.New("counts not final yet")

// checkCounts waits until Prometheus has scraped the final counts, then
// compares them with the expected table.
func (e *env) checkCounts(t *testing.T) {
	wantT, wantLines := wantTable(), len(script)
	var gotT map[cell]counts
	var gotBots map[string]int
	var gotLines int
	began := time.Now()
	err := waitFor(sessionTimeout+60*time.Second, 500*time.Millisecond, e.exporter, func() error {
		var err error
		gotT, gotBots, gotLines, err = e.got()
		switch {
		case err != nil:
			return err
		case !cmp.Equal(wantT, gotT) || !cmp.Equal(wantBots, gotBots) || gotLines != wantLines:
			return errNotFinal
		}
		return nil
	})
	if err == nil {
		// Stable over two more scrapes: nothing counted twice later.
		time.Sleep(2500 * time.Millisecond)
		gotT, gotBots, gotLines, err = e.got()
	}
	t.Logf("Prometheus counts after %v:\n%s", time.Since(began).Round(time.Millisecond), formatTable(wantT, gotT))
	if e.exporter.exited() {
		t.Errorf("the exporter exited: %s", exitCode(e.exporter.err))
	}
	if err != nil && !errors.Is(err, errNotFinal) {
		t.Fatalf("querying Prometheus: %v", err)
	}
	if diff := cmp.Diff(wantT, gotT); diff != "" {
		t.Errorf("sessions by site, channel, device (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantBots, gotBots); diff != "" {
		t.Errorf("web_bot_requests_total by site (-want +got):\n%s", diff)
	}
	if gotLines != wantLines {
		t.Errorf("session_exporter_lines_read_total = %d, want %d (one per request)", gotLines, wantLines)
	}
	// One thank-you page carries value=49 (goals[0].value_param); the
	// other two carry none.
	if v, err := e.api.vector(`sum(web_conversion_value_total{goal="purchase"})`); err != nil || len(v) != 1 {
		t.Errorf("web_conversion_value_total: %v %v, want one sum", v, err)
	} else if n, err := v[0].intValue(); err != nil || n != 49 {
		t.Errorf("web_conversion_value_total = %d (%v), want 49", n, err)
	}

	// The same without the site label, as a single-site dashboard sums it.
	wantCD := map[string]int{}
	for k, v := range want {
		wantCD[k.Channel+"/"+k.Device] += v.Sessions
	}
	gotCD := map[string]int{}
	v, err := e.api.vector("sum by (channel, device) (web_sessions_total)")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range v {
		if n, err := s.intValue(); err != nil {
			t.Error(err)
		} else if n != 0 {
			gotCD[s.Metric["channel"]+"/"+s.Metric["device"]] = n
		}
	}
	if diff := cmp.Diff(wantCD, gotCD); diff != "" {
		t.Errorf("sum by (channel, device) (web_sessions_total) (-want +got):\n%s", diff)
	}

	// No line rejected, per file and reason.
	v, err = e.api.vector("session_exporter_lines_rejected_total > 0")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range v {
		t.Errorf("rejected lines: %v = %v", s.Metric, s.Value[1])
	}
}

// formatTable prints want and got side by side, one line per cell.
func formatTable(want, got map[cell]counts) string {
	keys := map[cell]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	sorted := make([]cell, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Slice(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.Site != b.Site {
			return a.Site > b.Site // shop first, in script order
		}
		if a.Channel != b.Channel {
			return a.Channel < b.Channel
		}
		return a.Device < b.Device
	})
	var b strings.Builder
	fmt.Fprintf(&b, "%-5s %-15s %-8s %s\n", "site", "channel", "device", "want/got: sessions pageviews engaged bounced conversions closed active")
	for _, k := range sorted {
		w, g := want[k], got[k]
		mark := ""
		if w != g {
			mark = "  <-- differs"
		}
		fmt.Fprintf(&b, "%-5s %-15s %-8s %d/%d %d/%d %d/%d %d/%d %d/%d %d/%d %d/%d%s\n", k.Site, k.Channel, k.Device,
			w.Sessions, g.Sessions, w.Pageviews, g.Pageviews, w.Engaged, g.Engaged, w.Bounced, g.Bounced,
			w.Conversions, g.Conversions, w.Closed, g.Closed, w.Active, g.Active, mark)
	}
	return b.String()
}

// checkExpressions evaluates every dashboard and rule expression against
// Prometheus and checks the metric names they use.
func (e *env) checkExpressions(t *testing.T) {
	dash, err := dashboardExprs(filepath.Join(dashboardsDir, "sessions.json"))
	if err != nil {
		t.Error(err)
	}
	rules, recorded, _, err := ruleExprs(filepath.Join(dashboardsDir, "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dash) == 0 || len(rules) == 0 {
		t.Fatalf("found %d dashboard and %d rule expressions; want some of each", len(dash), len(rules))
	}
	known, err := e.api.metricNamesKnown()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range append(recorded, "up", "ALERTS", "ALERTS_FOR_STATE") {
		known[n] = true
	}
	empty := 0
	used := map[string]bool{}
	for _, x := range append(dash, rules...) {
		r, warnings, err := e.api.query(x.expr)
		if err != nil {
			t.Errorf("%s: query error: %v\n  expr: %s", x.where, err, x.expr)
			continue
		}
		for _, w := range warnings {
			t.Logf("%s: warning: %s", x.where, w)
		}
		if r.ResultType == "vector" || r.ResultType == "matrix" {
			if s := strings.TrimSpace(string(r.Result)); s == "[]" || s == "null" {
				empty++
			}
		}
		names, err := metricNames(x.expr)
		if err != nil {
			t.Errorf("%s: %v\n  expr: %s", x.where, err, x.expr)
			continue
		}
		for _, n := range names {
			used[n] = true
			if !known[n] {
				t.Errorf("%s: unknown metric %s (not scraped, not recorded by alerts.yml)\n  expr: %s", x.where, n, x.expr)
			}
		}
	}
	t.Logf("evaluated %d dashboard and %d rule expressions using %d metric names; %d gave no series now (rates over a quiet minute, alert conditions not met)",
		len(dash), len(rules), len(used), empty)
}

// checkRules checks that Prometheus loaded every group of alerts.yml and
// that no rule evaluation fails. Groups evaluated every few seconds must
// have been evaluated; the 1m recording group may not have been yet.
func (e *env) checkRules(t *testing.T) {
	_, _, groups, err := ruleExprs(filepath.Join(dashboardsDir, "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var st rulesState
	err = waitFor(20*time.Second, 500*time.Millisecond, e.prom, func() error {
		if st, err = e.api.rules(); err != nil {
			return err
		}
		for _, g := range st.Groups {
			for _, r := range g.Rules {
				if g.Interval <= 5 && r.Health == "unknown" {
					return fmt.Errorf("rule %s of group %s not evaluated yet", r.Name, g.Name)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	var loaded []string
	evaluated := 0
	for _, g := range st.Groups {
		loaded = append(loaded, g.Name)
		for _, r := range g.Rules {
			switch r.Health {
			case "err":
				t.Errorf("rule %s (group %s) fails: %s", r.Name, g.Name, r.LastError)
			case "ok":
				evaluated++
			}
		}
	}
	sort.Strings(groups)
	sort.Strings(loaded)
	if diff := cmp.Diff(groups, loaded); diff != "" {
		t.Errorf("rule groups loaded by Prometheus (-alerts.yml +loaded):\n%s", diff)
	}
	t.Logf("%d rule groups loaded, %d rules evaluated without error so far", len(loaded), evaluated)
}

// checkShutdown stops the exporter as a service manager would and checks
// that it exits cleanly and leaves its state file.
func (e *env) checkShutdown(t *testing.T) {
	if err := e.exporter.stop(10 * time.Second); err != nil {
		t.Errorf("exporter on SIGTERM: %s", exitCode(err))
	}
	if _, err := os.Stat(filepath.Join(e.dir, "exporter", "state.json")); err != nil {
		t.Errorf("no state file after shutdown: %v", err)
	}
}

// diagnostics prints what helps to understand a failure.
func (e *env) diagnostics(t *testing.T) {
	e.diagnosed = true
	t.Logf("=== session-exporter output\n%s", e.exporter.output(20000))
	if !e.exporter.exited() {
		t.Logf("=== session-exporter /metrics (web_* and lines read/rejected, no buckets or zero rejections)\n%s", e.metricsLines())
	}
	t.Logf("=== nginx error log\n%s%s", tailFile(filepath.Join(e.dir, "nginx", "logs", "error.log"), 8000), e.nginx.output(2000))
	t.Logf("=== nginx access log\n%s", tailFile(filepath.Join(e.dir, "nginx", "logs", "sessions.log"), 20000))
	t.Logf("=== Caddy access log\n%s", tailFile(filepath.Join(e.dir, "caddy", "logs", "access.log"), 40000))
	t.Logf("=== Caddy output\n%s", e.caddy.output(4000))
	t.Logf("=== Prometheus output\n%s", e.prom.output(4000))
	t.Logf("=== Prometheus targets\n%s", e.api.targetsHealth())
}

// metricsLines returns the exporter's session and read metrics.
func (e *env) metricsLines() string {
	c := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + e.exporterAddr + "/metrics")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "#") || strings.Contains(l, "_bucket{") ||
			(strings.HasPrefix(l, "session_exporter_lines_rejected_total") && strings.HasSuffix(l, " 0")) {
			continue
		}
		if strings.HasPrefix(l, "web_") || strings.HasPrefix(l, "session_exporter_lines_") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
