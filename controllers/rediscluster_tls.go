package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/node/clusteradmin"
	"github.com/shoal-dev/shoal/node/tlsconf"
	"github.com/shoal-dev/shoal/node/tlsconf/certgen"
)

// +kubebuilder:rbac:groups="",resources=secrets,verbs=update;patch
// +kubebuilder:rbac:groups=cert-manager.io,resources=certificates,verbs=get;list;watch;create;patch

// Reasons of the TLS step.
const (
	reasonTLSSecretNotFound v1alpha1.ConditionReason = "TLSSecretNotFound"
	reasonCertManagerAbsent v1alpha1.ConditionReason = "CertManagerNotInstalled"
)

// certificateGVK is cert-manager's Certificate.
var certificateGVK = schema.GroupVersionKind{Group: "cert-manager.io", Version: "v1", Kind: "Certificate"}

// ensureTLS makes sure the Secret the nodes mount exists (spec.tls):
// the user's is read, a cert-manager Certificate is applied for an
// issuer, or the operator's own CA issues it, reissuing it before it
// expires (rotated files reach the pods through the Secret volume, and
// the nodes reload them without a restart). It then loads the admin
// client's TLS configuration (the nodes' certificate and CA) into st.
func (r *RedisClusterReconciler) ensureTLS(ctx context.Context, st *state) (ctrl.Result, error) {
	spec := st.desired.Spec.TLS
	if spec == nil {
		return ctrl.Result{}, nil
	}
	switch {
	case spec.SecretName != "":
	case spec.IssuerRef != nil:
		if res, err := r.ensureCertificate(ctx, st); err != nil || !res.IsZero() {
			return res, err
		}
	default:
		if err := r.ensureOwnCA(ctx, st, r.now()); err != nil {
			return ctrl.Result{}, err
		}
	}
	name := st.desired.TLSSecretName()
	secret := &corev1.Secret{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: st.rc.Namespace, Name: name}, secret)
	if apierrors.IsNotFound(err) || err == nil && missingTLSKeys(secret) != "" {
		msg := fmt.Sprintf("TLS Secret %s not found or incomplete (needs %s, %s and %s)", name, builders.TLSCertKey, builders.TLSKeyKey, builders.TLSCAKey)
		st.degrade(reasonTLSSecretNotFound, msg)
		r.Recorder.Event(st.rc, corev1.EventTypeWarning, string(reasonTLSSecretNotFound), msg)
		return ctrl.Result{RequeueAfter: blockedRequeue}, nil
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	cfg, err := tlsconf.ClientConfigFromPEM(secret.Data[builders.TLSCertKey], secret.Data[builders.TLSKeyKey], secret.Data[builders.TLSCAKey])
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("TLS Secret %s: %w", name, err)
	}
	st.tls = cfg
	return ctrl.Result{}, nil
}

func missingTLSKeys(s *corev1.Secret) string {
	for _, k := range []string{builders.TLSCertKey, builders.TLSKeyKey, builders.TLSCAKey} {
		if len(s.Data[k]) == 0 {
			return k
		}
	}
	return ""
}

// ensureOwnCA keeps the operator's CA Secret and the nodes' Secret it
// signs: created when missing, the CA renewed when less than a third of
// its life is left, the nodes' certificate reissued when it is close to
// expiry or no longer signed by the CA. During a CA change the nodes'
// ca.crt holds both CAs, so that nodes which have not yet reloaded still
// trust the new certificate and the other way round.
func (r *RedisClusterReconciler) ensureOwnCA(ctx context.Context, st *state, now time.Time) error {
	caSecret := &corev1.Secret{}
	caKey := client.ObjectKey{Namespace: st.rc.Namespace, Name: st.desired.TLSCASecretName()}
	err := r.APIReader.Get(ctx, caKey, caSecret)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	ca := certgen.Pair{CertPEM: caSecret.Data[builders.TLSCAKey], KeyPEM: caSecret.Data[builders.TLSCAKeyKey]}
	oldCA := []byte(nil)
	if renew, why := builders.TLSRenewal(ca.CertPEM, nil, now); renew || len(ca.KeyPEM) == 0 {
		oldCA = ca.CertPEM
		if ca, err = certgen.NewCA(st.desired.Name+"."+st.desired.Namespace+" shoal CA", now.Add(-5*time.Minute), builders.TLSCAValidity); err != nil {
			return err
		}
		if err := r.apply(ctx, st, builders.TLSCASecret(st.desired, ca), &corev1.Secret{}); err != nil {
			return err
		}
		st.log.Info("issued the cluster's TLS CA", "secret", caKey.Name, "reason", why)
	}
	node := &corev1.Secret{}
	nodeKey := client.ObjectKey{Namespace: st.rc.Namespace, Name: st.desired.TLSSecretName()}
	if err := r.APIReader.Get(ctx, nodeKey, node); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	renew, why := builders.TLSRenewal(node.Data[builders.TLSCertKey], ca.CertPEM, now)
	if !renew {
		return nil
	}
	leaf, err := certgen.Issue(ca, builders.TLSLeafRequest(st.desired, now))
	if err != nil {
		return err
	}
	bundle := append(append([]byte{}, ca.CertPEM...), oldCA...)
	if err := r.apply(ctx, st, builders.TLSNodeSecret(st.desired, leaf, bundle), &corev1.Secret{}); err != nil {
		return err
	}
	r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, eventUpdated, "Issued the nodes' TLS certificate in Secret %s (%s)", nodeKey.Name, why)
	return nil
}

// ensureCertificate applies the cert-manager Certificate of spec.tls.issuerRef,
// or reports that cert-manager is not installed.
func (r *RedisClusterReconciler) ensureCertificate(ctx context.Context, st *state) (ctrl.Result, error) {
	if _, err := r.RESTMapper().RESTMapping(certificateGVK.GroupKind(), certificateGVK.Version); err != nil {
		if meta.IsNoMatchError(err) {
			msg := "spec.tls.issuerRef names a cert-manager issuer, but the Certificate CRD (cert-manager.io/v1) is not installed"
			st.degrade(reasonCertManagerAbsent, msg)
			return ctrl.Result{RequeueAfter: blockedRequeue}, nil
		}
		return ctrl.Result{}, err
	}
	u := builders.CertManagerCertificate(st.desired)
	u.SetGroupVersionKind(certificateGVK)
	if err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
		client.FieldOwner(builders.FieldManager), client.ForceOwnership); err != nil {
		return ctrl.Result{}, fmt.Errorf("applying Certificate %s: %w", u.GetName(), err)
	}
	return ctrl.Result{}, nil
}

// dial is the admin Dialer of this reconcile: over TLS with the nodes'
// certificate when spec.tls is set.
func (r *RedisClusterReconciler) dial(st *state) clusteradmin.Dialer {
	if st.tls != nil && r.DialTLS != nil {
		return r.DialTLS(st.tls)
	}
	return r.Dial
}

// now is the reconciler's clock.
func (r *RedisClusterReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
