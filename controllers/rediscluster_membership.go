package controllers

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/topology"
)

// ensureMembership keeps the membership of a formed cluster: it MEETs new
// and restarted nodes, attaches new nodes to their shard's master, forgets
// nodes that are gone, and moves a spare replica to a master without one
// (topology.PlanMembership). The nodes of drained shards that are leaving
// (scale in) are not members any more: they are forgotten here, and
// removeShards deletes their StatefulSets once no node knows them. One phase per reconcile, then requeue and
// observe: gossip and replication are not something a watch reports.
func (r *RedisClusterReconciler) ensureMembership(ctx context.Context, st *state) (ctrl.Result, error) {
	if !topology.AnySlotAssigned(st.members) {
		return ctrl.Result{}, nil
	}
	return r.runPlan(ctx, st, topology.PlanMembership(topology.Active(st.members, st.shape().Masters), st.shape()), planReasons{
		done: topology.PhaseMembershipOK, progress: v1alpha1.ReasonChangingMembership, blocked: v1alpha1.ReasonMembershipBlocked,
	})
}
