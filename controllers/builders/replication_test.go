package builders

import (
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/node/tlsconf/certgen"
)

func replication(changes ...func(*v1alpha1.RedisReplication)) *v1alpha1.RedisReplication {
	rr := &v1alpha1.RedisReplication{ObjectMeta: metav1.ObjectMeta{Name: "rp", Namespace: "ns", UID: "uid-rp"}}
	rr.Spec.Default("shoal/node:test")
	for _, c := range changes {
		c(rr)
	}
	return rr
}

func withReplicationTLS(rr *v1alpha1.RedisReplication) {
	rr.Spec.TLS = &v1alpha1.TLSSpec{AuthClients: "optional"}
}

// Without spec.tls nothing about TLS appears; the plain ports stay.
func TestReplicationWithoutTLSIsPlain(t *testing.T) {
	rr := replication()
	if conf := ReplicationNodeConfig(rr); strings.Contains(conf, "tls-") || !strings.Contains(conf, "port 6379\n") {
		t.Errorf("node.conf without spec.tls:\n%s", conf)
	}
	if conf := SentinelConfig(rr, "m"); strings.Contains(conf, "tls-") || !strings.Contains(conf, "port 26379\n") {
		t.Errorf("sentinel.conf without spec.tls:\n%s", conf)
	}
	if hasVolume(ReplicationNodeStatefulSet(rr, "h"), tlsVolumeName) || hasVolume(ReplicationSentinelStatefulSet(rr), tlsVolumeName) {
		t.Error("a TLS volume without spec.tls")
	}
}

// The data nodes: TLS only on the client port, replication over TLS, no
// cluster bus line; the last port line wins, so port 0 must follow 6379.
func TestReplicationNodeConfigTLS(t *testing.T) {
	conf := ReplicationNodeConfig(replication(withReplicationTLS))
	for _, line := range []string{"tls-port 6379\n", "tls-replication yes\n", "tls-cert-file /etc/shoal/tls/tls.crt\n",
		"tls-key-file /etc/shoal/tls/tls.key\n", "tls-ca-cert-file /etc/shoal/tls/ca.crt\n", "tls-auth-clients optional\n"} {
		if !strings.Contains(conf, line) {
			t.Errorf("node.conf lacks %q:\n%s", line, conf)
		}
	}
	if strings.Contains(conf, "tls-cluster") {
		t.Errorf("node.conf of a replication has tls-cluster:\n%s", conf)
	}
	if i, j := strings.Index(conf, "port 6379\n"), strings.Index(conf, "port 0\n"); i < 0 || j < i {
		t.Errorf("port 0 does not follow port 6379:\n%s", conf)
	}
}

// The sentinels: TLS only on 26379, their links over TLS, the same files.
func TestSentinelConfigTLS(t *testing.T) {
	conf := SentinelConfig(replication(withReplicationTLS), "rp-node-0.rp-nodes.ns.svc")
	for _, line := range []string{"port 0\n", "tls-port 26379\n", "tls-replication yes\n", "tls-cert-file /etc/shoal/tls/tls.crt\n",
		"tls-ca-cert-file /etc/shoal/tls/ca.crt\n", "tls-auth-clients optional\n", "sentinel monitor rp rp-node-0.rp-nodes.ns.svc 6379 2\n"} {
		if !strings.Contains(conf, line) {
			t.Errorf("sentinel.conf lacks %q:\n%s", line, conf)
		}
	}
	if strings.Contains(conf, "port 26379\n") && !strings.Contains(conf, "tls-port 26379\n") {
		t.Errorf("sentinel.conf keeps a plain port:\n%s", conf)
	}
}

// Both StatefulSets mount the Secret into their main container; the data
// node's exec probes speak TLS; the init container needs no certificate.
func TestReplicationStatefulSetsMountTLS(t *testing.T) {
	rr := replication(withReplicationTLS)
	node := ReplicationNodeStatefulSet(rr, "h")
	if v := volume(node, tlsVolumeName); v == nil || v.Secret == nil || v.Secret.SecretName != "rp-tls" {
		t.Fatalf("node volumes %+v", node.Spec.Template.Spec.Volumes)
	}
	c := node.Spec.Template.Spec.Containers[0]
	if !hasMount(c, TLSDir) || !slices.Contains(c.ReadinessProbe.Exec.Command, "--tls-dir") || !slices.Contains(c.Lifecycle.PreStop.Exec.Command, "--tls-dir") {
		t.Errorf("node container mounts %+v, readiness %v", c.VolumeMounts, c.ReadinessProbe.Exec.Command)
	}
	sent := ReplicationSentinelStatefulSet(rr)
	if v := volume(sent, tlsVolumeName); v == nil || v.Secret.SecretName != "rp-tls" {
		t.Fatalf("sentinel volumes %+v", sent.Spec.Template.Spec.Volumes)
	}
	if !hasMount(sent.Spec.Template.Spec.Containers[0], TLSDir) || hasMount(sent.Spec.Template.Spec.InitContainers[0], TLSDir) {
		t.Errorf("sentinel mounts: container %+v, init %+v", sent.Spec.Template.Spec.Containers[0].VolumeMounts, sent.Spec.Template.Spec.InitContainers[0].VolumeMounts)
	}
	// The user's Secret, when named, is the one mounted.
	rr.Spec.TLS.SecretName = "mine"
	if v := volume(ReplicationNodeStatefulSet(rr, "h"), tlsVolumeName); v.Secret.SecretName != "mine" {
		t.Errorf("mounted %s, want the user's Secret", v.Secret.SecretName)
	}
}

