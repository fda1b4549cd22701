// Command session-exporter turns web-server access logs into web-analytics
// session metrics: live beside nginx or Caddy, or over files with replay.
package main

import (
	"os"
	_ "time/tzdata" // session.timezone must work on machines without zoneinfo
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
