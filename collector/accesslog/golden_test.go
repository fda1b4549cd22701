package accesslog

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current parsers")

// customFormat is the log_format of testdata/custom.log.
const customFormat = `$remote_addr $host [$time_iso8601] $msec $request_method $uri "$args" $status $body_bytes_sent $request_time "$http_referer" "$http_user_agent" "$http_x_forwarded_for" $upstream_response_time`

// fixtures maps each testdata log to the format it is written in.
var fixtures = []struct{ file, format string }{
	{"combined.log", "combined"},
	{"main.log", "main"},
	{"caddy.log", "caddy"},
	{"custom.log", customFormat},
	{"mixed.log", "auto"},
	{"common.log", "common"},
	{"vhost_combined.log", "vhost_combined"},
	{"traefik.log", "traefik"},
	{"ingress-nginx.log", "ingress-nginx"},
	{"cloudfront.log", "cloudfront"},
}

// readLines returns the lines of a file, without their newlines.
func readLines(tb testing.TB, path string) [][]byte {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			tb.Fatal(err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			tb.Fatal(path, err)
		}
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return lines
}

// TestGolden parses each testdata log and compares every result with its
// .golden file, one JSON object per line. Run with -update to rewrite them.
func TestGolden(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.file, func(t *testing.T) {
			p := mustNew(t, fx.format)
			var out bytes.Buffer
			enc := json.NewEncoder(&out)
			for i, line := range readLines(t, filepath.Join("testdata", fx.file)) {
				var r Request
				err := p.Parse(line, &r)
				if err == ErrComment {
					continue
				}
				if err != nil {
					t.Errorf("line %d: %v", i+1, err)
					continue
				}
				if err := enc.Encode(viewOf(&r)); err != nil {
					t.Fatal(err)
				}
			}
			golden := filepath.Join("testdata", strings.TrimSuffix(fx.file, ".log")+".golden")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(want, out.Bytes()) {
				wl, gl := strings.Split(string(want), "\n"), strings.Split(out.String(), "\n")
				for i := 0; i < len(wl) && i < len(gl); i++ {
					if wl[i] != gl[i] {
						t.Fatalf("line %d differs from %s (run with -update if intended)\n got: %s\nwant: %s", i+1, golden, gl[i], wl[i])
					}
				}
				t.Fatalf("%s has %d lines, parsers give %d (run with -update if intended)", golden, len(wl), len(gl))
			}
		})
	}
}

// TestSharedSamples parses the project's sample logs (testdata/samples at
// the repository's root), which must have no rejected line.
func TestSharedSamples(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "samples")
	for _, tc := range []struct{ file, format string }{
		{"sample-combined.log.gz", "combined"},
		{"sample-combined.log.gz", "auto"},
		{"sample-caddy.log.gz", "caddy"},
		{"sample-caddy.log.gz", "auto"},
	} {
		t.Run(tc.file+"/"+tc.format, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			lines := readLines(t, path)
			truth, err := os.ReadFile(strings.TrimSuffix(path, ".log.gz") + ".truth.json")
			if err != nil {
				t.Fatal(err)
			}
			var meta struct{ Lines int }
			if err := json.Unmarshal(truth, &meta); err != nil {
				t.Fatal(err)
			}
			if meta.Lines != len(lines) {
				t.Errorf("%s has %d lines, its truth file says %d", tc.file, len(lines), meta.Lines)
			}
			p := mustNew(t, tc.format)
			rejected := map[Reason]int{}
			for i, line := range lines {
				var r Request
				if err := p.Parse(line, &r); err != nil {
					if rejected[ReasonOf(err)]++; rejected[ReasonOf(err)] <= 3 {
						t.Errorf("line %d: %v: %q", i+1, err, line)
					}
					continue
				}
				if r.Host != nil && string(r.Host) != "www.example.com" {
					t.Errorf("line %d: host %q", i+1, r.Host)
				}
			}
			if len(rejected) > 0 {
				t.Errorf("rejected lines by reason: %v", rejected)
			}
		})
	}
}