// One certificate serves the master, replicas and sentinel Services and
// every pod; the objects the operator makes for it are the
// RedisReplication's.
func TestReplicationTLSTarget(t *testing.T) {
	rr := replication(withReplicationTLS)
	rr.Spec.TLS.IssuerRef = &v1alpha1.TLSIssuerRef{Name: "ca"}
	tt := ReplicationTLS(rr)
	names := tt.DNSNames()
	for _, want := range []string{"rp-master", "rp-replicas.ns.svc", "rp-sentinel.ns.svc.cluster.local", "*.rp-nodes.ns.svc", "localhost"} {
		if !slices.Contains(names, want) {
			t.Errorf("DNS names %v lack %s", names, want)
		}
	}
	if req := TLSLeafRequest(tt, time.Now()); req.CommonName != "rp.ns" || !req.Client {
		t.Errorf("leaf request %+v", req)
	}
	for _, s := range []interface {
		GetOwnerReferences() []metav1.OwnerReference
	}{
		TLSCASecret(tt, certgen.Pair{}), TLSNodeSecret(tt, certgen.Pair{}, nil), CertManagerCertificate(tt),
	} {
		refs := s.GetOwnerReferences()
		if len(refs) != 1 || refs[0].Kind != "RedisReplication" || refs[0].Name != "rp" {
			t.Errorf("owner %+v", refs)
		}
	}
	if got := CertManagerCertificate(tt).Object["spec"].(map[string]any)["secretName"]; got != "rp-tls" {
		t.Errorf("Certificate secretName %v", got)
	}
}

// spec.monitoring: metrics-port in node.conf and in the sentinel.conf
// template, a "metrics" port on the data node and the sentinel
// containers; one PodMonitor selects the data nodes and labels series
// with the RedisReplication and the role, another the sentinels, labelled
// with the RedisReplication and component.
func TestReplicationMonitoring(t *testing.T) {
	off := replication()
	if strings.Contains(ReplicationNodeConfig(off), "metrics-port") || len(ReplicationNodeStatefulSet(off, "h").Spec.Template.Spec.Containers[0].Ports) != 1 {
		t.Error("metrics served without spec.monitoring")
	}
	rr := replication(func(rr *v1alpha1.RedisReplication) {
		rr.Spec.Monitoring = &v1alpha1.MonitoringSpec{Enabled: true, Port: 9200, Interval: "10s"}
	})
	if conf := ReplicationNodeConfig(rr); !strings.Contains(conf, "metrics-port 9200\n") {
		t.Errorf("node.conf lacks metrics-port:\n%s", conf)
	}
	ports := ReplicationNodeStatefulSet(rr, "h").Spec.Template.Spec.Containers[0].Ports
	if len(ports) != 2 || ports[1].Name != v1alpha1.MetricsPortName || ports[1].ContainerPort != 9200 {
		t.Errorf("node ports %+v", ports)
	}
	if p := ReplicationSentinelStatefulSet(off).Spec.Template.Spec.Containers[0].Ports; len(p) != 1 || strings.Contains(SentinelConfig(off, "m"), "metrics-port") {
		t.Errorf("sentinel metrics served without spec.monitoring: %+v", p)
	}
	if p := ReplicationSentinelStatefulSet(rr).Spec.Template.Spec.Containers[0].Ports; len(p) != 2 || p[1].Name != v1alpha1.MetricsPortName || p[1].ContainerPort != 9200 {
		t.Errorf("sentinel ports %+v", p)
	}
	if conf := SentinelConfig(rr, "m"); !strings.Contains(conf, "\nmetrics-port 9200\n") {
		t.Errorf("sentinel.conf lacks metrics-port:\n%s", conf)
	}
	sm := ReplicationSentinelPodMonitor(rr)
	sspec := sm.Object["spec"].(map[string]any)
	ssel := sspec["selector"].(map[string]any)["matchLabels"].(map[string]any)
	if sm.GetName() != "rp-sentinels" || ssel[LabelReplication] != "rp" || ssel[LabelComponent] != componentSentinel {
		t.Errorf("sentinel PodMonitor %s selector %v", sm.GetName(), ssel)
	}
	sep := sspec["podMetricsEndpoints"].([]any)[0].(map[string]any)
	if sep["port"] != v1alpha1.MetricsPortName || sep["interval"] != "10s" || !slices.Equal(relabelTargets(sep), []string{MetricLabelReplication, MetricLabelComponent}) {
		t.Errorf("sentinel endpoint %v", sep)
	}
	pm := ReplicationPodMonitor(rr)
	spec := pm.Object["spec"].(map[string]any)
	sel := spec["selector"].(map[string]any)["matchLabels"].(map[string]any)
	if sel[LabelReplication] != "rp" || sel[LabelComponent] != componentNode || pm.GetName() != "rp-nodes" {
		t.Errorf("PodMonitor %s selector %v", pm.GetName(), sel)
	}
	ep := spec["podMetricsEndpoints"].([]any)[0].(map[string]any)
	if ep["interval"] != "10s" || !slices.Equal(relabelTargets(ep), []string{MetricLabelReplication, MetricLabelRole}) {
		t.Errorf("endpoint %v", ep)
	}
}

