package collector

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/session-exporter/session-exporter/collector/accesslog"
)

// TestNginxSyslogCountsAsFile runs a real nginx that writes every request
// to a file and sends it to the exporter over syslog, by UDP and by a unix
// datagram socket, as access_log syslog:server=... does. The three inputs
// are three sites of one exporter; each must count exactly what the others
// count.
func TestNginxSyslogCountsAsFile(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		if _, ci := os.LookupEnv("CI"); ci {
			t.Fatal("CI is set but nginx is not on PATH (apt-get install nginx-light)")
		}
		t.Skip("nginx not on PATH (apt-get install nginx-light)")
	}
	dir := t.TempDir()
	for _, d := range []string{"logs", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	freeUDP := func() int {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		return pc.LocalAddr().(*net.UDPAddr).Port
	}
	freeTCP := func() int {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().(*net.TCPAddr).Port
	}
	httpPort, udpPort := freeTCP(), freeUDP()
	sock := filepath.Join(dir, "syslog.sock")
	file := filepath.Join(dir, "logs", "access.log")

	// The exporters first: nginx sends to the sockets from its first
	// request. One exporter per input, so that each counts alone.
	clock := &fakeClock{t: time.Now().UTC()}
	var runs []*liveRun
	for _, in := range []string{
		fmt.Sprintf("path: %q", file),
		fmt.Sprintf(`syslog: "udp://127.0.0.1:%d"`, udpPort),
		fmt.Sprintf(`syslog: "unixgram://%s"`, sock),
	} {
		yaml := fmt.Sprintf("logs: [{%s, format: combined}]\nstart_at: beginning\nown_hosts: [www.example.com]\npoll_interval: 1h\n", in)
		runs = append(runs, runCollector(t, newLiveCollector(t, yaml, clock), clock))
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // workers as nobody could not write to the test's directory
	}
	conf := fmt.Sprintf(`%s
worker_processes 1;
pid %[2]s/nginx.pid;
events {}
http {
    client_body_temp_path %[2]s/tmp/body;
    proxy_temp_path %[2]s/tmp/proxy;
    fastcgi_temp_path %[2]s/tmp/fastcgi;
    uwsgi_temp_path %[2]s/tmp/uwsgi;
    scgi_temp_path %[2]s/tmp/scgi;
    server {
        listen 127.0.0.1:%[3]d;
        access_log %[4]s combined;
        access_log syslog:server=127.0.0.1:%[5]d combined;
        access_log syslog:server=unix:%[6]s,nohostname,tag=shop combined;
        location / { return 200 "ok\n"; }
        location /missing { return 404; }
        location /go { return 302 /; }
    }
}
`, user, dir, httpPort, file, udpPort, sock)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-p", dir + "/", "-e", "stderr", "-c", confPath}
	if out, err := exec.Command(nginx, append(args, "-t")...).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nginx, append(args, "-g", "daemon off;")...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Signal(syscall.SIGQUIT)
			_ = cmd.Wait()
		}
	}
	defer stop()

	// Requests as the generated traffic makes them: its paths, statuses by
	// path, referrers and user agents.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	get := func(uri, ref, ua string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+uri, nil)
		if err != nil {
			return err
		}
		req.Host = "www.example.com"
		req.Header.Set("User-Agent", ua)
		if ref != "" {
			req.Header.Set("Referer", ref)
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	deadline := time.Now().Add(10 * time.Second)
	for get("/nginx-health", "", "curl/8.4.0") != nil {
		if time.Now().After(deadline) {
			t.Fatal("nginx did not answer")
		}
		time.Sleep(50 * time.Millisecond)
	}
	p, _ := accesslog.New("combined")
	var req accesslog.Request
	sent := 1
	for _, l := range genLines(51, 600) {
		if p.Parse(l[:len(l)-1], &req) != nil || string(req.Method) != "GET" {
			continue
		}
		if err := get(string(req.URI), string(req.Referer), string(req.UserAgent)); err != nil {
			t.Fatal(err)
		}
		sent++
	}
	stop() // every line written and sent

	deadline = time.Now().Add(30 * time.Second)
	for _, r := range runs {
		for {
			r.step()
			if read, _ := r.c.Metrics().LinesRead(); read == uint64(sent) {
				break
			}
			if time.Now().After(deadline) {
				read, _ := r.c.Metrics().LinesRead()
				t.Fatalf("%s: %d lines read; nginx logged %d requests", r.c.cfg.Logs[0].Name(), read, sent)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	clock.Add(2 * time.Hour)
	var sums []Summary
	for _, r := range runs {
		r.step()
		sums = append(sums, Summarize(r.c.Metrics()))
		r.shutdown()
	}
	if sums[0].Total.Sessions == 0 || sums[0].Bots == 0 || len(sums[0].Rejected) != 0 {
		t.Fatalf("file: sessions %d, bots %d, rejected %v: want sessions, bots, and nothing rejected",
			sums[0].Total.Sessions, sums[0].Bots, sums[0].Rejected)
	}
	for i, name := range []string{"udp", "unix"} {
		got := sums[i+1]
		got.Lines = sums[0].Lines
		if diff := cmp.Diff(sums[0], got); diff != "" {
			t.Errorf("%s syslog counts differ from the file (-file +%s):\n%s", name, name, diff)
		}
	}
}
