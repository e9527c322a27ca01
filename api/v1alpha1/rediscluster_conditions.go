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
	// ConditionPlacement (with spec.placement) is True when no two members
	// of a shard share a failure domain and the masters are spread as
	// evenly as the pods allow; False says which rule is not met and why.
	ConditionPlacement ConditionType = "Placement"
)

// ConditionReason is the reason of a RedisCluster condition: a CamelCase word
// that tools can match on.
type ConditionReason string

// The condition reasons of a RedisCluster.
const (
	// ReasonReconciling: the operator is creating or updating objects.
	ReasonReconciling ConditionReason = "Reconciling"
	// ReasonPlacementMet: every placement rule holds.
	ReasonPlacementMet ConditionReason = "PlacementMet"
	// ReasonShardsShareDomain: members of a shard share a node or zone
	// (the nodes do not allow better, or pods are still moving).
	ReasonShardsShareDomain ConditionReason = "ShardsShareDomain"
	// ReasonMastersCrowded: more masters share a domain than an even
	// spread needs (a switchover will move one when a replica allows).
	ReasonMastersCrowded ConditionReason = "MastersCrowded"
	// ReasonUnschedulable: a pod cannot be scheduled (Required spread).
	ReasonUnschedulable ConditionReason = "Unschedulable"
	// ReasonBalancingMasters: a switchover moves a master role to a less
	// crowded failure domain.
	ReasonBalancingMasters ConditionReason = "BalancingMasters"
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
	// ReasonConverging: every command is done; waiting until every node
	// reports cluster_state:ok and every replica is linked.
	ReasonConverging ConditionReason = "Converging"
	// ReasonChangingMembership: nodes are being introduced (MEET), attached
	// as replicas (REPLICATE) or forgotten (FORGET) in a formed cluster.
	ReasonChangingMembership ConditionReason = "ChangingMembership"
	// ReasonMembershipBlocked: a node is in a state the operator must not
	// change on its own (a replica holding keys, a shard with two masters).
	ReasonMembershipBlocked ConditionReason = "MembershipBlocked"
	// ReasonFixingOpenSlots: a slot move was interrupted (MIGRATING or
	// IMPORTING left open); it is being finished or rolled back.
	ReasonFixingOpenSlots ConditionReason = "FixingOpenSlots"
	// ReasonOpenSlotBlocked: an open slot cannot be fixed safely.
	ReasonOpenSlotBlocked ConditionReason = "OpenSlotBlocked"
	// ReasonAssigningUncoveredSlots: slots no master serves, and no node
	// holds keys of, are being assigned.
	ReasonAssigningUncoveredSlots ConditionReason = "AssigningUncoveredSlots"
	// ReasonUncoveredSlotsHoldKeys: slots no master serves have keys on
	// some node; assigning them could lose or shadow data.
	ReasonUncoveredSlotsHoldKeys ConditionReason = "UncoveredSlotsHoldKeys"
	// ReasonMigratingSlots: hash slots are moving (Rebalancing=True).
	ReasonMigratingSlots ConditionReason = "MigratingSlots"
	// ReasonMigrationPlanned: a slot migration is planned; the moves start
	// in the next step.
	ReasonMigrationPlanned ConditionReason = "MigrationPlanned"
	// ReasonRebalanceDryRun: rebalance mode DryRun: the plan is in
	// status.migration and nothing moves.
	ReasonRebalanceDryRun ConditionReason = "RebalanceDryRun"
	// ReasonBalanced: no slot needs to move (Rebalancing=False).
	ReasonBalanced ConditionReason = "Balanced"
	// ReasonScaleInRefused: the data of the shards that would leave does
	// not fit the maxmemory of the shards that stay.
	ReasonScaleInRefused ConditionReason = "ScaleInRefused"
	// ReasonRemovingShards: the drained shards' nodes are forgotten and
	// their StatefulSets deleted.
	ReasonRemovingShards ConditionReason = "RemovingShards"
)

// SetCondition records a condition for the current generation. It changes
// LastTransitionTime only when the status flips, and reports whether anything
// changed.
func (rc *RedisCluster) SetCondition(t ConditionType, status metav1.ConditionStatus, reason ConditionReason, message string) bool {
	return setCondition(&rc.Status.Conditions, rc.Generation, t, status, reason, message)
}

// setCondition records a condition of generation in conds.
func setCondition(conds *[]metav1.Condition, generation int64, t ConditionType, status metav1.ConditionStatus, reason ConditionReason, message string) bool {
	return meta.SetStatusCondition(conds, metav1.Condition{
		Type:               string(t),
		Status:             status,
		Reason:             string(reason),
		Message:            message,
		ObservedGeneration: generation,
	})
}

// Condition returns the condition of type t, or nil.
func (rc *RedisCluster) Condition(t ConditionType) *metav1.Condition {
	return meta.FindStatusCondition(rc.Status.Conditions, string(t))
}

// The condition reasons of rolling updates, live configuration and
// switchovers.
const (
	// ReasonRollingUpdate: pods restart shard by shard (RollingUpdate=True).
	ReasonRollingUpdate ConditionReason = "RollingUpdate"
	// ReasonRestartingMasterAlone: a shard without replicas restarts its
	// master; its slots are unavailable until it is back.
	ReasonRestartingMasterAlone ConditionReason = "RestartingMasterAlone"
	// ReasonWaitingForMigration: a rolling update waits until the slot
	// migration in progress ends.
	ReasonWaitingForMigration ConditionReason = "WaitingForMigration"
	// ReasonWaitingForRollout: a slot migration waits until the rolling
	// update or planned failover in progress is over (one change at a time).
	ReasonWaitingForRollout ConditionReason = "WaitingForRollout"
	// ReasonUpToDate: every pod runs the current template
	// (RollingUpdate=False).
	ReasonUpToDate ConditionReason = "UpToDate"
	// ReasonApplyingConfig: configuration that changes live is being set
	// with CONFIG SET on the nodes.
	ReasonApplyingConfig ConditionReason = "ApplyingConfig"
	// ReasonSwitchover: a switchover asked for by annotation is running.
	ReasonSwitchover ConditionReason = "Switchover"
	// ReasonScalingReplicasDown: a master on a pod that a replica
	// scale-down removes hands over to a remaining replica first.
	ReasonScalingReplicasDown ConditionReason = "ScalingReplicasDown"
)
