package controllers

import (
	"context"
	"fmt"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/controllers/builders"
)

// +kubebuilder:rbac:groups=monitoring.coreos.com,resources=podmonitors;prometheusrules,verbs=get;create;patch;delete

// ensureMonitoring applies the PodMonitor and the PrometheusRule of
// spec.monitoring, or deletes them when not wanted.
func (r *RedisClusterReconciler) ensureMonitoring(ctx context.Context, st *state) (ctrl.Result, error) {
	rc := st.desired
	return ctrl.Result{}, ensureMonitoringObjects(ctx, r.Client, st.log, []monitoringObject{
		{rc.WantsPodMonitor(), builders.PodMonitor(rc)},
		{rc.WantsPrometheusRule(), builders.PrometheusRule(rc)},
	})
}

// monitoringObject is a Prometheus Operator object of spec.monitoring:
// applied when wanted, deleted (by kind, namespace and name) when not.
type monitoringObject struct {
	want bool
	obj  *unstructured.Unstructured
}

// ensureMonitoringObjects applies or deletes each of objs. Where the
// Prometheus Operator's CRDs are not installed it does nothing (the
// nodes still serve their metrics: the StatefulSet builders add the port).
func ensureMonitoringObjects(ctx context.Context, c client.Client, log logr.Logger, objs []monitoringObject) error {
	for _, o := range objs {
		if o.want {
			err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.obj), client.FieldOwner(builders.FieldManager), client.ForceOwnership)
			if meta.IsNoMatchError(err) {
				log.V(1).Info("monitoring CRD not installed: not made", "kind", o.obj.GetKind())
				continue
			}
			if err != nil {
				return fmt.Errorf("applying %s %s: %w", o.obj.GetKind(), o.obj.GetName(), err)
			}
			continue
		}
		gone := &unstructured.Unstructured{}
		gone.SetGroupVersionKind(o.obj.GroupVersionKind())
		gone.SetNamespace(o.obj.GetNamespace())
		gone.SetName(o.obj.GetName())
		if err := c.Delete(ctx, gone); err != nil && !apierrors.IsNotFound(err) && !meta.IsNoMatchError(err) {
			return fmt.Errorf("deleting %s %s: %w", gone.GetKind(), gone.GetName(), err)
		}
	}
	return nil
}
