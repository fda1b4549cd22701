// Package deploy holds the deployment files of session-exporter: the
// Kubernetes manifests, the systemd unit and the Docker Compose stack. It has
// no code: its tests check those files as far as a machine without a
// cluster, a container engine or systemd allows, and show with replays why
// the exporters of several web servers must each see whole visitors
// (docs/scaling.md).
package deploy
