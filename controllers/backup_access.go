package controllers

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/backup"
	"github.com/shoal-dev/shoal/controllers/backup/sealed"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/controllers/users"
	"github.com/shoal-dev/shoal/node/clusteradmin"
	"github.com/shoal-dev/shoal/node/tlsconf"
)

// clusterAccess is how the backup controller reaches a RedisCluster's
// nodes: the operator's users and the cluster's TLS, read (never made)
// from the Secrets the RedisCluster controller keeps.
type clusterAccess struct {
	// admin is the operator's own user (cluster views, RESTORE);
	// replication the user a replica authenticates as (PSYNC).
	admin, replication clusteradmin.Auth
	tls                *tls.Config
}

// readClusterAccess reads the Secrets of rc; problem says which is missing.
func readClusterAccess(ctx context.Context, c client.Reader, rc *v1alpha1.RedisCluster) (a clusterAccess, problem string, err error) {
	secret := &corev1.Secret{}
	name := builders.OperatorSecretName(rc)
	err = c.Get(ctx, types.NamespacedName{Namespace: rc.Namespace, Name: name}, secret)
	if apierrors.IsNotFound(err) {
		return a, fmt.Sprintf("Secret %s not found", name), nil
	}
	if err != nil {
		return a, "", err
	}
	pw := string(secret.Data[builders.OperatorSecretPasswordKey])
	if pw == "" {
		return a, fmt.Sprintf("Secret %s has no key %s", name, builders.OperatorSecretPasswordKey), nil
	}
	a.admin = clusteradmin.Auth{Username: users.OperatorUser, Password: pw}
	a.replication = clusteradmin.Auth{Username: users.ReplicationUser, Password: pw}
	if rc.Spec.TLS == nil {
		return a, "", nil
	}
	a.tls, problem, err = readTLSClientConfig(ctx, c, rc.Namespace, rc.TLSSecretName())
	return a, problem, err
}

// readReplicationAccess reads the Secrets of rr: its password (the
// default user's, which its replicas and the operator use) and, with
// spec.tls, its TLS Secret; problem says which is missing.
func readReplicationAccess(ctx context.Context, c client.Reader, rr *v1alpha1.RedisReplication) (a clusterAccess, problem string, err error) {
	ref, _ := rr.AuthSecret()
	secret := &corev1.Secret{}
	err = c.Get(ctx, types.NamespacedName{Namespace: rr.Namespace, Name: ref.Name}, secret)
	if apierrors.IsNotFound(err) {
		return a, fmt.Sprintf("Secret %s not found", ref.Name), nil
	}
	if err != nil {
		return a, "", err
	}
	pw, ok := secret.Data[ref.Key]
	if !ok {
		return a, fmt.Sprintf("Secret %s has no key %s", ref.Name, ref.Key), nil
	}
	a.admin = clusteradmin.Auth{Password: string(pw)}
	a.replication = a.admin
	if rr.Spec.TLS == nil {
		return a, "", nil
	}
	a.tls, problem, err = readTLSClientConfig(ctx, c, rr.Namespace, rr.TLSSecretName())
	return a, problem, err
}

// readTLSClientConfig is the client configuration of the TLS Secret name
// (its certificate, key and CA); problem says when it is missing.
func readTLSClientConfig(ctx context.Context, c client.Reader, ns, name string) (*tls.Config, string, error) {
	secret := &corev1.Secret{}
	err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, secret)
	if apierrors.IsNotFound(err) || err == nil && missingTLSKeys(secret) != "" {
		return nil, fmt.Sprintf("TLS Secret %s not found or incomplete", name), nil
	}
	if err != nil {
		return nil, "", err
	}
	cfg, err := tlsconf.ClientConfigFromPEM(secret.Data[builders.TLSCertKey], secret.Data[builders.TLSKeyKey], secret.Data[builders.TLSCAKey])
	return cfg, "", err
}

