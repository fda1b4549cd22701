// Command loggen writes generated access-log traffic (collector/loggen) to
// standard output, for benchmarks and experiments:
//
//	go run ./tools/loggen -n 2000000 > /tmp/big.log
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/session-exporter/session-exporter/collector/loggen"
)

func main() {
	n := flag.Int("n", 1_000_000, "lines to write")
	seed := flag.Uint64("seed", 1, "random seed")
	visitors := flag.Int("visitors", 50_000, "distinct visitors")
	rate := flag.Float64("rate", 20, "new visits per second of event time")
	format := flag.String("format", "combined", "combined, caddy, common, vhost_combined, traefik, ingress-nginx, cloudfront or sessions")
	start := flag.String("start", "2026-11-02T00:00:00Z", "event time of the first line (RFC 3339)")
	flag.Parse()
	t, err := time.Parse(time.RFC3339, *start)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loggen: -start:", err)
		os.Exit(2)
	}
	o := loggen.Options{Seed: *seed, Start: t, Visitors: *visitors, Rate: *rate}
	f, ok := loggen.FormatNames[*format]
	if !ok {
		fmt.Fprintf(os.Stderr, "loggen: -format %q is not one of combined, caddy, common, vhost_combined, traefik, ingress-nginx, cloudfront, sessions\n", *format)
		os.Exit(2)
	}
	o.Format = f
	g := loggen.New(o)
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	var line []byte
	for i := 0; i < *n; i++ {
		line = append(g.Next(line[:0]), '\n')
		if _, err := w.Write(line); err != nil {
			fmt.Fprintln(os.Stderr, "loggen:", err)
			os.Exit(1)
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "loggen:", err)
		os.Exit(1)
	}
}
