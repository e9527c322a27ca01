package topology

import "fmt"

// The phases of a switchover, as status.lastSwitchover reports them.
const (
	SwitchoverInProgress = "InProgress"
	SwitchoverSucceeded  = "Succeeded"
	SwitchoverFailed     = "Failed"
)

// SwitchoverDecision is the next step of a switchover.
type SwitchoverDecision struct {
	// Phase to record; "" when there is nothing to do.
	Phase string
	// Failover: send the coordinated CLUSTER FAILOVER to the target now.
	Failover bool
	// Shard of the target, when it is a node of the cluster.
	Shard   int
	Message string
}

// PlanSwitchover decides what to do about a switchover to target (the
// switchover annotation's value). A switchover that already finished
// (lastPod is target, lastPhase Succeeded or Failed) is not done again.
// pending is true while a CLUSTER FAILOVER sent to target may still
// complete. Removing the annotation ends a switchover in progress as
// Failed (the last pod is the one it was for). The target must be a replica of its shard's master, and the
// whole shard in sync, before the failover is sent: a coordinated CLUSTER
// FAILOVER then loses no acknowledged write.
func PlanSwitchover(target, lastPod, lastPhase string, shards [][]RolloutPod, pending bool, maxLag int64) SwitchoverDecision {
	if target == "" && lastPhase == SwitchoverInProgress {
		return SwitchoverDecision{Phase: SwitchoverFailed, Shard: -1,
			Message: fmt.Sprintf("the switchover annotation was removed before %s became master", lastPod)}
	}
	if target == "" || lastPod == target && (lastPhase == SwitchoverSucceeded || lastPhase == SwitchoverFailed) {
		return SwitchoverDecision{}
	}
	inProgress := func(s int, format string, args ...any) SwitchoverDecision {
		return SwitchoverDecision{Phase: SwitchoverInProgress, Shard: s, Message: fmt.Sprintf(format, args...)}
	}
	for s, shard := range shards {
		for _, pod := range shard {
			if pod.Pod != target {
				continue
			}
			if !pod.Exists || pod.View == nil {
				return inProgress(s, "waiting for %s to report its cluster view", target)
			}
			me, _ := pod.View.Myself()
			switch {
			case me.IsMaster() && len(me.Slots) > 0:
				return SwitchoverDecision{Phase: SwitchoverSucceeded, Shard: s, Message: fmt.Sprintf("%s is the master of shard %d", target, s)}
			case me.IsMaster():
				return SwitchoverDecision{Phase: SwitchoverFailed, Shard: s,
					Message: fmt.Sprintf("%s is a master without slots, not a replica: there is no master to take over from", target)}
			case pending:
				return inProgress(s, "CLUSTER FAILOVER sent to %s, waiting until it is master", target)
			}
			master := ServingMaster(shard)
			if master == nil {
				return inProgress(s, "shard %d has no single master serving slots", s)
			}
			if me.MasterID != master.ID() {
				return SwitchoverDecision{Phase: SwitchoverFailed, Shard: s,
					Message: fmt.Sprintf("%s replicates %s, not %s, the master of its shard %d", target, me.MasterID, master.Pod, s)}
			}
			if _, why := ShardHealth(shard, maxLag); why != "" {
				return inProgress(s, "waiting until shard %d is in sync: %s", s, why)
			}
			if why := ClusterAgrees(shards, pod, *master); why != "" {
				return inProgress(s, "waiting for the cluster to agree: %s", why)
			}
			return SwitchoverDecision{Phase: SwitchoverInProgress, Failover: true, Shard: s,
				Message: fmt.Sprintf("CLUSTER FAILOVER sent to %s to take over from %s", target, master.Pod)}
		}
	}
	return SwitchoverDecision{Phase: SwitchoverFailed, Shard: -1, Message: fmt.Sprintf("pod %s is not a node of this cluster", target)}
}

// PlanReplicaScaleDown protects masters from a replica scale-down. A
// StatefulSet scaled down removes its highest ordinals; keep is how many
// pods per shard stay (1 + replicasPerMaster). When the master of a shard
// runs on a pod that goes (after an earlier failover), a replica that stays
// takes over first, by a coordinated CLUSTER FAILOVER once the shard is in
// sync. shards hold every existing pod, the ones to remove included.
func PlanReplicaScaleDown(shards [][]RolloutPod, keep int, pending []PendingFailover, maxLag int64) ([]RolloutAction, string) {
	var actions []RolloutAction
	waiting := ""
	wait := func(s int, format string, args ...any) {
		if waiting == "" {
			waiting = fmt.Sprintf("shard %d: ", s) + fmt.Sprintf(format, args...)
		}
	}
	for s, shard := range shards {
		master := ServingMaster(shard)
		if len(shard) <= keep || master == nil || master.Ordinal < keep {
			continue
		}
		if pod := pendingIn(shard, pending); pod != "" {
			wait(s, "CLUSTER FAILOVER sent to %s, waiting until it is master", pod)
			continue
		}
		if _, why := ShardHealth(shard, maxLag); why != "" {
			wait(s, "master %s is on a pod the scale-down removes; waiting until the shard is in sync: %s", master.Pod, why)
			continue
		}
		for _, pod := range shard {
			if pod.Ordinal < keep {
				if why := ClusterAgrees(shards, pod, *master); why != "" {
					wait(s, "waiting for the cluster to agree: %s", why)
					break
				}
				actions = append(actions, RolloutAction{Type: RolloutFailover, Pod: pod.Pod, Shard: s,
					Reason: fmt.Sprintf("master %s is on a pod the replica scale-down removes", master.Pod)})
				break
			}
		}
	}
	return actions, waiting
}

// ShardSize is how many pods a shard's StatefulSet keeps: want, or more
// while the shard's master runs on a higher ordinal (it fails over to a
// pod that stays first). masterOrdinal is -1 when unknown.
func ShardSize(want, masterOrdinal int) int {
	return max(want, masterOrdinal+1)
}
