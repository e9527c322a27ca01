package controllers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/backup"
	"github.com/shoal-dev/shoal/controllers/builders"
)

// TestReplicationBackupAndRestore backs up a RedisReplication of real
// shoal-node processes (3 data nodes, 3 sentinels) whose master holds keys
// of every type, a third with a TTL, in databases 0, 3 and 15, to a real
// S3-compatible server (gofakes3 on 127.0.0.1): from an in-sync replica
// with gzip, and from the master sealed with a key. spec.backup makes
// RedisBackups on its schedule and prunes them. The RedisReplication is
// deleted, and restored by the backup's name into a new one: it comes up
// Ready, and its master and every replica hold every key of every
// database with its value and its absolute expiry. The sealed backup
// restores with its key. Refused, with the reason, loading nothing and
// labelling no pod: a truncated object, another key, a RedisCluster's
// backup into a RedisReplication, and a RedisReplication's backup into a
// RedisCluster.
func TestReplicationBackupAndRestore(t *testing.T) {
	ctx := context.Background()
	ns, dest, store := startBackupStore(t, "backups")
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "backup-key"}, StringData: map[string]string{"key": newBackupKey()}})
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "other-key"}, StringData: map[string]string{"key": newBackupKey()}})
	const password = "repl-backup"

	src, sim := startReplication(t, ns, "src", password, func(rr *v1alpha1.RedisReplication) {
		scheduled := dest
		scheduled.Prefix = "scheduled"
		rr.Spec.Backup = &v1alpha1.ScheduledBackupSpec{Schedule: "@every 3s", Destination: v1alpha1.BackupDestination{S3: &scheduled},
			Retention: v1alpha1.BackupRetention{Count: 2}}
	})
	ready := waitReplicationReady(t, client.ObjectKeyFromObject(src), 3*waitFor)
	masterAddr := sim.ip(ready.Status.Master) + ":6379"
	for _, db := range []int{0, 3, 15} {
		c := redis.NewClient(&redis.Options{Addr: masterAddr, Password: password, DB: db, MaxRetries: -1})
		fillCluster(t, c, 300)
		if err := c.Set(ctx, "db", strconv.Itoa(db), 0).Err(); err != nil {
			t.Fatal(err)
		}
		_ = c.Close()
	}
	want := replicationKeys(ctx, t, masterAddr, password)
	total := 0
	for _, keys := range want {
		total += len(keys)
	}
	// The replicas are in sync (offsets within the backup's bound) before
	// a backup from a replica is asked for.
	poll(t, waitFor, func() error {
		for _, r := range ready.Status.Replicas {
			got := replicationKeys(ctx, t, sim.ip(r.Pod)+":6379", password)
			if err := sameKeys(want, got); err != nil {
				return fmt.Errorf("replica %s: %w", r.Pod, err)
			}
		}
		return nil
	})

	b1 := &v1alpha1.RedisBackup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "b1"},
		Spec: v1alpha1.RedisBackupSpec{Replication: "src", Destination: v1alpha1.BackupDestination{S3: &dest},
			Source: v1alpha1.BackupFromReplica, Compression: v1alpha1.CompressionGzip}}
	b2 := &v1alpha1.RedisBackup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "b2"},
		Spec: v1alpha1.RedisBackupSpec{Replication: "src", Destination: v1alpha1.BackupDestination{S3: &dest}, Compression: v1alpha1.CompressionZstd,
			Encryption: &v1alpha1.BackupEncryption{KeySecret: v1alpha1.BackupKeySecret{Name: "backup-key"}}}}
	create(t, b1)
	create(t, b2)
	completed := func(b *v1alpha1.RedisBackup) error {
		if b.Status.Phase != v1alpha1.BackupCompleted {
			return fmt.Errorf("phase %s (%s)", b.Status.Phase, b.Status.Reason)
		}
		return nil
	}
	done := waitBackup(t, client.ObjectKeyFromObject(b1), completed).Status
	sealed := waitBackup(t, client.ObjectKeyFromObject(b2), completed).Status
	isReplica := slices.ContainsFunc(ready.Status.Replicas, func(r v1alpha1.ReplicationReplicaStatus) bool {
		return len(done.Shards) == 1 && r.Pod == done.Shards[0].Pod
	})
	if len(done.Shards) != 1 || !isReplica || !strings.HasPrefix(done.Location, "s3://"+testBucket+"/backups/"+ns+"/src/b1/") {
		t.Fatalf("status of the backup from a replica: %+v (replicas %+v)", done, ready.Status.Replicas)
	}
	if s := done.Shards[0]; s.Shard != 0 || len(s.Slots) != 0 || s.NodeID != "" || s.Size <= 0 || s.RDBSize <= 0 || len(s.SHA256) != 64 ||
		len(s.ReplicationID) != 40 || s.ReplicationOffset <= 0 || !strings.HasSuffix(s.Object, "/shard-0.rdb.gz") || done.Size != s.Size {
		t.Errorf("shard status %+v", s)
	}
	if len(sealed.Shards) != 1 || sealed.Shards[0].Pod != ready.Status.Master || !strings.HasSuffix(sealed.Shards[0].Object, ".rdb.zst.enc") {
		t.Errorf("status of the sealed backup from the master: %+v", sealed)
	}
	m, err := backup.ParseManifest(getObject(t, store, done.Manifest))
	if err != nil || m.Kind != backup.KindReplication || m.Replication != "src" || m.Cluster != "" || len(m.Shards) != 1 ||
		m.Shards[0].ReplicationID != done.Shards[0].ReplicationID || m.Shards[0].ReplicationOffset != done.Shards[0].ReplicationOffset {
		t.Fatalf("manifest %+v, %v", m, err)
	}

	// The schedule makes backups of the replication and prunes them.
	eventually(t, func() error { return hasEvent(testEnv.c, ns, "BackupPruned", "RedisBackup src-rr-") })
	var list v1alpha1.RedisBackupList
	if err := testEnv.c.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{v1alpha1.LabelBackupReplication: "src"}); err != nil {
		t.Fatal(err)
	}
	scheduled := 0
	for _, b := range list.Items {
		if b.Spec.Replication != "src" || b.Spec.Cluster != "" || !strings.HasPrefix(b.Name, "src-rr-") {
			t.Errorf("scheduled backup %s: %+v", b.Name, b.Spec)
		}
		if b.Status.Phase == v1alpha1.BackupCompleted {
			scheduled++
		}
	}
	if scheduled == 0 || scheduled > 3 {
		t.Errorf("%d completed scheduled backups kept (retention 2)", scheduled)
	}

	// The backups outlive the replication.
	if err := testEnv.c.Delete(ctx, src); err != nil {
		t.Fatal(err)
	}

	// Copies of b1: its object truncated; its manifest made a cluster's.
	folder := strings.TrimSuffix(done.Manifest, backup.ManifestName)
	copyBackup(t, store, folder, "broken/", func(name string, b []byte) []byte {
		if name == backup.ManifestName {
			return b
		}
		return b[:len(b)-10]
	})
	copyBackup(t, store, folder, "ascluster/", func(name string, b []byte) []byte {
		if name != backup.ManifestName {
			return b
		}
		var m backup.Manifest
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		m.Kind, m.Replication, m.Cluster, m.Shards[0].Slots = "", "", "src", []string{"0-16383"}
		out, _ := json.Marshal(m)
		return out
	})

	// The refused restores, side by side, and the good ones.
	small := func(from v1alpha1.FromBackupSpec) func(*v1alpha1.RedisReplication) {
		return func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Replicas, rr.Spec.Sentinel.Replicas = 1, 1
			rr.Spec.Bootstrap = &v1alpha1.ReplicationBootstrapSpec{FromBackup: &from}
		}
	}
	refusals := map[string]string{"broken": "checksum mismatch", "wrongkey": "encrypted with another key", "ofcluster": "the backup is of a RedisCluster, it cannot be restored into a RedisReplication"}
	sims := map[string]*replSim{}
	_, sims["broken"] = startReplication(t, ns, "broken", password, small(v1alpha1.FromBackupSpec{S3: &dest, Path: "broken"}))
	_, sims["wrongkey"] = startReplication(t, ns, "wrongkey", password, small(v1alpha1.FromBackupSpec{BackupName: "b2",
		Encryption: &v1alpha1.BackupEncryption{KeySecret: v1alpha1.BackupKeySecret{Name: "other-key"}}}))
	_, sims["ofcluster"] = startReplication(t, ns, "ofcluster", password, small(v1alpha1.FromBackupSpec{S3: &dest, Path: "ascluster"}))
	start := time.Now()
	_, dsim := startReplication(t, ns, "dst", password, func(rr *v1alpha1.RedisReplication) {
		rr.Spec.Bootstrap = &v1alpha1.ReplicationBootstrapSpec{FromBackup: &v1alpha1.FromBackupSpec{BackupName: "b1"}}
	})
	_, ssim := startReplication(t, ns, "unsealed", password, small(v1alpha1.FromBackupSpec{BackupName: "b2"}))
	cl := newCluster(ns, "cl", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.ReplicasPerMaster = 0
		rc.Spec.Storage.Ephemeral = true
		rc.Spec.Bootstrap = &v1alpha1.BootstrapSpec{FromBackup: &v1alpha1.FromBackupSpec{BackupName: "b1"}}
	})
	create(t, cl)

	// Restored by name: Ready, every key of every database on the master
	// and on every replica.
	dst := waitReplicationReady(t, client.ObjectKey{Namespace: ns, Name: "dst"}, 3*waitFor)
	t.Logf("restored %d keys of %d databases into a replication of 3 nodes: Ready %v after the RedisReplication was made", total, len(want), time.Since(start).Round(time.Millisecond))
	if r := dst.Status.FromBackup; r == nil || r.Phase != v1alpha1.RestoreCompleted || r.Shards != 1 || r.ShardsLoaded != 1 || r.KeysLoaded != int64(total) {
		t.Fatalf("restore status %+v, want %d keys", r, total)
	}
	if c := dst.Condition(v1alpha1.ConditionRestored); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Restored condition %+v", c)
	}
	if err := sameKeys(want, replicationKeys(ctx, t, dsim.ip(dst.Status.Master)+":6379", password)); err != nil {
		t.Errorf("restored master %s: %v", dst.Status.Master, err)
	}
	if len(dst.Status.Replicas) != 2 {
		t.Fatalf("replicas %+v", dst.Status.Replicas)
	}
	for _, r := range dst.Status.Replicas {
		poll(t, waitFor, func() error {
			return sameKeys(want, replicationKeys(ctx, t, dsim.ip(r.Pod)+":6379", password))
		})
	}
	u := waitReplicationReady(t, client.ObjectKey{Namespace: ns, Name: "unsealed"}, 3*waitFor)
	if err := sameKeys(want, replicationKeys(ctx, t, ssim.ip(u.Status.Master)+":6379", password)); err != nil {
		t.Errorf("the sealed backup restored with its key: %v", err)
	}

	for name, reason := range refusals {
		var refused *v1alpha1.RedisReplication
		poll(t, 3*waitFor, func() error {
			refused = &v1alpha1.RedisReplication{}
			if err := testEnv.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, refused); err != nil {
				return err
			}
			if c := refused.Condition(v1alpha1.ConditionRestored); c == nil || c.Reason != string(v1alpha1.ReasonRestoreRefused) {
				return fmt.Errorf("%s: Restored %+v", name, c)
			}
			return nil
		})
		r := refused.Status.FromBackup
		if r.Phase != v1alpha1.RestoreFailed || !strings.Contains(r.Message, reason) {
			t.Errorf("%s: restore status %+v, want the reason %q", name, r, reason)
		}
		if c := refused.Condition(v1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionFalse || c.Reason != string(v1alpha1.ReasonRestoreRefused) {
			t.Errorf("%s: Ready %+v", name, c)
		}
		pod := name + "-node-0"
		if n := len(replicationKeys(ctx, t, sims[name].ip(pod)+":6379", password)); n != 0 {
			t.Errorf("%s: the refused backup loaded keys in %d databases", name, n)
		}
		p := &corev1.Pod{}
		if err := testEnv.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: pod}, p); err != nil || p.Labels[builders.LabelRole] != "" {
			t.Errorf("%s: pod %s labelled %q (%v): a Service sends clients to a node without its data", name, pod, p.Labels[builders.LabelRole], err)
		}
	}

	waitCondition(t, client.ObjectKeyFromObject(cl), v1alpha1.ConditionProgressing, metav1.ConditionTrue, v1alpha1.ReasonWaitingForPods)
	startShoalPods(t, ns, "cl", 3)
	refused := waitCondition(t, client.ObjectKeyFromObject(cl), v1alpha1.ConditionRestored, metav1.ConditionFalse, v1alpha1.ReasonRestoreRefused)
	if msg := refused.Status.FromBackup.Message; !strings.Contains(msg, "the backup is of a RedisReplication, it cannot be restored into a RedisCluster") {
		t.Errorf("a replication's backup into a cluster: %+v", refused.Status.FromBackup)
	}
}

