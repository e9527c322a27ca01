package controllers

import (
	"context"

	"github.com/shoal-dev/shoal/controllers/builders"
)

// ensureReplicationMonitoring applies the PodMonitors of the data nodes
// and of the sentinels and the PrometheusRule of spec.monitoring, or deletes them when not wanted, as
// a RedisCluster's (ensureMonitoringObjects).
func (r *RedisReplicationReconciler) ensureReplicationMonitoring(ctx context.Context, st *replState) error {
	rr := st.desired
	return ensureMonitoringObjects(ctx, r.Client, st.log, []monitoringObject{
		{rr.WantsPodMonitor(), builders.ReplicationPodMonitor(rr)},
		{rr.WantsPodMonitor(), builders.ReplicationSentinelPodMonitor(rr)},
		{rr.WantsPrometheusRule(), builders.ReplicationPrometheusRule(rr)},
	})
}
