package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/topology"
)

// eventScale is the event reason of scale decisions.
const eventScale = "Scale"

// gateScale decides how many masters this reconcile acts on
// (topology.DecideScale): a change of spec.masters made while a slot
// migration or a rolling update runs, or within spec.scaling.coolDown of
// the last one, waits, with the ScaleDeferred condition and an event
// saying why, and the cluster keeps its current number of masters
// (st.desired.Spec.Masters) until it may go on. The change is not
// rejected: the scale subresource keeps the value asked for.
func (r *RedisClusterReconciler) gateScale(_ context.Context, st *state) (ctrl.Result, error) {
	s := st.rc.Status.Scaling
	in := topology.ScaleInput{
		Requested:        st.desired.Spec.Masters,
		Now:              r.now(),
		CoolDown:         st.desired.Spec.Scaling.CoolDown.Duration,
		MigrationRunning: st.rc.Status.Migration != nil && !st.rc.Status.Migration.DryRun,
		RolloutRunning:   st.rc.Status.Rollout != nil,
	}
	if s != nil {
		in.Applied = s.Masters
		if s.LastScaleTime != nil {
			in.LastScale = s.LastScaleTime.Time
		}
	}
	d := topology.DecideScale(in)
	st.desired.Spec.Masters = d.Masters
	if d.Settling && s != nil {
		// The cool-down counts from the end of the scale's slot move.
		s.LastScaleTime = &metav1.Time{Time: in.Now.Truncate(time.Second)}
	}
	if d.Deferred != topology.ScaleNotDeferred {
		st.scaleRetry = d.RetryAfter
		if st.rc.SetCondition(v1alpha1.ConditionScaleDeferred, metav1.ConditionTrue, v1alpha1.ConditionReason(d.Deferred), d.Message) {
			r.Recorder.Event(st.rc, corev1.EventTypeNormal, eventScale, d.Message)
			st.log.Info("scale deferred", "requested", in.Requested, "masters", d.Masters, "reason", d.Deferred)
		}
		return ctrl.Result{}, nil
	}
	if s == nil || s.Masters != d.Masters {
		next := &v1alpha1.ScalingStatus{Masters: d.Masters}
		if d.Scaled {
			next.LastScaleTime = &metav1.Time{Time: in.Now.Truncate(time.Second)}
			msg := fmt.Sprintf("scaling from %d to %d masters", in.Applied, d.Masters)
			r.Recorder.Event(st.rc, corev1.EventTypeNormal, eventScale, msg)
			st.log.Info(msg)
		} else if s != nil {
			next.LastScaleTime = s.LastScaleTime
		}
		st.rc.Status.Scaling = next
	}
	meta.RemoveStatusCondition(&st.rc.Status.Conditions, string(v1alpha1.ConditionScaleDeferred))
	return ctrl.Result{}, nil
}
