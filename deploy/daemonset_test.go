package deploy

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/session-exporter/session-exporter/collector/config"
	"github.com/session-exporter/session-exporter/collector/input"
)

type daemonSetSpec struct {
	Selector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	} `yaml:"selector"`
	UpdateStrategy       struct{ Type string } `yaml:"updateStrategy"`
	MinReadySeconds      int                   `yaml:"minReadySeconds"`
	RevisionHistoryLimit int                   `yaml:"revisionHistoryLimit"`
	Template             struct {
		Metadata k8sMeta `yaml:"metadata"`
		Spec     podSpec `yaml:"spec"`
	} `yaml:"template"`
}

// TestKubernetesDaemonSet checks deploy/kubernetes/daemonset: the
// kustomization's files, a hardened pod that reads the node's container logs
// read-only and writes only its state, and a config that loads and reads
// the controller's CRI logs through the mounts.
func TestKubernetesDaemonSet(t *testing.T) {
	const dir = "kubernetes/daemonset"
	var k kustomization
	decodeYAMLFile(t, filepath.Join(dir, "kustomization.yaml"), &k)
	if k.Kind != "Kustomization" || len(k.Resources) != 2 {
		t.Fatalf("kustomization.yaml: kind %q, resources %v", k.Kind, k.Resources)
	}
	var files []string
	for _, r := range k.Resources {
		files = append(files, filepath.Join(dir, r))
	}
	var ds *k8sObject
	configMaps := map[string]map[string]string{}
	for _, o := range k8sObjects(t, files...) {
		switch o.Kind {
		case "DaemonSet":
			ds = &o
		case "ConfigMap":
			configMaps[o.Metadata.Name] = o.Data
		default:
			t.Errorf("%s: unexpected %s", o.file, o.Kind)
		}
	}
	if ds == nil {
		t.Fatal("no DaemonSet")
	}
	var spec daemonSetSpec
	if err := strictDecode(&ds.Spec, &spec); err != nil {
		t.Fatalf("DaemonSet spec: %v", err)
	}
	if !labelsMatch(spec.Selector.MatchLabels, spec.Template.Metadata.Labels) {
		t.Errorf("selector %v does not select the pod labels %v", spec.Selector.MatchLabels, spec.Template.Metadata.Labels)
	}
	pod := spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(pod.Containers))
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	if pod.SecurityContext.SeccompProfile.Type != "RuntimeDefault" || pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("pod: want seccomp RuntimeDefault and no service account token")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		!slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) || len(sc.Capabilities.Add) > 0 || sc.Privileged != nil && *sc.Privileged {
		t.Errorf("container security context %+v: want no escalation, read-only root, every capability dropped", sc)
	}
	for _, r := range []string{"cpu", "memory"} {
		if c.Resources.Requests[r] == "" || c.Resources.Limits[r] == "" {
			t.Errorf("resources need requests and limits for %s", r)
		}
	}

	// Mounts: config and host logs read-only, the state directory writable.
	volumes := map[string]volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	mounts := map[string]string{} // mount path -> volume
	for _, m := range c.VolumeMounts {
		v, ok := volumes[m.Name]
		if !ok {
			t.Fatalf("mount of undeclared volume %s", m.Name)
		}
		if v.HostPath != nil && v.HostPath.Path == "/var/log" && !m.ReadOnly {
			t.Errorf("host /var/log mounted writable at %s", m.MountPath)
		}
		if v.HostPath != nil && v.HostPath.Path != m.MountPath {
			t.Errorf("host %s mounted at %s: container log symlinks point at host paths, mount them at the same path", v.HostPath.Path, m.MountPath)
		}
		mounts[m.MountPath] = m.Name
	}
	mountFor := func(p string) (string, bool) {
		best := ""
		for mp := range mounts {
			if underDir(p, mp) && len(mp) > len(best) {
				best = mp
			}
		}
		for _, m := range c.VolumeMounts {
			if m.MountPath == best {
				return m.Name, m.ReadOnly
			}
		}
		return "", false
	}

	// The config: the file the args name, from the ConfigMap mounted there.
	var cfgPath string
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "--config.file="); ok {
			cfgPath = v
		}
	}
	vol, _ := mountFor(cfgPath)
	cm := volumes[vol].ConfigMap
	if cfgPath == "" || cm == nil {
		t.Fatalf("args %v: the config file is not on a ConfigMap volume", c.Args)
	}
	text, ok := configMaps[cm.Name][filepath.Base(cfgPath)]
	if !ok {
		t.Fatalf("ConfigMap %s has no %s", cm.Name, filepath.Base(cfgPath))
	}
	cfg, err := config.Parse([]byte(text))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	if len(cfg.Logs) != 1 || cfg.Logs[0].Container != "cri" || cfg.Logs[0].Format != "ingress-nginx" {
		t.Fatalf("config logs %+v: want one CRI log in the ingress-nginx format", cfg.Logs)
	}
	logPath := cfg.Logs[0].Path
	if name, _ := mountFor(logPath); volumes[name].HostPath == nil || volumes[name].HostPath.Path != "/var/log" {
		t.Errorf("log path %s is not under the host's /var/log mount", logPath)
	}
	if name, ro := mountFor(cfg.StateFile); name == "" || ro || volumes[name].HostPath == nil {
		t.Errorf("state file %s is not on a writable hostPath mount", cfg.StateFile)
	}
	if port := listenPort(t, cfg.Listen); len(c.Ports) != 1 || c.Ports[0].ContainerPort != port {
		t.Errorf("listen port %d is not the container's port %+v", port, c.Ports)
	}
	if a := spec.Template.Metadata.Annotations; a["prometheus.io/port"] != fmt.Sprint(listenPort(t, cfg.Listen)) {
		t.Errorf("prometheus.io/port %q, want the listen port", a["prometheus.io/port"])
	}

	// The glob matches the kubelet's name for the controller's log, and a
	// CRI record of the controller's access log is read.
	kubelet := "/var/log/containers/ingress-nginx-controller-7d9f8b6c5-x2x9q_ingress-nginx_controller-3f1e2d4c5b6a79881726354453627181.log"
	if ok, err := filepath.Match(logPath, kubelet); err != nil || !ok {
		t.Errorf("log path %s does not match the kubelet's %s", logPath, kubelet)
	}
	var rec input.Record
	line := `2026-11-02T10:15:42.123456789Z stdout F 192.0.2.10 - - [02/Nov/2026:10:15:42 +0000] "GET / HTTP/2.0" 200 5 "-" "Mozilla/5.0" 312 0.004 [default-web-80] [] 10.244.0.12:8080 5 0.004 200 5a6c`
	if !input.CRI([]byte(line), &rec) || rec.Stream&input.StreamOf(cfg.Logs[0].Stream) == 0 {
		t.Errorf("a CRI record of the controller's stdout is not read: %+v", rec)
	}
}
