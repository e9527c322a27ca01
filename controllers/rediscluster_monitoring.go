package controllers

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
)

// +kubebuilder:rbac:groups=monitoring.coreos.com,resources=podmonitors;prometheusrules,verbs=get;create;patch;delete

// ensureMonitoring applies the PodMonitor and the PrometheusRule of
// spec.monitoring, or deletes them when not wanted. Where the Prometheus
// Operator's CRDs are not installed it does nothing (the nodes still
// serve their metrics: the StatefulSet builder adds the port).
func (r *RedisClusterReconciler) ensureMonitoring(ctx context.Context, st *state) (ctrl.Result, error) {
	rc := st.desired
	for _, o := range []struct {
		want  bool
		build func(*v1alpha1.RedisCluster) *unstructured.Unstructured
		name  string
	}{
		{rc.WantsPodMonitor(), builders.PodMonitor, builders.PodMonitorName(rc)},
		{rc.WantsPrometheusRule(), builders.PrometheusRule, builders.PrometheusRuleName(rc)},
	} {
		if o.want {
			obj := o.build(rc)
			err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner(builders.FieldManager), client.ForceOwnership)
			if meta.IsNoMatchError(err) {
				st.log.V(1).Info("monitoring CRD not installed: not made", "kind", obj.GetKind())
				continue
			}
			if err != nil {
				return ctrl.Result{}, fmt.Errorf("applying %s %s: %w", obj.GetKind(), obj.GetName(), err)
			}
			continue
		}
		gone := o.build(withMonitoringLabels(rc))
		gone.SetName(o.name)
		err := r.Delete(ctx, gone)
		if err != nil && !apierrors.IsNotFound(err) && !meta.IsNoMatchError(err) {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, nil
}

// withMonitoringLabels is rc with a monitoring spec, so that the builders
// can name an object of a cluster whose monitoring is off.
func withMonitoringLabels(rc *v1alpha1.RedisCluster) *v1alpha1.RedisCluster {
	if rc.Spec.Monitoring != nil {
		return rc
	}
	c := rc.DeepCopy()
	c.Spec.Monitoring = &v1alpha1.MonitoringSpec{}
	return c
}
