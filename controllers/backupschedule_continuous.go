package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/backup"
)

// continuousRequeue is how often the archive's status is refreshed and
// the shards' masters looked up again (a failover is followed within it).
const continuousRequeue = 5 * time.Second

// ensureContinuous carries out spec.backup.continuous of a RedisCluster:
// the shards' streams are archived after the newest completed backup
// (one is taken now when there is none), and a new backup is taken when
// the archive cannot go on from the last (a gap) or the slot map is no
// longer the backup's (a point in time after a slot move is restored from
// a backup taken after it). It writes status.backup and returns when to
// look again (0: not archiving).
func (r *BackupScheduleReconciler) ensureContinuous(ctx context.Context, owner client.Object, spec *v1alpha1.ScheduledBackupSpec, items []v1alpha1.RedisBackup, now time.Time) (time.Duration, error) {
	rc, ok := owner.(*v1alpha1.RedisCluster)
	if !ok || r.Archives == nil {
		return 0, nil
	}
	key := client.ObjectKeyFromObject(rc)
	if spec.Continuous == nil {
		r.Archives.Stop(key)
		return 0, r.patchArchiveStatus(ctx, rc, nil)
	}
	st := &v1alpha1.ContinuousBackupStatus{}
	if prev := rc.Status.Backup; prev != nil && prev.Continuous != nil {
		// A copy: the patch is computed against rc as read.
		st.Conditions = slices.Clone(prev.Continuous.Conditions)
	}
	base, busy := newestCompletedBackup(items)
	newBase := func(why string) error {
		st.SetCondition(rc.Generation, v1alpha1.ConditionContinuousBackup, metav1.ConditionFalse, v1alpha1.ReasonArchiveWaitingForBackup, why)
		if busy {
			return nil
		}
		return r.createScheduled(ctx, owner, spec, now)
	}
	if base == nil {
		r.Archives.Stop(key)
		if err := newBase("no completed backup yet: the archive starts after the first"); err != nil {
			return 0, err
		}
		return continuousRequeue, r.patchArchiveStatus(ctx, rc, st)
	}
	st.Backup = base.Name
	want, why, err := r.archiveWant(ctx, rc, base, spec.Continuous.Interval())
	if err != nil {
		return 0, err
	}
	if want == nil {
		st.SetCondition(rc.Generation, v1alpha1.ConditionContinuousBackup, metav1.ConditionFalse, v1alpha1.ReasonArchiveWaitingForBackup, why)
		return continuousRequeue, r.patchArchiveStatus(ctx, rc, st)
	}
	progress, running := r.Archives.Ensure(key, want.archiveWant)
	if !running {
		return continuousRequeue, nil
	}
	var gaps []string
	for i, p := range progress {
		s := v1alpha1.ArchivedShardStatus{Shard: int32(want.shards[i].Shard), ReplicationID: p.ReplID, Offset: p.Offset,
			Segments: p.Segments, Message: p.LastError}
		if !p.Time.IsZero() {
			t := metav1.NewMicroTime(p.Time)
			s.Time = &t
			if st.RestorableUntil == nil || p.Time.Before(st.RestorableUntil.Time) {
				st.RestorableUntil = &t
			}
		}
		if p.Gap != "" {
			s.Message = p.Gap
			gaps = append(gaps, p.Gap)
		}
		st.Shards = append(st.Shards, s)
	}
	for _, s := range st.Shards {
		if s.Time == nil {
			st.RestorableUntil = nil
		}
	}
	switch {
	case len(gaps) > 0:
		if err := newBase("a new backup is taken: " + strings.Join(gaps, "; ")); err != nil {
			return 0, err
		}
		st.SetCondition(rc.Generation, v1alpha1.ConditionContinuousBackup, metav1.ConditionFalse, v1alpha1.ReasonArchiveGap, strings.Join(gaps, "; "))
	case want.slotsChanged != "":
		if err := newBase(fmt.Sprintf("the slot map changed since backup %s (%s): a new backup is taken, points in time after the change are restored from it", base.Name, want.slotsChanged)); err != nil {
			return 0, err
		}
	default:
		msg := fmt.Sprintf("%d shards archived after backup %s", len(st.Shards), base.Name)
		if st.RestorableUntil != nil {
			msg += ", restorable until " + st.RestorableUntil.UTC().Format(time.RFC3339)
		}
		st.SetCondition(rc.Generation, v1alpha1.ConditionContinuousBackup, metav1.ConditionTrue, v1alpha1.ReasonArchiving, msg)
	}
	return continuousRequeue, r.patchArchiveStatus(ctx, rc, st)
}

