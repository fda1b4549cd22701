package deploy

// Every shipped deployment file (systemd unit, Docker, Compose, Kubernetes,
// nginx and Caddy snippets) checked against the code and the real tools;
// they share the parsed files and the tool helpers.

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/session-exporter/session-exporter/collector/config"
)

// TestYAMLFilesParse parses every YAML file under deploy/, every document of
// it.
func TestYAMLFilesParse(t *testing.T) {
	n := 0
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || (!strings.HasSuffix(p, ".yaml") && !strings.HasSuffix(p, ".yml")) {
			return nil
		}
		n++
		if docs := yamlDocs(t, p); len(docs) == 0 {
			t.Errorf("%s: no YAML document", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Errorf("found %d YAML files under deploy/, want the Kubernetes, Compose, Prometheus and Grafana files", n)
	}
}

// listenPort returns the port of a session-exporter listen address.
func listenPort(t *testing.T, listen string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(listen)
	if err != nil {
		t.Fatalf("listen %q: %v", listen, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("listen %q: %v", listen, err)
	}
	return n
}

// ---------------------------------------------------------------- Docker

type dockerInstruction struct {
	line int
	cmd  string // upper case
	args string
}

// dockerfile reads the repository's Dockerfile: comments dropped, line
// continuations joined.
func dockerfile(t *testing.T) []dockerInstruction {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []dockerInstruction
	var cur strings.Builder
	start := 0
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		cont := strings.HasSuffix(line, `\`)
		cur.WriteString(strings.TrimSuffix(line, `\`))
		cur.WriteByte(' ')
		if cont {
			continue
		}
		cmd, args, _ := strings.Cut(strings.TrimSpace(cur.String()), " ")
		out = append(out, dockerInstruction{start, strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// dockerFlags splits leading --flag=value arguments off an instruction.
func dockerFlags(args string) (map[string]string, []string) {
	flags := map[string]string{}
	fields := strings.Fields(args)
	for len(fields) > 0 && strings.HasPrefix(fields[0], "--") {
		k, v, _ := strings.Cut(strings.TrimPrefix(fields[0], "--"), "=")
		flags[k] = v
		fields = fields[1:]
	}
	return flags, fields
}

func jsonArgs(t *testing.T, in dockerInstruction) []string {
	t.Helper()
	var v []string
	if err := json.Unmarshal([]byte(in.args), &v); err != nil {
		t.Fatalf("Dockerfile:%d: %s must be in exec (JSON) form: %v", in.line, in.cmd, err)
	}
	return v
}

// TestDockerfile checks the image recipe as far as possible without a
// container engine: the stages and base images, the static build with the
// version stamped into a variable that exists, a numeric non-root user, the
// port, the entry point, and that the build context holds every file the
// build reads.
func TestDockerfile(t *testing.T) {
	ins := dockerfile(t)
	var stages []string // stage names, in order
	var froms []dockerInstruction
	for _, in := range ins {
		if in.cmd == "FROM" {
			froms = append(froms, in)
			_, f := dockerFlags(in.args)
			name := ""
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				name = f[2]
			}
			stages = append(stages, name)
		}
	}
	if len(froms) != 2 {
		t.Fatalf("want a build stage and a final stage, got %d FROM", len(froms))
	}
	_, f := dockerFlags(froms[0].args)
	if f[0] != "golang:1.26" || stages[0] == "" {
		t.Errorf("Dockerfile:%d: build stage is %q, want FROM golang:1.26 AS <name>", froms[0].line, froms[0].args)
	}
	_, f = dockerFlags(froms[1].args)
	if f[0] != "gcr.io/distroless/static-debian12:nonroot" && f[0] != "scratch" {
		t.Errorf("Dockerfile:%d: final stage is %q, want distroless static nonroot", froms[1].line, f[0])
	}

	// Instructions of each stage.
	stage := -1
	byStage := [2][]dockerInstruction{}
	for _, in := range ins {
		if in.cmd == "FROM" {
			stage++
			continue
		}
		if stage >= 0 {
			byStage[stage] = append(byStage[stage], in)
		}
	}

	// The build: static, trimmed, the version stamped, our main package.
	var out string
	for _, in := range byStage[0] {
		if in.cmd != "RUN" || !strings.Contains(in.args, "go build") {
			continue
		}
		for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version=", "./cmd/session-exporter"} {
			if !strings.Contains(in.args, want) {
				t.Errorf("Dockerfile:%d: go build lacks %q", in.line, want)
			}
		}
		if m := regexp.MustCompile(`-o\s+(\S+)`).FindStringSubmatch(in.args); m != nil {
			out = m[1]
		}
	}
	if out == "" {
		t.Fatal("no `go build -o FILE` in the build stage")
	}
	if !mainHasStringVar(t, "version") {
		t.Error("-X main.version= names no package-level string variable version in cmd/session-exporter")
	}

	// The final stage: the binary copied from the build, a numeric non-root
	// user, the metrics port, the entry point and the default command.
	var binary, user string
	var exposed []string
	var entry, cmd []string
	for _, in := range byStage[1] {
		switch in.cmd {
		case "COPY":
			fl, args := dockerFlags(in.args)
			if fl["from"] == stages[0] && len(args) == 2 && args[0] == out {
				binary = args[1]
			}
		case "USER":
			user = in.args
		case "EXPOSE":
			exposed = append(exposed, strings.Fields(in.args)...)
		case "ENTRYPOINT":
			entry = jsonArgs(t, in)
		case "CMD":
			cmd = jsonArgs(t, in)
		case "HEALTHCHECK":
			t.Errorf("Dockerfile:%d: HEALTHCHECK cannot run in distroless (no shell, no HTTP client); orchestrators probe /healthz", in.line)
		case "RUN":
			t.Errorf("Dockerfile:%d: RUN in the final stage: distroless has no shell", in.line)
		}
	}
	if binary == "" {
		t.Errorf("the final stage does not copy %s from stage %s", out, stages[0])
	}
	uid, _, _ := strings.Cut(user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("USER %q: want a numeric non-root uid (Kubernetes' runAsNonRoot cannot verify a name)", user)
	}
	def := config.Default()
	if p := strconv.Itoa(listenPort(t, def.Listen)); !slices.Contains(exposed, p) {
		t.Errorf("EXPOSE %v lacks the default metrics port %s", exposed, p)
	}
	if !slices.Equal(entry, []string{binary}) {
		t.Errorf("ENTRYPOINT %q, want [%q]", entry, binary)
	}
	if !slices.Equal(cmd, []string{"-config", "/etc/session-exporter/config.yaml"}) {
		t.Errorf("CMD %q, want the config at /etc/session-exporter/config.yaml", cmd)
	}

	// The build context: every COPY source exists and is let in by
	// .dockerignore, and every file the build reads is in a COPY source.
	ignore := readDockerignore(t)
	var sources []string
	for _, in := range byStage[0] {
		if in.cmd != "COPY" && in.cmd != "ADD" {
			continue
		}
		fl, args := dockerFlags(in.args)
		if _, ok := fl["from"]; ok || len(args) < 2 {
			continue
		}
		for _, src := range args[:len(args)-1] {
			src = path.Clean(src)
			if _, err := os.Stat(filepath.Join(repoRoot, src)); err != nil {
				t.Errorf("Dockerfile:%d: COPY source %s: %v", in.line, src, err)
			}
			if ignore.excluded(src) {
				t.Errorf("Dockerfile:%d: COPY source %s is excluded by .dockerignore", in.line, src)
			}
			sources = append(sources, src)
		}
	}
	needed := append(buildFiles(t), "go.mod", "go.sum")
	for _, f := range needed {
		if ignore.excluded(f) {
			t.Errorf("%s is needed by the build but excluded by .dockerignore", f)
		}
		if !slices.ContainsFunc(sources, func(s string) bool { return s == f || underDir(f, s) }) {
			t.Errorf("%s is needed by the build but no COPY brings it in", f)
		}
	}
	for _, f := range []string{"bin/session-exporter", ".git/HEAD", "collector/replay_test.go", "collector/config/testdata/unknown_key.bad.yaml", "deploy/deploy_test.go"} {
		if !ignore.excluded(f) {
			t.Errorf("%s is in the build context; .dockerignore should leave it out", f)
		}
	}
}

// mainHasStringVar reports whether package main of cmd/session-exporter
// declares a package-level string variable name (the target of -X).
func mainHasStringVar(t *testing.T, name string) bool {
	t.Helper()
	fset := token.NewFileSet()
	dir := filepath.Join(repoRoot, "cmd", "session-exporter")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if n.Name != name {
						continue
					}
					if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "string" {
						return true
					}
					if vs.Type == nil && i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							return true
						}
					}
				}
			}
		}
	}
	return false
}

// buildFiles returns the files of this module that building the binary
// reads, relative to the repository root.
func buildFiles(t *testing.T) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f",
		`{{if .Module}}{{if .Module.Main}}{{.Dir}}|{{join .GoFiles ","}},{{join .SFiles ","}},{{join .EmbedFiles ","}}{{end}}{{end}}`,
		"./cmd/session-exporter")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		dir, names, ok := strings.Cut(line, "|")
		if !ok {
			continue
		}
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range strings.Split(names, ",") {
			if n != "" {
				files = append(files, filepath.ToSlash(filepath.Join(rel, n)))
			}
		}
	}
	if len(files) < 20 {
		t.Fatalf("go list found only %d files for the build: %q", len(files), files)
	}
	return files
}

// dockerignore is a .dockerignore, matched as Docker does: the last pattern
// matching a path or one of its parent directories decides, "!" lets in.
type dockerignore []struct {
	re     *regexp.Regexp
	negate bool
}

func readDockerignore(t *testing.T) dockerignore {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var d dockerignore
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		neg := strings.HasPrefix(line, "!")
		p := strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(line, "!")), "/")
		d = append(d, struct {
			re     *regexp.Regexp
			negate bool
		}{globRegexp(p), neg})
	}
	return d
}

// globRegexp compiles a .dockerignore pattern: * and ? within one path
// element, ** across elements.
func globRegexp(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		switch {
		case strings.HasPrefix(p[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(p[i:], "**"):
			b.WriteString(".*")
			i++
		case p[i] == '*':
			b.WriteString("[^/]*")
		case p[i] == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func (d dockerignore) excluded(file string) bool {
	var prefixes []string
	for p := path.Clean(file); p != "." && p != "/"; p = path.Dir(p) {
		prefixes = append(prefixes, p)
	}
	ex := false
	for _, pat := range d {
		if slices.ContainsFunc(prefixes, pat.re.MatchString) {
			ex = !pat.negate
		}
	}
	return ex
}

// ---------------------------------------------------------------- systemd

const unitPath = "systemd/session-exporter.service"

// unitFile reads a systemd unit: section -> key -> values, in order.
func unitFile(t *testing.T, p string) map[string]map[string][]string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	u := map[string]map[string][]string{}
	section := ""
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not a key=value line in a section: %q", p, i+1, line)
			}
			u[section][strings.TrimSpace(k)] = append(u[section][strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	return u
}

// TestSystemdUnit checks the unit's hardening and that it fits the exporter:
// the state directory is where the example config keeps its state, the
// config path is the one ExecStart passes.
func TestSystemdUnit(t *testing.T) {
	u := unitFile(t, unitPath)
	svc := u["Service"]
	if svc == nil {
		t.Fatal("no [Service] section")
	}
	for _, kv := range []struct{ key, want string }{
		{"ExecStart", "/usr/local/bin/session-exporter --config.file=/etc/session-exporter/config.yaml"},
		{"DynamicUser", "yes"},
		{"StateDirectory", "session-exporter"},
		{"ProtectSystem", "strict"},
		{"ProtectHome", "yes"},
		{"PrivateTmp", "yes"},
		{"NoNewPrivileges", "yes"},
		{"CapabilityBoundingSet", ""},
		{"RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"},
		{"Restart", "on-failure"},
		{"KillSignal", "SIGTERM"},
	} {
		if v := svc[kv.key]; len(v) != 1 || v[0] != kv.want {
			t.Errorf("%s=%q, want exactly %s=%s", kv.key, v, kv.key, kv.want)
		}
	}
	for _, kv := range []struct{ key, want string }{
		{"SupplementaryGroups", "adm"},
		{"SystemCallFilter", "@system-service"},
		{"ReadOnlyPaths", "/var/log"},
	} {
		var all []string
		for _, v := range svc[kv.key] {
			all = append(all, strings.Fields(v)...)
		}
		if !slices.Contains(all, kv.want) {
			t.Errorf("%s=%q lacks %s", kv.key, svc[kv.key], kv.want)
		}
	}
	if v := svc["TimeoutStopSec"]; len(v) != 1 || v[0] == "" || v[0] == "infinity" {
		t.Errorf("TimeoutStopSec=%q: want a bound on the stop (the exporter saves its state on SIGTERM)", v)
	}
	if v := u["Install"]["WantedBy"]; !slices.Contains(v, "multi-user.target") {
		t.Errorf("WantedBy=%q, want multi-user.target", v)
	}

	// The example config keeps its state in the StateDirectory, and the
	// config ExecStart names is the example's path.
	ex, err := config.Load(filepath.Join(repoRoot, "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if d := "/var/lib/" + svc["StateDirectory"][0]; filepath.Dir(ex.StateFile) != d {
		t.Errorf("config.example.yaml state_file %s is not in the StateDirectory %s", ex.StateFile, d)
	}
	for _, l := range ex.Logs {
		if !underDir(l.Path, "/var/log") {
			t.Errorf("config.example.yaml log %s is outside ReadOnlyPaths=/var/log", l.Path)
		}
	}
}

// unitForAnalyze writes a copy of the unit whose ExecStart names an
// executable that exists here (systemd-analyze verify insists), keeping
// everything else.
func unitForAnalyze(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	exe := "/usr/local/bin/session-exporter"
	if _, err := os.Stat(exe); err != nil {
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		b = []byte(strings.Replace(string(b), "ExecStart="+exe+" ", "ExecStart="+self+" ", 1))
	}
	p := filepath.Join(t.TempDir(), "session-exporter.service")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSystemdAnalyzeVerify runs systemd-analyze verify on the unit. It
// prints warnings (an unknown key, a misspelt system call group) and still
// exits 0, so any output is a failure.
func TestSystemdAnalyzeVerify(t *testing.T) {
	sa := requireTool(t, "systemd-analyze", true, "Debian/Ubuntu: apt-get install systemd")
	p := unitForAnalyze(t)
	out, err := run(t, filepath.Dir(p), sa, "verify", p)
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestSystemdAnalyzeSecurity scores the unit's sandbox offline (systemd
// 250 and later): 0 is fully locked down, 10 fully exposed.
func TestSystemdAnalyzeSecurity(t *testing.T) {
	sa := requireTool(t, "systemd-analyze", true, "Debian/Ubuntu: apt-get install systemd")
	p := unitForAnalyze(t)
	out, err := run(t, filepath.Dir(p), sa, "security", "--offline=true", "--no-pager", p)
	if err != nil && strings.Contains(out, "offline") {
		if _, ci := os.LookupEnv("CI"); ci {
			t.Fatalf("CI is set but this systemd-analyze cannot score units offline (systemd 250 or later needed): %s", out)
		}
		t.Skipf("this systemd-analyze cannot score units offline: %s", out)
	}
	m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	score, _ := strconv.ParseFloat(m[1], 64)
	t.Logf("systemd-analyze security: exposure %.1f", score)
	if score > 2.0 {
		t.Errorf("exposure %.1f, want at most 2.0:\n%s", score, out)
	}
}

// ---------------------------------------------------------------- Kubernetes

type k8sMeta struct {
	Name        string            `yaml:"name"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type k8sObject struct {
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   k8sMeta           `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	Spec       yaml.Node         `yaml:"spec"`
	file       string
}

type deploymentSpec struct {
	Replicas int `yaml:"replicas"`
	Selector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	} `yaml:"selector"`
	Strategy yaml.Node `yaml:"strategy"`
	Template struct {
		Metadata k8sMeta `yaml:"metadata"`
		Spec     podSpec `yaml:"spec"`
	} `yaml:"template"`
}

// podSpec lists every PodSpec field, so that a misspelt one fails to decode.
type podSpec struct {
	Containers                    []container        `yaml:"containers"`
	InitContainers                []container        `yaml:"initContainers"`
	Volumes                       []volume           `yaml:"volumes"`
	SecurityContext               podSecurityContext `yaml:"securityContext"`
	AutomountServiceAccountToken  *bool              `yaml:"automountServiceAccountToken"`
	TerminationGracePeriodSeconds *int               `yaml:"terminationGracePeriodSeconds"`
	ServiceAccountName            string             `yaml:"serviceAccountName"`
	ShareProcessNamespace         *bool              `yaml:"shareProcessNamespace"`

	ActiveDeadlineSeconds     yaml.Node `yaml:"activeDeadlineSeconds"`
	Affinity                  yaml.Node `yaml:"affinity"`
	DNSConfig                 yaml.Node `yaml:"dnsConfig"`
	DNSPolicy                 yaml.Node `yaml:"dnsPolicy"`
	EnableServiceLinks        yaml.Node `yaml:"enableServiceLinks"`
	EphemeralContainers       yaml.Node `yaml:"ephemeralContainers"`
	HostAliases               yaml.Node `yaml:"hostAliases"`
	HostIPC                   yaml.Node `yaml:"hostIPC"`
	HostNetwork               yaml.Node `yaml:"hostNetwork"`
	HostPID                   yaml.Node `yaml:"hostPID"`
	HostUsers                 yaml.Node `yaml:"hostUsers"`
	Hostname                  yaml.Node `yaml:"hostname"`
	ImagePullSecrets          yaml.Node `yaml:"imagePullSecrets"`
	NodeName                  yaml.Node `yaml:"nodeName"`
	NodeSelector              yaml.Node `yaml:"nodeSelector"`
	OS                        yaml.Node `yaml:"os"`
	Overhead                  yaml.Node `yaml:"overhead"`
	PreemptionPolicy          yaml.Node `yaml:"preemptionPolicy"`
	Priority                  yaml.Node `yaml:"priority"`
	PriorityClassName         yaml.Node `yaml:"priorityClassName"`
	ReadinessGates            yaml.Node `yaml:"readinessGates"`
	ResourceClaims            yaml.Node `yaml:"resourceClaims"`
	Resources                 yaml.Node `yaml:"resources"`
	RestartPolicy             yaml.Node `yaml:"restartPolicy"`
	RuntimeClassName          yaml.Node `yaml:"runtimeClassName"`
	SchedulerName             yaml.Node `yaml:"schedulerName"`
	SchedulingGates           yaml.Node `yaml:"schedulingGates"`
	SetHostnameAsFQDN         yaml.Node `yaml:"setHostnameAsFQDN"`
	Subdomain                 yaml.Node `yaml:"subdomain"`
	Tolerations               yaml.Node `yaml:"tolerations"`
	TopologySpreadConstraints yaml.Node `yaml:"topologySpreadConstraints"`
}

type podSecurityContext struct {
	RunAsNonRoot   *bool `yaml:"runAsNonRoot"`
	RunAsUser      *int  `yaml:"runAsUser"`
	RunAsGroup     *int  `yaml:"runAsGroup"`
	FSGroup        *int  `yaml:"fsGroup"`
	SeccompProfile struct {
		Type string `yaml:"type"`
	} `yaml:"seccompProfile"`
	AppArmorProfile          yaml.Node `yaml:"appArmorProfile"`
	FSGroupChangePolicy      yaml.Node `yaml:"fsGroupChangePolicy"`
	SELinuxChangePolicy      yaml.Node `yaml:"seLinuxChangePolicy"`
	SELinuxOptions           yaml.Node `yaml:"seLinuxOptions"`
	SupplementalGroups       yaml.Node `yaml:"supplementalGroups"`
	SupplementalGroupsPolicy yaml.Node `yaml:"supplementalGroupsPolicy"`
	Sysctls                  yaml.Node `yaml:"sysctls"`
	WindowsOptions           yaml.Node `yaml:"windowsOptions"`
}

// container lists every Container field.
type container struct {
	Name    string          `yaml:"name"`
	Image   string          `yaml:"image"`
	Command []string        `yaml:"command"`
	Args    []string        `yaml:"args"`
	Ports   []containerPort `yaml:"ports"`
	Env     []struct {
		Name      string    `yaml:"name"`
		Value     string    `yaml:"value"`
		ValueFrom yaml.Node `yaml:"valueFrom"`
	} `yaml:"env"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		SubPath   string `yaml:"subPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	StartupProbe    *probe                   `yaml:"startupProbe"`
	LivenessProbe   *probe                   `yaml:"livenessProbe"`
	ReadinessProbe  *probe                   `yaml:"readinessProbe"`
	SecurityContext containerSecurityContext `yaml:"securityContext"`

	EnvFrom                  yaml.Node `yaml:"envFrom"`
	ImagePullPolicy          yaml.Node `yaml:"imagePullPolicy"`
	Lifecycle                yaml.Node `yaml:"lifecycle"`
	ResizePolicy             yaml.Node `yaml:"resizePolicy"`
	RestartPolicy            yaml.Node `yaml:"restartPolicy"`
	Stdin                    yaml.Node `yaml:"stdin"`
	StdinOnce                yaml.Node `yaml:"stdinOnce"`
	TerminationMessagePath   yaml.Node `yaml:"terminationMessagePath"`
	TerminationMessagePolicy yaml.Node `yaml:"terminationMessagePolicy"`
	TTY                      yaml.Node `yaml:"tty"`
	VolumeDevices            yaml.Node `yaml:"volumeDevices"`
	WorkingDir               yaml.Node `yaml:"workingDir"`
}

type containerSecurityContext struct {
	RunAsNonRoot             *bool `yaml:"runAsNonRoot"`
	RunAsUser                *int  `yaml:"runAsUser"`
	RunAsGroup               *int  `yaml:"runAsGroup"`
	AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
	Privileged               *bool `yaml:"privileged"`
	Capabilities             struct {
		Drop []string `yaml:"drop"`
		Add  []string `yaml:"add"`
	} `yaml:"capabilities"`
	SeccompProfile  yaml.Node `yaml:"seccompProfile"`
	AppArmorProfile yaml.Node `yaml:"appArmorProfile"`
	ProcMount       yaml.Node `yaml:"procMount"`
	SELinuxOptions  yaml.Node `yaml:"seLinuxOptions"`
	WindowsOptions  yaml.Node `yaml:"windowsOptions"`
}

type containerPort struct {
	Name          string `yaml:"name"`
	ContainerPort int    `yaml:"containerPort"`
	Protocol      string `yaml:"protocol"`
}

type probe struct {
	HTTPGet *struct {
		Path   string    `yaml:"path"`
		Port   yaml.Node `yaml:"port"`
		Scheme string    `yaml:"scheme"`
	} `yaml:"httpGet"`
	TCPSocket           yaml.Node `yaml:"tcpSocket"`
	Exec                yaml.Node `yaml:"exec"`
	GRPC                yaml.Node `yaml:"grpc"`
	InitialDelaySeconds int       `yaml:"initialDelaySeconds"`
	PeriodSeconds       int       `yaml:"periodSeconds"`
	TimeoutSeconds      int       `yaml:"timeoutSeconds"`
	FailureThreshold    int       `yaml:"failureThreshold"`
	SuccessThreshold    int       `yaml:"successThreshold"`
}

type volume struct {
	Name      string `yaml:"name"`
	ConfigMap *struct {
		Name  string `yaml:"name"`
		Items []struct {
			Key  string `yaml:"key"`
			Path string `yaml:"path"`
		} `yaml:"items"`
	} `yaml:"configMap"`
	HostPath *struct {
		Path string `yaml:"path"`
		Type string `yaml:"type"`
	} `yaml:"hostPath"`
	EmptyDir              *yaml.Node `yaml:"emptyDir"`
	PersistentVolumeClaim *yaml.Node `yaml:"persistentVolumeClaim"`
	Secret                *yaml.Node `yaml:"secret"`
}

type serviceSpec struct {
	Selector        map[string]string `yaml:"selector"`
	ClusterIP       string            `yaml:"clusterIP"`
	Type            string            `yaml:"type"`
	SessionAffinity string            `yaml:"sessionAffinity"`
	Ports           []servicePort     `yaml:"ports"`
}

type servicePort struct {
	Name       string    `yaml:"name"`
	Port       int       `yaml:"port"`
	TargetPort yaml.Node `yaml:"targetPort"`
}

type serviceMonitorSpec struct {
	Selector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	} `yaml:"selector"`
	Endpoints []struct {
		Port     string `yaml:"port"`
		Path     string `yaml:"path"`
		Interval string `yaml:"interval"`
	} `yaml:"endpoints"`
}

type kustomization struct {
	APIVersion string       `yaml:"apiVersion"`
	Kind       string       `yaml:"kind"`
	Resources  []string     `yaml:"resources"`
	Images     []imageEntry `yaml:"images"`
}

type imageEntry struct {
	Name    string `yaml:"name"`
	NewName string `yaml:"newName"`
	NewTag  string `yaml:"newTag"`
}

func k8sObjects(t *testing.T, files ...string) []k8sObject {
	t.Helper()
	var objs []k8sObject
	for _, f := range files {
		for _, d := range yamlDocs(t, f) {
			var o k8sObject
			if err := d.Decode(&o); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
				t.Fatalf("%s: a document without apiVersion, kind or metadata.name", f)
			}
			o.file = f
			objs = append(objs, o)
		}
	}
	return objs
}

func portName(n yaml.Node) string { return n.Value }

func labelsMatch(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestKubernetes checks the manifests' structure and every cross-reference
// a cluster would only reveal at run time: volumes, ConfigMap keys, ports,
// probes and selectors, the hardening of every container, and that nginx's
// session log is where the exporter's config looks for it, in the format it
// expects.
func TestKubernetes(t *testing.T) {
	const dir = "kubernetes"
	var k kustomization
	decodeYAMLFile(t, filepath.Join(dir, "kustomization.yaml"), &k)
	if k.Kind != "Kustomization" {
		t.Errorf("kustomization.yaml: kind %q", k.Kind)
	}
	var files []string
	for _, r := range k.Resources {
		p := filepath.Join(dir, r)
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("kustomization.yaml resource %s: %v", r, err)
		}
		files = append(files, p)
	}
	objs := k8sObjects(t, files...)
	byKind := map[string][]k8sObject{}
	configMaps := map[string]map[string]string{}
	for _, o := range objs {
		byKind[o.Kind] = append(byKind[o.Kind], o)
		if o.Kind == "ConfigMap" {
			configMaps[o.Metadata.Name] = o.Data
		}
	}
	if len(byKind["Deployment"]) != 1 {
		t.Fatalf("want one Deployment, got %d", len(byKind["Deployment"]))
	}
	dep := byKind["Deployment"][0]
	var spec deploymentSpec
	if err := strictDecode(&dep.Spec, &spec); err != nil {
		t.Fatalf("%s: Deployment spec: %v", dep.file, err)
	}
	pod := spec.Template.Spec
	if !labelsMatch(spec.Selector.MatchLabels, spec.Template.Metadata.Labels) {
		t.Errorf("Deployment selector %v does not select its pod labels %v", spec.Selector.MatchLabels, spec.Template.Metadata.Labels)
	}

	// Hardening, for every container.
	if pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Error("pod securityContext: runAsNonRoot must be true")
	}
	if pod.SecurityContext.SeccompProfile.Type != "RuntimeDefault" {
		t.Errorf("pod seccompProfile %q, want RuntimeDefault", pod.SecurityContext.SeccompProfile.Type)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("automountServiceAccountToken should be false: no container talks to the API server")
	}
	containers := map[string]container{}
	for _, c := range pod.Containers {
		containers[c.Name] = c
		sc := c.SecurityContext
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s: allowPrivilegeEscalation must be false", c.Name)
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("%s: readOnlyRootFilesystem must be true", c.Name)
		}
		if !slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) || len(sc.Capabilities.Add) > 0 {
			t.Errorf("%s: capabilities drop %v add %v, want drop [ALL] and nothing added", c.Name, sc.Capabilities.Drop, sc.Capabilities.Add)
		}
		if sc.Privileged != nil && *sc.Privileged {
			t.Errorf("%s: privileged", c.Name)
		}
		if sc.RunAsUser == nil || *sc.RunAsUser == 0 {
			t.Errorf("%s: runAsUser must name the image's non-root uid", c.Name)
		}
		for _, r := range []string{"cpu", "memory"} {
			if c.Resources.Requests[r] == "" || c.Resources.Limits[r] == "" {
				t.Errorf("%s: resources need requests and limits for %s", c.Name, r)
			}
		}
		if strings.HasSuffix(c.Image, ":latest") {
			t.Errorf("%s: image %s: pin a version", c.Name, c.Image)
		}
	}

	// Volumes and mounts.
	volumes := map[string]volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
		if v.ConfigMap != nil {
			data, ok := configMaps[v.ConfigMap.Name]
			if !ok {
				t.Errorf("volume %s: no ConfigMap %s among the resources", v.Name, v.ConfigMap.Name)
			}
			for _, it := range v.ConfigMap.Items {
				if _, ok := data[it.Key]; !ok {
					t.Errorf("volume %s: ConfigMap %s has no key %s", v.Name, v.ConfigMap.Name, it.Key)
				}
			}
		}
	}
	for _, c := range pod.Containers {
		for _, m := range c.VolumeMounts {
			v, ok := volumes[m.Name]
			if !ok {
				t.Errorf("%s: mounts undeclared volume %s", c.Name, m.Name)
				continue
			}
			if m.SubPath != "" && v.ConfigMap != nil {
				if _, ok := configMaps[v.ConfigMap.Name][m.SubPath]; !ok {
					t.Errorf("%s: subPath %s is not a key of ConfigMap %s", c.Name, m.SubPath, v.ConfigMap.Name)
				}
			}
		}
	}
	// mountOf returns the mount of c under which file p lives.
	mountOf := func(c container, p string) (name string, readOnly, ok bool) {
		best := ""
		for _, m := range c.VolumeMounts {
			if m.SubPath == "" && underDir(p, m.MountPath) && len(m.MountPath) > len(best) {
				best, name, readOnly, ok = m.MountPath, m.Name, m.ReadOnly, true
			}
		}
		return name, readOnly, ok
	}

	// The exporter.
	ex, ok := containers["session-exporter"]
	if !ok {
		t.Fatal("no session-exporter container")
	}
	if !slices.ContainsFunc(k.Images, func(i imageEntry) bool {
		return i.Name == ex.Image && i.NewName != "" && i.NewTag != ""
	}) {
		t.Errorf("kustomization.yaml images: no newName and newTag for %s", ex.Image)
	}
	cfgPath := ""
	for i, a := range ex.Args {
		if v, ok := strings.CutPrefix(a, "--config.file="); ok {
			cfgPath = v
		} else if (a == "-config" || a == "--config") && i+1 < len(ex.Args) {
			cfgPath = ex.Args[i+1]
		}
	}
	if cfgPath == "" {
		cfgPath = "/etc/session-exporter/config.yaml" // the image's CMD
	}
	vname, _, ok := mountOf(ex, cfgPath)
	if !ok || volumes[vname].ConfigMap == nil {
		t.Fatalf("the exporter's config %s is not on a ConfigMap volume", cfgPath)
	}
	cmName := volumes[vname].ConfigMap.Name
	cfgText, ok := configMaps[cmName][filepath.Base(cfgPath)]
	if !ok {
		t.Fatalf("ConfigMap %s has no key %s", cmName, filepath.Base(cfgPath))
	}
	cfg, err := config.Parse([]byte(cfgText))
	if err != nil {
		t.Fatalf("ConfigMap %s: %s is not a valid session-exporter config: %v", cmName, filepath.Base(cfgPath), err)
	}
	if h, _, _ := net.SplitHostPort(cfg.Listen); h == "127.0.0.1" || h == "localhost" || h == "::1" {
		t.Errorf("the exporter listens on %s: the kubelet and Prometheus cannot reach it", cfg.Listen)
	}
	metricsPort := listenPort(t, cfg.Listen)
	ports := map[string]int{}
	for _, c := range pod.Containers {
		for _, p := range c.Ports {
			ports[p.Name] = p.ContainerPort
		}
	}
	if ports["metrics"] != metricsPort || !slices.ContainsFunc(ex.Ports, func(p containerPort) bool { return p.Name == "metrics" }) {
		t.Errorf("the exporter's container port \"metrics\" is %d, its config listens on %d", ports["metrics"], metricsPort)
	}
	for name, pr := range map[string]*probe{"startupProbe": ex.StartupProbe, "livenessProbe": ex.LivenessProbe} {
		if pr == nil || pr.HTTPGet == nil || pr.HTTPGet.Path != "/healthz" || portName(pr.HTTPGet.Port) != "metrics" {
			t.Errorf("exporter %s: want httpGet /healthz on port metrics", name)
		}
	}
	if cfg.StateFile == "" {
		t.Error("the exporter has no state_file")
	} else if vname, ro, ok := mountOf(ex, cfg.StateFile); !ok || ro || volumes[vname].ConfigMap != nil {
		t.Errorf("state_file %s is not on a writable volume of the exporter", cfg.StateFile)
	}

	// nginx writes the session log on a volume the exporter reads, at a
	// path the exporter's glob matches, in the format the exporter parses.
	ng, ok := containers["nginx"]
	if !ok {
		t.Fatal("no nginx container")
	}
	nginxConf := ""
	for _, m := range ng.VolumeMounts {
		if m.MountPath == "/etc/nginx/nginx.conf" {
			nginxConf = configMaps[volumes[m.Name].ConfigMap.Name][m.SubPath]
		}
	}
	if nginxConf == "" {
		t.Fatal("nginx mounts no nginx.conf from a ConfigMap")
	}
	if c := containers["nginx"]; c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil {
		t.Error("nginx: no HTTP readiness probe")
	} else if p := c.ReadinessProbe.HTTPGet.Path; !regexp.MustCompile(`location\s*=\s*` + regexp.QuoteMeta(p) + `\s*\{[^}]*access_log off;`).MatchString(nginxConf) {
		t.Errorf("nginx's probe path %s is not a location with access_log off: probes would be counted", p)
	}
	checkNginxAndExporter(t, nginxConf, cfg, func(p string) (string, bool, bool) { return mountOf(ng, p) },
		func(p string) (string, bool, bool) { return mountOf(ex, p) })

	// The pruner deletes the session logs the exporter reads, on the same
	// volume, and nothing else.
	pr, ok := containers["log-pruner"]
	if !ok {
		t.Fatal("no log-pruner container: the daily session logs would fill the volume")
	}
	logDir, logGlob := filepath.Dir(cfg.Logs[0].Path), filepath.Base(cfg.Logs[0].Path)
	script := strings.Join(append(pr.Command, pr.Args...), " ")
	if !strings.Contains(script, "find "+logDir+" -name '"+logGlob+"'") || !strings.Contains(script, "-delete") {
		t.Errorf("log-pruner does not delete %s in %s:\n%s", logGlob, logDir, script)
	}
	pv, pro, pok := mountOf(pr, cfg.Logs[0].Path)
	ev, _, _ := mountOf(ex, cfg.Logs[0].Path)
	if !pok || pro || pv != ev {
		t.Errorf("log-pruner does not mount the exporter's log volume %s writable", ev)
	}

	// Services select the pods and name container ports; the metrics
	// Service's scrape annotations name the exporter's port.
	metricsServices := 0
	for _, s := range byKind["Service"] {
		var ss serviceSpec
		if err := strictDecode(&s.Spec, &ss); err != nil {
			t.Errorf("Service %s: %v", s.Metadata.Name, err)
			continue
		}
		if !labelsMatch(ss.Selector, spec.Template.Metadata.Labels) {
			t.Errorf("Service %s selects %v, not the pods (%v)", s.Metadata.Name, ss.Selector, spec.Template.Metadata.Labels)
		}
		for _, p := range ss.Ports {
			if _, ok := ports[portName(p.TargetPort)]; !ok {
				t.Errorf("Service %s: targetPort %s is no container port name", s.Metadata.Name, portName(p.TargetPort))
			}
		}
		if a := s.Metadata.Annotations; a["prometheus.io/scrape"] == "true" {
			metricsServices++
			if a["prometheus.io/port"] != strconv.Itoa(metricsPort) || a["prometheus.io/path"] != cfg.TelemetryPath {
				t.Errorf("Service %s: scrape annotations port %q path %q, the exporter serves %d %s",
					s.Metadata.Name, a["prometheus.io/port"], a["prometheus.io/path"], metricsPort, cfg.TelemetryPath)
			}
			if s.Metadata.Name != "session-exporter" {
				t.Errorf("metrics Service %s: a ServiceMonitor names the job after the Service, and dashboards/alerts.yml expects job=\"session-exporter\"", s.Metadata.Name)
			}
		}
	}
	if metricsServices != 1 {
		t.Errorf("%d Services carry prometheus.io/scrape annotations, want 1", metricsServices)
	}

	// The ServiceMonitor example selects the metrics Service and its port.
	sm := k8sObjects(t, filepath.Join(dir, "servicemonitor.yaml"))
	if len(sm) != 1 || sm[0].Kind != "ServiceMonitor" {
		t.Fatal("servicemonitor.yaml: want one ServiceMonitor")
	}
	var sms serviceMonitorSpec
	if err := strictDecode(&sm[0].Spec, &sms); err != nil {
		t.Fatalf("ServiceMonitor: %v", err)
	}
	selected := 0
	for _, s := range byKind["Service"] {
		if labelsMatch(sms.Selector.MatchLabels, s.Metadata.Labels) {
			selected++
			var ss serviceSpec
			_ = s.Spec.Decode(&ss)
			for _, e := range sms.Endpoints {
				if !slices.ContainsFunc(ss.Ports, func(p servicePort) bool { return p.Name == e.Port }) {
					t.Errorf("ServiceMonitor endpoint port %s is not a port of Service %s", e.Port, s.Metadata.Name)
				}
				if e.Path != cfg.TelemetryPath {
					t.Errorf("ServiceMonitor path %s, the exporter serves %s", e.Path, cfg.TelemetryPath)
				}
			}
			if s.Metadata.Name != "session-exporter" {
				t.Errorf("ServiceMonitor selects Service %s; its job label would not be session-exporter", s.Metadata.Name)
			}
		}
	}
	if selected != 1 {
		t.Errorf("the ServiceMonitor selects %d Services, want the metrics Service only", selected)
	}
}

// checkNginxAndExporter checks that nginx writes its session log where the
// exporter reads it and in the format it parses. mount functions return the
// volume under a path in each container.
func checkNginxAndExporter(t *testing.T, nginxConf string, cfg *config.Config,
	nginxMount, exporterMount func(string) (volume string, readOnly, ok bool)) {
	t.Helper()
	var sessionLogs [][2]string
	for _, al := range nginxAccessLogs(nginxConf) {
		if al[1] != "" && al[1] != "combined" {
			sessionLogs = append(sessionLogs, al)
		}
	}
	if len(sessionLogs) != 1 {
		t.Fatalf("nginx writes %d session logs to files (%v), want 1", len(sessionLogs), sessionLogs)
	}
	logPath, logFormat := sessionLogs[0][0], sessionLogs[0][1]
	if strings.HasSuffix(logPath, "/access.log") {
		t.Errorf("nginx session log %s: nginx images link access.log to stdout", logPath)
	}
	if len(cfg.Logs) != 1 {
		t.Fatalf("the exporter reads %d logs, want 1", len(cfg.Logs))
	}
	l := cfg.Logs[0]
	sample := sampleLogPath(logPath)
	if ok, err := filepath.Match(l.Path, sample); err != nil || !ok {
		t.Errorf("the exporter reads %s; nginx writes %s (e.g. %s)", l.Path, logPath, sample)
	}
	if want := nginxLogFormat(t, nginxConf, logFormat); l.Format != want {
		t.Errorf("the exporter's format differs from nginx's log_format %s:\n exporter %q\n nginx    %q", logFormat, l.Format, want)
	}
	nv, nro, ok := nginxMount(sample)
	if !ok || nro {
		t.Errorf("nginx writes %s outside a writable volume", sample)
	}
	ev, _, ok := exporterMount(sample)
	if !ok || ev != nv {
		t.Errorf("the exporter does not see %s on the volume nginx writes it to (%s vs %s)", sample, ev, nv)
	}
}

// TestLogPruner runs the log-pruner's script (with this machine's sh and
// find, where the pod has busybox's) on a directory of dated session logs:
// it must delete the logs older than yesterday, keep the rest, and stop at
// once on SIGTERM.
func TestLogPruner(t *testing.T) {
	sh := requireTool(t, "sh", false, "a POSIX shell")
	var spec deploymentSpec
	dep := k8sObjects(t, "kubernetes/deployment.yaml")[0]
	if err := dep.Spec.Decode(&spec); err != nil {
		t.Fatal(err)
	}
	var script string
	for _, c := range spec.Template.Spec.Containers {
		if c.Name == "log-pruner" && len(c.Command) == 3 && c.Command[0] == "sh" && c.Command[1] == "-c" {
			script = c.Command[2]
		}
	}
	if script == "" {
		t.Fatal("no log-pruner running sh -c SCRIPT")
	}
	dir := t.TempDir()
	script = relocate(t, script, "/var/log/nginx", dir)
	now := time.Now()
	files := map[string]time.Time{
		"access-sessions-old.log":       now.Add(-72 * time.Hour),
		"access-sessions-yesterday.log": now.Add(-20 * time.Hour),
		"access-sessions-today.log":     now,
		"error.log":                     now.Add(-72 * time.Hour),
	}
	for name, mt := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(sh, "-c", script)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "access-sessions-old.log")); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("the pruner did not delete the old log")
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the pruner exited with %v on SIGTERM, want 0", err)
		}
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the pruner ignored SIGTERM (the pod would wait out its grace period)")
	}
	t.Logf("stopped %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	for _, name := range []string{"access-sessions-yesterday.log", "access-sessions-today.log", "error.log"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("the pruner deleted %s: %v", name, err)
		}
	}
}

// TestKustomizeBuild renders the kustomization with kubectl, which works
// without a cluster, and checks the image substitution.
func TestKustomizeBuild(t *testing.T) {
	kubectl := requireTool(t, "kubectl", false, "https://kubernetes.io/docs/tasks/tools/")
	out, err := run(t, ".", kubectl, "kustomize", "kubernetes")
	if err != nil {
		t.Fatalf("kubectl kustomize: %v\n%s", err, out)
	}
	docs, err := parseYAMLDocs([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	var k kustomization
	decodeYAMLFile(t, "kubernetes/kustomization.yaml", &k)
	want := k.Images[0].NewName + ":" + k.Images[0].NewTag
	kinds := map[string]int{}
	found := false
	for _, d := range docs {
		var o k8sObject
		if err := d.Decode(&o); err != nil {
			t.Fatal(err)
		}
		kinds[o.Kind]++
		if o.Kind == "Deployment" {
			var s deploymentSpec
			if err := o.Spec.Decode(&s); err != nil {
				t.Fatal(err)
			}
			for _, c := range s.Template.Spec.Containers {
				found = found || c.Image == want
			}
		}
	}
	if kinds["Deployment"] != 1 || kinds["Service"] != 2 || kinds["ConfigMap"] != 2 {
		t.Errorf("kubectl kustomize rendered %v", kinds)
	}
	if !found {
		t.Errorf("no container runs %s after kustomize", want)
	}
}

// ---------------------------------------------------------------- Compose

const composeDir = "docker-compose"

type composeVolume struct {
	Type     string `yaml:"type"`
	Source   string `yaml:"source"`
	Target   string `yaml:"target"`
	ReadOnly bool   `yaml:"read_only"`
	Volume   struct {
		NoCopy bool `yaml:"nocopy"`
	} `yaml:"volume"`
}

// UnmarshalYAML reads the short form "source:target[:ro]" as well.
func (v *composeVolume) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		parts := strings.Split(n.Value, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return fmt.Errorf("line %d: volume %q is not source:target[:mode]", n.Line, n.Value)
		}
		v.Source, v.Target = parts[0], parts[1]
		v.Type = "volume"
		if strings.HasPrefix(v.Source, ".") || strings.HasPrefix(v.Source, "/") {
			v.Type = "bind"
		}
		if len(parts) == 3 {
			if parts[2] != "ro" && parts[2] != "rw" {
				return fmt.Errorf("line %d: volume mode %q", n.Line, parts[2])
			}
			v.ReadOnly = parts[2] == "ro"
		}
		return nil
	}
	type plain composeVolume
	return n.Decode((*plain)(v))
}

type composeService struct {
	Image string `yaml:"image"`
	Build *struct {
		Context    string            `yaml:"context"`
		Dockerfile string            `yaml:"dockerfile"`
		Args       map[string]string `yaml:"args"`
	} `yaml:"build"`
	Command     []string          `yaml:"command"`
	Ports       []string          `yaml:"ports"`
	Volumes     []composeVolume   `yaml:"volumes"`
	Environment map[string]string `yaml:"environment"`
	DependsOn   yaml.Node         `yaml:"depends_on"`
	ReadOnly    bool              `yaml:"read_only"`
	Tmpfs       []string          `yaml:"tmpfs"`
	CapDrop     []string          `yaml:"cap_drop"`
	SecurityOpt []string          `yaml:"security_opt"`
	StopGrace   string            `yaml:"stop_grace_period"`
}

type composeFile struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]*yaml.Node     `yaml:"volumes"`
}

// mountOf returns where a container path of the service comes from: a host
// path (a bind mount, resolved against the compose directory) or
// "volume:NAME", and whether it is mounted read-only.
func (s composeService) mountOf(p string) (source string, readOnly, ok bool) {
	best := ""
	for _, v := range s.Volumes {
		if underDir(p, v.Target) && len(v.Target) > len(best) {
			best, readOnly, ok = v.Target, v.ReadOnly, true
			if v.Type == "bind" {
				rel, _ := filepath.Rel(v.Target, p)
				source = filepath.Join(composeDir, v.Source, rel)
			} else {
				source = "volume:" + v.Source
			}
		}
	}
	return source, readOnly, ok
}

func readCompose(t *testing.T) composeFile {
	t.Helper()
	docs := yamlDocs(t, filepath.Join(composeDir, "docker-compose.yml"))
	if len(docs) != 1 {
		t.Fatalf("docker-compose.yml: %d documents", len(docs))
	}
	var c composeFile
	if err := strictDecode(docs[0], &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

// TestCompose checks the Compose stack's files and cross-references: every
// mounted file exists, the exporter's config is valid and matches nginx's
// log, Prometheus scrapes the exporter and loads the repository's rules,
// and Grafana gets the Prometheus data source and the repository's
// dashboard.
func TestCompose(t *testing.T) {
	c := readCompose(t)
	for _, name := range []string{"nginx", "session-exporter", "prometheus", "grafana"} {
		if _, ok := c.Services[name]; !ok {
			t.Fatalf("no service %s", name)
		}
	}
	for name, s := range c.Services {
		if s.Image == "" && s.Build == nil {
			t.Errorf("%s: neither image nor build", name)
		}
		if strings.HasSuffix(s.Image, ":latest") {
			t.Errorf("%s: image %s: pin a version", name, s.Image)
		}
		for _, v := range s.Volumes {
			switch v.Type {
			case "bind":
				if _, err := os.Stat(filepath.Join(composeDir, v.Source)); err != nil {
					t.Errorf("%s: bind mount source: %v", name, err)
				}
			case "volume":
				if _, ok := c.Volumes[v.Source]; !ok {
					t.Errorf("%s: volume %s is not declared", name, v.Source)
				}
			default:
				t.Errorf("%s: mount type %q", name, v.Type)
			}
		}
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s: port %s is published on every interface", name, p)
			}
		}
	}

	// The exporter: built from the repository's Dockerfile, its config
	// mounted and valid, listening where Prometheus scrapes it.
	ex := c.Services["session-exporter"]
	if ex.Build == nil {
		t.Fatal("session-exporter is not built from the repository")
	}
	ctx := filepath.Join(composeDir, ex.Build.Context)
	if abs, _ := filepath.Abs(ctx); abs != mustAbs(t, repoRoot) {
		t.Errorf("build context %s is not the repository root", ex.Build.Context)
	}
	df := ex.Build.Dockerfile
	if df == "" {
		df = "Dockerfile"
	}
	if _, err := os.Stat(filepath.Join(ctx, df)); err != nil {
		t.Errorf("build: %v", err)
	}
	cfgPath := "/etc/session-exporter/config.yaml"
	for _, a := range ex.Command {
		if v, ok := strings.CutPrefix(a, "--config.file="); ok {
			cfgPath = v
		}
	}
	host, _, ok := ex.mountOf(cfgPath)
	if !ok || strings.HasPrefix(host, "volume:") {
		t.Fatalf("the exporter's config %s is not a mounted file", cfgPath)
	}
	cfg, err := config.Load(host)
	if err != nil {
		t.Fatalf("%s is not a valid session-exporter config: %v", host, err)
	}
	port := listenPort(t, cfg.Listen)
	if h, _, _ := net.SplitHostPort(cfg.Listen); h == "127.0.0.1" || h == "localhost" {
		t.Errorf("the exporter listens on %s: Prometheus cannot reach it from its container", cfg.Listen)
	}
	if cfg.StateFile == "" {
		t.Error("the exporter has no state_file")
	} else if src, ro, ok := ex.mountOf(cfg.StateFile); !ok || ro || !strings.HasPrefix(src, "volume:") {
		t.Errorf("state_file %s is not on a writable named volume", cfg.StateFile)
	}
	if !ex.ReadOnly || !slices.Contains(ex.CapDrop, "ALL") {
		t.Error("session-exporter: want read_only and cap_drop ALL")
	}

	// nginx and the exporter share the log volume.
	ng := c.Services["nginx"]
	confHost, _, ok := ng.mountOf("/etc/nginx/nginx.conf")
	if !ok {
		t.Fatal("nginx mounts no nginx.conf")
	}
	conf, err := os.ReadFile(confHost)
	if err != nil {
		t.Fatal(err)
	}
	checkNginxAndExporter(t, string(conf), cfg, ng.mountOf, ex.mountOf)

	// Prometheus: its config is the mounted prometheus.yml; it scrapes the
	// exporter as job session-exporter; its rule files are the repository's.
	pr := c.Services["prometheus"]
	promCfgPath := "/etc/prometheus/prometheus.yml"
	for _, a := range pr.Command {
		if v, ok := strings.CutPrefix(a, "--config.file="); ok {
			promCfgPath = v
		}
	}
	promHost, _, ok := pr.mountOf(promCfgPath)
	if !ok || strings.HasPrefix(promHost, "volume:") {
		t.Fatalf("Prometheus' config %s is not a mounted file", promCfgPath)
	}
	var prom struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			MetricsPath   string `yaml:"metrics_path"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	decodeYAMLFile(t, promHost, &prom)
	scraped := false
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, tg := range st.Targets {
				if tg != net.JoinHostPort("session-exporter", strconv.Itoa(port)) {
					continue
				}
				scraped = true
				if sc.JobName != "session-exporter" {
					t.Errorf("the exporter is scraped as job %q; dashboards/alerts.yml expects session-exporter", sc.JobName)
				}
				if mp := cmp.Or(sc.MetricsPath, "/metrics"); mp != cfg.TelemetryPath {
					t.Errorf("scrape path %s, the exporter serves %s", mp, cfg.TelemetryPath)
				}
			}
		}
	}
	if !scraped {
		t.Errorf("no scrape target session-exporter:%d", port)
	}
	alerts := mustAbs(t, filepath.Join(repoRoot, "dashboards", "alerts.yml"))
	loadsAlerts := false
	for _, rf := range prom.RuleFiles {
		host, _, ok := pr.mountOf(rf)
		if !ok || strings.HasPrefix(host, "volume:") {
			t.Errorf("rule file %s is not a mounted file", rf)
			continue
		}
		if _, err := os.Stat(host); err != nil {
			t.Errorf("rule file %s: %v", rf, err)
		}
		loadsAlerts = loadsAlerts || mustAbs(t, host) == alerts
	}
	if !loadsAlerts {
		t.Error("Prometheus does not load dashboards/alerts.yml")
	}

	// Grafana: the data source is the Prometheus service, the dashboard
	// provider's directory holds the repository's dashboard.
	gr := c.Services["grafana"]
	dsHost, _, ok := gr.mountOf("/etc/grafana/provisioning/datasources")
	if !ok {
		t.Fatal("Grafana has no provisioned data sources")
	}
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name      string `yaml:"name"`
			Type      string `yaml:"type"`
			URL       string `yaml:"url"`
			IsDefault bool   `yaml:"isDefault"`
		} `yaml:"datasources"`
	}
	dsFiles, _ := filepath.Glob(filepath.Join(dsHost, "*.yml"))
	if len(dsFiles) != 1 {
		t.Fatalf("%s: want one data source file, got %v", dsHost, dsFiles)
	}
	decodeYAMLFile(t, dsFiles[0], &ds)
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || !ds.Datasources[0].IsDefault {
		t.Errorf("%s: want one default prometheus data source, got %+v", dsFiles[0], ds)
	} else if ds.Datasources[0].URL != "http://prometheus:9090" {
		t.Errorf("data source URL %s, want the prometheus service http://prometheus:9090", ds.Datasources[0].URL)
	}
	provHost, _, ok := gr.mountOf("/etc/grafana/provisioning/dashboards")
	if !ok {
		t.Fatal("Grafana has no dashboard provider")
	}
	provFiles, _ := filepath.Glob(filepath.Join(provHost, "*.yml"))
	if len(provFiles) != 1 {
		t.Fatalf("%s: want one provider file, got %v", provHost, provFiles)
	}
	var prov struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name    string `yaml:"name"`
			Type    string `yaml:"type"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	decodeYAMLFile(t, provFiles[0], &prov)
	if prov.APIVersion != 1 || len(prov.Providers) != 1 || prov.Providers[0].Type != "file" {
		t.Fatalf("%s: want one file provider, got %+v", provFiles[0], prov)
	}
	dashboards := 0
	for _, v := range gr.Volumes {
		if v.Type == "bind" && filepath.Dir(v.Target) == prov.Providers[0].Options.Path {
			host := filepath.Join(composeDir, v.Source)
			if mustAbs(t, host) != mustAbs(t, filepath.Join(repoRoot, "dashboards", "sessions.json")) {
				t.Errorf("dashboard %s is not the repository's dashboards/sessions.json", v.Source)
			}
			b, err := os.ReadFile(host)
			if err != nil {
				t.Fatal(err)
			}
			var d struct {
				UID   string `json:"uid"`
				Title string `json:"title"`
			}
			if err := json.Unmarshal(b, &d); err != nil || d.UID == "" {
				t.Errorf("%s: not a dashboard with a uid: %v", host, err)
			}
			dashboards++
		}
	}
	if dashboards != 1 {
		t.Errorf("%d dashboards mounted into the provider's path %s, want sessions.json", dashboards, prov.Providers[0].Options.Path)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestComposePromtool runs `promtool check config` on the Compose stack's
// prometheus.yml, with each rule file replaced by the repository file
// mounted there, so the rules are checked too.
func TestComposePromtool(t *testing.T) {
	promtool := requireTool(t, "promtool", true, "Debian/Ubuntu: apt-get install prometheus")
	c := readCompose(t)
	pr := c.Services["prometheus"]
	src := filepath.Join(composeDir, "prometheus", "prometheus.yml")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var prom struct {
		RuleFiles []string `yaml:"rule_files"`
	}
	decodeYAMLFile(t, src, &prom)
	text := string(b)
	for _, rf := range prom.RuleFiles {
		host, _, ok := pr.mountOf(rf)
		if !ok {
			t.Fatalf("rule file %s is not mounted", rf)
		}
		text = strings.ReplaceAll(text, rf, mustAbs(t, host))
	}
	p := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, ".", promtool, "check", "config", p)
	if err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
	t.Logf("promtool check config:\n%s", out)
}

// TestComposeConfig has Compose itself validate the file when a Compose
// command is installed.
func TestComposeConfig(t *testing.T) {
	var cmd []string
	if docker, err := exec.LookPath("docker"); err == nil {
		if out, err := run(t, composeDir, docker, "compose", "version"); err == nil {
			cmd = []string{docker, "compose"}
		} else {
			t.Logf("docker compose: %s", strings.TrimSpace(out))
		}
	}
	if cmd == nil {
		t.Skip("no `docker compose` here; TestCompose checked the file's structure and references")
	}
	out, err := run(t, composeDir, cmd[0], append(cmd[1:], "config", "--quiet")...)
	if err != nil {
		t.Fatalf("docker compose config: %v\n%s", err, out)
	}
}

// ---------------------------------------------------------------- docs

// checkLinks fails on a relative Markdown link of file that leads nowhere.
func checkLinks(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`\]\(([^)#\s]+)(?:#[^)]*)?\)`).FindAllStringSubmatch(string(b), -1) {
		target := m[1]
		if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
			continue
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(file), target)); err != nil {
			t.Errorf("%s links to %s: %v", file, target, err)
		}
	}
}

