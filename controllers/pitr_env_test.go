package controllers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/backup"
	"github.com/shoal-dev/shoal/controllers/backup/wal"
)

// pitrInterval is the archive's upload interval in the test.
const pitrInterval = 200 * time.Millisecond

// pitrDelta is how long after a write's acknowledgement the archiver may
// receive it on this shared machine: writes acknowledged more than this
// before the point in time must be restored.
const pitrDelta = 100 * time.Millisecond

// timedWrite is one SET k<i> <issued unix ms>.
type timedWrite struct {
	issued, acked time.Time
}

// TestPointInTimeRestore enables spec.backup.continuous on a cluster of
// three masters (which takes a first backup and archives each master's
// stream after it every 200 ms), writes k<i> = <write time in ms> for 6 s,
// and restores into new clusters: at a time T in the middle (four
// masters), every write acknowledged before T-δ is there, none issued
// after T, and the restored set is a prefix in write order but for writes
// within δ of T; at the latest archived time seen while writing, the gap
// to the last acknowledged write (the recovery point) is reported. A copy
// of the backup with one corrupt segment is refused before anything is
// loaded.
func TestPointInTimeRestore(t *testing.T) {
	ctx := context.Background()
	ns, dest, store := startBackupStore(t, "pitr")
	src := newCluster(ns, "src", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.ReplicasPerMaster = 0
		rc.Spec.Storage.Ephemeral = true
		rc.Spec.Backup = &v1alpha1.ScheduledBackupSpec{Schedule: "@daily", Destination: v1alpha1.BackupDestination{S3: &dest},
			Continuous: &v1alpha1.ContinuousBackupSpec{UploadInterval: &metav1.Duration{Duration: pitrInterval}}}
	})
	create(t, src)
	key := client.ObjectKeyFromObject(src)
	waitCondition(t, key, v1alpha1.ConditionProgressing, metav1.ConditionTrue, v1alpha1.ReasonWaitingForPods)
	password, addrs := startShoalPods(t, ns, "src", 3)
	waitCondition(t, key, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonClusterOK)
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, Password: password})
	defer cc.Close() //nolint:errcheck // test client

	// Enabling continuous took a first backup; the archive runs after it.
	arch := waitArchive(t, key)
	b := &v1alpha1.RedisBackup{}
	get(t, ns, arch.Backup, b)
	folder := strings.TrimSuffix(b.Status.Manifest, backup.ManifestName)
	bases := map[int]int64{}
	for _, s := range b.Status.Shards {
		bases[int(s.Shard)] = s.ReplicationOffset
	}

	// Timed writes at a steady rate, from one client, each acknowledged
	// before the next is issued.
	var mu sync.Mutex
	var writes []timedWrite
	stop := make(chan struct{})
	werr := make(chan error, 1)
	go func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				werr <- nil
				return
			case <-tick.C:
			}
			issued := time.Now()
			if err := cc.Set(ctx, "k"+strconv.Itoa(i), issued.UnixMilli(), 0).Err(); err != nil {
				werr <- err
				return
			}
			mu.Lock()
			writes = append(writes, timedWrite{issued: issued, acked: time.Now()})
			mu.Unlock()
		}
	}()
	// The recovery point while writing: how far the store's archive
	// (the oldest of the shards') is behind the last acknowledged write.
	var rpos []time.Duration
	var latest time.Time // the archive's time at the last sample
	var latestAck int    // the last write acknowledged then
	start := time.Now()
	for time.Since(start) < 6*time.Second {
		time.Sleep(300 * time.Millisecond) // the sampling period, not a wait for state
		mu.Lock()
		n := len(writes)
		last := writes[max(n-1, 0)]
		mu.Unlock()
		archived, err := archivedUntil(ctx, store, folder, bases)
		if errors.Is(err, wal.ErrCorrupt) {
			// The test's S3 server (gofakes3) can show an object while
			// its PUT is still being stored: a sample taken then reads a
			// short segment. Skipped: the restores below check every
			// segment they use.
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 && time.Since(start) > time.Second {
			rpos = append(rpos, last.acked.Sub(archived))
			latest, latestAck = archived, n-1
		}
	}
	close(stop)
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	all := slices.Clone(writes)
	mu.Unlock()
	t.Logf("%d writes in %s; recovery point while writing (last acknowledged write minus archived time, upload interval %s): max %s, mean %s over %d samples",
		len(all), all[len(all)-1].acked.Sub(all[0].issued).Round(time.Millisecond), pitrInterval, maxDur(rpos), meanDur(rpos), len(rpos))
	if m := maxDur(rpos); m > pitrInterval+time.Second {
		t.Errorf("the archive was up to %s behind the writes, more than the upload interval and a second", m)
	}

	// The archive covers every write before the restores plan.
	eventually(t, func() error {
		archived, err := archivedUntil(ctx, store, folder, bases)
		if err == nil && archived.Before(all[len(all)-1].acked) {
			err = fmt.Errorf("archived until %s, the last write was acknowledged at %s", archived, all[len(all)-1].acked)
		}
		return err
	})

	// A restore to T in the middle, into four masters.
	T := all[len(all)/2].acked
	_, mpw, maddrs := restoreAt(t, ns, "mid", 4, arch.Backup, nil, "", T)
	got := restoredWrites(t, ctx, mpw, maddrs, all)
	firstMissing, restored := -1, 0
	var delta time.Duration // the latest acknowledgement before T of a write not restored
	for i, w := range all {
		switch {
		case got[i] && w.issued.After(T):
			t.Errorf("k%d issued %s after T %s is restored", i, w.issued.Format(time.StampMicro), T.Format(time.StampMicro))
		case !got[i] && w.acked.Before(T.Add(-pitrDelta)):
			t.Errorf("k%d acknowledged %s, %s before T, is missing", i, w.acked.Format(time.StampMicro), T.Sub(w.acked))
		case !got[i] && w.acked.Before(T):
			delta = max(delta, T.Sub(w.acked))
		}
		if got[i] {
			restored++
			if firstMissing >= 0 && w.issued.Before(T.Add(-pitrDelta)) {
				t.Errorf("k%d is restored after k%d is missing: not a prefix in write order", i, firstMissing)
			}
		} else if firstMissing < 0 {
			firstMissing = i
		}
	}
	t.Logf("restore to T (the middle): %d of %d writes restored, the first missing k%d; δ observed (latest acknowledgement before T of a write not restored) %s",
		restored, len(all), firstMissing, delta)

	// The same point given as the offsets the restore to T stopped at:
	// exactly the same writes.
	mid := &v1alpha1.RedisCluster{}
	if err := testEnv.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "mid"}, mid); err != nil {
		t.Fatal(err)
	}
	var offsets []v1alpha1.ShardOffset
	for _, r := range mid.Status.FromBackup.Replayed {
		offsets = append(offsets, v1alpha1.ShardOffset{Shard: r.Shard, Offset: r.Offset})
	}
	_, opw, oaddrs := restoreTo(t, ns, "offsets", 3, arch.Backup, nil, "", &v1alpha1.PointInTimeSpec{Offsets: offsets})
	if byOffset := restoredWrites(t, ctx, opw, oaddrs, all); !slices.Equal(byOffset, got) {
		t.Errorf("the restore to the offsets %+v holds other writes than the restore to T", offsets)
	}

	// A restore to the latest time archived when last sampled (the
	// moment of a disaster): the recovery point is the gap between the
	// last write acknowledged then and the last one restored.
	_, lpw, laddrs := restoreAt(t, ns, "latest", 3, arch.Backup, nil, "", latest)
	got = restoredWrites(t, ctx, lpw, laddrs, all)
	lastRestored := -1
	for i := range all {
		if got[i] {
			lastRestored = i
		}
	}
	if lastRestored < 0 {
		t.Fatal("nothing restored at the latest archived time")
	}
	rpo := all[latestAck].acked.Sub(all[lastRestored].acked)
	t.Logf("restore to the latest archived time: the last acknowledged write k%d, the last restored k%d: recovery point %s (%d writes)",
		latestAck, lastRestored, rpo, latestAck-lastRestored)
	if rpo > pitrInterval+time.Second {
		t.Errorf("recovery point %s, more than the upload interval and a second", rpo)
	}

	// A copy of the backup whose first segment of shard 0 is corrupt.
	keys, err := store.List(ctx, folder)
	if err != nil {
		t.Fatal(err)
	}
	corrupted := false
	for _, k := range keys {
		data := getObject(t, store, k)
		if !corrupted && strings.Contains(k, "/wal/") && len(data) > 1000 {
			data[len(data)-20] ^= 0x01
			corrupted = true
		}
		if err := store.Put(ctx, "broken/"+k[len(folder):], bytes.NewReader(data), int64(len(data)), ""); err != nil {
			t.Fatal(err)
		}
	}
	if !corrupted {
		t.Fatal("no segment to corrupt")
	}
	bad, _, _ := restoreAt(t, ns, "bad", 3, "", &dest, "broken", T)
	if msg := bad.Status.FromBackup.Message; !strings.Contains(msg, "corrupt segment") || bad.Status.FromBackup.Phase != v1alpha1.RestoreFailed {
		t.Errorf("a corrupt segment: %+v", bad.Status.FromBackup)
	}
}

