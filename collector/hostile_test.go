package collector

import (
	"bytes"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/session-exporter/session-exporter/collector/accesslog"
	"github.com/session-exporter/session-exporter/collector/classify"
)

// randomTraffic returns n human pageviews with random addresses, hosts,
// paths, referrers and campaigns, from 500 random user agents.
func randomTraffic(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 9))
	word := func() string {
		const letters = "abcdefghijklmnopqrstuvwxyz0123456789-"
		b := make([]byte, 3+r.IntN(12))
		for i := range b {
			b[i] = letters[r.IntN(len(letters))]
		}
		return string(b)
	}
	uas := make([]string, 500)
	for i := range uas {
		uas[i] = "Mozilla/5.0 (" + word() + "; " + word() + ") " + word() + "/" + fmt.Sprint(r.IntN(1000))
	}
	var b bytes.Buffer
	t := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		t = t.Add(time.Duration(r.IntN(200)) * time.Millisecond)
		ref := "-"
		switch r.IntN(4) {
		case 0:
			ref = "https://" + word() + "." + word() + "/" + word()
		case 1:
			ref = "android-app://" + word() + "." + word()
		}
		q := ""
		if r.IntN(3) == 0 {
			q = "?utm_source=" + word() + "&utm_medium=" + word() + "&utm_campaign=" + word()
		}
		// 500 random user agents, drawn again and again: the cache is
		// exercised as well as first sights.
		ua := uas[r.IntN(len(uas))]
		fmt.Fprintf(&b, `{"ts":%d.%03d,"request":{"remote_ip":"%d.%d.%d.%d","method":"GET","host":"%s.example","uri":"/%s/%s%s","headers":{"User-Agent":["%s"],"Referer":["%s"]}},"status":200}`+"\n",
			t.Unix(), t.Nanosecond()/1e6, 1+r.IntN(223), r.IntN(256), r.IntN(256), r.IntN(256), word(), word(), word(), q, ua, ref)
	}
	return b.Bytes()
}

