// Command uaeval judges the user-agent rules of collector/classify against
// corpora of real agents with known verdicts, and prints bot recall, humans
// called bots and device confusion matrices.
//
//	go run ./tools/uaeval                       # the corpus in collector/classify/testdata/ua
//	go run ./tools/uaeval -v more.tsv           # other files too, listing every miss
//	go run ./tools/uaeval -device-detector DIR  # also all of device-detector's browser fixtures
//
// With -device-detector, DIR is a checkout of matomo-org/device-detector:
// every browser fixture of its Tests/fixtures is judged, chosen and given a
// device class as collector/classify/testdata/ua/README.md says for the
// committed sample, and so are the fixtures outside that sample ("held
// out"). The fixtures are read as test data only.
//
// A corpus file has one agent a line: verdict, a tab, the agent. The verdict
// is "bot", "human" (not a bot, device not judged) or a device class
// ("desktop", "mobile", "tablet", "other"), which also means not a bot.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/session-exporter/session-exporter/collector/classify"
)

func main() {
	dir := flag.String("dir", "collector/classify/testdata/ua", "directory of corpus files (*.tsv); empty for none")
	verbose := flag.Bool("v", false, "list every agent judged wrongly")
	dd := flag.String("device-detector", "", "a device-detector checkout whose browser fixtures to judge, all and held out")
	flag.Parse()
	files := flag.Args()
	if *dir != "" {
		m, err := filepath.Glob(filepath.Join(*dir, "*.tsv"))
		if err != nil {
			fail(err)
		}
		files = append(m, files...)
	}
	if len(files) == 0 && *dd == "" {
		fail(fmt.Errorf("no corpus files (run from the repository root, or name files)"))
	}
	for _, f := range files {
		if err := judge(os.Stdout, f, *verbose); err != nil {
			fail(err)
		}
	}
	if *dd != "" {
		sample := ""
		if *dir != "" {
			sample = filepath.Join(*dir, "device-detector-browsers.tsv")
		}
		if err := judgeDeviceDetector(os.Stdout, *dd, sample, *verbose); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "uaeval:", err)
	os.Exit(1)
}

// Stats are the verdicts on one corpus.
type stats struct {
	bots, botsFound     int
	humans, humansAsBot int
	// confusion[want][got], for agents with a device verdict and not
	// called bots.
	confusion [classify.NumDevices][classify.NumDevices]int
	misses    []string
}

func judge(w io.Writer, path string, verbose bool) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	return judgeReader(w, path, fh, verbose)
}

// judgeReader judges the corpus lines of r; path names it in the report.
func judgeReader(w io.Writer, path string, r io.Reader, verbose bool) error {
	var st stats
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		verdict, ua, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			return fmt.Errorf("%s:%d: no tab between verdict and agent", path, n)
		}
		bot, dev, err := classify.UserAgent([]byte(ua))
		if err != nil {
			return err
		}
		switch verdict {
		case "bot":
			st.bots++
			if bot {
				st.botsFound++
			} else {
				st.misses = append(st.misses, "missed bot\t"+ua)
			}
			continue
		case "human":
			st.humans++
			if bot {
				st.humansAsBot++
				st.misses = append(st.misses, "human as bot\t"+ua)
			}
			continue
		}
		want, ok := classify.ParseDevice(verdict)
		if !ok {
			return fmt.Errorf("%s:%d: unknown verdict %q", path, n, verdict)
		}
		st.humans++
		if bot {
			st.humansAsBot++
			st.misses = append(st.misses, "human as bot\t"+ua)
			continue
		}
		st.confusion[want][dev]++
		if dev != want {
			st.misses = append(st.misses, fmt.Sprintf("%s as %s\t%s", want, dev, ua))
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	fmt.Fprintf(w, "== %s\n", filepath.Base(path))
	if st.bots > 0 {
		fmt.Fprintf(w, "bot recall: %d of %d = %.2f%%\n", st.botsFound, st.bots, pct(st.botsFound, st.bots))
	}
	if st.humans > 0 {
		fmt.Fprintf(w, "humans called bots: %d of %d = %.2f%%\n", st.humansAsBot, st.humans, pct(st.humansAsBot, st.humans))
	}
	var judged int
	for _, row := range st.confusion {
		for _, n := range row {
			judged += n
		}
	}
	if judged > 0 {
		fmt.Fprintf(w, "devices (rows: expected, columns: got; recall per class)\n%-8s", "")
		for d := 0; d < classify.NumDevices; d++ {
			fmt.Fprintf(w, "%9s", classify.Device(d))
		}
		fmt.Fprintln(w)
		for want := 0; want < classify.NumDevices; want++ {
			row := st.confusion[want]
			total := 0
			for _, n := range row {
				total += n
			}
			if total == 0 {
				continue
			}
			fmt.Fprintf(w, "%-8s", classify.Device(want))
			for _, n := range row {
				fmt.Fprintf(w, "%9d", n)
			}
			fmt.Fprintf(w, "   %6.2f%% of %d\n", pct(row[want], total), total)
		}
	}
	if verbose {
		sort.Strings(st.misses)
		for _, m := range st.misses {
			fmt.Fprintln(w, "  "+m)
		}
	}
	fmt.Fprintln(w)
	return nil
}

func pct(a, b int) float64 { return 100 * float64(a) / float64(b) }
