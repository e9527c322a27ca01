package controllers

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
)

// Event reasons of the objects the operator makes.
const (
	eventCreated = "Created"
	eventUpdated = "Updated"
	eventDeleted = "Deleted"
)

// ensureAuthSecret makes sure the password exists and loads it: the Secret
// spec.auth names, or the generated one, created once and never rewritten.
func (r *RedisClusterReconciler) ensureAuthSecret(ctx context.Context, st *state) (ctrl.Result, error) {
	ref, generated := st.rc.AuthSecret()
	key := client.ObjectKey{Namespace: st.rc.Namespace, Name: ref.Name}
	secret := &corev1.Secret{}
	if !generated {
		// Not ours, so not in the cache: read it directly.
		err := r.APIReader.Get(ctx, key, secret)
		if apierrors.IsNotFound(err) || err == nil && len(secret.Data[ref.Key]) == 0 {
			msg := fmt.Sprintf("Secret %s with key %q not found (spec.auth.existingSecret)", ref.Name, ref.Key)
			st.degrade(v1alpha1.ReasonSecretNotFound, msg)
			r.Recorder.Event(st.rc, corev1.EventTypeWarning, string(v1alpha1.ReasonSecretNotFound), msg)
			return ctrl.Result{RequeueAfter: blockedRequeue}, nil
		}
		if err != nil {
			return ctrl.Result{}, err
		}
		st.password = string(secret.Data[ref.Key])
		return ctrl.Result{}, nil
	}

	err := r.Get(ctx, key, secret)
	if apierrors.IsNotFound(err) {
		password, perr := r.NewPassword()
		if perr != nil {
			return ctrl.Result{}, fmt.Errorf("generating a password: %w", perr)
		}
		secret = builders.AuthSecret(st.desired, password)
		err = r.Create(ctx, secret)
		switch {
		case err == nil:
			r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, eventCreated, "Created Secret %s with a generated password", ref.Name)
			st.log.Info("created auth secret", "secret", ref.Name)
		case apierrors.IsAlreadyExists(err):
			// Created by an earlier reconcile the cache has not seen yet.
			err = r.APIReader.Get(ctx, key, secret)
		}
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	if len(secret.Data[ref.Key]) == 0 {
		return ctrl.Result{}, fmt.Errorf("secret %s has no key %q", ref.Name, ref.Key)
	}
	st.password = string(secret.Data[ref.Key])
	return ctrl.Result{}, nil
}

func (r *RedisClusterReconciler) ensureConfigMap(ctx context.Context, st *state) (ctrl.Result, error) {
	cm := builders.ConfigMap(st.desired)
	st.configHash = builders.RestartConfigHash(st.desired)
	return ctrl.Result{}, r.apply(ctx, st, cm, &corev1.ConfigMap{})
}

func (r *RedisClusterReconciler) ensureHeadlessService(ctx context.Context, st *state) (ctrl.Result, error) {
	return ctrl.Result{}, r.apply(ctx, st, builders.HeadlessService(st.desired), &corev1.Service{})
}

func (r *RedisClusterReconciler) ensureClientService(ctx context.Context, st *state) (ctrl.Result, error) {
	return ctrl.Result{}, r.apply(ctx, st, builders.ClientService(st.desired), &corev1.Service{})
}

// ensureShards applies one StatefulSet per shard. Pods are not restarted by a
// change (OnDelete): rolling them is a later, explicit step.
func (r *RedisClusterReconciler) ensureShards(ctx context.Context, st *state) (ctrl.Result, error) {
	for i := range int(st.desired.Spec.Masters) {
		sts := builders.ShardStatefulSet(st.desired, i, st.configHash)
		keepMasterPod(st.rc, i, sts)
		if err := r.apply(ctx, st, sts, &appsv1.StatefulSet{}); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, nil
}

// ensurePDBs applies a PodDisruptionBudget per shard, or deletes the ones the
// operator made when they are disabled.
func (r *RedisClusterReconciler) ensurePDBs(ctx context.Context, st *state) (ctrl.Result, error) {
	if !*st.desired.Spec.PodDisruptionBudget.Enabled {
		var list policyv1.PodDisruptionBudgetList
		if err := r.List(ctx, &list, client.InNamespace(st.rc.Namespace), client.MatchingLabels(builders.ClusterSelector(st.rc))); err != nil {
			return ctrl.Result{}, err
		}
		for i := range list.Items {
			pdb := &list.Items[i]
			if !metav1.IsControlledBy(pdb, st.rc) {
				continue
			}
			if err := r.Delete(ctx, pdb); client.IgnoreNotFound(err) != nil {
				return ctrl.Result{}, err
			}
			r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, eventDeleted, "Deleted PodDisruptionBudget %s (disabled)", pdb.Name)
		}
		return ctrl.Result{}, nil
	}
	for i := range int(st.desired.Spec.Masters) {
		if err := r.apply(ctx, st, builders.ShardPDB(st.desired, i), &policyv1.PodDisruptionBudget{}); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, nil
}

// apply server-side applies obj (built with its TypeMeta) as the operator's
// field manager, and records an event when it created or changed something.
// current is an empty object of obj's type, used to read the cached copy.
func (r *RedisClusterReconciler) apply(ctx context.Context, st *state, obj, current client.Object) error {
	kind := obj.GetObjectKind().GroupVersionKind().Kind
	err := r.Get(ctx, client.ObjectKeyFromObject(obj), current)
	exists := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	u, err := applyConfiguration(obj)
	if err != nil {
		return err
	}
	if err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
		client.FieldOwner(builders.FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s %s: %w", kind, obj.GetName(), err)
	}
	switch {
	case !exists:
		st.log.Info("created", "kind", kind, "name", obj.GetName())
		r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, eventCreated, "Created %s %s", kind, obj.GetName())
	case u.GetResourceVersion() != current.GetResourceVersion():
		st.log.Info("updated", "kind", kind, "name", obj.GetName())
		r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, eventUpdated, "Updated %s %s", kind, obj.GetName())
	}
	return nil
}

// applyConfiguration turns a built object into the body of an apply: no
// status, no nulls (the zero values of typed structs the operator does not
// mean to own).
func applyConfiguration(obj client.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	delete(m, "status")
	return &unstructured.Unstructured{Object: dropNulls(m).(map[string]any)}, nil
}

func dropNulls(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if x == nil {
				delete(t, k)
				continue
			}
			t[k] = dropNulls(x)
		}
	case []any:
		for i, x := range t {
			t[i] = dropNulls(x)
		}
	}
	return v
}
