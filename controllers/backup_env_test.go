package controllers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/backup"
	"github.com/shoal-dev/shoal/internal/s3test"
)

const testBucket = "shoal-backups"

// TestBackupAndRestore backs up a RedisCluster of three real shoal-node
// masters to a real S3-compatible server (gofakes3 on 127.0.0.1, on-disk)
// and restores it into a new cluster of four masters: every key, its
// type, value and TTL come back. A backup asked while a slot is MIGRATING
// waits (SlotsMoving) and completes once the slot is stable. A restore
// from a copy of the backup whose shard object is truncated is refused
// with the checksum named, and loads nothing.
func TestBackupAndRestore(t *testing.T) {
	ctx := context.Background()
	ns, dest, store := startBackupStore(t, "backups")

	src, password, addrs, cc := startFilledCluster(t, ns, "src", 3000)

	// A slot left MIGRATING: the backup waits. The RedisCluster is paused
	// meanwhile, or its reconciler would close the open slot first.
	setAnnotation(t, client.ObjectKeyFromObject(src), v1alpha1.PausedAnnotation, "true")
	m0 := redis.NewClient(&redis.Options{Addr: addrs[0], Password: password})
	defer m0.Close() //nolint:errcheck // test client
	m1 := redis.NewClient(&redis.Options{Addr: addrs[1], Password: password})
	defer m1.Close() //nolint:errcheck // test client
	slot := firstSlot(t, ctx, m0)
	if err := m0.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", m1.ClusterMyID(ctx).Val()).Err(); err != nil {
		t.Fatal(err)
	}
	bk := &v1alpha1.RedisBackup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "b1"},
		Spec: v1alpha1.RedisBackupSpec{Cluster: "src", Destination: v1alpha1.BackupDestination{S3: &dest}, Compression: v1alpha1.CompressionGzip}}
	create(t, bk)
	waitBackup(t, client.ObjectKeyFromObject(bk), pendingFor(v1alpha1.ReasonBackupSlotsMoving))
	if err := m0.Do(ctx, "CLUSTER", "SETSLOT", slot, "STABLE").Err(); err != nil {
		t.Fatal(err)
	}
	setAnnotation(t, client.ObjectKeyFromObject(src), v1alpha1.PausedAnnotation, "false")
	done := waitBackup(t, client.ObjectKeyFromObject(bk), func(b *v1alpha1.RedisBackup) error {
		if b.Status.Phase != v1alpha1.BackupCompleted {
			return fmt.Errorf("phase %s (%s)", b.Status.Phase, b.Status.Reason)
		}
		return nil
	})
	st := done.Status
	if len(st.Shards) != 3 || st.Manifest == "" || st.StartTime == nil || st.CompletionTime == nil || !strings.HasPrefix(st.Location, "s3://"+testBucket+"/backups/"+ns+"/src/b1/") {
		t.Fatalf("status of the completed backup: %+v", st)
	}
	slots := 0
	for _, s := range st.Shards {
		if s.Size <= 0 || s.RDBSize <= 0 || len(s.SHA256) != 64 || len(s.ReplicationID) != 40 || s.NodeID == "" || !strings.HasSuffix(s.Object, ".rdb.gz") {
			t.Errorf("shard status %+v", s)
		}
		for _, r := range s.Slots {
			a, b, _ := strings.Cut(r, "-")
			first, _ := strconv.Atoi(a)
			last := first
			if b != "" {
				last, _ = strconv.Atoi(b)
			}
			slots += last - first + 1
		}
	}
	if slots != 16384 {
		t.Errorf("the shards' slots add up to %d", slots)
	}

	// Restore into four masters.
	dst := newCluster(ns, "dst", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Masters = 4
		rc.Spec.ReplicasPerMaster = 0
		rc.Spec.Storage.Ephemeral = true
		rc.Spec.Bootstrap = &v1alpha1.BootstrapSpec{FromBackup: &v1alpha1.FromBackupSpec{BackupName: "b1"}}
	})
	create(t, dst)
	waitCondition(t, client.ObjectKeyFromObject(dst), v1alpha1.ConditionProgressing, metav1.ConditionTrue, v1alpha1.ReasonWaitingForPods)
	dpw, daddrs := startShoalPods(t, ns, "dst", 4)
	restored := waitCondition(t, client.ObjectKeyFromObject(dst), v1alpha1.ConditionRestored, metav1.ConditionTrue, v1alpha1.ReasonRestoreCompleted)
	if r := restored.Status.FromBackup; r.Phase != v1alpha1.RestoreCompleted || r.ShardsLoaded != 3 || r.Shards != 3 || r.KeysLoaded < 3000 {
		t.Fatalf("restore status %+v", r)
	}
	waitCondition(t, client.ObjectKeyFromObject(dst), v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonClusterOK)
	dc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: daddrs, Password: dpw})
	defer dc.Close() //nolint:errcheck // test client
	compareClusters(ctx, t, cc, dc)

	// A copy of the backup whose shard 0 object lost its last bytes.
	folder := strings.TrimSuffix(st.Manifest, backup.ManifestName)
	keys, err := store.List(ctx, folder)
	if err != nil || len(keys) != 4 {
		t.Fatalf("objects of the backup: %q, %v", keys, err)
	}
	for _, k := range keys {
		b := getObject(t, store, k)
		if strings.HasSuffix(k, st.Shards[0].Object[strings.LastIndex(st.Shards[0].Object, "/")+1:]) {
			b = b[:len(b)-10]
		}
		if err := store.Put(ctx, "broken/"+k[len(folder):], bytes.NewReader(b), int64(len(b)), ""); err != nil {
			t.Fatal(err)
		}
	}
	bad := newCluster(ns, "bad", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.ReplicasPerMaster = 0
		rc.Spec.Storage.Ephemeral = true
		rc.Spec.Bootstrap = &v1alpha1.BootstrapSpec{FromBackup: &v1alpha1.FromBackupSpec{S3: &dest, Path: "broken"}}
	})
	create(t, bad)
	waitCondition(t, client.ObjectKeyFromObject(bad), v1alpha1.ConditionProgressing, metav1.ConditionTrue, v1alpha1.ReasonWaitingForPods)
	bpw, baddrs := startShoalPods(t, ns, "bad", 3)
	refused := waitCondition(t, client.ObjectKeyFromObject(bad), v1alpha1.ConditionRestored, metav1.ConditionFalse, v1alpha1.ReasonRestoreRefused)
	if msg := refused.Status.FromBackup.Message; !strings.Contains(msg, "checksum mismatch") || refused.Status.FromBackup.Phase != v1alpha1.RestoreFailed {
		t.Errorf("refused restore: %+v", refused.Status.FromBackup)
	}
	if c := refused.Condition(v1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("a cluster whose backup was refused is Ready: %+v", c)
	}
	bc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: baddrs, Password: bpw})
	defer bc.Close() //nolint:errcheck // test client
	if n, err := clusterKeys(ctx, bc); err != nil || n != 0 {
		t.Errorf("the refused backup loaded %d keys (%v)", n, err)
	}
}

