package controllers

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/backup"
)

// TestContinuousBackupAdmission: spec.backup.continuous.uploadInterval
// defaults to 1s and is bounded to 100ms..5m by the API server, and needs
// an S3 destination (the archivers write segments there);
// fromBackup.pointInTime is accepted on a RedisCluster.
func TestContinuousBackupAdmission(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	dest := v1alpha1.BackupDestination{S3: &v1alpha1.S3Destination{Endpoint: "s3.local:9000", Bucket: "backups",
		CredentialsSecret: v1alpha1.S3Credentials{Name: "s3"}}}
	withInterval := func(name string, d *time.Duration) *v1alpha1.RedisCluster {
		return newCluster(ns, name, func(rc *v1alpha1.RedisCluster) {
			rc.Annotations = map[string]string{v1alpha1.PausedAnnotation: "true"}
			c := &v1alpha1.ContinuousBackupSpec{}
			if d != nil {
				c.UploadInterval = &metav1.Duration{Duration: *d}
			}
			rc.Spec.Backup = &v1alpha1.ScheduledBackupSpec{Schedule: "@daily", Destination: dest, Continuous: c}
		})
	}
	for _, d := range []time.Duration{50 * time.Millisecond, 6 * time.Minute} {
		err := testEnv.c.Create(ctx, withInterval("bad", &d))
		if err == nil || !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "uploadInterval must be between 100ms and 5m") {
			t.Errorf("uploadInterval %s: %v", d, err)
		}
	}
	onPVC := newCluster(ns, "onpvc", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Backup = &v1alpha1.ScheduledBackupSpec{Schedule: "@daily", Continuous: &v1alpha1.ContinuousBackupSpec{},
			Destination: v1alpha1.BackupDestination{PVC: &v1alpha1.PVCDestination{ClaimName: "backups"}}}
	})
	if err := testEnv.c.Create(ctx, onPVC); err == nil || !strings.Contains(err.Error(), "continuous archiving needs an s3 destination") {
		t.Errorf("continuous to a PVC: %v", err)
	}
	rc := withInterval("default", nil)
	create(t, rc)
	if got := rc.Spec.Backup.Continuous.UploadInterval; got == nil || got.Duration != time.Second {
		t.Errorf("default uploadInterval %s, want 1s", got)
	}
	pit := newCluster(ns, "pit", func(rc *v1alpha1.RedisCluster) {
		rc.Annotations = map[string]string{v1alpha1.PausedAnnotation: "true"}
		rc.Spec.Bootstrap = &v1alpha1.BootstrapSpec{FromBackup: &v1alpha1.FromBackupSpec{BackupName: "b",
			PointInTime: &v1alpha1.PointInTimeSpec{Time: ptr.To(metav1.NewMicroTime(time.Date(2026, 12, 6, 14, 30, 0, 250000000, time.UTC)))}}}
	})
	both := newCluster(ns, "both", func(rc *v1alpha1.RedisCluster) {
		rc.Spec.Bootstrap = &v1alpha1.BootstrapSpec{FromBackup: &v1alpha1.FromBackupSpec{BackupName: "b",
			PointInTime: &v1alpha1.PointInTimeSpec{Time: ptr.To(metav1.NowMicro()), Offsets: []v1alpha1.ShardOffset{{Shard: 0, Offset: 5}}}}}
	})
	if err := testEnv.c.Create(ctx, both); err == nil || !strings.Contains(err.Error(), "pointInTime takes exactly one of time and offsets") {
		t.Errorf("a time and offsets: %v", err)
	}
	byOffsets := newCluster(ns, "offsets", func(rc *v1alpha1.RedisCluster) {
		rc.Annotations = map[string]string{v1alpha1.PausedAnnotation: "true"}
		rc.Spec.Bootstrap = &v1alpha1.BootstrapSpec{FromBackup: &v1alpha1.FromBackupSpec{BackupName: "b",
			PointInTime: &v1alpha1.PointInTimeSpec{Offsets: []v1alpha1.ShardOffset{{Shard: 0, Offset: 5}, {Shard: 1, Offset: 9}}}}}
	})
	create(t, byOffsets)
	create(t, pit)
	if got := pit.Spec.Bootstrap.FromBackup.PointInTime.Time; !got.Time.Equal(time.Date(2026, 12, 6, 14, 30, 0, 250000000, time.UTC)) {
		t.Errorf("pointInTime stored as %s", got)
	}
}

// TestInterruptedReplayIsRefused: a shard recorded as being replayed but
// not replayed (an operator restart in the middle, a lost status write)
// refuses the restore instead of applying its commands twice; nothing is
// read or written.
func TestInterruptedReplayIsRefused(t *testing.T) {
	zero := int32(0)
	m := &backup.Manifest{Shards: []backup.ManifestShard{{Shard: 0}, {Shard: 1}}}
	status := &v1alpha1.RestoreStatus{Phase: v1alpha1.RestoreLoading, ReplayingShard: &zero}
	step, err := replayNext(context.Background(), nil, "f/", m, &v1alpha1.PointInTimeSpec{Time: ptr.To(metav1.NowMicro())}, status, nil, nil)
	if err != nil || !strings.Contains(step.refused, "the replay of shard 0's archive was interrupted") {
		t.Errorf("step %+v, %v", step, err)
	}
}

// TestArchiveStatusProgressOnly: offsets, times and segment counts are
// progress (written at most every archiveStatusRefresh); a message, a
// condition or another backup is not.
func TestArchiveStatusProgressOnly(t *testing.T) {
	now := metav1.NowMicro()
	a := &v1alpha1.ContinuousBackupStatus{Backup: "b1", Shards: []v1alpha1.ArchivedShardStatus{{Shard: 0, Offset: 10, Time: &now}}}
	b := a.DeepCopy()
	b.Shards[0].Offset, b.Shards[0].Segments, b.RestorableUntil = 99, 3, &now
	if !progressOnly(a, b) {
		t.Error("offsets and times are progress")
	}
	b.Shards[0].Message = "shard 0: gap"
	if progressOnly(a, b) {
		t.Error("a message is not progress")
	}
	c := a.DeepCopy()
	c.Backup = "b2"
	if progressOnly(a, c) {
		t.Error("another backup is not progress")
	}
}
