package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// selfSigned writes a certificate and key for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "session-exporter test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})))
	return certFile, keyFile
}

// TestWebConfigTLSAndBasicAuth runs the exporter with a Prometheus web
// config file: /metrics answers only over TLS and only with the password.
func TestWebConfigTLSAndBasicAuth(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	web := writeFile(t, filepath.Join(dir, "web.yml"), fmt.Sprintf(
		"tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  alice: %s\n", certFile, keyFile, hash))
	cfg := writeFile(t, filepath.Join(dir, "c.yaml"), fmt.Sprintf("logs: [{path: %q}]\n", filepath.Join(dir, "access.log")))
	addr := freeAddr(t)
	cmd := exec.Command(bin, "-config", cfg, "--web.listen-address", addr, "--web.config.file", web)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // self-signed, for this test only
	get := func(scheme, user, pass string) (int, error) {
		req, _ := http.NewRequest("GET", scheme+"://"+addr+"/metrics", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := get("https", "", ""); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("exporter did not serve TLS; stderr:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, tc := range []struct {
		name, user, pass string
		want             int
	}{
		{"no credentials", "", "", http.StatusUnauthorized},
		{"wrong password", "alice", "nope", http.StatusUnauthorized},
		{"right password", "alice", "s3cret", http.StatusOK},
	} {
		if got, err := get("https", tc.user, tc.pass); err != nil || got != tc.want {
			t.Errorf("%s: status %d (%v), want %d", tc.name, got, err, tc.want)
		}
	}
	if code, err := get("http", "alice", "s3cret"); err == nil && code == http.StatusOK {
		t.Error("plain HTTP served metrics with TLS configured")
	}
}

func TestBadWebConfigIsAStartError(t *testing.T) {
	dir := t.TempDir()
	web := writeFile(t, filepath.Join(dir, "web.yml"), "tls_server_config:\n  cert_file: /nonexistent.pem\n")
	cfg := writeFile(t, filepath.Join(dir, "c.yaml"), fmt.Sprintf("logs: [{path: %q}]\n", filepath.Join(dir, "a.log")))
	code, _, stderr := runCLI("-config", cfg, "--web.config.file", web)
	if code != exitUsage || !strings.Contains(stderr, "-web.config.file") {
		t.Errorf("exit %d, stderr %q; want exit 2 naming -web.config.file", code, stderr)
	}
}

func TestUnreadableLogHint(t *testing.T) {
	err := readableError(0, "/var/log/nginx/access.log", os.ErrPermission)
	if err == nil || !strings.Contains(err.Error(), "adm") || !strings.Contains(err.Error(), "logs[0].path") {
		t.Errorf("permission error message %q lacks the path key or the adm hint", err)
	}
}