// waitReplicationReady waits until the RedisReplication is Ready for its
// generation.
func waitReplicationReady(t *testing.T, key client.ObjectKey, within time.Duration) *v1alpha1.RedisReplication {
	t.Helper()
	rr := &v1alpha1.RedisReplication{}
	poll(t, within, func() error {
		if err := testEnv.c.Get(context.Background(), key, rr); err != nil {
			return err
		}
		if c := rr.Condition(v1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != rr.Generation {
			return fmt.Errorf("%s not Ready: %+v", key.Name, c)
		}
		return nil
	})
	return rr
}

// keyState is a key's type and value (dumpValue) and its absolute expiry
// in unix ms (PEXPIRETIME: -1 for none).
type keyState struct {
	value    string
	expireAt int64
}

// replicationKeys reads every key of every database of the node at addr,
// by database (databases without keys are left out).
func replicationKeys(ctx context.Context, t *testing.T, addr, password string) map[int]map[string]keyState {
	t.Helper()
	out := map[int]map[string]keyState{}
	for db := range 16 {
		c := redis.NewClient(&redis.Options{Addr: addr, Password: password, DB: db, MaxRetries: -1})
		iter := c.Scan(ctx, 0, "", 1000).Iterator()
		for iter.Next(ctx) {
			k := iter.Val()
			v, err := dumpValue(ctx, c, k)
			if err != nil {
				t.Fatalf("%s db %d key %s: %v", addr, db, k, err)
			}
			at, err := c.Do(ctx, "PEXPIRETIME", k).Int64()
			if err != nil {
				t.Fatalf("%s db %d PEXPIRETIME %s: %v", addr, db, k, err)
			}
			if out[db] == nil {
				out[db] = map[string]keyState{}
			}
			out[db][k] = keyState{value: v, expireAt: at}
		}
		err := iter.Err()
		_ = c.Close()
		if err != nil {
			t.Fatalf("%s db %d: %v", addr, db, err)
		}
	}
	return out
}

// sameKeys reports the first difference between two replicationKeys
// readings: a database or a key missing or extra, a value, an expiry.
func sameKeys(want, got map[int]map[string]keyState) error {
	if len(want) == 0 {
		return fmt.Errorf("nothing to compare")
	}
	for db := range 16 {
		if len(want[db]) != len(got[db]) {
			return fmt.Errorf("db %d holds %d keys, want %d", db, len(got[db]), len(want[db]))
		}
		for k, w := range want[db] {
			g, ok := got[db][k]
			if !ok || g != w {
				return fmt.Errorf("db %d key %s: %+v, want %+v (there: %v)", db, k, g, w, ok)
			}
		}
	}
	return nil
}

// copyBackup copies the objects of a backup's folder under to, each
// changed by change (given its name in the folder).
func copyBackup(t *testing.T, store *backup.Store, folder, to string, change func(name string, b []byte) []byte) {
	t.Helper()
	ctx := context.Background()
	keys, err := store.List(ctx, folder)
	if err != nil || len(keys) != 2 {
		t.Fatalf("objects of the backup: %q, %v", keys, err)
	}
	for _, k := range keys {
		name := k[len(folder):]
		b := change(name, getObject(t, store, k))
		if err := store.Put(ctx, to+name, bytes.NewReader(b), int64(len(b)), ""); err != nil {
			t.Fatal(err)
		}
	}
}
