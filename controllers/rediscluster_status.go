package controllers

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// outcome is what the steps of one reconcile concluded; conditions are
// written from it once, at the end, so that a condition never flips back and
// forth within one reconcile.
type outcome struct {
	progressReason  v1alpha1.ConditionReason
	progressMessage string
	degradedReason  v1alpha1.ConditionReason
	degradedMessage string
	ready           bool
}

// progress records that the cluster is not there yet, and why.
func (st *state) progress(reason v1alpha1.ConditionReason, message string) {
	st.outcome.progressReason, st.outcome.progressMessage = reason, message
}

// degrade records that something is wrong that this step cannot fix.
func (st *state) degrade(reason v1alpha1.ConditionReason, message string) {
	st.outcome.degradedReason, st.outcome.degradedMessage = reason, message
}

// summarize is the last step: every step passed, the cluster is formed.
// What breaks inside the cluster without a pod changing (slots deleted by
// hand, a node forgotten, an open slot left by a tool) reaches no watch, so
// a healthy cluster is looked at again after healthyResync.
func (r *RedisClusterReconciler) summarize(_ context.Context, st *state) (ctrl.Result, error) {
	st.outcome.ready = true
	if st.importRequeue > 0 {
		return ctrl.Result{RequeueAfter: min(st.importRequeue, healthyResync)}, nil
	}
	if st.scaleRetry > 0 {
		return ctrl.Result{RequeueAfter: min(st.scaleRetry, healthyResync)}, nil
	}
	if st.functionsPending || st.usersPending {
		return ctrl.Result{RequeueAfter: formationRequeue}, nil
	}
	return ctrl.Result{RequeueAfter: healthyResync}, nil
}

// writeConditions sets Ready, Progressing and Degraded from the outcome. A
// paused cluster keeps its conditions except Progressing.
func writeConditions(rc *v1alpha1.RedisCluster, o outcome, paused bool) {
	if paused {
		return
	}
	const (
		t = metav1.ConditionTrue
		f = metav1.ConditionFalse
	)
	if o.degradedReason != "" {
		rc.SetCondition(v1alpha1.ConditionDegraded, t, o.degradedReason, o.degradedMessage)
	} else {
		rc.SetCondition(v1alpha1.ConditionDegraded, f, v1alpha1.ReasonAsExpected, "")
	}
	switch {
	case o.ready:
		rc.SetCondition(v1alpha1.ConditionProgressing, f, v1alpha1.ReasonAsExpected, "")
		rc.SetCondition(v1alpha1.ConditionReady, t, v1alpha1.ReasonClusterOK, "every shard has a master serving its slots and cluster_state is ok")
	case o.degradedReason != "":
		rc.SetCondition(v1alpha1.ConditionProgressing, f, o.degradedReason, o.degradedMessage)
		rc.SetCondition(v1alpha1.ConditionReady, f, o.degradedReason, o.degradedMessage)
	case o.progressReason != "":
		rc.SetCondition(v1alpha1.ConditionProgressing, t, o.progressReason, o.progressMessage)
		rc.SetCondition(v1alpha1.ConditionReady, f, o.progressReason, o.progressMessage)
	}
}

// summarizeNodes fills the observed part of the status (shards, counts,
// cluster state) from the members' views. It is pure.
func summarizeNodes(s v1alpha1.RedisClusterStatus, rc *v1alpha1.RedisCluster, members []topology.Member) v1alpha1.RedisClusterStatus {
	s.Shards = nil
	s.ReadyMasters, s.ReadyReplicas, s.SlotsAssigned, s.ClusterState = 0, 0, 0, ""
	// Shards beyond spec.masters that still have pods (draining) are shown
	// too.
	n := int(rc.Spec.Masters)
	for _, m := range members {
		n = max(n, m.Shard+1)
	}
	byShard := make([][]topology.Member, n)
	for _, m := range members {
		if m.Shard >= 0 {
			byShard[m.Shard] = append(byShard[m.Shard], m)
		}
	}
	// The cluster state is that of the desired members, as Ready is
	// (checkConverged): a drained shard's node that is being forgotten may
	// report cluster_state:fail while the cluster it leaves is ok.
	firstState := true
	shape := topology.Desired{Masters: int(rc.Spec.Masters), ReplicasPerMaster: int(rc.Spec.ReplicasPerMaster)}
	for _, m := range topology.WithinShape(members, shape) {
		if m.View == nil {
			continue
		}
		if firstState || m.View.Info.SlotsAssigned < int(s.SlotsAssigned) {
			s.SlotsAssigned = int32(m.View.Info.SlotsAssigned)
		}
		if firstState || s.ClusterState == clusteradmin.StateOK {
			s.ClusterState = m.View.Info.State
		}
		firstState = false
	}
	for i, shard := range byShard {
		ss := v1alpha1.ShardStatus{Name: builders.ShardName(rc, i)}
		var master *topology.Member
		for j := range shard {
			if shard[j].View == nil {
				continue
			}
			if me, _ := shard[j].View.Myself(); me.IsMaster() && len(me.Slots) > 0 {
				master = &shard[j]
				ss.Master = &v1alpha1.MasterStatus{Pod: shard[j].Pod, NodeID: me.ID, Slots: me.SlotStrings()}
				s.ReadyMasters++
			}
		}
		for _, m := range shard {
			if master != nil && m.Pod == master.Pod {
				continue
			}
			rs := v1alpha1.ReplicaStatus{Pod: m.Pod, LinkState: clusteradmin.LinkDisconnected}
			if m.View != nil {
				me, _ := m.View.Myself()
				rs.NodeID = me.ID
				linked := master != nil && me.IsReplica() && me.MasterID == master.ID() && m.View.Replication.MasterLinkStatus == "up"
				if linked {
					rs.LinkState = clusteradmin.LinkConnected
					rs.LagBytes = max(0, master.View.Replication.Offset-m.View.Replication.Offset)
					s.ReadyReplicas++
				}
			}
			ss.Replicas = append(ss.Replicas, rs)
		}
		s.Shards = append(s.Shards, ss)
	}
	return s
}

func statusEqual(a, b v1alpha1.RedisClusterStatus) bool {
	return equality.Semantic.DeepEqual(a, b)
}

// checkConverged waits, requeueing, until every desired member reports
// cluster_state:ok and every replica's link is up: what Ready means.
func (r *RedisClusterReconciler) checkConverged(_ context.Context, st *state) (ctrl.Result, error) {
	reason, ok := topology.Converged(topology.WithinShape(st.members, st.shape()))
	if ok {
		return ctrl.Result{}, nil
	}
	st.progress(v1alpha1.ReasonConverging, reason)
	return ctrl.Result{RequeueAfter: formationRequeue}, nil
}
