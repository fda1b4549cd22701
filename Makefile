# session-exporter: build, run and test.
GO       ?= go
PKGS     := ./...
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
BIN      := bin/session-exporter

.PHONY: all build run test vet staticcheck fmt-check fuzz-short bench memcheck livecheck livecheck-1m e2e clean

all: test

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/session-exporter

## run: the exporter on generated demo traffic, metrics on http://127.0.0.1:9464/metrics
run: build
	$(BIN) demo

## test: formatting, vet, staticcheck, every unit and integration test with the race detector
test: fmt-check vet staticcheck
	$(GO) test -race -count=1 -timeout 30m $(PKGS)

vet:
	$(GO) vet $(PKGS)

## staticcheck: the pinned staticcheck, installed into the Go bin directory on first use
STATICCHECK_VERSION := 2026.2.2
staticcheck:
	@bin=$$($(GO) env GOPATH)/bin/staticcheck; \
	if ! $$bin -version 2>/dev/null | grep -q '$(STATICCHECK_VERSION)'; then \
	  echo "installing staticcheck $(STATICCHECK_VERSION)"; \
	  $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2 || exit 1; \
	fi; \
	$$bin $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## fuzz-short: a few seconds of every fuzz target (CI runs this). A failing
## input is saved under the package's testdata/fuzz and fails the target; a run
## that fails without saving one (the fuzzer stopping its workers late, as
## "context deadline exceeded", on a loaded machine) is tried up to twice more.
FUZZTIME ?= 5s
fuzz-short:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; \
	    before=$$(ls $$dir/testdata/fuzz/$$f 2>/dev/null | wc -l); \
	    for try in 1 2 3; do \
	      if $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg; then break; fi; \
	      after=$$(ls $$dir/testdata/fuzz/$$f 2>/dev/null | wc -l); \
	      if [ "$$after" != "$$before" ]; then echo "fuzz $$f found a failing input in $$dir/testdata/fuzz/$$f"; exit 1; fi; \
	      if [ $$try = 3 ]; then echo "fuzz $$f failed three times without a failing input"; exit 1; fi; \
	      echo "fuzz $$f failed without a failing input; trying again"; \
	    done; \
	  done; done

## bench: the benchmarks behind docs/performance.md
bench:
	GOMAXPROCS=1 $(GO) test -run='^$$' -bench=. -benchmem -count=1 ./collector/...

## memcheck: bytes of memory per open session (docs/performance.md)
memcheck: build
	$(GO) run ./tools/memcheck -bin $(BIN)

## livecheck: /metrics delay and CPU while 50,000 lines/s are appended
livecheck: build
	$(GO) run ./tools/livecheck -bin $(BIN) -rate 50000 -for 20s

## livecheck-1m: the same at 1,000,000 lines/s (fails if the writer or the exporter cannot keep up)
livecheck-1m: build
	$(GO) run ./tools/livecheck -bin $(BIN) -rate 1000000 -for 20s

## e2e: real nginx, Caddy and Prometheus around the built exporter (see .ci/run for packages)
e2e: build
	$(GO) test -count=1 -tags e2e -v -timeout 10m ./e2e/

clean:
	rm -rf bin
