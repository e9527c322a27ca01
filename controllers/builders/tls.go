package builders

import (
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/node/tlsconf/certgen"
)

// TLS (spec.tls): the nodes serve TLS only, on the client port (tls-port
// RedisPort, port 0), replicate and gossip over TLS (tls-replication,
// tls-cluster), with the certificate of a Secret mounted at TLSDir. The
// kubelet updates the mounted files when the Secret changes and the
// node reloads them within a second: a rotation restarts no pod.
const (
	// TLSDir is where the TLS Secret is mounted.
	TLSDir = "/etc/shoal/tls"
	// Keys of a TLS Secret (kubernetes.io/tls, plus ca.crt as cert-manager
	// writes it).
	TLSCertKey = corev1.TLSCertKey       // tls.crt
	TLSKeyKey  = corev1.TLSPrivateKeyKey // tls.key
	TLSCAKey   = "ca.crt"
	// TLSCAKeyKey is the CA's private key in the operator's CA Secret.
	TLSCAKeyKey = "ca.key"

	tlsVolumeName = "tls"
	// TLSCAValidity and TLSLeafValidity are the lifetimes of what the
	// operator's own CA issues; a certificate is reissued once less than
	// a third of its lifetime is left (CloudNativePG's practice: 90 days,
	// renewed ahead of expiry).
	TLSCAValidity   = 5 * 365 * 24 * time.Hour
	TLSLeafValidity = 90 * 24 * time.Hour
)

// TLSTarget is what the TLS objects of one RedisCluster or
// RedisReplication are made from: its spec.tls, the Secrets' names, the
// names the certificate must be valid for and the metadata of what the
// operator creates for it.
type TLSTarget struct {
	Spec *v1alpha1.TLSSpec
	// CommonName of the nodes' certificate (<name>.<namespace>).
	CommonName string
	// SecretName is the Secret the pods mount; CASecretName the
	// operator's own CA.
	SecretName, CASecretName string
	// Services are the Services clients reach the pods through; Headless
	// the one that names every pod.
	Services []string
	Headless string
	// Namespace of the owner.
	Namespace string
	// Meta is the metadata of an object of the owner named name.
	Meta func(name string) metav1.ObjectMeta
}

// ClusterTLS is the TLS target of a RedisCluster.
func ClusterTLS(rc *v1alpha1.RedisCluster) TLSTarget {
	return TLSTarget{Spec: rc.Spec.TLS, CommonName: rc.Name + "." + rc.Namespace,
		SecretName: rc.TLSSecretName(), CASecretName: rc.TLSCASecretName(),
		Services: []string{ClientServiceName(rc)}, Headless: HeadlessServiceName(rc), Namespace: rc.Namespace,
		Meta: func(name string) metav1.ObjectMeta { return objectMeta(rc, name, ClusterLabels(rc)) }}
}

// ReplicationTLS is the TLS target of a RedisReplication: one
// certificate for its data nodes and its sentinels.
func ReplicationTLS(rr *v1alpha1.RedisReplication) TLSTarget {
	return TLSTarget{Spec: rr.Spec.TLS, CommonName: rr.Name + "." + rr.Namespace,
		SecretName: rr.TLSSecretName(), CASecretName: rr.TLSCASecretName(),
		Services: []string{ReplicationMasterServiceName(rr), ReplicationReplicasServiceName(rr), ReplicationSentinelServiceName(rr)},
		Headless: ReplicationHeadlessName(rr), Namespace: rr.Namespace,
		Meta: func(name string) metav1.ObjectMeta { return replMeta(rr, name, ReplicationLabels(rr, componentNode)) }}
}

// tlsDirectives are node.conf's tls-* lines for spec (none without): a
// cluster node's (the bus over TLS too) or, without cluster, a
// replication data node's.
func tlsDirectives(spec *v1alpha1.TLSSpec, cluster bool) [][2]string {
	if spec == nil {
		return nil
	}
	out := [][2]string{
		{"port", "0"}, // overrides the plain port above: the last line wins
		{"tls-port", fmt.Sprint(RedisPort)},
	}
	if cluster {
		out = append(out, [2]string{"tls-cluster", "yes"})
	}
	return append(out, tlsFileDirectives(spec)...)
}

// tlsFileDirectives are the tls-* lines every TLS server of ours has, data
// node or sentinel: replication links (a sentinel's links) over TLS, the
// files of the mounted Secret, and tls-auth-clients.
func tlsFileDirectives(spec *v1alpha1.TLSSpec) [][2]string {
	auth := spec.AuthClients
	if auth == "" {
		auth = "yes"
	}
	return [][2]string{
		{"tls-replication", "yes"},
		{"tls-cert-file", filepath.Join(TLSDir, TLSCertKey)},
		{"tls-key-file", filepath.Join(TLSDir, TLSKeyKey)},
		{"tls-ca-cert-file", filepath.Join(TLSDir, TLSCAKey)},
		{"tls-auth-clients", auth},
	}
}

