package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

// TestReplicationBackupAdmission checks the CEL rules of the fields that
// back up and restore a RedisReplication, in the real API server: a
// RedisBackup names exactly one of cluster and replication, and neither
// changes (nor does one turn into the other); spec.bootstrap of a
// RedisReplication is set at creation only and cannot change; its
// fromBackup takes the same rules as a RedisCluster's; spec.backup takes
// the schedule's. A backup of a replication that does not exist waits
// (WaitingForReplication).
func TestReplicationBackupAdmission(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	dest := v1alpha1.BackupDestination{S3: &v1alpha1.S3Destination{Endpoint: "s3.local:9000", Bucket: "backups",
		CredentialsSecret: v1alpha1.S3Credentials{Name: "s3"}}}
	refused := func(t *testing.T, err error, want string) {
		t.Helper()
		if err == nil || !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v; want Invalid with %q", err, want)
		}
	}

	for name, spec := range map[string]v1alpha1.RedisBackupSpec{
		"neither": {Destination: dest},
		"both":    {Cluster: "c", Replication: "r", Destination: dest},
	} {
		b := &v1alpha1.RedisBackup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
		refused(t, testEnv.c.Create(ctx, b), "a RedisBackup names exactly one of cluster and replication")
	}
	// A RedisCluster's backup is accepted as it always was.
	cb := &v1alpha1.RedisBackup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "of-cluster"},
		Spec: v1alpha1.RedisBackupSpec{Cluster: "c", Destination: dest}}
	if err := testEnv.c.Create(ctx, cb); err != nil {
		t.Fatalf("a RedisCluster's backup refused: %v", err)
	}
	rb := &v1alpha1.RedisBackup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "of-replication"},
		Spec: v1alpha1.RedisBackupSpec{Replication: "r", Destination: dest}}
	if err := testEnv.c.Create(ctx, rb); err != nil {
		t.Fatalf("a RedisReplication's backup refused: %v", err)
	}
	// The backup of a replication that does not exist waits for it.
	waitBackup(t, client.ObjectKeyFromObject(rb), func(b *v1alpha1.RedisBackup) error {
		c := findCondition(b.Status.Conditions, v1alpha1.ConditionBackupCompleted)
		if b.Status.Phase != v1alpha1.BackupPending || c == nil || c.Reason != string(v1alpha1.ReasonBackupWaitingForReplication) || c.Message != "RedisReplication r not found" {
			return fmt.Errorf("phase %s, condition %+v; want Pending, WaitingForReplication", b.Status.Phase, c)
		}
		return nil
	})
	// update tries again on a conflict with the backup controller's
	// status writes.
	update := func(b *v1alpha1.RedisBackup, change func(*v1alpha1.RedisBackup)) error {
		for {
			cur := &v1alpha1.RedisBackup{}
			if err := testEnv.c.Get(ctx, client.ObjectKeyFromObject(b), cur); err != nil {
				t.Fatal(err)
			}
			change(cur)
			if err := testEnv.c.Update(ctx, cur); !apierrors.IsConflict(err) {
				return err
			}
		}
	}
	refused(t, update(rb, func(b *v1alpha1.RedisBackup) { b.Spec.Replication = "other" }), "replication is immutable")
	refused(t, update(rb, func(b *v1alpha1.RedisBackup) { b.Spec.Replication, b.Spec.Cluster = "", "r" }), "cluster and replication are immutable")
	refused(t, update(cb, func(b *v1alpha1.RedisBackup) { b.Spec.Replication, b.Spec.Cluster = "c", "" }), "cluster and replication are immutable")

	from := func(f v1alpha1.FromBackupSpec) *v1alpha1.ReplicationBootstrapSpec {
		return &v1alpha1.ReplicationBootstrapSpec{FromBackup: &f}
	}
	for name, tc := range map[string]struct {
		change func(*v1alpha1.RedisReplication)
		want   string
	}{
		"fromBackup with both sources": {func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Bootstrap = from(v1alpha1.FromBackupSpec{BackupName: "b", S3: dest.S3, Path: "x"})
		}, "fromBackup needs exactly one of backupName, s3 and pvc"},
		"fromBackup with s3 and pvc": {func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Bootstrap = from(v1alpha1.FromBackupSpec{S3: dest.S3, PVC: &v1alpha1.PVCDestination{ClaimName: "c"}, Path: "x"})
		}, "fromBackup needs exactly one of backupName, s3 and pvc"},
		"fromBackup pvc without a path": {func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Bootstrap = from(v1alpha1.FromBackupSpec{PVC: &v1alpha1.PVCDestination{ClaimName: "c"}})
		}, "fromBackup.path goes with fromBackup.s3 or fromBackup.pvc"},
		"fromBackup pvc with a subPath": {func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Bootstrap = from(v1alpha1.FromBackupSpec{PVC: &v1alpha1.PVCDestination{ClaimName: "c", SubPath: "a"}, Path: "x"})
		}, "fromBackup.pvc takes no subPath"},
		"schedule destination with s3 and pvc": {func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Backup = &v1alpha1.ScheduledBackupSpec{Schedule: "@daily",
				Destination: v1alpha1.BackupDestination{S3: dest.S3, PVC: &v1alpha1.PVCDestination{ClaimName: "c"}}}
		}, "a destination is exactly one of s3 and pvc"},
		"schedule destination with neither": {func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Backup = &v1alpha1.ScheduledBackupSpec{Schedule: "@daily"}
		}, "a destination is exactly one of s3 and pvc"},
		"schedule pvc subPath leaving the volume": {func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Backup = &v1alpha1.ScheduledBackupSpec{Schedule: "@daily",
				Destination: v1alpha1.BackupDestination{PVC: &v1alpha1.PVCDestination{ClaimName: "c", SubPath: "a/../.."}}}
		}, "spec.backup.destination.pvc.subPath in body should match"},
		"schedule pvc claim name too long for the store's Service": {func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Backup = &v1alpha1.ScheduledBackupSpec{Schedule: "@daily",
				Destination: v1alpha1.BackupDestination{PVC: &v1alpha1.PVCDestination{ClaimName: strings.Repeat("c", 52)}}}
		}, "spec.backup.destination.pvc.claimName: Too long"},
		"fromBackup s3 without a path": {func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Bootstrap = from(v1alpha1.FromBackupSpec{S3: dest.S3})
		}, "fromBackup.path goes with fromBackup.s3 or fromBackup.pvc"},
		"schedule retention 0": {func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Backup = &v1alpha1.ScheduledBackupSpec{Schedule: "@daily", Destination: dest, Retention: v1alpha1.BackupRetention{Count: -1}}
		}, "spec.backup.retention.count in body should be greater than or equal to 1"},
		"continuous backup": {func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Backup = &v1alpha1.ScheduledBackupSpec{Schedule: "@daily", Destination: dest, Continuous: &v1alpha1.ContinuousBackupSpec{}}
		}, "backup.continuous (point-in-time recovery) is for RedisClusters only"},
		"fromBackup to a point in time": {func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Bootstrap = from(v1alpha1.FromBackupSpec{BackupName: "b", PointInTime: &v1alpha1.PointInTimeSpec{Time: ptr.To(metav1.NowMicro())}})
		}, "fromBackup.pointInTime is for RedisClusters only"},
		"schedule compression unknown": {func(rr *v1alpha1.RedisReplication) {
			rr.Spec.Backup = &v1alpha1.ScheduledBackupSpec{Schedule: "@daily", Destination: dest, Compression: "Lz4"}
		}, `spec.backup.compression: Unsupported value: "Lz4"`},
	} {
		t.Run(name, func(t *testing.T) {
			rr := &v1alpha1.RedisReplication{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bad"}}
			tc.change(rr)
			err := testEnv.c.Create(ctx, rr)
			if err == nil {
				_ = testEnv.c.Delete(ctx, rr)
			}
			refused(t, err, tc.want)
		})
	}

	plain := &v1alpha1.RedisReplication{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "plain"}}
	if err := testEnv.c.Create(ctx, plain); err != nil {
		t.Fatal(err)
	}
	refused(t, updateReplication(t, plain, func(rr *v1alpha1.RedisReplication) {
		rr.Spec.Bootstrap = from(v1alpha1.FromBackupSpec{BackupName: "b"})
	}), "spec.bootstrap is set at creation only")
	// spec.backup may be added later.
	if err := updateReplication(t, plain, func(rr *v1alpha1.RedisReplication) {
		rr.Spec.Backup = &v1alpha1.ScheduledBackupSpec{Schedule: "@daily", Destination: dest}
	}); err != nil {
		t.Fatalf("spec.backup added: %v", err)
	}

	restored := &v1alpha1.RedisReplication{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "restored"},
		Spec: v1alpha1.RedisReplicationSpec{Bootstrap: from(v1alpha1.FromBackupSpec{BackupName: "b"})}}
	if err := testEnv.c.Create(ctx, restored); err != nil {
		t.Fatalf("fromBackup refused: %v", err)
	}
	refused(t, updateReplication(t, restored, func(rr *v1alpha1.RedisReplication) {
		rr.Spec.Bootstrap.FromBackup.BackupName = "other"
	}), "bootstrap is immutable")
	// It may be removed once restored.
	if err := updateReplication(t, restored, func(rr *v1alpha1.RedisReplication) { rr.Spec.Bootstrap = nil }); err != nil {
		t.Fatalf("spec.bootstrap removed: %v", err)
	}
}