// startBackupStore starts the S3-compatible server, makes a namespace
// holding its credentials in the Secret "s3", and returns the namespace,
// a destination in the bucket under prefix, and a client of the store.
func startBackupStore(t *testing.T, prefix string) (string, v1alpha1.S3Destination, *backup.Store) {
	t.Helper()
	s3 := s3test.Start(t, "127.0.0.1", testBucket)
	ns := newNamespace(t)
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "s3"},
		StringData: map[string]string{"accessKeyID": "shoal", "secretAccessKey": "shoal-secret"}})
	dest := v1alpha1.S3Destination{Endpoint: s3.Endpoint, Bucket: testBucket, Prefix: prefix, Insecure: true,
		CredentialsSecret: v1alpha1.S3Credentials{Name: "s3"}}
	store, err := backup.NewStore(backup.StoreConfig{Endpoint: s3.Endpoint, Bucket: testBucket, Insecure: true, AccessKeyID: "shoal", SecretAccessKey: "shoal-secret"})
	if err != nil {
		t.Fatal(err)
	}
	return ns, dest, store
}

// startFilledCluster creates a RedisCluster of three shoal-node masters,
// starts its pods, waits until it is Ready and writes n keys to it.
func startFilledCluster(t *testing.T, ns, name string, n int) (*v1alpha1.RedisCluster, string, []string, *redis.ClusterClient) {
	t.Helper()
	rc := newCluster(ns, name, func(rc *v1alpha1.RedisCluster) {
		rc.Spec.ReplicasPerMaster = 0
		rc.Spec.Storage.Ephemeral = true
	})
	create(t, rc)
	waitCondition(t, client.ObjectKeyFromObject(rc), v1alpha1.ConditionProgressing, metav1.ConditionTrue, v1alpha1.ReasonWaitingForPods)
	password, addrs := startShoalPods(t, ns, name, 3)
	waitCondition(t, client.ObjectKeyFromObject(rc), v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonClusterOK)
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, Password: password})
	t.Cleanup(func() { _ = cc.Close() })
	fillCluster(t, cc, n)
	return rc, password, addrs, cc
}