// withTLS mounts the TLS Secret (secretName, none when "") into the
// named containers and makes their exec probes and pre-stop hook speak
// TLS (shoal-node health --tls-dir).
func withTLS(secretName string, spec *corev1.PodSpec, containers ...string) {
	if secretName == "" {
		return
	}
	spec.Volumes = append(spec.Volumes, corev1.Volume{Name: tlsVolumeName, VolumeSource: corev1.VolumeSource{
		Secret: &corev1.SecretVolumeSource{SecretName: secretName, DefaultMode: ptrInt32(0o440)},
	}})
	for i := range spec.Containers {
		c := &spec.Containers[i]
		if !slices.Contains(containers, c.Name) {
			continue
		}
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: tlsVolumeName, MountPath: TLSDir, ReadOnly: true})
		for _, p := range []*corev1.Probe{c.StartupProbe, c.ReadinessProbe, c.LivenessProbe} {
			if p != nil && p.Exec != nil {
				p.Exec.Command = append(p.Exec.Command, "--tls-dir", TLSDir)
			}
		}
		if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Exec != nil {
			c.Lifecycle.PreStop.Exec.Command = append(c.Lifecycle.PreStop.Exec.Command, "--tls-dir", TLSDir)
		}
	}
}

func ptrInt32(v int32) *int32 { return &v }

// DNSNames are the names the nodes' certificate is valid for: the
// client Services and every pod of the headless Service (clients that
// check host names connect through these; nodes dial each other by IP
// and check the chain only, as Redis).
func (t TLSTarget) DNSNames() []string {
	var out []string
	for _, svc := range t.Services {
		out = append(out, svc, fmt.Sprintf("%s.%s", svc, t.Namespace), fmt.Sprintf("%s.%s.svc", svc, t.Namespace),
			fmt.Sprintf("%s.%s.svc.cluster.local", svc, t.Namespace))
	}
	return append(out, fmt.Sprintf("*.%s.%s.svc", t.Headless, t.Namespace),
		fmt.Sprintf("*.%s.%s.svc.cluster.local", t.Headless, t.Namespace), "localhost")
}

// TLSLeafRequest is the certificate the operator's CA issues for the
// nodes of t at now (server and client use: the nodes dial each other,
// the operator's admin client presents it too).
func TLSLeafRequest(t TLSTarget, now time.Time) certgen.Request {
	return certgen.Request{CommonName: t.CommonName, DNSNames: t.DNSNames(),
		IPs: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: now.Add(-5 * time.Minute), Validity: TLSLeafValidity, Client: true}
}

// TLSRenewal says whether a certificate must be (re)issued at now: it is
// missing or unreadable, not signed by caPEM (the CA changed), or less
// than a third of its lifetime is left.
func TLSRenewal(certPEM, caPEM []byte, now time.Time) (bool, string) {
	c, err := certgen.Parse(certPEM)
	if err != nil {
		return true, "no valid certificate"
	}
	if len(caPEM) > 0 {
		ca, err := certgen.Parse(caPEM)
		if err != nil || c.CheckSignatureFrom(ca) != nil {
			return true, "not signed by the current CA"
		}
	}
	life := c.NotAfter.Sub(c.NotBefore)
	if c.NotAfter.Sub(now) < life/3 {
		return true, fmt.Sprintf("expires at %s", c.NotAfter.UTC().Format(time.RFC3339))
	}
	return false, ""
}

// TLSCASecret is the operator's CA for t (ca.crt, ca.key).
func TLSCASecret(t TLSTarget, ca certgen.Pair) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   typeMeta("v1", "Secret"),
		ObjectMeta: t.Meta(t.CASecretName),
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{TLSCAKey: ca.CertPEM, TLSCAKeyKey: ca.KeyPEM},
	}
}

// TLSNodeSecret is the nodes' certificate issued by the operator's CA
// (tls.crt, tls.key, ca.crt), the Secret the pods mount.
func TLSNodeSecret(t TLSTarget, leaf certgen.Pair, caPEM []byte) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   typeMeta("v1", "Secret"),
		ObjectMeta: t.Meta(t.SecretName),
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{TLSCertKey: leaf.CertPEM, TLSKeyKey: leaf.KeyPEM, TLSCAKey: caPEM},
	}
}

// CertManagerCertificate is the cert-manager Certificate asking
// spec.tls.issuerRef for the nodes' certificate, written to the Secret
// the pods mount (with ca.crt, as cert-manager's CA issuers write it).
func CertManagerCertificate(t TLSTarget) *unstructured.Unstructured {
	ref := t.Spec.IssuerRef
	kind, group := ref.Kind, ref.Group
	if kind == "" {
		kind = "Issuer"
	}
	if group == "" {
		group = "cert-manager.io"
	}
	dns := make([]any, 0, 8)
	for _, n := range t.DNSNames() {
		dns = append(dns, n)
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1",
		"kind":       "Certificate",
		"spec": map[string]any{
			"secretName":  t.SecretName,
			"commonName":  t.CommonName,
			"dnsNames":    dns,
			"ipAddresses": []any{"127.0.0.1"},
			"duration":    TLSLeafValidity.String(),
			"renewBefore": (TLSLeafValidity / 3).String(),
			"usages":      []any{"server auth", "client auth", "digital signature", "key encipherment"},
			"issuerRef":   map[string]any{"name": ref.Name, "kind": kind, "group": group},
		},
	}}
	meta := t.Meta(t.SecretName)
	u.SetName(meta.Name)
	u.SetNamespace(meta.Namespace)
	u.SetLabels(meta.Labels)
	u.SetOwnerReferences(meta.OwnerReferences)
	return u
}