func maxDur(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

func meanDur(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	var s time.Duration
	for _, d := range ds {
		s += d
	}
	return (s / time.Duration(len(ds))).Round(time.Millisecond)
}

// waitArchive waits until every shard of the cluster is archived
// (status.backup.continuous) and returns the archive's status.
func waitArchive(t *testing.T, key client.ObjectKey) *v1alpha1.ContinuousBackupStatus {
	t.Helper()
	var st *v1alpha1.ContinuousBackupStatus
	eventually(t, func() error {
		rc := &v1alpha1.RedisCluster{}
		if err := testEnv.c.Get(context.Background(), key, rc); err != nil {
			return err
		}
		if rc.Status.Backup == nil || rc.Status.Backup.Continuous == nil {
			return errors.New("no status.backup.continuous")
		}
		st = rc.Status.Backup.Continuous
		c := findCondition(st.Conditions, v1alpha1.ConditionContinuousBackup)
		if c == nil || c.Status != metav1.ConditionTrue || len(st.Shards) != 3 || st.RestorableUntil == nil {
			return fmt.Errorf("archive %+v", st)
		}
		return nil
	})
	return st
}

// archivedUntil is the oldest of the shards' archived times in the store.
func archivedUntil(ctx context.Context, store *backup.Store, folder string, bases map[int]int64) (time.Time, error) {
	var oldest time.Time
	for shard, base := range bases {
		_, at, err := wal.Archived(ctx, store, folder, shard, base)
		if err != nil {
			return at, err
		}
		if oldest.IsZero() || at.Before(oldest) {
			oldest = at
		}
	}
	return oldest, nil
}

// restoreAt creates a cluster of masters restored from a backup (by name,
// or s3 and path) to time at, starts its pods and waits until the restore
// completed or was refused; it returns the cluster, its password and its
// nodes' addresses.
func restoreAt(t *testing.T, ns, name string, masters int32, backupName string, s3 *v1alpha1.S3Destination, path string, at time.Time) (*v1alpha1.RedisCluster, string, []string) {
	t.Helper()
	return restoreTo(t, ns, name, masters, backupName, s3, path, &v1alpha1.PointInTimeSpec{Time: ptr.To(metav1.NewMicroTime(at))})
}

// restoreTo is restoreAt for any point in time (a time or offsets).
func restoreTo(t *testing.T, ns, name string, masters int32, backupName string, s3 *v1alpha1.S3Destination, path string, pit *v1alpha1.PointInTimeSpec) (*v1alpha1.RedisCluster, string, []string) {
	t.Helper()
	rc := newCluster(ns, name, func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Masters = masters
		rc.Spec.ReplicasPerMaster = 0
		rc.Spec.Storage.Ephemeral = true
		rc.Spec.Bootstrap = &v1alpha1.BootstrapSpec{FromBackup: &v1alpha1.FromBackupSpec{BackupName: backupName, S3: s3, Path: path,
			PointInTime: pit}}
	})
	create(t, rc)
	key := client.ObjectKeyFromObject(rc)
	waitCondition(t, key, v1alpha1.ConditionProgressing, metav1.ConditionTrue, v1alpha1.ReasonWaitingForPods)
	password, addrs := startShoalPods(t, ns, name, int(masters))
	var out *v1alpha1.RedisCluster
	eventually(t, func() error {
		out = &v1alpha1.RedisCluster{}
		if err := testEnv.c.Get(context.Background(), key, out); err != nil {
			return err
		}
		if r := out.Status.FromBackup; r == nil || (r.Phase != v1alpha1.RestoreCompleted && r.Phase != v1alpha1.RestoreFailed) {
			return fmt.Errorf("restore %+v", r)
		}
		return nil
	})
	if r := out.Status.FromBackup; r.Phase == v1alpha1.RestoreFailed && backupName != "" {
		t.Fatalf("%s: the restore failed: %s", name, r.Message)
	}
	if r := out.Status.FromBackup; r.Phase == v1alpha1.RestoreCompleted {
		t.Logf("%s: %s; replayed %+v", name, out.Condition(v1alpha1.ConditionRestored).Message, r.Replayed)
		timeOK := pit.Time == nil || (r.PointInTime != nil && r.PointInTime.Time.Equal(pit.Time.Truncate(time.Microsecond)))
		if len(r.Replayed) != 3 || !timeOK {
			t.Errorf("%s: restore status %+v", name, r)
		}
		waitCondition(t, key, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonClusterOK)
	}
	return out, password, addrs
}

