package controllers

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/record"
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

// ensureTLS makes sure the Secret the nodes mount exists (spec.tls) and
// loads the admin client's TLS configuration (the nodes' certificate and
// CA) into st.
func (r *RedisClusterReconciler) ensureTLS(ctx context.Context, st *state) (ctrl.Result, error) {
	if st.desired.Spec.TLS == nil {
		return ctrl.Result{}, nil
	}
	k := tlsKeeper{Client: r.Client, reader: r.APIReader, recorder: r.Recorder, owner: st.rc, log: st.log,
		target: builders.ClusterTLS(st.desired),
		apply:  func(ctx context.Context, obj client.Object) error { return r.apply(ctx, st, obj, &corev1.Secret{}) }}
	cfg, blocked, err := k.ensure(ctx, r.now())
	if err != nil {
		return ctrl.Result{}, err
	}
	if blocked != nil {
		st.degrade(blocked.reason, blocked.message)
		return ctrl.Result{RequeueAfter: blockedRequeue}, nil
	}
	st.tls = cfg
	return ctrl.Result{}, nil
}

// tlsKeeper keeps the TLS Secret of one RedisCluster or RedisReplication
// (its target): the user's is read, a cert-manager Certificate is
// applied for an issuer, or the operator's own CA issues it, reissuing it
// before it expires (rotated files reach the pods through the Secret
// volume, and the nodes and sentinels reload them without a restart).
type tlsKeeper struct {
	client.Client
	reader   client.Reader
	recorder record.EventRecorder
	// owner is the object events are recorded on.
	owner  client.Object
	log    logr.Logger
	target builders.TLSTarget
	// apply server-side applies an object the keeper owns.
	apply func(ctx context.Context, obj client.Object) error
}

// tlsBlocked is why the TLS Secret cannot be used yet.
type tlsBlocked struct {
	reason  v1alpha1.ConditionReason
	message string
}

// ensure makes sure the Secret exists and returns the TLS configuration
// of a client of the nodes, or why it cannot yet (a Degraded reason, an
// event recorded).
func (k tlsKeeper) ensure(ctx context.Context, now time.Time) (*tls.Config, *tlsBlocked, error) {
	spec := k.target.Spec
	switch {
	case spec.SecretName != "":
	case spec.IssuerRef != nil:
		if blocked, err := k.ensureCertificate(ctx); err != nil || blocked != nil {
			return nil, blocked, err
		}
	default:
		if err := k.ensureOwnCA(ctx, now); err != nil {
			return nil, nil, err
		}
	}
	name := k.target.SecretName
	secret := &corev1.Secret{}
	err := k.reader.Get(ctx, client.ObjectKey{Namespace: k.target.Namespace, Name: name}, secret)
	if apierrors.IsNotFound(err) || err == nil && missingTLSKeys(secret) != "" {
		msg := fmt.Sprintf("TLS Secret %s not found or incomplete (needs %s, %s and %s)", name, builders.TLSCertKey, builders.TLSKeyKey, builders.TLSCAKey)
		k.recorder.Event(k.owner, corev1.EventTypeWarning, string(reasonTLSSecretNotFound), msg)
		return nil, &tlsBlocked{reasonTLSSecretNotFound, msg}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	cfg, err := tlsconf.ClientConfigFromPEM(secret.Data[builders.TLSCertKey], secret.Data[builders.TLSKeyKey], secret.Data[builders.TLSCAKey])
	if err != nil {
		return nil, nil, fmt.Errorf("TLS Secret %s: %w", name, err)
	}
	return cfg, nil, nil
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
func (k tlsKeeper) ensureOwnCA(ctx context.Context, now time.Time) error {
	caSecret := &corev1.Secret{}
	caKey := client.ObjectKey{Namespace: k.target.Namespace, Name: k.target.CASecretName}
	err := k.reader.Get(ctx, caKey, caSecret)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	ca := certgen.Pair{CertPEM: caSecret.Data[builders.TLSCAKey], KeyPEM: caSecret.Data[builders.TLSCAKeyKey]}
	oldCA := []byte(nil)
	if renew, why := builders.TLSRenewal(ca.CertPEM, nil, now); renew || len(ca.KeyPEM) == 0 {
		oldCA = ca.CertPEM
		if ca, err = certgen.NewCA(k.target.CommonName+" shoal CA", now.Add(-5*time.Minute), builders.TLSCAValidity); err != nil {
			return err
		}
		if err := k.apply(ctx, builders.TLSCASecret(k.target, ca)); err != nil {
			return err
		}
		k.log.Info("issued the TLS CA", "secret", caKey.Name, "reason", why)
	}
	node := &corev1.Secret{}
	nodeKey := client.ObjectKey{Namespace: k.target.Namespace, Name: k.target.SecretName}
	if err := k.reader.Get(ctx, nodeKey, node); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	renew, why := builders.TLSRenewal(node.Data[builders.TLSCertKey], ca.CertPEM, now)
	if !renew {
		return nil
	}
	leaf, err := certgen.Issue(ca, builders.TLSLeafRequest(k.target, now))
	if err != nil {
		return err
	}
	bundle := append(append([]byte{}, ca.CertPEM...), oldCA...)
	if err := k.apply(ctx, builders.TLSNodeSecret(k.target, leaf, bundle)); err != nil {
		return err
	}
	k.recorder.Eventf(k.owner, corev1.EventTypeNormal, eventUpdated, "Issued the nodes' TLS certificate in Secret %s (%s)", nodeKey.Name, why)
	return nil
}

// ensureCertificate applies the cert-manager Certificate of spec.tls.issuerRef,
// or reports that cert-manager is not installed.
func (k tlsKeeper) ensureCertificate(ctx context.Context) (*tlsBlocked, error) {
	if _, err := k.RESTMapper().RESTMapping(certificateGVK.GroupKind(), certificateGVK.Version); err != nil {
		if meta.IsNoMatchError(err) {
			return &tlsBlocked{reasonCertManagerAbsent, "spec.tls.issuerRef names a cert-manager issuer, but the Certificate CRD (cert-manager.io/v1) is not installed"}, nil
		}
		return nil, err
	}
	u := builders.CertManagerCertificate(k.target)
	u.SetGroupVersionKind(certificateGVK)
	if err := k.Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
		client.FieldOwner(builders.FieldManager), client.ForceOwnership); err != nil {
		return nil, fmt.Errorf("applying Certificate %s: %w", u.GetName(), err)
	}
	return nil, nil
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
func (r *RedisClusterReconciler) now() time.Time { return clockNow(r.Now) }

// clockNow is now by a reconciler's injected clock (nil: the wall clock).
func clockNow(now func() time.Time) time.Time {
	if now != nil {
		return now()
	}
	return time.Now()
}