// observeMembers lists the node pods of rc and asks each for its view.
// A node that does not answer has a nil View.
func observeMembers(ctx context.Context, c client.Reader, rc *v1alpha1.RedisCluster, dial clusteradmin.Dialer, auth clusteradmin.Auth) ([]topology.Member, error) {
	var list corev1.PodList
	if err := c.List(ctx, &list, client.InNamespace(rc.Namespace), client.MatchingLabels(builders.ClusterSelector(rc))); err != nil {
		return nil, err
	}
	var members []topology.Member
	for i := range list.Items {
		pod := &list.Items[i]
		shard, ordinal, ok := podShardOrdinal(rc, pod.Name)
		if !ok || !pod.DeletionTimestamp.IsZero() || pod.Status.PodIP == "" {
			continue
		}
		members = append(members, topology.Member{Pod: pod.Name, Shard: shard, Ordinal: ordinal,
			IP: pod.Status.PodIP, Port: builders.RedisPort, BusPort: builders.BusPort})
	}
	slices.SortFunc(members, func(a, b topology.Member) int {
		return cmp.Or(cmp.Compare(a.Shard, b.Shard), cmp.Compare(a.Ordinal, b.Ordinal))
	})
	var wg sync.WaitGroup
	for i := range members {
		m := &members[i]
		wg.Go(func() {
			nc := dial(m.Addr(), auth)
			defer nc.Close() //nolint:errcheck // read-only use
			vctx, cancel := context.WithTimeout(ctx, nodeTimeout)
			defer cancel()
			if v, err := nc.ClusterView(vctx); err == nil {
				m.View = v
			}
		})
	}
	wg.Wait()
	return members, nil
}

// openStore reads the credentials of an S3 destination (in namespace ns)
// and makes the store's client; problem says what is missing.
func openStore(ctx context.Context, c client.Reader, ns string, d *v1alpha1.S3Destination) (*backup.Store, string, error) {
	ref := d.CredentialsSecret
	secret := &corev1.Secret{}
	err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: ref.Name}, secret)
	if apierrors.IsNotFound(err) {
		return nil, fmt.Sprintf("Secret %s not found", ref.Name), nil
	}
	if err != nil {
		return nil, "", err
	}
	idKey, keyKey := cmp.Or(ref.AccessKeyIDKey, "accessKeyID"), cmp.Or(ref.SecretAccessKeyKey, "secretAccessKey")
	id, key := secret.Data[idKey], secret.Data[keyKey]
	if len(id) == 0 || len(key) == 0 {
		return nil, fmt.Sprintf("Secret %s needs the keys %s and %s", ref.Name, idKey, keyKey), nil
	}
	s, err := backup.NewStore(backup.StoreConfig{Endpoint: d.Endpoint, Bucket: d.Bucket, Region: d.Region,
		Insecure: d.Insecure, AccessKeyID: string(id), SecretAccessKey: string(key)})
	if err != nil {
		return nil, err.Error(), nil
	}
	return s, "", nil
}

// readBackupKey reads the encryption key of enc (in namespace ns): nil
// when enc is nil; problem says what is missing or wrong.
func readBackupKey(ctx context.Context, c client.Reader, ns string, enc *v1alpha1.BackupEncryption) ([]byte, string, error) {
	if enc == nil {
		return nil, "", nil
	}
	ref := enc.KeySecret
	k := cmp.Or(ref.Key, "key")
	secret := &corev1.Secret{}
	err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: ref.Name}, secret)
	if apierrors.IsNotFound(err) {
		return nil, fmt.Sprintf("encryption key: Secret %s not found", ref.Name), nil
	}
	if err != nil {
		return nil, "", err
	}
	raw, ok := secret.Data[k]
	if !ok {
		return nil, fmt.Sprintf("encryption key: Secret %s has no key %s", ref.Name, k), nil
	}
	key, err := sealed.ParseKey(raw)
	if err != nil {
		return nil, fmt.Sprintf("encryption key: Secret %s, key %s: %v", ref.Name, k, err), nil
	}
	return key, "", nil
}
