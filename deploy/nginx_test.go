package deploy

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/session-exporter/session-exporter/collector"
	"github.com/session-exporter/session-exporter/collector/config"
)

// TestNginxWritesWhatTheExporterReads runs the nginx configuration of the
// Kubernetes and Compose deployments for real (paths moved into a temporary
// directory), sends it requests, and replays the session log nginx wrote
// with the exporter config of the same deployment: the file must match the
// exporter's glob and every line must parse.
func TestNginxWritesWhatTheExporterReads(t *testing.T) {
	nginx := requireTool(t, "nginx", true, "Debian/Ubuntu: apt-get install nginx-light")
	k8s := map[string]map[string]string{}
	for _, o := range k8sObjects(t, "kubernetes/configmap-nginx.yaml", "kubernetes/configmap-session-exporter.yaml") {
		k8s[o.Metadata.Name] = o.Data
	}
	composeConf, err := os.ReadFile(filepath.Join(composeDir, "nginx", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	composeCfg, err := os.ReadFile(filepath.Join(composeDir, "session-exporter", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, nginxConf, exporterConfig string }{
		{"kubernetes", k8s["web-nginx"]["nginx.conf"], k8s["web-session-exporter"]["config.yaml"]},
		{"compose", string(composeConf), string(composeCfg)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.nginxConf == "" || tc.exporterConfig == "" {
				t.Fatal("configuration not found")
			}
			runNginxAndReplay(t, nginx, tc.nginxConf, tc.exporterConfig)
		})
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// relocate replaces each old string of s, which must occur, by its new one.
func relocate(t *testing.T, s string, pairs ...string) string {
	t.Helper()
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("%q not found: the test's path rewriting no longer fits the file", pairs[i])
		}
		s = strings.ReplaceAll(s, pairs[i], pairs[i+1])
	}
	return s
}

func runNginxAndReplay(t *testing.T, nginx, conf, exporterConfig string) {
	dir := t.TempDir()
	for _, d := range []string{"logs", "tmp", "html"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "html", "index.html"), []byte("<h1>shop</h1>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	conf = relocate(t, conf,
		"/tmp/", dir+"/tmp/", // first: dir itself may be under /tmp
		"/var/log/nginx/", dir+"/logs/",
		"root /usr/share/nginx/html;", "root "+dir+"/html;",
		"listen 8080;", fmt.Sprintf("listen 127.0.0.1:%d;", port))
	if _, err := os.Stat("/etc/nginx/mime.types"); err != nil {
		conf = relocate(t, conf, "include /etc/nginx/mime.types;", "types { text/html html; }")
	}
	if os.Geteuid() == 0 {
		// As root nginx would run its workers as nobody, who cannot write
		// to the test's directory.
		conf = "user root;\n" + conf
	}
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-p", dir + "/", "-e", "stderr", "-c", confPath}
	if out, err := run(t, dir, nginx, append(args, "-t")...); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nginx, append(args, "-g", "daemon off;")...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Signal(syscall.SIGQUIT) // graceful: finish requests, close logs
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	defer stop()

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	get := func(path string, header map[string]string) int {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			if k == "Host" {
				req.Host = v
			} else {
				req.Header.Set(k, v)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(10 * time.Second)
	for get("/nginx-health", nil) != http.StatusOK {
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("nginx did not answer /nginx-health:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	visitor := map[string]string{
		"Host":       "www.example.com",
		"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"Referer":    "https://www.google.com/",
	}
	if code := get("/", visitor); code != http.StatusOK {
		t.Fatalf("GET / answered %d:\n%s", code, stderr.String())
	}
	visitor["Referer"] = "http://www.example.com/"
	if code := get("/missing", visitor); code != http.StatusNotFound {
		t.Fatalf("GET /missing answered %d", code)
	}
	stop()

	// The session log: one file, matched by the exporter's glob, without the
	// probes.
	cfgText := relocate(t, exporterConfig, "/var/log/nginx/", dir+"/logs/")
	cfg, err := config.Parse([]byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	// One file a day: two when the test runs across midnight.
	files, err := filepath.Glob(cfg.Logs[0].Path)
	if err != nil || len(files) == 0 || len(files) > 2 {
		entries, _ := os.ReadDir(filepath.Join(dir, "logs"))
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("the exporter's glob %s matches %v (%v); nginx wrote %v", cfg.Logs[0].Path, files, err, names)
	}
	var b []byte
	var inputs []collector.Input
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s:\n%s", filepath.Base(f), data)
		b = append(b, data...)
		inputs = append(inputs, collector.Input{Path: f})
	}
	if strings.Contains(string(b), "nginx-health") || strings.Contains(stdout.String(), "nginx-health") {
		t.Error("probe requests were logged")
	}
	if n := strings.Count(string(b), "\n"); n != 2 {
		t.Errorf("session log has %d lines, want 2 (/ and /missing)", n)
	}
	if !strings.Contains(stdout.String(), "GET / HTTP/1.1") {
		t.Errorf("no access log on stdout for the container log:\n%s", stdout.String())
	}

	c, err := collector.New(cfg, collector.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Replay(t.Context(), inputs, collector.ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := collector.Summarize(res.Metrics)
	if len(s.Rejected) != 0 || s.Lines != 2 {
		t.Fatalf("replay of nginx's log: %d lines, rejected %v", s.Lines, s.Rejected)
	}
	if s.Total.Sessions != 1 || len(s.Rows) != 1 || s.Rows[0].Channel != "organic_search" || s.Rows[0].Device != "desktop" {
		t.Errorf("replay of nginx's log: %+v, want one organic_search desktop session", s.Rows)
	}
}
