package builders

import (
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestNodeProbesAndPreStopRunTheNodesOwnChecks(t *testing.T) {
	c := ShardStatefulSet(cluster(), 0, "hash").Spec.Template.Spec.Containers[0]
	grace := *ShardStatefulSet(cluster(), 0, "hash").Spec.Template.Spec.TerminationGracePeriodSeconds

	probes := []struct {
		name  string
		check string
		got   []string
	}{
		{"startup", HealthLive, execCommand(t, c.StartupProbe.Exec)},
		{"liveness", HealthLive, execCommand(t, c.LivenessProbe.Exec)},
		{"readiness", HealthReady, execCommand(t, c.ReadinessProbe.Exec)},
	}
	for _, p := range probes {
		want := []string{"/shoal-node", "health", p.check, "--port", "6379", "--password-env", PasswordEnv, "--timeout", healthCommandTimeout}
		if !slices.Equal(p.got, want) {
			t.Errorf("%s probe runs %v, want %v", p.name, p.got, want)
		}
	}
	// The command gives up before the kubelet does, so that the probe
	// failure carries the command's reason.
	cmdTimeout, err := time.ParseDuration(healthCommandTimeout)
	if err != nil {
		t.Fatal(err)
	}
	for name, timeout := range map[string]int32{"startup": c.StartupProbe.TimeoutSeconds,
		"liveness": c.LivenessProbe.TimeoutSeconds, "readiness": c.ReadinessProbe.TimeoutSeconds} {
		if time.Duration(timeout)*time.Second <= cmdTimeout {
			t.Errorf("%s probe timeout %ds is not above the command's %v", name, timeout, cmdTimeout)
		}
	}
	if d := time.Duration(c.StartupProbe.PeriodSeconds*c.StartupProbe.FailureThreshold) * time.Second; d < 5*time.Minute {
		t.Errorf("startup probe allows %v to load the dataset, want at least 5m", d)
	}

	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Exec == nil {
		t.Fatalf("no exec preStop hook: %+v", c.Lifecycle)
	}
	pre := c.Lifecycle.PreStop.Exec.Command
	if !slices.Equal(pre[:2], []string{"/shoal-node", "prestop"}) || !strings.Contains(strings.Join(pre, " "), "--password-env "+PasswordEnv) {
		t.Errorf("preStop runs %v", pre)
	}
	// The hand-over must end well before the kubelet's SIGKILL, leaving
	// the node time for its own shutdown.
	i := slices.Index(pre, "--timeout")
	if i < 0 || i+1 >= len(pre) {
		t.Fatalf("preStop %v has no --timeout", pre)
	}
	hook, err := time.ParseDuration(pre[i+1])
	if err != nil {
		t.Fatal(err)
	}
	if hook <= 0 || hook > time.Duration(grace)*time.Second*2/3 {
		t.Errorf("preStop timeout %v against a grace period of %ds", hook, grace)
	}
}

func execCommand(t *testing.T, a *corev1.ExecAction) []string {
	t.Helper()
	if a == nil {
		t.Fatal("probe is not an exec probe")
	}
	return a.Command
}
