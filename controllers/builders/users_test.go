package builders

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

func defaultUserOff(rc *v1alpha1.RedisCluster) {
	rc.Spec.Auth = &v1alpha1.AuthSpec{DefaultUser: v1alpha1.DefaultUserDisabled}
}

func TestDefaultUserOnKeepsTheCommandLineAsItWas(t *testing.T) {
	c := ShardStatefulSet(cluster(), 0, "h").Spec.Template.Spec.Containers[0]
	if !slices.Equal(c.Args, NodeArgs()) {
		t.Errorf("args %q, want %q", c.Args, NodeArgs())
	}
	for _, e := range c.Env {
		if e.Name == OperatorPasswordEnv || e.Name == OperatorPasswordHashEnv {
			t.Errorf("env %s with the default user on", e.Name)
		}
	}
}

func TestDefaultUserOffStartsNodesWithTheOperatorsUsers(t *testing.T) {
	rc := cluster(defaultUserOff)
	c := ShardStatefulSet(rc, 0, "h").Spec.Template.Spec.Containers[0]
	assertDefaultUserOff(t, c, "cache-operator",
		"--user default reset --user shoal-operator on #$(SHOAL_OPERATOR_PASSWORD_SHA256) ~* resetchannels -@all +cluster|nodes",
		"+acl|setuser +acl|deluser --user shoal-replication on #$(SHOAL_OPERATOR_PASSWORD_SHA256) resetkeys resetchannels -@all +psync +replconf +ping",
		"--masteruser shoal-replication --masterauth $(SHOAL_OPERATOR_PASSWORD)")
}

// assertDefaultUserOff: the data node container c's arguments hold every
// one of wants and set no password of the default user, and it runs as
// shoal-operator (assertRunsAsOperator).
func assertDefaultUserOff(t *testing.T, c corev1.Container, secret string, wants ...string) {
	t.Helper()
	args := strings.Join(c.Args, " ")
	for _, want := range wants {
		if !strings.Contains(args, want) {
			t.Errorf("args %q\nlack %q", args, want)
		}
	}
	if strings.Contains(args, "--requirepass") || strings.Contains(args, "$(SHOAL_PASSWORD)") {
		t.Errorf("args %q still set the default user's password", args)
	}
	assertRunsAsOperator(t, c, secret)
}

// assertRunsAsOperator: the data node container c has the operator's
// password and hash from the Secret secret, and its probes and preStop
// hook authenticate as shoal-operator.
func assertRunsAsOperator(t *testing.T, c corev1.Container, secret string) {
	t.Helper()
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	for name, key := range map[string]string{OperatorPasswordEnv: "password", OperatorPasswordHashEnv: "sha256"} {
		e, ok := env[name]
		if !ok || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != secret || e.ValueFrom.SecretKeyRef.Key != key {
			t.Errorf("env %s = %+v, want Secret %s key %s", name, e, secret, key)
		}
	}
	for name, cmd := range map[string][]string{
		"startup": c.StartupProbe.Exec.Command, "readiness": c.ReadinessProbe.Exec.Command,
		"liveness": c.LivenessProbe.Exec.Command, "preStop": c.Lifecycle.PreStop.Exec.Command,
	} {
		if !strings.Contains(strings.Join(cmd, " "), "--user shoal-operator --password-env SHOAL_OPERATOR_PASSWORD ") {
			t.Errorf("%s runs %q, not as shoal-operator", name, cmd)
		}
	}
}

func TestOperatorSecretHoldsPasswordAndItsHash(t *testing.T) {
	s := OperatorSecret(cluster(), "pw")
	sum := sha256.Sum256([]byte("pw"))
	if s.Name != "cache-operator" || string(s.Data["password"]) != "pw" || string(s.Data["sha256"]) != hex.EncodeToString(sum[:]) {
		t.Errorf("secret %s %q", s.Name, s.Data)
	}
	assertOwned(t, s)
}

// TestNodePodsMeetTheRestrictedPodSecurityStandard checks the defaults
// against the "restricted" Pod Security Standard's rules.
func TestNodePodsMeetTheRestrictedPodSecurityStandard(t *testing.T) {
	pod := ShardStatefulSet(cluster(), 0, "h").Spec.Template.Spec
	psc := pod.SecurityContext
	if !ptr.Deref(psc.RunAsNonRoot, false) || ptr.Deref(psc.RunAsUser, 0) == 0 {
		t.Errorf("pod runs as root: %+v", psc)
	}
	if psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("seccomp profile %+v, want RuntimeDefault", psc.SeccompProfile)
	}
	if ptr.Deref(pod.AutomountServiceAccountToken, true) {
		t.Error("the service account token is mounted")
	}
	for _, c := range pod.Containers {
		sc := c.SecurityContext
		if sc == nil || !ptr.Deref(sc.ReadOnlyRootFilesystem, false) || ptr.Deref(sc.AllowPrivilegeEscalation, true) ||
			ptr.Deref(sc.Privileged, true) || sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) ||
			len(sc.Capabilities.Add) != 0 {
			t.Errorf("container %s security context %+v", c.Name, sc)
		}
		for _, p := range c.Ports {
			if p.HostPort != 0 {
				t.Errorf("container %s uses host port %d", c.Name, p.HostPort)
			}
		}
	}
	if pod.HostNetwork || pod.HostPID || pod.HostIPC {
		t.Error("pod shares a host namespace")
	}
	for _, v := range pod.Volumes {
		if v.HostPath != nil {
			t.Errorf("volume %s is a hostPath", v.Name)
		}
	}
}