// restoredWrites says which of the writes k<i> the cluster holds, each
// with the value it was written with.
func restoredWrites(t *testing.T, ctx context.Context, password string, addrs []string, writes []timedWrite) []bool {
	t.Helper()
	dc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, Password: password})
	defer dc.Close() //nolint:errcheck // test client
	got := make([]bool, len(writes))
	for i, w := range writes {
		v, err := dc.Get(ctx, "k"+strconv.Itoa(i)).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if v != strconv.FormatInt(w.issued.UnixMilli(), 10) {
			t.Fatalf("k%d = %q, written %d", i, v, w.issued.UnixMilli())
		}
		got[i] = true
	}
	return got
}

// TestContinuousBackupAfterASlotMove: a slot that changes hands ends the
// points in time of the archive's backup (their histories would mix): the
// operator takes a new backup once the slot map is stable, and the
// archive continues after it, on the new slot map.
func TestContinuousBackupAfterASlotMove(t *testing.T) {
	ctx := context.Background()
	ns, dest, _ := startBackupStore(t, "moves")
	src := newCluster(ns, "src", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.ReplicasPerMaster = 0
		rc.Spec.Storage.Ephemeral = true
		rc.Spec.Backup = &v1alpha1.ScheduledBackupSpec{Schedule: "@daily", Destination: v1alpha1.BackupDestination{S3: &dest},
			Continuous: &v1alpha1.ContinuousBackupSpec{}}
	})
	create(t, src)
	key := client.ObjectKeyFromObject(src)
	waitCondition(t, key, v1alpha1.ConditionProgressing, metav1.ConditionTrue, v1alpha1.ReasonWaitingForPods)
	password, addrs := startShoalPods(t, ns, "src", 3)
	waitCondition(t, key, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonClusterOK)
	first := waitArchive(t, key).Backup

	// Slot s of master 0 goes to master 1 (the cluster is empty), with
	// the reconciler paused so it does not undo it meanwhile.
	setAnnotation(t, key, v1alpha1.PausedAnnotation, "true")
	m0 := redis.NewClient(&redis.Options{Addr: addrs[0], Password: password})
	defer m0.Close() //nolint:errcheck // test client
	m1 := redis.NewClient(&redis.Options{Addr: addrs[1], Password: password})
	defer m1.Close() //nolint:errcheck // test client
	slot := firstSlot(t, ctx, m0)
	id1 := m1.ClusterMyID(ctx).Val()
	for _, m := range []*redis.Client{m1, m0} {
		if err := m.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", id1).Err(); err != nil {
			t.Fatal(err)
		}
	}
	setAnnotation(t, key, v1alpha1.PausedAnnotation, "false")
	eventually(t, func() error {
		rc := &v1alpha1.RedisCluster{}
		if err := testEnv.c.Get(ctx, key, rc); err != nil {
			return err
		}
		st := rc.Status.Backup
		if st == nil || st.Continuous == nil || st.Continuous.Backup == first {
			return fmt.Errorf("the archive still continues %s: %+v", first, st)
		}
		c := findCondition(st.Continuous.Conditions, v1alpha1.ConditionContinuousBackup)
		if c == nil || c.Status != metav1.ConditionTrue || len(st.Continuous.Shards) != 3 {
			return fmt.Errorf("archive after the slot move: %+v", st.Continuous)
		}
		return nil
	})
	rc := &v1alpha1.RedisCluster{}
	if err := testEnv.c.Get(ctx, key, rc); err != nil {
		t.Fatal(err)
	}
	b := &v1alpha1.RedisBackup{}
	get(t, ns, rc.Status.Backup.Continuous.Backup, b)
	for _, s := range b.Status.Shards {
		if s.Shard == 1 && !strings.Contains(strings.Join(s.Slots, " "), strconv.Itoa(slot)) {
			t.Errorf("the new backup's shard 1 has slots %v, without slot %d", s.Slots, slot)
		}
	}
}
