//go:build unix

package tail

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// nobody is the user and group the permission tests run as when the tests
// run as root.
const nobody = 65534

// asUnprivileged lets a test that needs the kernel to refuse a read (a file
// with mode 000) run where the tests run as root, as in CI: root reads any
// file, so the test is run again in a child process of the test binary
// under the nobody user and group, without supplementary groups, where
// the open fails with EACCES exactly as it does for an exporter running as
// its own user. It reports whether it ran the test that way; the caller
// then returns. The child must report the test passed, not skipped.
func asUnprivileged(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 {
		return false
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("test binary: %v", err)
	}
	// The test binary and its temporary directories live under
	// directories only root may enter: copy it where nobody can run it.
	dir, err := os.MkdirTemp("", "tail-unprivileged-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(os.Chmod(dir, 0o755), os.Chmod(tmp, 0o777)); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "tail.test")
	if err := copyFile(exe, bin); err != nil {
		t.Fatalf("copy test binary: %v", err)
	}
	name := t.Name()
	cmd := exec.Command(bin, "-test.run=^"+regexp.QuoteMeta(name)+"$", "-test.v", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{}}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s as uid %d: %v\n%s", name, nobody, err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+name+" ") {
		t.Fatalf("%s as uid %d did not pass:\n%s", name, nobody, out)
	}
	t.Logf("ran as uid %d, passed", nobody)
	return true
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// TestUnprivilegedChild: the child really runs without root's power to
// read anything, or the permission tests would prove nothing.
func TestUnprivilegedChild(t *testing.T) {
	if asUnprivileged(t) {
		return
	}
	path := filepath.Join(t.TempDir(), "secret")
	writeFile(t, path, "x\n")
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Open(path); !os.IsPermission(err) {
		t.Fatalf("open of a mode-000 file as uid %d: %v, want a permission error", os.Geteuid(), err)
	}
}
