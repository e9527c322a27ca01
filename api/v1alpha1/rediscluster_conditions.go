package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ConditionType is the type of a RedisCluster condition.
type ConditionType string

// The condition types of a RedisCluster.
const (
	// ConditionReady is True when every shard has a master serving its
	// slots, every replica is linked, and cluster_state is ok.
	ConditionReady ConditionType = "Ready"
	// ConditionProgressing is True while the operator is changing something
	// (creating objects, forming the cluster, rolling, scaling).
	ConditionProgressing ConditionType = "Progressing"
	// ConditionDegraded is True when something is broken that the operator
	// cannot fix on its own in this step (an invalid reference, an error
	// from the API server, a shard without a master).
	ConditionDegraded ConditionType = "Degraded"
	// ConditionRebalancing is True while hash slots move between shards
	// (scaling masters, rebalancing); its message gives the percentage.
	ConditionRebalancing ConditionType = "Rebalancing"
	// ConditionRollingUpdate is True while pods restart shard by shard for
	// a change of image, resources or configuration.
	ConditionRollingUpdate ConditionType = "RollingUpdate"
)

// ConditionReason is the reason of a RedisCluster condition: a CamelCase word
// that tools can match on.
type ConditionReason string

// The condition reasons of a RedisCluster.
const (
	// ReasonReconciling: the operator is creating or updating objects.
	ReasonReconciling ConditionReason = "Reconciling"
	// ReasonWaitingForPods: objects exist, pods are not all ready yet.
	ReasonWaitingForPods ConditionReason = "WaitingForPods"
	// ReasonFormingCluster: pods are ready, the cluster is being formed
	// (MEET, slot assignment, replication).
	ReasonFormingCluster ConditionReason = "FormingCluster"
	// ReasonClusterOK: the cluster is formed and cluster_state is ok.
	ReasonClusterOK ConditionReason = "ClusterOK"
	// ReasonPaused: the pause annotation is set; nothing is reconciled.
	ReasonPaused ConditionReason = "Paused"
	// ReasonAsExpected: nothing wrong (Degraded=False) or nothing in
	// progress (Progressing=False).
	ReasonAsExpected ConditionReason = "AsExpected"
	// ReasonReconcileError: a call to the API server failed.
	ReasonReconcileError ConditionReason = "ReconcileError"
	// ReasonSecretNotFound: auth.existingSecret names a Secret or key that
	// does not exist.
	ReasonSecretNotFound ConditionReason = "SecretNotFound"
	// ReasonFormationBlocked: the nodes hold keys, slots or identities that
	// formation must not touch; repair is needed.
	ReasonFormationBlocked ConditionReason = "FormationBlocked"
)

// SetCondition records a condition for the current generation. It changes
// LastTransitionTime only when the status flips, and reports whether anything
// changed.
func (rc *RedisCluster) SetCondition(t ConditionType, status metav1.ConditionStatus, reason ConditionReason, message string) bool {
	return meta.SetStatusCondition(&rc.Status.Conditions, metav1.Condition{
		Type:               string(t),
		Status:             status,
		Reason:             string(reason),
		Message:            message,
		ObservedGeneration: rc.Generation,
	})
}

// Condition returns the condition of type t, or nil.
func (rc *RedisCluster) Condition(t ConditionType) *metav1.Condition {
	return meta.FindStatusCondition(rc.Status.Conditions, string(t))
}
