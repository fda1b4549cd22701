package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/session-exporter/session-exporter/collector/loggen"
)

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// genLog writes n generated lines to a file in dir and returns its path and lines.
func genLog(t *testing.T, dir string, seed uint64, n int) (string, [][]byte) {
	t.Helper()
	g := loggen.New(loggen.Options{Seed: seed, Visitors: 200, Rate: 0.5, UserAgents: 10})
	var lines [][]byte
	var b bytes.Buffer
	for range n {
		l := append(g.Next(nil), '\n')
		lines = append(lines, l)
		b.Write(l)
	}
	p := filepath.Join(dir, fmt.Sprintf("gen-%d.log", seed))
	writeFile(t, p, b.String())
	return p, lines
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, strings.NewReader(""), &o, &e)
	return code, o.String(), e.String()
}

func TestExitCodesAndMessages(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "good.yaml"), "own_hosts: [www.example.com]\n")
	bad := writeFile(t, filepath.Join(dir, "bad.yaml"), "session:\n  timezone: Nowhere/Land\n")
	log := writeFile(t, filepath.Join(dir, "a.log"), "")
	for _, tc := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"version", []string{"version"}, 0, ""},
		{"bad config", []string{"replay", "-config", bad, log}, 2, `session.timezone: unknown time zone "Nowhere/Land"`},
		{"missing config file", []string{"replay", "-config", filepath.Join(dir, "none.yaml"), log}, 2, "no such file"},
		{"unreadable input", []string{"replay", "-config", good, filepath.Join(dir, "none.log")}, 2, "no such file"},
		{"no inputs", []string{"replay", "-config", good}, 2, "no files given"},
		{"directory input", []string{"replay", "-config", good, dir}, 2, "replay: " + dir + " is a directory, not a log file"},
		{"bad output", []string{"replay", "-o", "xml", log}, 2, `-o: "xml" is not table, prometheus, json or openmetrics`},
		{"bad format flag", []string{"replay", "-format", "nope", log}, 2, `unknown log format "nope"`},
		{"live without config", []string{}, 2, "no configuration"},
		{"live with bad config", []string{"--config.file", bad}, 2, "unknown time zone"},
		{"bad log level", []string{"replay", "-log.level", "loud", log}, 2, "-log.level"},
		{"bad listen flag", []string{"-config", good, "-web.listen-address", "::1:9999"}, 2, `-web.listen-address: "::1:9999" is not host:port`},
		{"bad path flag", []string{"-config", good, "-web.telemetry-path", "metrics"}, 2, `-web.telemetry-path: "metrics" must start with /`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.err) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.err)
			}
			if tc.code != 0 && strings.Count(strings.TrimSpace(stderr), "\n") > 0 && !strings.Contains(stderr, "Usage") {
				t.Errorf("error is not one line: %q", stderr)
			}
		})
	}
}

func TestReplayOutputs(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, filepath.Join(dir, "c.yaml"), "own_hosts: [www.example.com]\ngoals: [{name: purchase, path: ^/checkout/thank-you}]\n")
	logPath, lines := genLog(t, dir, 11, 3000)
	// Junk around the real lines is counted, never fatal.
	junk := "\x00\x01\x02 binary\nnot a log line at all\n{\"ts\": \"yesterday\"}\n"
	// A file of junk alone is a wrong format (TestReplayUnparsedFile): here
	// the junk sits before a good line.
	withJunk := writeFile(t, filepath.Join(dir, "junk.log"), junk+string(lines[0]))
	lines = append(lines, lines[0])

	code, out, stderr := runCLI("replay", "-config", cfg, "-o", "json", logPath, withJunk)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var sum struct {
		Total    struct{ Sessions, Pageviews uint64 }
		Lines    uint64
		Rejected map[string]uint64
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("json output: %v\n%s", err, out)
	}
	if sum.Lines != uint64(len(lines)+3) || sum.Total.Sessions == 0 {
		t.Errorf("lines %d sessions %d, want %d lines and some sessions", sum.Lines, sum.Total.Sessions, len(lines)+3)
	}
	var rejected uint64
	for _, v := range sum.Rejected {
		rejected += v
	}
	if rejected != 3 {
		t.Errorf("rejected %v, want 3 lines", sum.Rejected)
	}

	code, prom, _ := runCLI("replay", "-config", cfg, "-o", "prometheus", logPath)
	if code != 0 {
		t.Fatal("prometheus output failed")
	}
	m := regexp.MustCompile(`(?m)^web_sessions_total\{[^}]*\} (\d+)$`).FindAllStringSubmatch(prom, -1)
	var total uint64
	for _, x := range m {
		n, _ := strconv.ParseUint(x[1], 10, 64)
		total += n
	}
	code, js, _ := runCLI("replay", "-config", cfg, "-o", "json", logPath)
	if code != 0 || json.Unmarshal([]byte(js), &sum) != nil {
		t.Fatal("json output failed")
	}
	if total != sum.Total.Sessions || total == 0 {
		t.Errorf("prometheus output sums to %d sessions, json says %d", total, sum.Total.Sessions)
	}
	for _, name := range []string{"web_sessions_active", "web_session_duration_seconds_bucket", "web_conversions_total", "session_exporter_lines_read_total"} {
		if !strings.Contains(prom, name) {
			t.Errorf("prometheus output lacks %s", name)
		}
	}

	code, table, _ := runCLI("replay", "-config", cfg, logPath)
	if code != 0 || !strings.Contains(table, "bounce rate") || !strings.Contains(table, "organic_search") {
		t.Errorf("table output:\n%s", table)
	}
}

