package tlsconf_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/nodetest"
)

// TestOperatorNodeConfWithTLSProbe: a node.conf as the operator writes
// it for spec.tls (port, then port 0 and the tls-* lines, files named as
// in a kubernetes.io/tls Secret) serves TLS only, and `shoal-node health
// live --tls-dir` (the pod's probe) passes against it, while the probe
// without --tls-dir fails.
func TestOperatorNodeConfWithTLSProbe(t *testing.T) {
	p := newPKI(t)
	secret := t.TempDir()
	write(t, filepath.Join(secret, "tls.crt"), p.node.CertPEM)
	write(t, filepath.Join(secret, "tls.key"), p.node.KeyPEM)
	write(t, filepath.Join(secret, "ca.crt"), p.ca.CertPEM)
	port, busPort := nodetest.FreePort(t), nodetest.FreePort(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "node.conf")
	write(t, conf, fmt.Appendf(nil, "port 6379\ncluster-enabled yes\ncluster-config-file nodes.conf\nport 0\ntls-port %d\ncluster-port %d\n"+
		"tls-cluster yes\ntls-replication yes\ntls-cert-file %s/tls.crt\ntls-key-file %s/tls.key\ntls-ca-cert-file %s/ca.crt\ntls-auth-clients yes\n",
		port, busPort, secret, secret, secret))
	bin := nodetest.Binary(t)
	n := nodetest.Start(t, nodetest.Options{Port: port, Dir: dir, CommandLine: []string{conf, "--dir", dir, "--save", ""}})

	probe := func(args ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, append([]string{"health", "live", "--port", strconv.Itoa(n.Port), "--timeout", "3s"}, args...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}
	if err := probe("--tls-dir", secret); err != nil {
		t.Fatalf("health live --tls-dir against a TLS-only node: %v", err)
	}
	if err := probe(); err == nil {
		t.Fatal("health live without --tls-dir passed against a TLS-only node")
	}
	if _, err := os.Stat(filepath.Join(dir, "nodes.conf")); err != nil {
		t.Fatalf("the cluster-enabled node wrote no nodes.conf: %v", err)
	}
}