func TestNetworkPolicyLetsInOnlyMembersClientsAndTheOperator(t *testing.T) {
	members := metav1.LabelSelector{MatchLabels: map[string]string{LabelCluster: "cache", LabelComponent: "node"}}
	tests := []struct {
		name            string
		spec            v1alpha1.NetworkPolicySpec
		clients, nsSel  *metav1.LabelSelector
		operatorMatches map[string]string
	}{
		{"defaults", v1alpha1.NetworkPolicySpec{Enabled: true},
			&metav1.LabelSelector{MatchLabels: map[string]string{"redis.shoal.dev/client": "cache"}}, nil,
			map[string]string{"app.kubernetes.io/name": "shoal", "app.kubernetes.io/component": "operator"}},
		{"chosen clients in chosen namespaces", v1alpha1.NetworkPolicySpec{Enabled: true,
			ClientPodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"app": "shop"}},
			ClientNamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "shop"}},
			OperatorPodSelector:     &metav1.LabelSelector{MatchLabels: map[string]string{"app": "op"}}},
			&metav1.LabelSelector{MatchLabels: map[string]string{"app": "shop"}},
			&metav1.LabelSelector{MatchLabels: map[string]string{"team": "shop"}},
			map[string]string{"app": "op"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			np := NetworkPolicy(cluster(func(rc *v1alpha1.RedisCluster) { rc.Spec.NetworkPolicy = &tt.spec }))
			assertOwned(t, np)
			if np.Name != "cache-nodes" || np.Namespace != "ns" {
				t.Errorf("name %s/%s", np.Namespace, np.Name)
			}
			s := np.Spec
			if !equalSelector(&s.PodSelector, &members) || !slices.Equal(s.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) {
				t.Errorf("selects %+v types %v", s.PodSelector, s.PolicyTypes)
			}
			if len(s.Ingress) != 2 {
				t.Fatalf("ingress rules %+v", s.Ingress)
			}
			bus, client := s.Ingress[0], s.Ingress[1]
			if len(bus.From) != 1 || !equalSelector(bus.From[0].PodSelector, &members) || bus.From[0].NamespaceSelector != nil ||
				!slices.Equal(ports(bus.Ports), []string{"TCP/6379", "TCP/16379"}) {
				t.Errorf("members' rule %+v", bus)
			}
			if len(client.From) != 2 || !slices.Equal(ports(client.Ports), []string{"TCP/6379"}) {
				t.Fatalf("clients' rule %+v", client)
			}
			if !equalSelector(client.From[0].PodSelector, tt.clients) || !equalSelector(client.From[0].NamespaceSelector, tt.nsSel) {
				t.Errorf("clients %+v in %+v", client.From[0].PodSelector, client.From[0].NamespaceSelector)
			}
			op := client.From[1]
			if !equalSelector(op.PodSelector, &metav1.LabelSelector{MatchLabels: tt.operatorMatches}) ||
				op.NamespaceSelector == nil || len(op.NamespaceSelector.MatchLabels)+len(op.NamespaceSelector.MatchExpressions) != 0 {
				t.Errorf("operator peer %+v", op)
			}
		})
	}
}

func ports(ps []networkingv1.NetworkPolicyPort) []string {
	var out []string
	for _, p := range ps {
		out = append(out, string(*p.Protocol)+"/"+p.Port.String())
	}
	return out
}

func equalSelector(a, b *metav1.LabelSelector) bool {
	if a == nil || b == nil {
		return a == b
	}
	if len(a.MatchLabels) != len(b.MatchLabels) || len(a.MatchExpressions) != len(b.MatchExpressions) {
		return false
	}
	for k, v := range a.MatchLabels {
		if b.MatchLabels[k] != v {
			return false
		}
	}
	return true
}

// With spec.monitoring the metrics port is open to any source (Prometheus
// runs anywhere); the data ports keep their rules.
func TestNetworkPolicyOpensTheMetricsPort(t *testing.T) {
	np := NetworkPolicy(cluster(func(rc *v1alpha1.RedisCluster) {
		rc.Spec.NetworkPolicy = &v1alpha1.NetworkPolicySpec{Enabled: true}
		rc.Spec.Monitoring = &v1alpha1.MonitoringSpec{Enabled: true}
	}))
	if len(np.Spec.Ingress) != 3 {
		t.Fatalf("ingress rules %+v", np.Spec.Ingress)
	}
	m := np.Spec.Ingress[2]
	if len(m.From) != 0 || !slices.Equal(ports(m.Ports), []string{"TCP/9121"}) {
		t.Errorf("metrics rule %+v", m)
	}
}