// newestCompletedBackup is the completed backup of items that completed
// last (nil: none), and whether one is still to be taken or running.
func newestCompletedBackup(items []v1alpha1.RedisBackup) (base *v1alpha1.RedisBackup, busy bool) {
	for i := range items {
		b := &items[i]
		switch b.Status.Phase {
		case v1alpha1.BackupCompleted:
			if b.Status.Manifest != "" && b.Status.CompletionTime != nil && (base == nil || b.Status.CompletionTime.After(base.Status.CompletionTime.Time)) {
				base = b
			}
		case v1alpha1.BackupFailed:
		default:
			busy = true
		}
	}
	return base, busy
}

// continuousWant is what the archive of a backup needs, and how the
// cluster differs from the backup (slotsChanged, "" when it does not).
type continuousWant struct {
	archiveWant
	slotsChanged string
}

// archiveWant reads the base backup's manifest and the cluster's masters
// now. A nil want comes with why the archive cannot run yet.
func (r *BackupScheduleReconciler) archiveWant(ctx context.Context, rc *v1alpha1.RedisCluster, base *v1alpha1.RedisBackup, interval time.Duration) (*continuousWant, string, error) {
	if base.Spec.Destination.S3 == nil {
		return nil, fmt.Sprintf("backup %s is on a PVC: continuous archiving needs an S3 destination", base.Name), nil
	}
	store, problem, err := openStore(ctx, r.APIReader, base.Namespace, base.Spec.Destination.S3)
	if err != nil || problem != "" {
		return nil, problem, err
	}
	folder := strings.TrimSuffix(base.Status.Manifest, backup.ManifestName)
	m, err := readManifest(ctx, store, folder)
	var bad *badManifestError
	if errors.Is(err, backup.ErrNotFound) || errors.As(err, &bad) {
		return nil, fmt.Sprintf("backup %s: %v", base.Name, err), nil
	}
	if err != nil {
		return nil, err.Error(), nil
	}
	if m.Encryption != "" {
		return nil, fmt.Sprintf("backup %s is encrypted: continuous archiving of encrypted backups is not supported yet", base.Name), nil
	}
	access, problem, err := readClusterAccess(ctx, r.APIReader, rc)
	if err != nil || problem != "" {
		return nil, problem, err
	}
	dial := r.Dial
	if access.tls != nil && r.DialTLS != nil {
		dial = r.DialTLS(access.tls)
	}
	members, err := observeMembers(ctx, r.Client, rc, dial, access.admin)
	if err != nil {
		return nil, "", err
	}
	w := &continuousWant{archiveWant: archiveWant{backup: base.Name, interval: interval, store: store, folder: folder, shards: m.Shards,
		conn: backup.Options{Username: access.replication.Username, Password: access.replication.Password, TLS: access.tls, Timeout: backupStreamTimeout}}}
	// While slots move, the masters are not looked up again: the
	// archivers keep their last ones.
	if sources, why := backup.ChooseSources(members, false); why == "" {
		w.masters, w.slotsChanged = backup.ArchiveMasters(m.Shards, sources)
	}
	return w, "", nil
}

// archiveStatusRefresh is how often the archive's progress alone
// (offsets, times) is written: each write of the status makes the
// RedisCluster reconciler's own status write of the moment conflict.
const archiveStatusRefresh = 30 * time.Second

// patchArchiveStatus writes status.backup.continuous (nil: none) when it
// changed: at once for a change of backup, condition or message, at most
// every archiveStatusRefresh for progress alone. It is the only writer of
// status.backup.
func (r *BackupScheduleReconciler) patchArchiveStatus(ctx context.Context, rc *v1alpha1.RedisCluster, st *v1alpha1.ContinuousBackupStatus) error {
	var next *v1alpha1.ClusterBackupStatus
	if st != nil {
		next = &v1alpha1.ClusterBackupStatus{Continuous: st}
	}
	if equalJSON(rc.Status.Backup, next) {
		return nil
	}
	if prev := rc.Status.Backup; prev != nil && st != nil && prev.Continuous != nil && prev.Continuous.RestorableUntil != nil &&
		progressOnly(prev.Continuous, st) && time.Since(prev.Continuous.RestorableUntil.Time) < archiveStatusRefresh {
		return nil
	}
	before := rc.DeepCopy()
	rc.Status.Backup = next
	return client.IgnoreNotFound(r.Status().Patch(ctx, rc, client.MergeFrom(before)))
}

// progressOnly reports whether two archive statuses differ only in
// progress: the shards' offsets, times and segment counts, and
// restorableUntil.
func progressOnly(a, b *v1alpha1.ContinuousBackupStatus) bool {
	strip := func(s *v1alpha1.ContinuousBackupStatus) *v1alpha1.ContinuousBackupStatus {
		c := s.DeepCopy()
		c.RestorableUntil = nil
		for i := range c.Shards {
			c.Shards[i].Offset, c.Shards[i].Time, c.Shards[i].Segments = 0, nil, 0
		}
		return c
	}
	return equalJSON(strip(a), strip(b))
}
