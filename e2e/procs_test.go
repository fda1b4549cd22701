//go:build e2e

package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// proc is a server the test started. It runs in a process group of its own
// (nginx forks workers), so stopping it signals the group: only processes
// this test started.
type proc struct {
	name           string
	cmd            *exec.Cmd
	stdout, stderr string // files holding its output
	done           chan struct{}
	err            error // Wait's result, once done is closed
}

// startProc starts argv with extra environment variables env, output in
// files under logDir, and registers its stop as a cleanup.
func startProc(t *testing.T, name, logDir string, env []string, argv ...string) *proc {
	t.Helper()
	p := &proc{
		name:   name,
		stdout: filepath.Join(logDir, name+".stdout"),
		stderr: filepath.Join(logDir, name+".stderr"),
		done:   make(chan struct{}),
	}
	outF, err := os.Create(p.stdout)
	if err != nil {
		t.Fatal(err)
	}
	errF, err := os.Create(p.stderr)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = outF, errF
	// Own process group; SIGKILL if the test binary itself dies.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		outF.Close()
		errF.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		outF.Close()
		errF.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		if err := p.stop(10 * time.Second); err != nil {
			t.Logf("stop %s: %v", name, err)
		}
	})
	return p
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, waits up to grace, then sends
// SIGKILL and waits up to 5 s more. It returns the process's exit error
// (nil for exit status 0) or an error if it had to be killed.
func (p *proc) stop(grace time.Duration) error {
	if p.exited() {
		return p.err
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(grace):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	select {
	case <-p.done:
		return fmt.Errorf("%s did not stop within %v of SIGTERM; killed", p.name, grace)
	case <-time.After(5 * time.Second):
		return fmt.Errorf("%s (pid %d) survived SIGKILL for 5s", p.name, pgid)
	}
}

// output returns the last max bytes of the process's stderr and stdout.
func (p *proc) output(max int) string {
	var b strings.Builder
	for _, f := range []string{p.stderr, p.stdout} {
		if s := tailFile(f, max); strings.TrimSpace(s) != "" {
			fmt.Fprintf(&b, "--- %s\n%s", filepath.Base(f), s)
		}
	}
	return b.String()
}

// tailFile returns the last max bytes of a file, or a note why it cannot.
func tailFile(path string, max int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)\n", err)
	}
	if len(b) > max {
		b = b[len(b)-max:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
		b = append([]byte("[...]\n"), b...)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	return string(b)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitFor calls check every interval until it returns nil, the process p
// (if any) exits, or timeout passes; it returns check's last error.
func waitFor(timeout, interval time.Duration, p *proc, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if p != nil && p.exited() {
			return fmt.Errorf("%s exited (%v) while waiting: %w", p.name, p.err, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still failing after %v: %w", timeout, err)
		}
		time.Sleep(interval)
	}
}

// dialable checks that something accepts TCP connections on addr. It sends
// no request, so the web servers log nothing.
func dialable(addr string) func() error {
	return func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	}
}

// startServer picks a free port, starts a server on it with launch and
// waits until ready succeeds. A server that exits at once (the port was
// taken meanwhile by someone else) is tried again on another port.
func startServer(t *testing.T, name string, launch func(port int) *proc, ready func(addr string) func() error) (*proc, string) {
	t.Helper()
	var last error
	var p *proc
	for attempt := 1; attempt <= 3; attempt++ {
		port := freePort(t)
		addr := "127.0.0.1:" + strconv.Itoa(port)
		p = launch(port)
		err := waitFor(30*time.Second, 100*time.Millisecond, p, ready(addr))
		if err == nil {
			t.Logf("%s ready on %s (pid %d)", name, addr, p.cmd.Process.Pid)
			return p, addr
		}
		last = err
		if !p.exited() {
			break // running but not ready: trying another port will not help
		}
		t.Logf("%s attempt %d on %s failed: %v\n%s", name, attempt, addr, err, p.output(4000))
	}
	t.Fatalf("%s did not start: %v\n%s", name, last, p.output(8000))
	return nil, ""
}

// requireTool finds a program on PATH or in the sbin directories. Without
// it the test is skipped, except under CI where a missing tool is a failure.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	msg := fmt.Sprintf("%s not found (Debian/Ubuntu: apt-get install prometheus nginx-light caddy)", name)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// exitCode describes how a process ended.
func exitCode(err error) string {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return "exit status 0"
	case errors.As(err, &ee):
		return ee.String()
	default:
		return err.Error()
	}
}
