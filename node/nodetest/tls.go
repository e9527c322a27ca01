package nodetest

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/tlsconf/certgen"
)

// TLSFiles is a test CA and one certificate it signed (server and client
// use, for 127.0.0.1), written to Dir as a Kubernetes TLS Secret lays
// them out: ca.crt, tls.crt, tls.key.
type TLSFiles struct {
	Dir       string
	CA, Leaf  certgen.Pair
	CAFile    string
	CertFile  string
	KeyFile   string
	NotBefore time.Time
}

// NewTLSFiles makes a CA named cn and its certificate in a t.TempDir(),
// valid for an hour.
func NewTLSFiles(t testing.TB, cn string) *TLSFiles {
	t.Helper()
	now := time.Now().Add(-time.Minute)
	ca, err := certgen.NewCA(cn, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := certgen.Issue(ca, certgen.Request{CommonName: "node", IPs: []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames: []string{"localhost"}, NotBefore: now, Validity: time.Hour, Client: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f := &TLSFiles{Dir: dir, CA: ca, Leaf: leaf, NotBefore: now,
		CAFile: filepath.Join(dir, "ca.crt"), CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key")}
	for path, b := range map[string][]byte{f.CAFile: ca.CertPEM, f.CertFile: leaf.CertPEM, f.KeyFile: leaf.KeyPEM} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// Args are the tls-* arguments of a node or a sentinel using the files
// (tls-replication yes, no plain port).
func (f *TLSFiles) Args() []string {
	return []string{"--tls-cert-file", f.CertFile, "--tls-key-file", f.KeyFile,
		"--tls-ca-cert-file", f.CAFile, "--tls-replication", "yes", "--port", "0"}
}

// ClientConfig trusts the CA and presents the certificate.
func (f *TLSFiles) ClientConfig(t testing.TB) *tls.Config {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(f.CA.CertPEM)
	cert, err := tls.X509KeyPair(f.Leaf.CertPEM, f.Leaf.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}
