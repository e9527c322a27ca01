package controllers

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/backup"
	"github.com/shoal-dev/shoal/internal/s3test"
)

// TestEncryptedBackupAndRestore: a backup with spec.encryption (a key in
// base64 from a Secret) stores objects that hold none of the snapshot's
// plain text and a manifest naming the algorithm and the key's ID; a
// restore with another key is refused before anything is loaded, with
// the reason; a restore by the RedisBackup's name (its key) brings every
// key back.
func TestEncryptedBackupAndRestore(t *testing.T) {
	ctx := context.Background()
	s3 := s3test.Start(t, "127.0.0.1", testBucket)
	ns := newNamespace(t)
	key := func() string { return newBackupKey() + "\n" }
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "s3"},
		StringData: map[string]string{"accessKeyID": "shoal", "secretAccessKey": "shoal-secret"}})
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "backup-key"}, StringData: map[string]string{"key": key()}})
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "other-key"}, StringData: map[string]string{"k": key()}})
	dest := v1alpha1.S3Destination{Endpoint: s3.Endpoint, Bucket: testBucket, Insecure: true, CredentialsSecret: v1alpha1.S3Credentials{Name: "s3"}}

	_, _, _, cc := startFilledCluster(t, ns, "src", 600)

	bk := &v1alpha1.RedisBackup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "enc"},
		Spec: v1alpha1.RedisBackupSpec{Cluster: "src", Destination: v1alpha1.BackupDestination{S3: &dest}, Compression: v1alpha1.CompressionZstd,
			Encryption: &v1alpha1.BackupEncryption{KeySecret: v1alpha1.BackupKeySecret{Name: "backup-key"}}}}
	create(t, bk)
	done := waitBackup(t, client.ObjectKeyFromObject(bk), func(b *v1alpha1.RedisBackup) error {
		if b.Status.Phase != v1alpha1.BackupCompleted {
			return fmt.Errorf("phase %s (%s)", b.Status.Phase, b.Status.Reason)
		}
		return nil
	})
	store, err := backup.NewStore(backup.StoreConfig{Endpoint: s3.Endpoint, Bucket: testBucket, Insecure: true, AccessKeyID: "shoal", SecretAccessKey: "shoal-secret"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := backup.ParseManifest(getObject(t, store, done.Status.Manifest))
	if err != nil || m.Encryption != "AES-256-GCM" || len(m.KeyID) != 16 {
		t.Fatalf("manifest %+v, %v", m, err)
	}
	folder := strings.TrimSuffix(done.Status.Manifest, backup.ManifestName)
	for _, s := range done.Status.Shards {
		if !strings.HasSuffix(s.Object, ".rdb.zst.enc") {
			t.Errorf("shard object %s", s.Object)
		}
		if b := getObject(t, store, folder+s.Object[strings.LastIndex(s.Object, "/")+1:]); !bytes.HasPrefix(b, []byte("SHOALENC")) || bytes.Contains(b, []byte("REDIS")) {
			t.Errorf("shard object %s is not sealed", s.Object)
		}
	}

	restore := func(name string, from v1alpha1.FromBackupSpec) (client.ObjectKey, *redis.ClusterClient) {
		rc := newCluster(ns, name, func(rc *v1alpha1.RedisCluster) {
			rc.Spec.ReplicasPerMaster = 0
			rc.Spec.Storage.Ephemeral = true
			rc.Spec.Bootstrap = &v1alpha1.BootstrapSpec{FromBackup: &from}
		})
		create(t, rc)
		k := client.ObjectKeyFromObject(rc)
		waitCondition(t, k, v1alpha1.ConditionProgressing, metav1.ConditionTrue, v1alpha1.ReasonWaitingForPods)
		pw, a := startShoalPods(t, ns, name, 3)
		c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: a, Password: pw})
		t.Cleanup(func() { _ = c.Close() })
		return k, c
	}
	wk, wc := restore("wrong", v1alpha1.FromBackupSpec{BackupName: "enc",
		Encryption: &v1alpha1.BackupEncryption{KeySecret: v1alpha1.BackupKeySecret{Name: "other-key", Key: "k"}}})
	refused := waitCondition(t, wk, v1alpha1.ConditionRestored, metav1.ConditionFalse, v1alpha1.ReasonRestoreRefused)
	if msg := refused.Status.FromBackup.Message; !strings.Contains(msg, "encrypted with another key") || !strings.Contains(msg, "nothing was loaded") {
		t.Errorf("restore with another key: %+v", refused.Status.FromBackup)
	}
	if n, err := clusterKeys(ctx, wc); err != nil || n != 0 {
		t.Errorf("the restore with another key loaded %d keys (%v)", n, err)
	}

	gk, gc := restore("good", v1alpha1.FromBackupSpec{BackupName: "enc"})
	restored := waitCondition(t, gk, v1alpha1.ConditionRestored, metav1.ConditionTrue, v1alpha1.ReasonRestoreCompleted)
	if r := restored.Status.FromBackup; r.ShardsLoaded != 3 || r.KeysLoaded < 600 {
		t.Fatalf("restore status %+v", r)
	}
	compareClusters(ctx, t, cc, gc)
}

// newBackupKey is a random 32-byte key in base64, as
// `openssl rand -base64 32` prints it.
func newBackupKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
