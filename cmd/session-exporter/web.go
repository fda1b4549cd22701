package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"

	"github.com/prometheus/exporter-toolkit/web"
)

// webServe returns how to serve the metrics endpoint: plain HTTP, or TLS and
// basic auth from a Prometheus web config file (the format every Prometheus
// exporter reads). The file is checked now, so a mistake is a start-up error.
func webServe(path string, log *slog.Logger) (func(*http.Server, net.Listener) error, error) {
	if path == "" {
		return nil, nil
	}
	if err := web.Validate(path); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) { // the error names the file already
			return nil, fmt.Errorf("-web.config.file: %w", err)
		}
		return nil, fmt.Errorf("-web.config.file %s: %w", path, err)
	}
	return func(srv *http.Server, ln net.Listener) error {
		return web.Serve(ln, srv, &web.FlagConfig{WebConfigFile: &path}, log)
	}, nil
}
