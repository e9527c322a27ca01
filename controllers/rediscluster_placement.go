package controllers

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/topology"
)

// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list;watch

// failoverPlacement is the status.failovers reason of a switchover that
// spreads the masters (spec.placement.balanceMasters).
const failoverPlacement = "Placement"

// eventPlacement is the event reason of placement findings and moves.
const eventPlacement = "Placement"

// observePlacement records which Kubernetes node (and zone) each pod runs
// on, for the status and the placement rules. Reading Nodes needs the
// nodes rule of the operator's ClusterRole; without it the status just
// lacks them.
func (r *RedisClusterReconciler) observePlacement(ctx context.Context, st *state) (ctrl.Result, error) {
	keys := st.desired.Spec.Placement.Keys()
	st.domains = map[string]map[string]string{}
	nodes := map[string]*corev1.Node{}
	for name, pod := range st.pods {
		nodeName := pod.Spec.NodeName
		if nodeName == "" || !pod.DeletionTimestamp.IsZero() {
			continue
		}
		node, seen := nodes[nodeName]
		if !seen {
			node = &corev1.Node{}
			if err := r.Get(ctx, client.ObjectKey{Name: nodeName}, node); err != nil {
				if !apierrors.IsNotFound(err) && !apierrors.IsForbidden(err) {
					return ctrl.Result{}, err
				}
				node = nil
			}
			nodes[nodeName] = node
		}
		st.domains[name] = podDomains(nodeName, node, keys)
	}
	return ctrl.Result{}, nil
}

// podDomains is the value of each topology key for a pod on nodeName
// (node nil when it could not be read: only the hostname is known).
func podDomains(nodeName string, node *corev1.Node, keys []string) map[string]string {
	d := map[string]string{}
	for _, k := range keys {
		switch {
		case node != nil:
			d[k] = node.Labels[k]
		case k == corev1.LabelHostname:
			d[k] = nodeName
		}
	}
	return d
}

// withPlacement fills in each member's node and zone in the status shards
// (the zone is the second topology key's value, the node the pod's node).
func withPlacement(s v1alpha1.RedisClusterStatus, pods map[string]*corev1.Pod, domains map[string]map[string]string, keys []string) v1alpha1.RedisClusterStatus {
	zoneKey := corev1.LabelTopologyZone
	if len(keys) > 1 && keys[0] == corev1.LabelHostname {
		zoneKey = keys[1]
	}
	where := func(pod string) v1alpha1.MemberPlacement {
		p, ok := pods[pod]
		if !ok {
			return v1alpha1.MemberPlacement{}
		}
		return v1alpha1.MemberPlacement{Node: p.Spec.NodeName, Zone: domains[pod][zoneKey]}
	}
	for i := range s.Shards {
		if m := s.Shards[i].Master; m != nil {
			m.MemberPlacement = where(m.Pod)
		}
		for j := range s.Shards[i].Replicas {
			s.Shards[i].Replicas[j].MemberPlacement = where(s.Shards[i].Replicas[j].Pod)
		}
	}
	return s
}

// placedMembers is the input of the placement planner: every desired
// member with its domains, whether it is its shard's master, and (for a
// replica) whether it may take over now.
func placedMembers(st *state, maxLag int64) []topology.PlacedMember {
	shards := rolloutShards(st, false)
	var out []topology.PlacedMember
	for s, shard := range shards {
		_, why := topology.ShardHealth(shard, maxLag)
		master := topology.ServingMaster(shard)
		for _, pod := range shard {
			if !pod.Exists {
				continue
			}
			pm := topology.PlacedMember{Pod: pod.Pod, Shard: s, Master: master != nil && pod.Pod == master.Pod, Domains: st.domains[pod.Pod]}
			if !pm.Master && master != nil && why == "" && pod.View != nil {
				me, _ := pod.View.Myself()
				pm.Eligible = me.MasterID == master.ID() && topology.ClusterAgrees(shards, pod, *master) == ""
			}
			out = append(out, pm)
		}
	}
	return out
}

// keepAsked makes the replicas of the shard whose master the switchover
// annotation asked for ineligible: the balancer does not undo a user's
// switchover.
func keepAsked(members []topology.PlacedMember, target string) []topology.PlacedMember {
	shard := -1
	for _, m := range members {
		if m.Pod == target && m.Master {
			shard = m.Shard
		}
	}
	out := slices.Clone(members)
	for i := range out {
		if out[i].Shard == shard {
			out[i].Eligible = false
		}
	}
	return out
}

// unschedulable is the first pod the scheduler could not place, with the
// scheduler's message.
func unschedulable(pods map[string]*corev1.Pod) (string, string) {
	for _, name := range sortedKeys(pods) {
		for _, c := range pods[name].Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				return name, c.Message
			}
		}
	}
	return "", ""
}

// placementCondition is the Placement condition for the members (and the
// pods the scheduler could not place).
func placementCondition(members []topology.PlacedMember, keys []string, pods map[string]*corev1.Pod) (metav1.ConditionStatus, v1alpha1.ConditionReason, string) {
	if pod, msg := unschedulable(pods); pod != "" {
		return metav1.ConditionFalse, v1alpha1.ReasonUnschedulable, fmt.Sprintf("%s cannot be scheduled: %s", pod, msg)
	}
	f := topology.CheckPlacement(members, keys)
	if f.Reason == "" {
		return metav1.ConditionTrue, v1alpha1.ReasonPlacementMet, "no two members of a shard share a failure domain and the masters are spread evenly"
	}
	return metav1.ConditionFalse, v1alpha1.ConditionReason(f.Reason), f.Message
}

// balanceMasters (spec.placement) sets the Placement condition and, when
// masters crowd a failure domain and a replica in a less crowded one may
// take over, sends that one switchover; never while a failover is open, a
// switchover was asked for, slots move or pods roll (rollPods runs before
// it and stops the step while pods roll).
func (r *RedisClusterReconciler) balanceMasters(ctx context.Context, op *podOps) (bool, error) {
	st := op.state
	p := st.desired.Spec.Placement
	if p == nil {
		meta.RemoveStatusCondition(&st.rc.Status.Conditions, string(v1alpha1.ConditionPlacement))
		return false, nil
	}
	keys := p.Keys()
	members := placedMembers(st, maxLagBytes)
	status, reason, msg := placementCondition(members, keys, st.pods)
	st.rc.SetCondition(v1alpha1.ConditionPlacement, status, reason, msg)
	target := st.rc.Annotations[v1alpha1.SwitchoverAnnotation]
	busy := len(op.pending) > 0 || st.rc.Status.Migration != nil || target != "" &&
		(st.rc.Status.LastSwitchover == nil || st.rc.Status.LastSwitchover.Phase == topology.SwitchoverInProgress)
	if !p.Balances() || busy || reason != v1alpha1.ReasonMastersCrowded {
		return false, nil
	}
	mv, ok := topology.PlanMasterBalance(keepAsked(members, target), keys)
	if !ok {
		return false, nil
	}
	if err := r.failover(ctx, op, mv.Replica, failoverPlacement, mv.Reason); err != nil {
		return false, err
	}
	r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, eventPlacement, "%s", mv.Reason)
	st.rc.SetCondition(v1alpha1.ConditionPlacement, metav1.ConditionFalse, v1alpha1.ReasonBalancingMasters, mv.Reason)
	st.progress(v1alpha1.ReasonBalancingMasters, mv.Reason)
	return true, nil
}
