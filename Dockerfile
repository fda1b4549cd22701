# syntax=docker/dockerfile:1
#
# session-exporter image: a static binary on distroless, run as a numeric
# non-root user (so Kubernetes' runAsNonRoot can verify it).
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t session-exporter .
#   docker run --rm -p 9464:9464 \
#     -v /etc/session-exporter:/etc/session-exporter:ro \
#     -v /var/log/nginx:/var/log/nginx:ro \
#     -v session-exporter-state:/var/lib/session-exporter \
#     session-exporter
#
# The mounted config must listen on all interfaces (listen: ":9464"), not on
# 127.0.0.1, or nothing outside the container reaches /metrics. The image
# holds no config: without one the exporter exits with code 2 and says so.
# The state directory must be writable by uid 65532.
#
# No HEALTHCHECK: distroless has no shell and no HTTP client to run one.
# Orchestrators probe GET /healthz on the metrics port instead (Kubernetes
# liveness and startup probes, see deploy/kubernetes/deployment.yaml).

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd/ cmd/
COPY collector/ collector/
# The flags of `make build`. .dockerignore keeps .git out of the context,
# so the revision label of session_exporter_build_info is "unknown": pass
# the revision in VERSION (git describe does).
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/session-exporter ./cmd/session-exporter

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/session-exporter /usr/local/bin/session-exporter
USER 65532:65532
EXPOSE 9464
ENTRYPOINT ["/usr/local/bin/session-exporter"]
CMD ["-config", "/etc/session-exporter/config.yaml"]