// TestLabelsStayBounded feeds 100,000 pageviews with random hosts, paths,
// referrers, campaigns and addresses (about 100,000 visitors, and 500
// random user agents), with landing page groups and a valued goal: the
// number of series stays within
// what the fixed label sets allow, and every label value comes from them.
func TestLabelsStayBounded(t *testing.T) {
	data := randomTraffic(1, 100_000)
	cfg := mustConfig(t, `
goals: [{name: signup, path: ^/a, value_param: v}]
landing_pages: [{name: blog, path: "^/b"}, {name: shop, path: "^/[c-f]"}]
`)
	c, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Replay(t.Context(), []Input{{Path: "random.log", Reader: bytes.NewReader(data)}}, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s := Summarize(res.Metrics); s.Total.Pageviews < 90_000 {
		t.Fatalf("only %d pageviews counted: the input is not exercising the classifier", s.Total.Pageviews)
	}
	exp, err := c.NewExporter(res.Metrics, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := exp.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	allowed := map[string]map[string]bool{
		"channel": {}, "device": {}, "goal": {"signup": true}, "file": {"random.log": true},
		"reason": {}, "le": nil /* bucket bounds */, "version": nil, "revision": nil, "goversion": nil,
		"landing": {"blog": true, "shop": true, "other": true}, "visitor_type": {"new": true, "returning": true},
	}
	for i := 0; i < classify.NumChannels; i++ {
		allowed["channel"][classify.Channel(i).String()] = true
	}
	for i := 0; i < classify.NumDevices; i++ {
		allowed["device"][classify.Device(i).String()] = true
	}
	for _, r := range accesslog.Reasons {
		allowed["reason"][string(r)] = true
	}
	series := 0
	seen := map[string]bool{}
	label := regexp.MustCompile(`(\w+)="([^"]*)"`)
	for _, line := range strings.Split(b.String(), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		series++
		for _, m := range label.FindAllStringSubmatch(line, -1) {
			set, ok := allowed[m[1]]
			if !ok {
				t.Fatalf("unexpected label %q in %s", m[1], line)
			}
			if set != nil && !set[m[2]] {
				t.Fatalf("label %s=%q is not from its fixed set: %s", m[1], m[2], line)
			}
			seen[m[1]+"="+m[2]] = true
		}
	}
	// Per (channel, device) cell: pageviews and active; sessions, engaged,
	// bounced and one conversion series per goal for each of 3 landings
	// and 2 visitor types; 2 histograms of 14 series; one value series per
	// goal; plus the exporter's own.
	bound := classify.NumChannels*classify.NumDevices*(2+(3+1)*3*2+2*14+1) + 50
	if series > bound {
		t.Errorf("%d series for random input, bound %d", series, bound)
	}
	for _, l := range []string{"landing=blog", "landing=shop", "landing=other", "visitor_type=new"} {
		if !seen[l] {
			t.Errorf("no series with %s: the input does not exercise it", l)
		}
	}
}

// TestMemoryStaysBounded drives ten times max_visitors through a replay:
// visitors in memory never exceed the limit, evictions are counted, and the
// heap does not grow with the number of visitors.
func TestMemoryStaysBounded(t *testing.T) {
	heap := func(visitors int) (uint64, Summary) {
		cfg := mustConfig(t, "max_visitors: 1000\n")
		c, err := New(cfg, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		start := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
		for i := 0; i < visitors; i++ {
			fmt.Fprintf(&b, "10.%d.%d.%d - - [%s] \"GET / HTTP/1.1\" 200 5 \"-\" \"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0\"\n",
				i>>16&0xff, i>>8&0xff, i&0xff, start.Add(time.Duration(i)*time.Millisecond).Format("02/Jan/2006:15:04:05 -0700"))
		}
		res, err := c.Replay(t.Context(), []Input{{Path: "a.log", Reader: &b}}, ReplayOptions{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse, Summarize(res.Metrics)
	}
	_, small := heap(10_000)
	if small.Evicted != 9_000 || small.Total.Sessions != 10_000 {
		t.Errorf("10x max_visitors: %d evicted of %d sessions, want 9000 of 10000", small.Evicted, small.Total.Sessions)
	}
	before, _ := heap(10_000)
	after, big := heap(100_000)
	if big.Evicted != 99_000 {
		t.Errorf("100x max_visitors: %d evicted, want 99000", big.Evicted)
	}
	// A replay keeps no visitor past max_visitors: ten times the visitors
	// must not cost anywhere near ten times the heap.
	if after > before+8<<20 {
		t.Errorf("heap grew from %d to %d bytes with 10x the visitors", before, after)
	}
}

// TestNoPersonalDataInOutputs writes known addresses, user agents and URLs
// through a live exporter (debug logging on, with bad lines that are
// sampled to the log) and searches every output for them: /metrics, the
// log and the state file.
func TestNoPersonalDataInOutputs(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	statePath := filepath.Join(dir, "state.json")
	secrets := []string{"198.51.100.77", "2001:db8::beef", "SecretAgent/9.9", "private-path-xyz", "utm-secret-campaign", "referrer-secret.example"}
	ts := time.Date(2026, 11, 20, 11, 0, 0, 0, time.UTC).Format("02/Jan/2006:15:04:05 -0700")
	lines := []string{
		`198.51.100.77 - - [` + ts + `] "GET /private-path-xyz?utm_source=news&utm_campaign=utm-secret-campaign HTTP/1.1" 200 5 "https://referrer-secret.example/x" "Mozilla/5.0 (Windows NT 10.0) SecretAgent/9.9"`,
		`2001:db8::beef - - [` + ts + `] "GET /private-path-xyz HTTP/1.1" 200 5 "-" "Mozilla/5.0 (iPhone) SecretAgent/9.9"`,
		`198.51.100.77 - - [garbage] "GET /private-path-xyz HTTP/1.1" 200 5 "-" "SecretAgent/9.9"`, // rejected: sampled to the debug log
		`2001:db8::beef this line is broken private-path-xyz`,
	}
	appendFile(t, logPath, []byte(strings.Join(lines, "\n")+"\n"))

	var logs bytes.Buffer
	cfg := mustConfig(t, fmt.Sprintf(liveConfig, logPath, "beginning", statePath))
	clock := newClock()
	c, err := New(cfg, Options{Now: clock.Now,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	r := runCollector(t, c, clock)
	clock.Add(10 * time.Second)
	r.step()
	metrics := r.scrape()
	r.shutdown()
	state, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	if s := Summarize(c.Metrics()); s.Total.Pageviews != 2 {
		t.Fatalf("pageviews %d, want 2: the test input is not reaching the sessions", s.Total.Pageviews)
	}
	if !strings.Contains(logs.String(), "rejected log line") {
		t.Fatalf("no rejected-line sample logged; logs:\n%s", logs.String())
	}
	for name, out := range map[string]string{"metrics": metrics, "log": logs.String(), "state file": string(state)} {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s contains %q", name, s)
			}
		}
	}
}

// TestLongLastLineWithoutNewline: an over-long last line with no newline is
// counted as too long whatever its length, on both replay paths.
func TestLongLastLineWithoutNewline(t *testing.T) {
	for _, n := range []int{257, 258, 514, 1000} {
		for _, workers := range []int{1, 2} {
			c, err := New(mustConfig(t, "max_line_bytes: 256\n"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			in := []Input{{Path: "a.log", Reader: strings.NewReader(strings.Repeat("x", n))}}
			res, err := c.Replay(t.Context(), in, ReplayOptions{Workers: workers})
			if err != nil {
				t.Fatal(err)
			}
			s := Summarize(res.Metrics)
			if s.Lines != 1 || s.Rejected[accesslog.ReasonTooLong] != 1 {
				t.Errorf("%d bytes, %d workers: lines %d, rejected %v; want 1 line rejected as too_long", n, workers, s.Lines, s.Rejected)
			}
		}
	}
}

// TestUnreadableStateFileIsAnError: a state file that exists but cannot be
// read stops the exporter rather than being overwritten by a fresh start.
func TestUnreadableStateFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	statePath := filepath.Join(dir, "state.json")
	if err := os.Mkdir(statePath, 0o700); err != nil { // reading a directory fails, even as root
		t.Fatal(err)
	}
	cfg := mustConfig(t, fmt.Sprintf(liveConfig, filepath.Join(dir, "a.log"), "end", statePath))
	c, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Run(t.Context(), RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "cannot be read") {
		t.Errorf("Run = %v, want an error saying the state file cannot be read", err)
	}
}
