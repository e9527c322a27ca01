package controllers

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
)

// sourceTLS reads the Secrets of spec.bootstrap.fromRedis.tls and returns
// the client configuration for the source (nil when tls is unset). A
// problem (a Secret or key missing, PEM that does not parse) is the user's
// to fix, not an error of the step.
func (r *RedisClusterReconciler) sourceTLS(ctx context.Context, ns string, spec *v1alpha1.FromRedisTLS) (cfg *tls.Config, problem string, err error) {
	if spec == nil {
		return nil, "", nil
	}
	var caPEM, certPEM, keyPEM []byte
	if spec.CASecret != nil {
		key := spec.CASecret.Key
		if key == "" {
			key = builders.TLSCAKey
		}
		data, problem, err := r.secretData(ctx, ns, spec.CASecret.Name, key)
		if err != nil {
			return nil, "", err
		}
		if problem != "" {
			return nil, "tls.caSecret: " + problem, nil
		}
		caPEM = data[key]
	}
	if spec.ClientCertSecret != "" {
		data, problem, err := r.secretData(ctx, ns, spec.ClientCertSecret, corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
		if err != nil {
			return nil, "", err
		}
		if problem != "" {
			return nil, "tls.clientCertSecret: " + problem, nil
		}
		certPEM, keyPEM = data[corev1.TLSCertKey], data[corev1.TLSPrivateKeyKey]
	}
	cfg, err = sourceTLSConfig(spec, caPEM, certPEM, keyPEM)
	if err != nil {
		return nil, "tls." + err.Error(), nil
	}
	return cfg, "", nil
}

// secretData reads a Secret that must hold keys; a missing Secret or key
// is a problem.
func (r *RedisClusterReconciler) secretData(ctx context.Context, ns, name string, keys ...string) (map[string][]byte, string, error) {
	secret := &corev1.Secret{}
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, secret)
	if apierrors.IsNotFound(err) {
		return nil, fmt.Sprintf("Secret %s not found", name), nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("reading Secret %s: %w", name, err)
	}
	for _, k := range keys {
		if len(secret.Data[k]) == 0 {
			return nil, fmt.Sprintf("Secret %s has no key %s", name, k), nil
		}
	}
	return secret.Data, "", nil
}

// sourceTLSConfig is the client configuration of spec.bootstrap.fromRedis.tls
// from the PEM bytes of its Secrets: caPEM the roots (nil: the system's),
// certPEM and keyPEM the client certificate (nil: none). ServerName stays
// empty unless set, so each dial checks the host of its own address.
func sourceTLSConfig(spec *v1alpha1.FromRedisTLS, caPEM, certPEM, keyPEM []byte) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: spec.ServerName, InsecureSkipVerify: spec.InsecureSkipVerify} //nolint:gosec // the user's explicit choice, refused with a CA or a name
	if caPEM != nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, errors.New("caSecret: no PEM certificate in the key")
		}
		cfg.RootCAs = pool
	}
	if certPEM != nil || keyPEM != nil {
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("clientCertSecret: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
