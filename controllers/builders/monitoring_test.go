package builders

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/node/server"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestMonitoringNodeConfig: with spec.monitoring the node loads a
// node.conf whose metrics-port is the container port named metrics;
// without, neither is there.
func TestMonitoringNodeConfig(t *testing.T) {
	off := cluster()
	if strings.Contains(NodeConfig(off), "metrics-port") || len(nodePorts(off)) != 2 {
		t.Errorf("monitoring off: node.conf %q, ports %v", NodeConfig(off), nodePorts(off))
	}
	rc := cluster(func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Monitoring = &v1alpha1.MonitoringSpec{Enabled: true, Port: 9500}
	})
	path := filepath.Join(t.TempDir(), ConfigFileKey)
	if err := os.WriteFile(path, []byte(NodeConfig(rc)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := server.ParseArgs([]string{path})
	if err != nil {
		t.Fatalf("the node refuses node.conf: %v", err)
	}
	if cfg.MetricsPort != 9500 {
		t.Errorf("metrics-port %d", cfg.MetricsPort)
	}
	if !slices.ContainsFunc(nodePorts(rc), func(p corev1.ContainerPort) bool {
		return p.Name == v1alpha1.MetricsPortName && p.ContainerPort == 9500
	}) {
		t.Errorf("ports %v", nodePorts(rc))
	}
}

// TestAlertRulesSelectTheirCluster: every alert matches the cluster's own
// series only, and the master-without-replica alert exists only when
// replicas are asked for.
func TestAlertRulesSelectTheirCluster(t *testing.T) {
	rc := cluster()
	names := map[string]bool{}
	for _, r := range AlertRules(rc) {
		names[r.Alert] = true
		if !strings.Contains(r.Expr, `rediscluster="`+rc.Name+`"`) || r.For == "" || r.Severity == "" || r.Summary == "" {
			t.Errorf("%s: %+v", r.Alert, r)
		}
	}
	if !names["RedisMasterWithoutReplica"] && rc.Spec.ReplicasPerMaster > 0 {
		t.Error("no RedisMasterWithoutReplica with replicas")
	}
	rc.Spec.ReplicasPerMaster = 0
	for _, r := range AlertRules(rc) {
		if r.Alert == "RedisMasterWithoutReplica" {
			t.Error("RedisMasterWithoutReplica without replicas")
		}
	}
}

// TestReplicationAlertRulesSelectTheirReplication: every alert of a
// RedisReplication matches its own data node series only, on the label
// its PodMonitor puts there; none is a cluster's; the master-without-
// replica alert exists only when replicas are asked for.
func TestReplicationAlertRulesSelectTheirReplication(t *testing.T) {
	rr := replication()
	for _, pm := range []*unstructured.Unstructured{ReplicationPodMonitor(rr), ReplicationSentinelPodMonitor(rr)} {
		relabelled := relabelTargets(pm.Object["spec"].(map[string]any)["podMetricsEndpoints"].([]any)[0].(map[string]any))
		if !slices.Contains(relabelled, MetricLabelReplication) {
			t.Fatalf("the PodMonitor %s labels series %v, not %s", pm.GetName(), relabelled, MetricLabelReplication)
		}
	}
	names := map[string]string{}
	for _, r := range ReplicationAlertRules(rr) {
		names[r.Alert] = r.Expr
		if !strings.Contains(r.Expr, `namespace="ns",redisreplication="rp"`) || r.For == "" || r.Severity == "" || r.Summary == "" || r.Description == "" {
			t.Errorf("%s: %+v", r.Alert, r)
		}
		if strings.HasPrefix(r.Alert, "RedisCluster") || strings.Contains(r.Expr, "cluster") || strings.Contains(r.Expr, "shoal_") {
			t.Errorf("%s is a cluster's: %s", r.Alert, r.Expr)
		}
	}
	for _, a := range []string{"RedisReplicationNodeDown", "RedisReplicationMasterCountNotOne", "RedisMasterWithoutReplica",
		"RedisReplicaLinkDown", "RedisReplicaLagHigh", "RedisMemoryNearMax", "RedisPersistenceWriteErrors",
		"RedisSentinelDown", "RedisSentinelMasterDown", "RedisSentinelQuorumAtRisk"} {
		if _, ok := names[a]; !ok {
			t.Errorf("no %s in %v", a, names)
		}
	}
	// The sentinels' up series are theirs, not a data node's.
	if !strings.Contains(names["RedisReplicationNodeDown"], `component!="sentinel"`) || !strings.Contains(names["RedisSentinelDown"], `component="sentinel"`) {
		t.Errorf("node down %q, sentinel down %q", names["RedisReplicationNodeDown"], names["RedisSentinelDown"])
	}
	if e := names["RedisReplicationMasterCountNotOne"]; !strings.Contains(e, "count by (namespace, redisreplication)") || !strings.HasSuffix(e, "!= 1") {
		t.Errorf("master count %q", e)
	}
	rr.Spec.Replicas = 1
	for _, r := range ReplicationAlertRules(rr) {
		if r.Alert == "RedisMasterWithoutReplica" {
			t.Error("RedisMasterWithoutReplica with a single data node")
		}
	}
}

// TestReplicationPrometheusRule: <name>-alerts, owned by the
// RedisReplication, with spec.monitoring's labels and one group whose
// rules carry the redisreplication label (the group the cluster's
// RuleGroup makes, from other rules).
func TestReplicationPrometheusRule(t *testing.T) {
	rr := replication(func(rr *v1alpha1.RedisReplication) {
		rr.Spec.Monitoring = &v1alpha1.MonitoringSpec{Enabled: true, Labels: map[string]string{"release": "prom"}}
	})
	pr := ReplicationPrometheusRule(rr)
	refs := pr.GetOwnerReferences()
	if pr.GetName() != "rp-alerts" || pr.GetNamespace() != "ns" || pr.GetKind() != "PrometheusRule" || pr.GetLabels()["release"] != "prom" ||
		len(refs) != 1 || refs[0].Kind != "RedisReplication" || refs[0].UID != "uid-rp" {
		t.Fatalf("PrometheusRule meta %s/%s %v %v", pr.GetNamespace(), pr.GetName(), pr.GetLabels(), refs)
	}
	groups := pr.Object["spec"].(map[string]any)["groups"].([]any)
	g := groups[0].(map[string]any)
	if len(groups) != 1 || g["name"] != "shoal.redisreplication.ns.rp" || len(g["rules"].([]any)) != len(ReplicationAlertRules(rr)) {
		t.Fatalf("groups %v", groups)
	}
	for _, r := range g["rules"].([]any) {
		if l := r.(map[string]any)["labels"].(map[string]any); l[MetricLabelReplication] != "rp" || l["severity"] == "" {
			t.Errorf("rule %v labels %v", r.(map[string]any)["alert"], l)
		}
	}
}