// clusterKeys is the number of keys on the cluster's masters.
func clusterKeys(ctx context.Context, cc *redis.ClusterClient) (int64, error) {
	var n int64
	var mu sync.Mutex
	err := cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		k, err := m.DBSize(ctx).Result()
		mu.Lock()
		n += k
		mu.Unlock()
		return err
	})
	return n, err
}

func waitBackup(t *testing.T, key client.ObjectKey, check func(*v1alpha1.RedisBackup) error) *v1alpha1.RedisBackup {
	t.Helper()
	b := &v1alpha1.RedisBackup{}
	eventually(t, func() error {
		if err := testEnv.c.Get(context.Background(), key, b); err != nil {
			return err
		}
		return check(b)
	})
	return b
}

// pendingFor checks a backup is Pending, its Completed condition saying
// reason.
func pendingFor(reason v1alpha1.ConditionReason) func(*v1alpha1.RedisBackup) error {
	return func(b *v1alpha1.RedisBackup) error {
		c := findCondition(b.Status.Conditions, v1alpha1.ConditionBackupCompleted)
		if b.Status.Phase != v1alpha1.BackupPending || c == nil || c.Reason != string(reason) {
			return fmt.Errorf("phase %s, condition %+v; want Pending, %s", b.Status.Phase, c, reason)
		}
		return nil
	}
}

func findCondition(cs []metav1.Condition, t v1alpha1.ConditionType) *metav1.Condition {
	for i := range cs {
		if cs[i].Type == string(t) {
			return &cs[i]
		}
	}
	return nil
}

func firstSlot(t *testing.T, ctx context.Context, m *redis.Client) int {
	t.Helper()
	var slot = -1
	eventually(t, func() error {
		slots, err := m.ClusterSlots(ctx).Result()
		if err != nil {
			return err
		}
		id := m.ClusterMyID(ctx).Val()
		for _, s := range slots {
			if len(s.Nodes) > 0 && s.Nodes[0].ID == id {
				slot = int(s.Start)
				return nil
			}
		}
		return fmt.Errorf("no slot of %s in %v", id, slots)
	})
	return slot
}