func TestReplayStdin(t *testing.T) {
	dir := t.TempDir()
	logPath, _ := genLog(t, dir, 12, 500)
	data, _ := os.ReadFile(logPath)
	var o, e bytes.Buffer
	if code := run([]string{"replay", "-o", "json", "-"}, bytes.NewReader(data), &o, &e); code != 0 {
		t.Fatalf("exit %d: %s", code, e.String())
	}
	code, fromFile, _ := runCLI("replay", "-o", "json", logPath)
	if code != 0 {
		t.Fatal("replay of file failed")
	}
	strip := regexp.MustCompile(`(?s)"lines".*`)
	if strip.ReplaceAllString(o.String(), "") != strip.ReplaceAllString(fromFile, "") {
		t.Errorf("stdin and file replays differ:\n%s\n---\n%s", o.String(), fromFile)
	}
}

// buildBinary compiles the exporter once for the process tests.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "session-exporter")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type proc struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	addr   string
}

func startExporter(t *testing.T, bin, cfg, addr string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, "-config", cfg, "--web.listen-address", addr), stderr: &bytes.Buffer{}, addr: addr}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("exporter did not come up; stderr:\n%s", p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// metric returns the sum of every sample of name in a scrape.
func (p *proc) metric(t *testing.T, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + p.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, name+"{") || strings.HasPrefix(l, name+" ") {
			v, _ := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
			sum += v
		}
	}
	return sum
}

// waitLines polls the exporter until it has read n lines (bounded).
func (p *proc) waitLines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for p.metric(t, "session_exporter_lines_read_total") < float64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("exporter read %v lines, want %d; stderr:\n%s", p.metric(t, "session_exporter_lines_read_total"), n, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func appendLines(t *testing.T, path string, lines [][]byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		if _, err := f.Write(l); err != nil {
			t.Fatal(err)
		}
	}
}

// TestKillNineAndRestart kills the exporter with SIGKILL mid-stream, restarts
// it from its state file, and checks the scraped totals equal a replay of
// the same lines: nothing lost, nothing counted twice.
func TestKillNineAndRestart(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	src, lines := genLog(t, dir, 21, 6000)
	logPath := filepath.Join(dir, "access.log")
	cfg := writeFile(t, filepath.Join(dir, "c.yaml"), fmt.Sprintf(`
logs: [{path: %q, format: combined}]
start_at: beginning
own_hosts: [www.example.com]
goals: [{name: purchase, path: ^/checkout/thank-you}]
state_file: %q
state_interval: 50ms
poll_interval: 100ms
session: {max_delay: 0s}
`, logPath, filepath.Join(dir, "state.json")))

	addr := freeAddr(t)
	p := startExporter(t, bin, cfg, addr)
	appendLines(t, logPath, lines[:2500])
	p.waitLines(t, 2500)
	appendLines(t, logPath, lines[2500:3000]) // may or may not be read before the kill
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	appendLines(t, logPath, lines[3000:4500]) // written while down

	p2 := startExporter(t, bin, cfg, addr)
	appendLines(t, logPath, lines[4500:])
	p2.waitLines(t, len(lines))

	code, out, stderr := runCLI("replay", "-config", cfg, "-o", "json", src)
	if code != 0 {
		t.Fatal(stderr)
	}
	var want struct {
		Total struct{ Sessions, Pageviews float64 }
	}
	if err := json.Unmarshal([]byte(out), &want); err != nil {
		t.Fatal(err)
	}
	if got := p2.metric(t, "session_exporter_lines_read_total"); got != float64(len(lines)) {
		t.Errorf("lines read %v, want %d", got, len(lines))
	}
	if got := p2.metric(t, "web_sessions_total"); got != want.Total.Sessions {
		t.Errorf("sessions after kill -9 and restart: %v, clean replay %v", got, want.Total.Sessions)
	}
	if got := p2.metric(t, "web_pageviews_total"); got != want.Total.Pageviews {
		t.Errorf("pageviews after kill -9 and restart: %v, clean replay %v", got, want.Total.Pageviews)
	}

	// SIGTERM: saves state and exits 0.
	if err := p2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p2.cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, p2.stderr)
	}
	fi, err := os.Stat(filepath.Join(dir, "state.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file after SIGTERM: %v %v", fi, err)
	}
}

// TestHelp: -h lists the commands and the main command's flags, on
// standard output, and exits 0.
func TestHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "-help", "help"} {
		code, stdout, stderr := runCLI(arg)
		if code != exitOK || stderr != "" {
			t.Errorf("%s: exit %d, stderr %q", arg, code, stderr)
		}
		for _, want := range []string{"session-exporter replay", "session-exporter demo", "session-exporter version",
			"Flags:", "-config", "-config.file", "-log.level", "-log.format", "-web.listen-address", "-web.telemetry-path", "-web.config.file"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%s: output lacks %q:\n%s", arg, want, stdout)
			}
		}
	}
}
