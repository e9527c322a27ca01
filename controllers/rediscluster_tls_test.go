package controllers

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/node/tlsconf/certgen"
)

// TestTLSOwnCAIssuesAndRenews: spec.tls without a Secret or an issuer
// makes the operator's CA Secret and the nodes' Secret it signs; the
// nodes' config has the tls-* lines (port 0) and their pods mount the
// Secret with TLS probes; a nodes' certificate close to expiry is
// reissued by the same CA.
func TestTLSOwnCAIssuesAndRenews(t *testing.T) {
	ns := newNamespace(t)
	rc := newCluster(ns, "sec", func(rc *v1alpha1.RedisCluster) { rc.Spec.TLS = &v1alpha1.TLSSpec{} })
	create(t, rc)

	ca, node := &corev1.Secret{}, &corev1.Secret{}
	get(t, ns, "sec-tls-ca", ca)
	get(t, ns, "sec-tls", node)
	assertControlledBy(t, ca, rc)
	assertControlledBy(t, node, rc)
	leaf := verifyNodeSecret(t, node, ca.Data[builders.TLSCAKey])
	if !containsString(leaf.DNSNames, "*.sec-headless."+ns+".svc") && !containsString(leaf.DNSNames, "*."+builders.HeadlessServiceName(rc)+"."+ns+".svc") {
		t.Errorf("the nodes' certificate names %v, not the headless Service's pods", leaf.DNSNames)
	}

	cm := &corev1.ConfigMap{}
	get(t, ns, builders.ConfigMapName(rc), cm)
	conf := cm.Data[builders.ConfigFileKey]
	for _, line := range []string{"port 0\n", "tls-port 6379\n", "tls-cluster yes\n", "tls-replication yes\n",
		"tls-cert-file /etc/shoal/tls/tls.crt\n", "tls-ca-cert-file /etc/shoal/tls/ca.crt\n", "tls-auth-clients yes\n"} {
		if !strings.Contains(conf, line) {
			t.Errorf("node.conf lacks %q:\n%s", line, conf)
		}
	}
	sts := &appsv1.StatefulSet{}
	get(t, ns, "sec-shard-0", sts)
	pod := sts.Spec.Template.Spec
	mounted := false
	for _, v := range pod.Volumes {
		if v.Secret != nil && v.Secret.SecretName == "sec-tls" {
			mounted = true
		}
	}
	c := pod.Containers[0]
	if !mounted || !strings.Contains(strings.Join(c.ReadinessProbe.Exec.Command, " "), "--tls-dir "+builders.TLSDir) ||
		!strings.Contains(strings.Join(c.Lifecycle.PreStop.Exec.Command, " "), "--tls-dir "+builders.TLSDir) {
		t.Fatalf("pods do not mount sec-tls or probe over TLS: volumes %+v, readiness %v", pod.Volumes, c.ReadinessProbe.Exec.Command)
	}

	// A certificate with less than a third of its life left is reissued.
	caPair := certgen.Pair{CertPEM: ca.Data[builders.TLSCAKey], KeyPEM: ca.Data[builders.TLSCAKeyKey]}
	old, err := certgen.Issue(caPair, certgen.Request{CommonName: "old", NotBefore: time.Now().Add(-80 * 24 * time.Hour),
		Validity: 90 * 24 * time.Hour, Client: true})
	if err != nil {
		t.Fatal(err)
	}
	node.Data[builders.TLSCertKey], node.Data[builders.TLSKeyKey] = old.CertPEM, old.KeyPEM
	if err := testEnv.c.Update(context.Background(), node); err != nil {
		t.Fatal(err)
	}
	oldCert, _ := certgen.Parse(old.CertPEM)
	eventually(t, func() error {
		s := &corev1.Secret{}
		if err := testEnv.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "sec-tls"}, s); err != nil {
			return err
		}
		c, err := certgen.Parse(s.Data[builders.TLSCertKey])
		if err != nil {
			return err
		}
		if c.SerialNumber.Cmp(oldCert.SerialNumber) == 0 {
			touch(t, client.ObjectKeyFromObject(rc)) // Secrets of ours are watched; nudge in case
			return fmt.Errorf("the certificate expiring at %s was not reissued", c.NotAfter)
		}
		return nil
	})
	get(t, ns, "sec-tls", node)
	verifyNodeSecret(t, node, ca.Data[builders.TLSCAKey])
}

// TestTLSMissingSourcesAreReported: a user Secret that does not exist and
// an issuer without cert-manager installed are reported as Degraded.
func TestTLSMissingSourcesAreReported(t *testing.T) {
	ns := newNamespace(t)
	byo := newCluster(ns, "byo-tls", func(rc *v1alpha1.RedisCluster) { rc.Spec.TLS = &v1alpha1.TLSSpec{SecretName: "mine"} })
	create(t, byo)
	waitCondition(t, client.ObjectKeyFromObject(byo), v1alpha1.ConditionDegraded, metav1.ConditionTrue, reasonTLSSecretNotFound)

	cm := newCluster(ns, "cm-tls", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.TLS = &v1alpha1.TLSSpec{IssuerRef: &v1alpha1.TLSIssuerRef{Name: "ca-issuer"}}
	})
	create(t, cm)
	waitCondition(t, client.ObjectKeyFromObject(cm), v1alpha1.ConditionDegraded, metav1.ConditionTrue, reasonCertManagerAbsent)

	both := newCluster(ns, "both-tls", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.TLS = &v1alpha1.TLSSpec{SecretName: "x", IssuerRef: &v1alpha1.TLSIssuerRef{Name: "y"}}
	})
	if err := testEnv.c.Create(context.Background(), both); err == nil || !strings.Contains(err.Error(), "secretName and issuerRef are exclusive") {
		t.Fatalf("a spec.tls with both a Secret and an issuer was admitted: %v", err)
	}
}

func verifyNodeSecret(t *testing.T, s *corev1.Secret, caPEM []byte) *x509.Certificate {
	t.Helper()
	leaf, err := certgen.Parse(s.Data[builders.TLSCertKey])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("the nodes' certificate does not verify against the CA for client use: %v", err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Fatalf("the nodes' certificate does not verify for server use: %v", err)
	}
	if len(s.Data[builders.TLSKeyKey]) == 0 || s.Type != corev1.SecretTypeTLS {
		t.Fatalf("the nodes' Secret has type %s and key of %d bytes", s.Type, len(s.Data[builders.TLSKeyKey]))
	}
	return leaf
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// touch changes an annotation of the cluster so that it is reconciled.
func touch(t *testing.T, key client.ObjectKey) {
	t.Helper()
	rc := &v1alpha1.RedisCluster{}
	if err := testEnv.c.Get(context.Background(), key, rc); err != nil {
		return
	}
	if rc.Annotations == nil {
		rc.Annotations = map[string]string{}
	}
	rc.Annotations["touch"] = time.Now().Format(time.RFC3339Nano)
	_ = testEnv.c.Update(context.Background(), rc)
}
