package controllers

import (
	"context"
	"crypto/tls"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
)

// ensureReplicationTLS keeps the TLS Secret of spec.tls as a RedisCluster's
// (the same tlsKeeper: the user's Secret, a cert-manager Certificate or the
// operator's own CA) and loads the configuration the operator's clients of
// the data nodes and the sentinels use. A Secret that is missing or
// incomplete blocks the reconcile: the pods could not start without it.
func (r *RedisReplicationReconciler) ensureReplicationTLS(ctx context.Context, st *replState) (ctrl.Result, error) {
	if st.desired.Spec.TLS == nil {
		return ctrl.Result{}, nil
	}
	k := tlsKeeper{Client: r.Client, reader: r.APIReader, recorder: r.Recorder, owner: st.rr, log: st.log,
		target: builders.ReplicationTLS(st.desired),
		apply:  func(ctx context.Context, obj client.Object) error { return serverSideApply(ctx, r.Client, obj) }}
	cfg, blocked, err := k.ensure(ctx, clockNow(r.Now))
	if err != nil {
		return ctrl.Result{}, err
	}
	if blocked != nil {
		st.rr.SetCondition(v1alpha1.ConditionReady, metav1.ConditionFalse, blocked.reason, blocked.message)
		st.rr.SetCondition(v1alpha1.ConditionDegraded, metav1.ConditionTrue, blocked.reason, blocked.message)
		return ctrl.Result{RequeueAfter: blockedRequeue}, nil
	}
	st.tls = cfg
	return ctrl.Result{}, nil
}

// serverSideApply applies obj with the operator's field manager, taking
// over fields another manager set.
func serverSideApply(ctx context.Context, c client.Client, obj client.Object) error {
	u, err := applyConfiguration(obj)
	if err != nil {
		return err
	}
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
		client.FieldOwner(builders.FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), err)
	}
	return nil
}

// tlsConfigOf is a copy of cfg for one client (nil without TLS): go-redis
// sets the ServerName of the configuration it is given.
func tlsConfigOf(cfg *tls.Config) *tls.Config {
	if cfg == nil {
		return nil
	}
	return cfg.Clone()
}
