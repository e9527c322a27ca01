package controllers

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/nodeadmin"
	"github.com/shoal-dev/shoal/node/nodetest"
	"github.com/shoal-dev/shoal/node/tlsconf/certgen"
)

// sourcePKI is a CA, a server certificate for 127.0.0.1 and the name
// source.example, and a client certificate: what a TLS source and the
// operator's Secrets hold.
type sourcePKI struct{ ca, server, client certgen.Pair }

func newSourcePKI(t *testing.T) sourcePKI {
	t.Helper()
	now := time.Now().Add(-time.Minute)
	var p sourcePKI
	var err error
	if p.ca, err = certgen.NewCA("source CA", now, time.Hour); err != nil {
		t.Fatal(err)
	}
	if p.server, err = certgen.Issue(p.ca, certgen.Request{CommonName: "source", IPs: []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames: []string{"source.example"}, NotBefore: now, Validity: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if p.client, err = certgen.Issue(p.ca, certgen.Request{CommonName: "operator", NotBefore: now, Validity: time.Hour, Client: true}); err != nil {
		t.Fatal(err)
	}
	return p
}

// startTLSSource starts Debian's redis-server with only a tls-port, asking
// clients for a certificate of the CA (tls-auth-clients yes).
func startTLSSource(t *testing.T, p sourcePKI) *nodetest.Proc {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{"ca.crt": p.ca.CertPEM, "tls.crt": p.server.CertPEM, "tls.key": p.server.KeyPEM}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	port := nodetest.FreePort(t)
	return nodetest.Start(t, nodetest.Options{Binary: nodetest.RedisServer(t), Port: port, Args: []string{
		"--port", "0", "--tls-port", strconv.Itoa(port), "--tls-auth-clients", "yes",
		"--tls-cert-file", filepath.Join(dir, "tls.crt"), "--tls-key-file", filepath.Join(dir, "tls.key"),
		"--tls-ca-cert-file", filepath.Join(dir, "ca.crt"),
		"--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0",
	}})
}

// TestSourceTLSConfigAgainstRedis: the configurations sourceTLSConfig
// makes are held to account by a real redis-server on TLS: the right CA,
// client certificate and name are accepted; another CA, a name the
// certificate does not hold, or no client certificate are refused.
func TestSourceTLSConfigAgainstRedis(t *testing.T) {
	p := newSourcePKI(t)
	src := startTLSSource(t, p)
	other := newSourcePKI(t)
	cases := []struct {
		name       string
		spec       v1alpha1.FromRedisTLS
		ca         []byte
		cert, key  []byte
		wantRefuse string
	}{
		{"CA, client certificate, name", v1alpha1.FromRedisTLS{ServerName: "source.example"}, p.ca.CertPEM, p.client.CertPEM, p.client.KeyPEM, ""},
		{"CA, client certificate, the address's IP", v1alpha1.FromRedisTLS{}, p.ca.CertPEM, p.client.CertPEM, p.client.KeyPEM, ""},
		{"insecureSkipVerify", v1alpha1.FromRedisTLS{InsecureSkipVerify: true}, nil, p.client.CertPEM, p.client.KeyPEM, ""},
		{"another CA", v1alpha1.FromRedisTLS{}, other.ca.CertPEM, p.client.CertPEM, p.client.KeyPEM, "certificate signed by unknown authority"},
		{"the system's roots", v1alpha1.FromRedisTLS{}, nil, p.client.CertPEM, p.client.KeyPEM, "certificate signed by unknown authority"},
		{"a name the certificate lacks", v1alpha1.FromRedisTLS{ServerName: "other.example"}, p.ca.CertPEM, p.client.CertPEM, p.client.KeyPEM, "other.example"},
		// TLS 1.3: the server's refusal reaches the client as an alert or a
		// reset connection, depending on the timing.
		{"no client certificate", v1alpha1.FromRedisTLS{}, p.ca.CertPEM, nil, nil, "*"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := sourceTLSConfig(&tc.spec, tc.ca, tc.cert, tc.key)
			if err != nil {
				t.Fatal(err)
			}
			c := nodeadmin.DialSource(src.Addr, nodeadmin.SourceAuth{TLS: cfg, Timeout: 10 * time.Second})
			defer c.Close()
			err = c.Ping(context.Background()).Err()
			switch {
			case tc.wantRefuse == "" && err != nil:
				t.Fatalf("PING over TLS: %v", err)
			case tc.wantRefuse == "*" && err == nil:
				t.Fatal("PING over TLS succeeded; want a refusal")
			case tc.wantRefuse != "" && tc.wantRefuse != "*" && (err == nil || !strings.Contains(err.Error(), tc.wantRefuse)):
				t.Fatalf("PING over TLS: %v; want a refusal naming %q", err, tc.wantRefuse)
			}
		})
	}
	if _, err := sourceTLSConfig(&v1alpha1.FromRedisTLS{}, []byte("not PEM"), nil, nil); err == nil {
		t.Error("a CA that is not PEM was accepted")
	}
	if _, err := sourceTLSConfig(&v1alpha1.FromRedisTLS{}, nil, p.client.CertPEM, p.server.KeyPEM); err == nil {
		t.Error("a client certificate with another certificate's key was accepted")
	}
}

// TestBootstrapFromRedisTLS imports (method Replicate: the link and the
// commands to the source) from a redis-server that serves only TLS and
// asks for client certificates, with the CA and the client certificate
// from Secrets: the cluster holds the source's keys; with the CA Secret
// missing the import waits and says why.
func TestBootstrapFromRedisTLS(t *testing.T) {
	ctx := context.Background()
	p := newSourcePKI(t)
	src := startTLSSource(t, p)
	cfg, err := sourceTLSConfig(&v1alpha1.FromRedisTLS{}, p.ca.CertPEM, p.client.CertPEM, p.client.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	source := redis.NewClient(&redis.Options{Addr: src.Addr, TLSConfig: cfg})
	t.Cleanup(func() { _ = source.Close() })
	fillSource(t, source, 700)

	ns := newNamespace(t)
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "client"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: p.client.CertPEM, corev1.TLSPrivateKeyKey: p.client.KeyPEM}})
	key, cc := importInto(t, ns, v1alpha1.FromRedisSpec{
		Addresses: []string{src.Addr},
		TLS: &v1alpha1.FromRedisTLS{
			CASecret:         &v1alpha1.FromRedisSecretKey{Name: "source-ca", Key: "bundle.pem"},
			ClientCertSecret: "client",
			ServerName:       "source.example",
		},
	})
	blocked := waitCondition(t, key, v1alpha1.ConditionFromRedisSynced, metav1.ConditionFalse, v1alpha1.ReasonImportBlocked)
	if msg := blocked.Status.FromRedis.Message; !strings.Contains(msg, "tls.caSecret: Secret source-ca not found") {
		t.Fatalf("message while the CA Secret is missing: %q", msg)
	}
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "source-ca"}, Data: map[string][]byte{"bundle.pem": p.ca.CertPEM}})
	setAnnotation(t, key, "test.shoal.dev/nudge", "1") // a Secret the cluster does not own is not watched
	synced := waitCondition(t, key, v1alpha1.ConditionFromRedisSynced, metav1.ConditionTrue, v1alpha1.ReasonImportSyncing)
	if fs := synced.Status.FromRedis; len(fs.Links) != 1 || fs.Links[0].Phase != "Streaming" {
		t.Fatalf("status once synced: %+v", fs)
	}
	compareWithSource(ctx, t, source, cc)
}
