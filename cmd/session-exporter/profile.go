//go:build profile

// Built with -tags profile, the exporter serves net/http/pprof on the
// address in SESSION_EXPORTER_PPROF, apart from the metrics listener, so
// the live path can be profiled under tools/livecheck:
//
//	go build -tags profile -o bin/session-exporter-profile ./cmd/session-exporter
//	SESSION_EXPORTER_PPROF=127.0.0.1:6060 go run ./tools/livecheck -bin bin/session-exporter-profile -rate 400000 -for 40s &
//	go tool pprof -top 'http://127.0.0.1:6060/debug/pprof/profile?seconds=20'
//
// Release builds do not contain it.
package main

import (
	"fmt"
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	addr := os.Getenv("SESSION_EXPORTER_PPROF")
	if addr == "" {
		return
	}
	go func() {
		if err := http.ListenAndServe(addr, nil); err != nil {
			fmt.Fprintln(os.Stderr, "session-exporter: profiling listener:", err)
		}
	}()
}
