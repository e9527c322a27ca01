package controllers

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/controllers/builders"
)

// ensureReplicationMonitoring applies the data nodes' PodMonitor of
// spec.monitoring, or deletes it when not wanted. Where the Prometheus
// Operator's CRDs are not installed it does nothing (the data nodes still
// serve their metrics: the StatefulSet builder adds the port).
func (r *RedisReplicationReconciler) ensureReplicationMonitoring(ctx context.Context, st *replState) error {
	rr := st.desired
	if rr.WantsPodMonitor() {
		obj := builders.ReplicationPodMonitor(rr)
		err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner(builders.FieldManager), client.ForceOwnership)
		if meta.IsNoMatchError(err) {
			st.log.V(1).Info("monitoring CRD not installed: not made", "kind", obj.GetKind())
			return nil
		}
		if err != nil {
			return fmt.Errorf("applying %s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
		return nil
	}
	gone := &unstructured.Unstructured{}
	gone.SetGroupVersionKind(builders.PodMonitorGVK)
	gone.SetNamespace(rr.Namespace)
	gone.SetName(builders.ReplicationPodMonitorName(rr))
	if err := r.Delete(ctx, gone); err != nil && !apierrors.IsNotFound(err) && !meta.IsNoMatchError(err) {
		return err
	}
	return nil
}
