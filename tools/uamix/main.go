// Command uamix rewrites the user agent of a share of the lines of an
// nginx "combined" log with agents from a list, to measure what agents the
// exporter has not seen before cost:
//
//	go run ./tools/loggen -n 300000 > /tmp/base.log
//	go run ./tools/uamix -agents agents.txt -share 0.1 < /tmp/base.log > /tmp/new.log
//	go run ./tools/uamix -agents agents.txt -share 0.03 -pool 30000 < big.log > /tmp/tail.log
//
// The agents file has one agent a line (a "verdict<TAB>agent" corpus line
// of collector/classify/testdata/ua is read as its agent). Without -pool
// every rewritten line takes the next agent of the list, so each is seen
// once until the list runs out (it then starts over); with -pool N the
// rewritten lines draw from the first N agents at random. The choice of
// lines is random with -seed.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
)

func main() {
	agents := flag.String("agents", "", "file of agents, one a line")
	share := flag.Float64("share", 0.1, "share of lines whose agent is replaced")
	pool := flag.Int("pool", 0, "draw from the first N agents at random (0: each agent once, in order)")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if err := run(*agents, *share, *pool, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "uamix:", err)
		os.Exit(1)
	}
}

func run(path string, share float64, pool int, seed uint64) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var uas [][]byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if _, ua, ok := bytes.Cut(l, []byte("\t")); ok {
			l = ua
		}
		// A quote or backslash would need escaping in the log; skip those.
		if len(l) > 0 && !bytes.ContainsAny(l, "\"\\") {
			uas = append(uas, l)
		}
	}
	if len(uas) == 0 {
		return fmt.Errorf("%s: no agents", path)
	}
	if pool > 0 && pool < len(uas) {
		uas = uas[:pool]
	}
	r := rand.New(rand.NewPCG(seed, 0))
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64<<10), 1<<20)
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	next := 0
	var line []byte
	for in.Scan() {
		line = append(line[:0], in.Bytes()...)
		if r.Float64() < share {
			// The agent is the last quoted field of a combined line.
			end := bytes.LastIndexByte(line, '"')
			start := -1
			if end > 0 {
				start = bytes.LastIndexByte(line[:end], '"')
			}
			if start >= 0 {
				var ua []byte
				if pool > 0 {
					ua = uas[r.IntN(len(uas))]
				} else {
					ua = uas[next%len(uas)]
					next++
				}
				line = append(line[:start+1], append(append([]byte(nil), ua...), line[end:]...)...)
			}
		}
		line = append(line, '\n')
		if _, err := out.Write(line); err != nil {
			return err
		}
	}
	if err := in.Err(); err != nil {
		return err
	}
	return out.Flush()
}
