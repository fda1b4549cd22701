package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ddFixture is the part of a device-detector fixture that is judged.
type ddFixture struct {
	UserAgent string         `yaml:"user_agent"`
	Headers   map[string]any `yaml:"headers"`
	Client    struct {
		Type string `yaml:"type"`
	} `yaml:"client"`
	Device struct {
		Type string `yaml:"type"`
	} `yaml:"device"`
}

// ddDevice maps device-detector's device types to ours: phones, phablets
// and feature phones are mobile, TVs, consoles, wearables and the other
// kinds of device are other.
func ddDevice(t string) string {
	switch t {
	case "desktop", "tablet":
		return t
	case "smartphone", "phablet", "feature phone":
		return "mobile"
	}
	return "other"
}

// deviceDetectorCorpus returns every browser fixture of a device-detector
// checkout as corpus lines, each agent once: the entries of
// Tests/fixtures/*.yml (not bots.yml, not the clienthints files, no entry
// with headers) whose client type is "browser" and whose device type is
// set.
func deviceDetectorCorpus(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "Tests", "fixtures", "*.yml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no Tests/fixtures/*.yml (is it a device-detector checkout?)", dir)
	}
	seen := map[string]bool{}
	var lines []string
	for _, f := range files {
		base := filepath.Base(f)
		if base == "bots.yml" || strings.HasPrefix(base, "clienthints") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var fx []ddFixture
		if err := yaml.Unmarshal(b, &fx); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, e := range fx {
			ua := e.UserAgent
			if e.Headers != nil || e.Client.Type != "browser" || e.Device.Type == "" ||
				ua == "" || strings.ContainsAny(ua, "\t\n") || seen[ua] {
				continue
			}
			seen[ua] = true
			lines = append(lines, ddDevice(e.Device.Type)+"\t"+ua)
		}
	}
	return lines, nil
}

// judgeDeviceDetector judges all browser fixtures of a device-detector
// checkout and, when sample names the committed sample, those outside it.
func judgeDeviceDetector(w io.Writer, dir, sample string, verbose bool) error {
	lines, err := deviceDetectorCorpus(dir)
	if err != nil {
		return err
	}
	all := strings.Join(lines, "\n") + "\n"
	if err := judgeReader(w, "device-detector fixtures, all", strings.NewReader(all), verbose); err != nil {
		return err
	}
	if sample == "" {
		return nil
	}
	b, err := os.ReadFile(sample)
	if err != nil {
		return err
	}
	in := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if _, ua, ok := strings.Cut(sc.Text(), "\t"); ok {
			in[ua] = true
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", sample, err)
	}
	var out strings.Builder
	for _, l := range lines {
		if _, ua, _ := strings.Cut(l, "\t"); !in[ua] {
			out.WriteString(l + "\n")
		}
	}
	return judgeReader(w, "device-detector fixtures, held out (not in "+filepath.Base(sample)+")", strings.NewReader(out.String()), verbose)
}
