package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/controllers/builders"
)

// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;patch;delete

// ensureNetworkPolicy applies the NetworkPolicy of spec.networkPolicy, or
// deletes the one the operator made when it is off.
func (r *RedisClusterReconciler) ensureNetworkPolicy(ctx context.Context, st *state) (ctrl.Result, error) {
	if st.desired.Spec.IsNetworkPolicyEnabled() {
		return ctrl.Result{}, r.apply(ctx, st, builders.NetworkPolicy(st.desired), &networkingv1.NetworkPolicy{})
	}
	np := &networkingv1.NetworkPolicy{}
	err := r.Get(ctx, client.ObjectKey{Namespace: st.rc.Namespace, Name: builders.NetworkPolicyName(st.rc)}, np)
	if err != nil || !metav1.IsControlledBy(np, st.rc) {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if err := r.Delete(ctx, np); client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, err
	}
	r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, eventDeleted, "Deleted NetworkPolicy %s (disabled)", np.Name)
	return ctrl.Result{}, nil
}