func getObject(t *testing.T, s *backup.Store, key string) []byte {
	t.Helper()
	r, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fillCluster writes n keys of every type through a client (of a cluster,
// or of one database of a node), a third of them with a TTL.
func fillCluster(t *testing.T, cc redis.Cmdable, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		k := "k" + strconv.Itoa(i)
		var err error
		switch i % 6 {
		case 0:
			err = cc.Set(ctx, k, strings.Repeat("v", i%50), 0).Err()
		case 1:
			err = cc.HSet(ctx, k, "a", i, "b", "x").Err()
		case 2:
			err = cc.RPush(ctx, k, 1, 2, i).Err()
		case 3:
			err = cc.SAdd(ctx, k, "a", i).Err()
		case 4:
			err = cc.ZAdd(ctx, k, redis.Z{Score: float64(i), Member: "m"}).Err()
		case 5:
			err = cc.XAdd(ctx, &redis.XAddArgs{Stream: k, Values: []string{"f", strconv.Itoa(i)}}).Err()
		}
		if err == nil && i%3 == 0 {
			err = cc.Expire(ctx, k, time.Hour+time.Duration(i)*time.Second).Err()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// compareClusters checks every key of a is in b with the same type,
// value and TTL (within a second: the TTL is absolute in the backup), and
// b holds nothing else.
func compareClusters(ctx context.Context, t *testing.T, a, b *redis.ClusterClient) {
	t.Helper()
	// ForEachMaster calls its function on every master at once.
	var want atomic.Int64
	err := a.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		iter := m.Scan(ctx, 0, "", 1000).Iterator()
		for iter.Next(ctx) {
			k := iter.Val()
			want.Add(1)
			av, err := dumpValue(ctx, m, k)
			if err != nil {
				return err
			}
			bv, err := dumpValue(ctx, b, k)
			if err != nil || av != bv {
				t.Errorf("%s: backed up %.80q, restored %.80q (%v)", k, av, bv, err)
				continue
			}
			at, bt := m.PTTL(ctx, k).Val(), b.PTTL(ctx, k).Val()
			if (at < 0) != (bt < 0) || (at-bt).Abs() > 5*time.Second {
				t.Errorf("%s: TTL %v backed up, %v restored", k, at, bt)
			}
		}
		return iter.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := clusterKeys(ctx, b); err != nil || got != want.Load() {
		t.Errorf("the restored cluster holds %d keys, the backed-up one %d (%v)", got, want.Load(), err)
	}
	if want.Load() == 0 {
		t.Error("nothing to compare")
	}
}

// TestScheduledBackupsArePruned runs spec.backup every 2 seconds with a
// retention of 2 on a cluster of three real nodes: RedisBackups are made
// and complete, old ones are pruned (the event says so), and the store
// holds the folders of the kept backups only.
func TestScheduledBackupsArePruned(t *testing.T) {
	ctx := context.Background()
	s3 := s3test.Start(t, "127.0.0.1", testBucket)
	ns := newNamespace(t)
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "s3"},
		StringData: map[string]string{"accessKeyID": "shoal", "secretAccessKey": "shoal-secret"}})
	rc := newCluster(ns, "sched", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.ReplicasPerMaster = 0
		rc.Spec.Storage.Ephemeral = true
		rc.Spec.Backup = &v1alpha1.ScheduledBackupSpec{Schedule: "@every 2s",
			Destination: v1alpha1.BackupDestination{S3: &v1alpha1.S3Destination{Endpoint: s3.Endpoint, Bucket: testBucket, Insecure: true,
				CredentialsSecret: v1alpha1.S3Credentials{Name: "s3"}}},
			Retention: v1alpha1.BackupRetention{Count: 2}}
	})
	create(t, rc)
	waitCondition(t, client.ObjectKeyFromObject(rc), v1alpha1.ConditionProgressing, metav1.ConditionTrue, v1alpha1.ReasonWaitingForPods)
	startShoalPods(t, ns, "sched", 3)
	eventually(t, func() error { return hasEvent(testEnv.c, ns, "BackupPruned", "RedisBackup sched-") })
	store, err := backup.NewStore(backup.StoreConfig{Endpoint: s3.Endpoint, Bucket: testBucket, Insecure: true, AccessKeyID: "shoal", SecretAccessKey: "shoal-secret"})
	if err != nil {
		t.Fatal(err)
	}
	// The schedule goes on: the retention holds while backups come.
	eventually(t, func() error { return keptBackupsOnly(ctx, store, ns, "sched", "") })
}

// keptBackupsOnly checks the scheduled backups of the RedisCluster name:
// one to three completed are kept, and the store holds (under prefix) the
// objects of kept backups only.
func keptBackupsOnly(ctx context.Context, store backup.Objects, ns, name, prefix string) error {
	var list v1alpha1.RedisBackupList
	if err := testEnv.c.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{v1alpha1.LabelBackupCluster: name}); err != nil {
		return err
	}
	folders := map[string]bool{}
	completed := 0
	for _, b := range list.Items {
		if b.Status.Phase == v1alpha1.BackupCompleted {
			completed++
		}
		folders[backup.Folder(prefix, ns, name, b.Name)] = true
	}
	if completed == 0 || completed > 3 {
		return fmt.Errorf("%d completed scheduled backups kept", completed)
	}
	keys, err := store.List(ctx, backup.Folder(prefix, ns, name, ""))
	if err != nil {
		return err
	}
	for _, k := range keys {
		if !folders[k[:strings.LastIndex(k, "/")+1]] {
			return fmt.Errorf("object %s belongs to no kept backup (kept %v)", k, folders)
		}
	}
	return nil
}
