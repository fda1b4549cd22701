package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDeviceDetectorCorpus: browser fixtures with a device type become
// corpus lines, each agent once, with device-detector's types mapped to
// ours; other clients, entries with headers, bots.yml and the clienthints
// files are left out.
func TestDeviceDetectorCorpus(t *testing.T) {
	const (
		phablet = "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"
		tv      = "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 85.0/6.0 TV Safari/537.36"
	)
	dir := t.TempDir()
	fx := filepath.Join(dir, "Tests", "fixtures")
	if err := os.MkdirAll(fx, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(fx, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("tablet.yml", `-
  user_agent: Tab One
  client: {type: browser, name: Chrome}
  device: {type: tablet, brand: X}
-
  user_agent: Tab One
  client: {type: browser}
  device: {type: smartphone}
-
  user_agent: App On A Tablet
  client: {type: mobile app}
  device: {type: tablet}
-
  user_agent: With Headers
  headers: {Sec-CH-UA-Mobile: "?0"}
  client: {type: browser}
  device: {type: tablet}
-
  user_agent: No Device
  client: {type: browser}
  device: {type: ""}
`)
	write("phablet.yml", `-
  user_agent: "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"
  client: {type: browser}
  device: {type: phablet}
-
  user_agent: "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 85.0/6.0 TV Safari/537.36"
  client: {type: browser}
  device: {type: tv}
`)
	write("bots.yml", `-
  user_agent: Some Bot
  client: {type: browser}
  device: {type: desktop}
`)
	write("clienthints.yml", `-
  user_agent: Hinted
  client: {type: browser}
  device: {type: desktop}
`)
	got, err := deviceDetectorCorpus(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Files in name order: phablet.yml before tablet.yml.
	want := []string{"mobile\t" + phablet, "other\t" + tv, "tablet\tTab One"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("corpus (-want +got):\n%s", diff)
	}

	sample := filepath.Join(dir, "sample.tsv")
	if err := os.WriteFile(sample, []byte("tablet\tTab One\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := judgeDeviceDetector(&out, dir, sample, false); err != nil {
		t.Fatal(err)
	}
	i := strings.Index(out.String(), "held out")
	if i < 0 {
		t.Fatalf("no held-out report:\n%s", out.String())
	}
	held := out.String()[i:]
	for _, want := range []string{"humans called bots: 0 of 2 ", "100.00% of 1\n"} {
		if !strings.Contains(held, want) {
			t.Errorf("held-out report should judge the phablet and the TV only, and rightly; it has no %q:\n%s", want, held)
		}
	}
	if strings.Contains(held, "\ntablet ") {
		t.Errorf("held-out report judges the sample's tablet:\n%s", held)
	}

	if _, err := deviceDetectorCorpus(t.TempDir()); err == nil {
		t.Error("a directory without fixtures is not an error")
	}
}
