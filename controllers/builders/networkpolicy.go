package builders

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

// Labels of the chart's operator pods (charts/shoal: shoal.selectorLabels).
const (
	operatorNameLabelValue      = "shoal"
	operatorComponentLabelValue = "operator"
)

// NetworkPolicyName is the name of the cluster's NetworkPolicy.
func NetworkPolicyName(rc *v1alpha1.RedisCluster) string { return rc.Name + "-nodes" }

// NetworkPolicy lets into the node pods only: the cluster's own pods on the
// client and bus ports (replication and MIGRATE use the client port, gossip
// the bus port), and on the client port the client pods of
// spec.networkPolicy and the operator; with spec.monitoring, the metrics port
// to anyone. Every other ingress is denied; egress is not restricted. rc.Spec.NetworkPolicy must be set.
func NetworkPolicy(rc *v1alpha1.RedisCluster) *networkingv1.NetworkPolicy {
	np := rc.Spec.NetworkPolicy
	clients := np.ClientPodSelector
	if clients == nil {
		clients = &metav1.LabelSelector{MatchLabels: map[string]string{v1alpha1.ClientLabel: rc.Name}}
	}
	operator := np.OperatorPodSelector
	if operator == nil {
		operator = &metav1.LabelSelector{MatchLabels: map[string]string{
			LabelName: operatorNameLabelValue, LabelComponent: operatorComponentLabelValue,
		}}
	}
	port := func(p int) networkingv1.NetworkPolicyPort {
		n, proto := intstr.FromInt(p), corev1.ProtocolTCP
		return networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &n}
	}
	members := &metav1.LabelSelector{MatchLabels: ClusterSelector(rc)}
	pol := &networkingv1.NetworkPolicy{
		TypeMeta:   typeMeta("networking.k8s.io/v1", "NetworkPolicy"),
		ObjectMeta: objectMeta(rc, NetworkPolicyName(rc), ClusterLabels(rc)),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: *members,
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{
				{
					From:  []networkingv1.NetworkPolicyPeer{{PodSelector: members}},
					Ports: []networkingv1.NetworkPolicyPort{port(RedisPort), port(BusPort)},
				},
				{
					From: []networkingv1.NetworkPolicyPeer{
						{PodSelector: clients, NamespaceSelector: np.ClientNamespaceSelector},
						{PodSelector: operator, NamespaceSelector: &metav1.LabelSelector{}},
					},
					Ports: []networkingv1.NetworkPolicyPort{port(RedisPort)},
				},
			},
		},
	}
	if p := rc.MetricsPort(); p != 0 {
		// spec.monitoring: Prometheus may run anywhere; the metrics port
		// serves counters, never keys or values.
		pol.Spec.Ingress = append(pol.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{
			Ports: []networkingv1.NetworkPolicyPort{port(int(p))},
		})
	}
	return pol
}
