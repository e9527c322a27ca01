package controllers

import (
	"context"

	"github.com/shoal-dev/shoal/controllers/builders"
)

// ensureReplicationMonitoring applies the data nodes' PodMonitor and
// PrometheusRule of spec.monitoring, or deletes them when not wanted, as
// a RedisCluster's (ensureMonitoringObjects).
func (r *RedisReplicationReconciler) ensureReplicationMonitoring(ctx context.Context, st *replState) error {
	rr := st.desired
	return ensureMonitoringObjects(ctx, r.Client, st.log, []monitoringObject{
		{rr.WantsPodMonitor(), builders.ReplicationPodMonitor(rr)},
		{rr.WantsPrometheusRule(), builders.ReplicationPrometheusRule(rr)},
	})
}