// TestScalingDoc checks docs/scaling.md: its relative links (and those of
// deploy/README.md) resolve, its exporter config loads, the shippers'
// regular expressions find the visitor key's fields, and every Prometheus
// rule file in it passes promtool.
func TestScalingDoc(t *testing.T) {
	doc := filepath.Join(repoRoot, "docs", "scaling.md")
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	checkLinks(t, doc)
	checkLinks(t, "README.md")
	var rules []string
	configs := 0
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(text, -1) {
		if _, err := parseYAMLDocs([]byte(m[1])); err != nil {
			t.Errorf("docs/scaling.md: a yaml block does not parse: %v\n%s", err, m[1])
		}
		if strings.HasPrefix(m[1], "groups:") {
			rules = append(rules, m[1])
		}
		if strings.HasPrefix(m[1], "logs:") {
			configs++
			if _, err := config.Parse([]byte(m[1])); err != nil {
				t.Errorf("docs/scaling.md: exporter config block: %v\n%s", err, m[1])
			}
		}
	}
	if configs == 0 {
		t.Error("docs/scaling.md shows no exporter config (a yaml block starting with logs:)")
	}

	// The shippers' regular expressions find the visitor key's fields in a
	// line of the "sessions" format.
	line := `203.0.113.7 - - [02/Nov/2026:10:00:00 +0000] "GET /pricing?utm_source=news HTTP/1.1" 200 5120 ` +
		`"https://www.example.com/" "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0" "198.51.100.1, 10.0.0.2" "www.example.com"`
	shipperRegexps := regexp.MustCompile(`(?m)(?:r'|regex: ')(\^[^']*\$)'`).FindAllStringSubmatch(text, -1)
	if len(shipperRegexps) != 2 {
		t.Errorf("found %d shipper regular expressions in docs/scaling.md, want Vector's and the collector's", len(shipperRegexps))
	}
	for _, m := range shipperRegexps {
		re, err := regexp.Compile(m[1])
		if err != nil {
			t.Errorf("%s: %v", m[1], err)
			continue
		}
		got := re.FindStringSubmatch(line)
		if got == nil {
			t.Errorf("%s does not match a sessions line", m[1])
			continue
		}
		fields := map[string]string{}
		for i, n := range re.SubexpNames() {
			fields[n] = got[i]
		}
		addr := cmp.Or(fields["addr"], fields["client"])
		if addr != "203.0.113.7" || fields["agent"] != "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0" {
			t.Errorf("%s extracts address %q and user agent %q", m[1], addr, fields["agent"])
		}
	}
	if len(rules) == 0 {
		t.Fatal("docs/scaling.md has no recording rule file (a yaml block starting with groups:)")
	}
	promtool := requireTool(t, "promtool", true, "Debian/Ubuntu: apt-get install prometheus")
	for i, r := range rules {
		p := filepath.Join(t.TempDir(), fmt.Sprintf("rules-%d.yml", i))
		if err := os.WriteFile(p, []byte(r), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := run(t, ".", promtool, "check", "rules", p); err != nil {
			t.Errorf("promtool check rules on docs/scaling.md's rule block %d: %v\n%s", i+1, err, out)
		}
	}
}
