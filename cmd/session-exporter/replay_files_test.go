package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/session-exporter/session-exporter/collector/loggen"
)

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func zstdBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	return w.EncodeAll(b, nil)
}

// TestReplayRotatedSet: a rotated set given in the shell's order, some of
// it compressed, replays exactly as the one plain file it was cut from;
// read newest first, it would not (visits spanning a rotation would split
// and lines would be late).
func TestReplayRotatedSet(t *testing.T) {
	dir := t.TempDir()
	all, lines := genLog(t, dir, 21, 8000)
	parts := [4][]byte{}
	for i, l := range lines {
		parts[i*4/len(lines)] = append(parts[i*4/len(lines)], l...)
	}
	// Oldest first: access.log.3.gz, access.log.2.gz (zstd inside), access.log.1, access.log.
	set := filepath.Join(dir, "set")
	if err := os.Mkdir(set, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"access.log.3.gz": gzipBytes(t, parts[0]),
		"access.log.2.gz": zstdBytes(t, parts[1]), // by magic bytes, not by name
		"access.log.1":    parts[2],
		"access.log":      parts[3],
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(set, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	glob, err := filepath.Glob(filepath.Join(set, "access.log*"))
	if err != nil || len(glob) != 4 {
		t.Fatalf("glob: %v %v", glob, err)
	}
	code, want, stderr := runCLI("replay", "-o", "json", all)
	if code != 0 {
		t.Fatalf("plain file: exit %d: %s", code, stderr)
	}
	code, got, stderr := runCLI(append([]string{"replay", "-o", "json"}, glob...)...)
	if code != 0 {
		t.Fatalf("rotated set: exit %d: %s", code, stderr)
	}
	var w, g map[string]any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatal(err)
	}
	if w["late"].(float64) != 0 || g["late"].(float64) != 0 {
		t.Errorf("late events: plain %v, rotated set %v; want none", w["late"], g["late"])
	}
	if want != got {
		t.Errorf("rotated set differs from the plain file:\n%s\n---\n%s", got, want)
	}
	// Standard input may be compressed too.
	var o, e bytes.Buffer
	if code := run([]string{"replay", "-o", "json", "-"}, bytes.NewReader(gzipBytes(t, []byte(strings.Join(func() []string {
		var s []string
		for _, l := range lines {
			s = append(s, string(l))
		}
		return s
	}(), "")))), &o, &e); code != 0 || o.String() != want {
		t.Errorf("gzip'd standard input: exit %d, %s; differs from the plain file: %v", code, e.String(), o.String() != want)
	}
}

// TestReplayUnparsedFile: a file of which no line parses is exit code 3
// with one line naming the file and the format; the output is still
// written, and a file with some bad lines is no error.
func TestReplayUnparsedFile(t *testing.T) {
	dir := t.TempDir()
	good, _ := genLog(t, dir, 5, 500)
	caddyLog := filepath.Join(dir, "caddy.log")
	g := loggen.New(loggen.Options{Seed: 5, Format: loggen.Caddy})
	var b []byte
	for range 50 {
		b = append(g.Next(b), '\n')
	}
	writeFile(t, caddyLog, string(b))

	code, out, stderr := runCLI("replay", "-format", "combined", good, caddyLog)
	if code != 3 {
		t.Fatalf("exit %d, want 3; stderr %q", code, stderr)
	}
	want := "session-exporter: replay: no line of " + caddyLog + " parses as combined (50 lines rejected, mostly syntax): try -format auto, or give the log_format with -format\n"
	if stderr != want {
		t.Errorf("stderr\n got %q\nwant %q", stderr, want)
	}
	if !strings.Contains(out, "lines read 550, rejected 50") {
		t.Errorf("the table is not written: %q", out)
	}
	// With auto (the default) both files parse.
	if code, _, stderr := runCLI("replay", good, caddyLog); code != 0 {
		t.Errorf("auto: exit %d: %s", code, stderr)
	}
	// auto cannot read a custom log_format: the hint says what to give.
	custom := writeFile(t, filepath.Join(dir, "custom.log"), "GET /a 200 0.004\nGET /b 200 0.010\n")
	code, _, stderr = runCLI("replay", custom)
	if code != 3 || !strings.Contains(stderr, "parses as auto") || !strings.Contains(stderr, "give its log_format with -format") {
		t.Errorf("custom log with auto: exit %d, %q", code, stderr)
	}
	// An empty file is not an error.
	empty := writeFile(t, filepath.Join(dir, "empty.log"), "")
	if code, _, stderr := runCLI("replay", empty); code != 0 {
		t.Errorf("empty file: exit %d: %s", code, stderr)
	}
}

// TestReplaySessionsFormatWithoutConfig: docs/running.md's sessions
// log_format replays without -config or -format.
func TestReplaySessionsFormatWithoutConfig(t *testing.T) {
	dir := t.TempDir()
	g := loggen.New(loggen.Options{Seed: 8, Format: loggen.Sessions, Visitors: 200})
	var b []byte
	for range 2000 {
		b = append(g.Next(b), '\n')
	}
	p := writeFile(t, filepath.Join(dir, "sessions.log"), string(b))
	code, out, stderr := runCLI("replay", "-o", "json", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var sum struct {
		Total    struct{ Sessions uint64 }
		Rejected map[string]uint64
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Total.Sessions == 0 || len(sum.Rejected) != 0 {
		t.Errorf("sessions %d, rejected %v; want sessions and nothing rejected", sum.Total.Sessions, sum.Rejected)
	}
}
