package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// ClientLabel is the label of the pods a RedisCluster's NetworkPolicy lets
// in by default: redis.shoal.dev/client=<cluster name>.
const ClientLabel = "redis.shoal.dev/client"

// NetworkPolicySpec is the opt-in NetworkPolicy of the node pods: the client
// port open only to labelled clients, the operator and the cluster's own
// nodes (replication and MIGRATE use the client port); the cluster bus port
// open only to the cluster's own nodes. Nothing else reaches the pods.
type NetworkPolicySpec struct {
	// Enabled makes the NetworkPolicy; false removes the one the operator
	// made.
	// +kubebuilder:default=false
	Enabled bool `json:"enabled"`

	// ClientPodSelector selects the client pods let in. Unset means pods
	// labelled redis.shoal.dev/client=<cluster name>.
	// +optional
	ClientPodSelector *metav1.LabelSelector `json:"clientPodSelector,omitempty"`

	// ClientNamespaceSelector selects the namespaces those client pods may
	// run in. Unset means the RedisCluster's namespace only.
	// +optional
	ClientNamespaceSelector *metav1.LabelSelector `json:"clientNamespaceSelector,omitempty"`

	// OperatorPodSelector selects the operator's pods, in any namespace,
	// which must reach the client port. Unset means the labels of the
	// chart's operator pods (app.kubernetes.io/name=shoal,
	// app.kubernetes.io/component=operator).
	// +optional
	OperatorPodSelector *metav1.LabelSelector `json:"operatorPodSelector,omitempty"`
}

// IsNetworkPolicyEnabled reports whether spec.networkPolicy is on.
func (s *RedisClusterSpec) IsNetworkPolicyEnabled() bool {
	return s.NetworkPolicy != nil && s.NetworkPolicy.Enabled
}
