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
