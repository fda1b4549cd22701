package decompress

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

const text = "127.0.0.1 - - [01/Dec/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"Mozilla/5.0\"\n"

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zst(t *testing.T, s string) []byte {
	t.Helper()
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	return w.EncodeAll([]byte(s), nil)
}

// bz2 compresses with the bzip2 command: the standard library only reads it.
func bz2(t *testing.T, s string) []byte {
	t.Helper()
	path, err := exec.LookPath("bzip2")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("bzip2 is needed in CI: apt-get install bzip2")
		}
		t.Skip("bzip2 not installed")
	}
	cmd := exec.Command(path, "-c")
	cmd.Stdin = strings.NewReader(s)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReadEveryFormat(t *testing.T) {
	for _, tc := range []struct {
		name string
		data func(*testing.T, string) []byte
		kind Kind
	}{
		{"plain", func(_ *testing.T, s string) []byte { return []byte(s) }, None},
		{"gzip", gz, Gzip},
		{"zstd", zst, Zstd},
		{"bzip2", bz2, Bzip2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.Repeat(text, 1000)
			rc, k, err := NewReader(bytes.NewReader(tc.data(t, in)))
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			if k != tc.kind {
				t.Errorf("kind = %v, want %v", k, tc.kind)
			}
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != in {
				t.Errorf("read %d bytes, want the %d written", len(got), len(in))
			}
		})
	}
}

func TestDetectDoesNotMistakeText(t *testing.T) {
	for _, s := range []string{"", "B", "BZh", "BZhello world", "\x1f", "(\xb5/", "GET / HTTP/1.1"} {
		if k := detect([]byte(s)); k != None {
			t.Errorf("Detect(%q) = %v, want none", s, k)
		}
	}
}

func TestHeadOfTruncatedGzip(t *testing.T) {
	// A rotation compressed while the exporter looks: only part of the
	// stream is on disk yet. Head still gives the start of the text.
	var b strings.Builder
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&b, "%d %s", i*7919%100003, text)
	}
	full := gz(t, b.String())
	path := filepath.Join(t.TempDir(), "access.log.1.gz")
	if err := os.WriteFile(path, full[:len(full)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	head, k, err := Head(path, 64)
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	if want := b.String()[:64]; k != Gzip || string(head) != want {
		t.Errorf("Head = %v %q, want gzip %q", k, head, want)
	}
}

func TestCorruptGzipIsAnError(t *testing.T) {
	_, _, err := NewReader(bytes.NewReader([]byte{0x1f, 0x8b, 0, 0, 0}))
	if err == nil {
		t.Fatal("a broken gzip header gave no error")
	}
}

// FuzzNewReader feeds arbitrary bytes: reading them never panics, and input
// with no recognised magic comes back unchanged.
func FuzzNewReader(f *testing.F) {
	f.Add([]byte(text))
	f.Add(gz(&testing.T{}, text))
	f.Add([]byte("BZh9garbage"))
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		rc, k, err := NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		defer rc.Close()
		got, _ := io.ReadAll(io.LimitReader(rc, 1<<20))
		if k == None && !bytes.Equal(got, data) {
			t.Fatalf("plain input changed: %q -> %q", data, got)
		}
	})
}
