package tlsconf_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/internal/testenv"
	"github.com/shoal-dev/shoal/node/nodetest"
	"github.com/shoal-dev/shoal/node/tlsconf/certgen"
)

func TestMain(m *testing.M) { os.Exit(nodetest.Run(m)) }

// pki is a test CA with a node certificate (server and client use, for
// 127.0.0.1) and a client certificate, written to dir.
type pki struct {
	dir                 string
	ca, node, client    certgen.Pair
	caFile, certFile    string
	keyFile, clientCert string
	clientKey           string
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	dir := t.TempDir()
	now := time.Now().Add(-time.Minute)
	ca, err := certgen.NewCA("shoal test CA", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := &pki{dir: dir, ca: ca,
		caFile: filepath.Join(dir, "ca.crt"), certFile: filepath.Join(dir, "node.crt"), keyFile: filepath.Join(dir, "node.key"),
		clientCert: filepath.Join(dir, "client.crt"), clientKey: filepath.Join(dir, "client.key")}
	p.node = p.issue(t, "node")
	if p.client, err = certgen.Issue(ca, certgen.Request{CommonName: "client", NotBefore: now, Validity: time.Hour, Client: true}); err != nil {
		t.Fatal(err)
	}
	write(t, p.caFile, ca.CertPEM)
	write(t, p.certFile, p.node.CertPEM)
	write(t, p.keyFile, p.node.KeyPEM)
	write(t, p.clientCert, p.client.CertPEM)
	write(t, p.clientKey, p.client.KeyPEM)
	return p
}

// issue signs a new node certificate with the test CA.
func (p *pki) issue(t testing.TB, cn string) certgen.Pair {
	t.Helper()
	pair, err := certgen.Issue(p.ca, certgen.Request{CommonName: cn, IPs: []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Minute), Validity: time.Hour, Client: true})
	if err != nil {
		t.Fatal(err)
	}
	return pair
}

func write(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// nodeArgs are the tls-* arguments of a node using p's files.
func (p *pki) nodeArgs(more ...string) []string {
	return append([]string{"--tls-cert-file", p.certFile, "--tls-key-file", p.keyFile, "--tls-ca-cert-file", p.caFile}, more...)
}

// clientTLS is a client configuration trusting the test CA, with the
// client certificate when withCert.
func (p *pki) clientTLS(t testing.TB, withCert bool) *tls.Config {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.ca.CertPEM)
	c := &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	if withCert {
		cert, err := tls.X509KeyPair(p.client.CertPEM, p.client.KeyPEM)
		if err != nil {
			t.Fatal(err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c
}

// startTLSNode starts a node whose harness port is its tls-port and whose
// plain port is off (port 0), with extra arguments.
func startTLSNode(t testing.TB, p *pki, args ...string) *nodetest.Proc {
	t.Helper()
	port := nodetest.FreePort(t)
	a := append([]string{"--save", "", "--tls-port", strconv.Itoa(port), "--port", "0"}, p.nodeArgs(args...)...)
	return nodetest.Start(t, nodetest.Options{Port: port, Args: a})
}

func tlsClient(t testing.TB, addr string, cfg *tls.Config) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, TLSConfig: cfg, DialTimeout: 5 * time.Second, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

// redisCLI runs redis-cli --tls against addr with the test CA and, when
// withCert, the client certificate.
func (p *pki) redisCLI(t testing.TB, addr string, withCert bool, args ...string) (string, error) {
	t.Helper()
	bin := testenv.LookTool(t, "redis-cli", "redis-tools")
	host, port, _ := net.SplitHostPort(addr)
	a := []string{"--tls", "--cacert", p.caFile, "-h", host, "-p", port}
	if withCert {
		a = append(a, "--cert", p.clientCert, "--key", p.clientKey)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append(a, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// eventually polls f until it returns nil or the deadline passes.
func eventually(t testing.TB, within time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %v", within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func parseSerial(certPEM []byte) (string, error) {
	c, err := certgen.Parse(certPEM)
	if err != nil {
		return "", err
	}
	return c.SerialNumber.String(), nil
}