// relabelTargets are the labels a PodMonitor endpoint's relabelings set.
func relabelTargets(ep map[string]any) []string {
	var targets []string
	for _, r := range ep["relabelings"].([]any) {
		targets = append(targets, r.(map[string]any)["targetLabel"].(string))
	}
	return targets
}

// The data nodes' preStop hook hands a master's role over through the
// sentinels' Service, under the name they monitor it by.
func TestReplicationPreStopAsksTheSentinels(t *testing.T) {
	rr := replication()
	c := ReplicationNodeStatefulSet(rr, "h").Spec.Template.Spec.Containers[0]
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Exec == nil {
		t.Fatalf("no preStop exec hook: %+v", c.Lifecycle)
	}
	cmd := strings.Join(c.Lifecycle.PreStop.Exec.Command, " ")
	want := "prestop --port 6379 --password-env " + PasswordEnv
	if !strings.Contains(cmd, want) || !strings.Contains(cmd, "--sentinel rp-sentinel:26379 --master-name "+rr.SentinelMasterName()) {
		t.Errorf("preStop %q, want %q with the sentinels' Service and master name", cmd, want)
	}
	if s := ReplicationSentinelStatefulSet(rr).Spec.Template.Spec.Containers[0]; s.Lifecycle != nil {
		t.Errorf("a sentinel has a preStop hook: %+v", s.Lifecycle)
	}
}

// TestReplicationDefaultUserOff: with auth.defaultUser Disabled the data
// nodes start with the default user reset and the operator's users
// (shoal-operator with the replication kind's rules, shoal-replication,
// shoal-sentinel) instead of requirepass, replicate as shoal-replication,
// run their probes and preStop hook as shoal-operator; the sentinels
// authenticate as shoal-sentinel (auth-user) with the operator's password
// from <name>-operator.
func TestReplicationDefaultUserOff(t *testing.T) {
	rr := replication(func(rr *v1alpha1.RedisReplication) {
		rr.Spec.Auth = &v1alpha1.AuthSpec{DefaultUser: v1alpha1.DefaultUserDisabled}
	})
	c := ReplicationNodeStatefulSet(rr, "h").Spec.Template.Spec.Containers[0]
	assertDefaultUserOff(t, c, "rp-operator",
		"--user default reset --user shoal-operator on #$(SHOAL_OPERATOR_PASSWORD_SHA256) resetkeys resetchannels -@all +info +ping +replicaof",
		"+client|pause +client|unpause +acl|setuser +acl|deluser --user shoal-replication on #$(SHOAL_OPERATOR_PASSWORD_SHA256) resetkeys resetchannels -@all +psync +replconf +ping",
		"--masteruser shoal-replication --masterauth $(SHOAL_OPERATOR_PASSWORD)",
		"--user shoal-sentinel on #$(SHOAL_OPERATOR_PASSWORD_SHA256) resetkeys resetchannels &__sentinel__:hello -@all +ping +info +role +subscribe +publish +multi +exec +slaveof +replicaof +config|rewrite",
		"--replica-announce-ip $(POD_NAME).rp-nodes.ns.svc")

	init := strings.Join(ReplicationSentinelStatefulSet(rr).Spec.Template.Spec.InitContainers[0].Args, " ")
	if !strings.Contains(init, "--append sentinel auth-user rp shoal-sentinel --append sentinel auth-pass rp $(SHOAL_OPERATOR_PASSWORD)") {
		t.Errorf("sentinel init args %q", init)
	}
	on := strings.Join(ReplicationSentinelStatefulSet(replication()).Spec.Template.Spec.InitContainers[0].Args, " ")
	if strings.Contains(on, "auth-user") || !strings.Contains(on, "--append sentinel auth-pass rp $(SHOAL_PASSWORD)") {
		t.Errorf("sentinel init args with the default user on %q", on)
	}
	if s := ReplicationOperatorSecret(rr, "pw"); s.Name != "rp-operator" || string(s.Data["password"]) != "pw" || len(s.OwnerReferences) != 1 || s.OwnerReferences[0].Kind != "RedisReplication" {
		t.Errorf("operator Secret %s %v", s.Name, s.OwnerReferences)
	}
}
