package controllers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/backup"
	"github.com/shoal-dev/shoal/controllers/backup/sealed"
	"github.com/shoal-dev/shoal/controllers/nodeadmin"
	"github.com/shoal-dev/shoal/node/persistence"
)

// Events of a restore.
const (
	eventRestoreShardLoaded = "RestoreShardLoaded"
	// eventRestoreShardReplayed: a shard's archived stream was replayed
	// up to the point in time.
	eventRestoreShardReplayed = "RestoreShardReplayed"
	eventRestoreCompleted     = "RestoreCompleted"
	eventRestoreRefused       = "RestoreRefused"
)

// ensureFromBackup carries out spec.bootstrap.fromBackup on the formed,
// converged cluster, one shard object per reconcile: the object's SHA-256
// is checked against the manifest first (a corrupt or truncated object is
// refused before any of its keys is loaded), then its snapshot is read
// and every key is restored, with its absolute expiry, on the master of
// its slot. Keys go where the new cluster's slot map puts them, so a
// backup of N masters loads into any number of masters without a slot
// move. Until the last shard is loaded the cluster is not Ready (clients
// can connect to an empty or partial cluster; Ready says when to).
// Progress (shards loaded) lives in status.fromBackup; a shard
// interrupted by an operator restart is loaded again (RESTORE REPLACE).
func (r *RedisClusterReconciler) ensureFromBackup(ctx context.Context, st *state) (ctrl.Result, error) {
	spec := restoreSpec(st.desired)
	if spec == nil {
		st.rc.Status.FromBackup = nil
		return ctrl.Result{}, nil
	}
	if st.rc.Status.FromBackup == nil {
		st.rc.Status.FromBackup = &v1alpha1.RestoreStatus{Phase: v1alpha1.RestoreWaiting}
	}
	status := st.rc.Status.FromBackup
	switch status.Phase {
	case v1alpha1.RestoreCompleted:
		return ctrl.Result{}, releasePVCStores(ctx, r.Client, st.rc.Namespace, st.rc.UID)
	case v1alpha1.RestoreFailed:
		// Not Ready, ever: the cluster holds none or part of the backup.
		// Delete it and restore from another backup.
		st.degrade(v1alpha1.ReasonRestoreRefused, "the backup was refused: "+status.Message)
		st.halt = true
		return ctrl.Result{}, releasePVCStores(ctx, r.Client, st.rc.Namespace, st.rc.UID)
	}
	waiting := func(msg string) (ctrl.Result, error) {
		status.Message = msg
		st.rc.SetCondition(v1alpha1.ConditionRestored, metav1.ConditionFalse, v1alpha1.ReasonRestoreWaiting, msg)
		st.progress(v1alpha1.ReasonRestoreWaiting, "restore from a backup: "+msg)
		st.halt = true
		return ctrl.Result{RequeueAfter: backupWaitRequeue}, nil
	}
	refuse := func(msg string) (ctrl.Result, error) {
		now := metav1.Now()
		status.Phase, status.Message, status.CompletionTime = v1alpha1.RestoreFailed, msg, &now
		st.rc.SetCondition(v1alpha1.ConditionRestored, metav1.ConditionFalse, v1alpha1.ReasonRestoreRefused, msg)
		st.degrade(v1alpha1.ReasonRestoreRefused, "the backup was refused: "+msg)
		r.Recorder.Event(st.rc, corev1.EventTypeWarning, eventRestoreRefused, msg)
		st.halt = true
		return releaseAfterRestore(ctx, r.Client, st.rc), nil
	}

	run := &importRun{r: r, st: st}
	defer run.close()
	stores := r.Stores.opener(r.Client, r.APIReader, st.rc, "RedisCluster")
	step, err := restoreNext(ctx, r.Client, r.APIReader, stores, st.rc.Namespace, backup.KindCluster, spec, status, run.importTarget,
		func() error { return r.writeStatusNow(ctx, st) })
	switch {
	case err != nil:
		return ctrl.Result{}, err
	case step.refused != "":
		return refuse(step.refused)
	case step.waiting != "":
		return waiting(step.waiting)
	}
	if step.shard != nil {
		r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, eventRestoreShardLoaded, "Shard %d of the backup loaded (%d keys)", step.shard.Shard, step.keys)
	}
	if rs := step.replayed; rs != nil {
		r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, eventRestoreShardReplayed, "Shard %d's archive replayed from offset %d to %d (%d commands)", rs.Shard, rs.FromOffset, rs.Offset, rs.Commands)
	}
	if status.Phase == v1alpha1.RestoreCompleted {
		restoreDone(r.Recorder, st.rc, status)
		return releaseAfterRestore(ctx, r.Client, st.rc), nil
	}
	msg := fmt.Sprintf("%d of %d shards loaded, %d keys", status.ShardsLoaded, status.Shards, status.KeysLoaded)
	if status.PointInTime != nil {
		msg += fmt.Sprintf("; %d of %d shards' archives replayed to %s", len(status.Replayed), status.Shards, status.PointInTime.UTC().Format(time.RFC3339Nano))
	}
	st.rc.SetCondition(v1alpha1.ConditionRestored, metav1.ConditionFalse, v1alpha1.ReasonRestoreLoading, msg)
	st.progress(v1alpha1.ReasonRestoreLoading, "restoring from a backup: "+msg)
	st.halt = true
	return ctrl.Result{RequeueAfter: importRequeue}, nil
}

// restoreStep is the outcome of one step of a restore: the shard loaded
// (and its keys), or why the restore waits (tried again) or is refused
// (for good). status.Phase is RestoreCompleted once every shard is in.
type restoreStep struct {
	shard            *backup.ManifestShard
	keys             int64
	replayed         *v1alpha1.ReplayedShardStatus
	waiting, refused string
}

// restoreNext carries out one step of spec (spec.bootstrap.fromBackup)
// into a resource of kind (backup.KindCluster or backup.KindReplication)
// in namespace ns, recording progress in status: the manifest is read and
// checked (its kind, its key), then the next shard's object is verified
// against its SHA-256 (a corrupt or truncated object, or one sealed with
// another key, is refused before any of its keys is loaded) and loaded
// into the target open returns. With spec.pointInTime, each shard's
// archive is replayed next (recordNow writes the status at once).
func restoreNext(ctx context.Context, c, secrets client.Reader, stores storeOpener, ns, kind string, spec *v1alpha1.FromBackupSpec, status *v1alpha1.RestoreStatus,
	open func() (*nodeadmin.ImportTarget, error), recordNow func() error) (restoreStep, error) {
	opened, folder, enc, problem, err := backupLocation(ctx, c, stores, ns, spec)
	if err != nil || problem != "" {
		return restoreStep{waiting: problem}, err
	}
	encKey, problem, err := readBackupKey(ctx, secrets, ns, enc)
	if err != nil || problem != "" {
		return restoreStep{waiting: problem}, err
	}
	store := opened.objects
	status.Location = opened.root + folder
	m, err := readManifest(ctx, store, folder)
	if errors.Is(err, backup.ErrNotFound) {
		return restoreStep{refused: fmt.Sprintf("%s has no %s: not a completed backup", status.Location, backup.ManifestName)}, nil
	}
	var bad *badManifestError
	if errors.As(err, &bad) {
		return restoreStep{refused: err.Error()}, nil
	}
	if err != nil {
		return restoreStep{waiting: err.Error()}, nil
	}
	if err := m.CheckKind(kind); err != nil {
		return restoreStep{refused: err.Error() + "; nothing was loaded"}, nil
	}
	if err := m.CheckKey(encKey); err != nil {
		return restoreStep{refused: err.Error() + "; nothing was loaded"}, nil
	}
	pit := spec.PointInTime
	if status.Phase == v1alpha1.RestoreWaiting {
		if pit != nil {
			if refused, waiting := checkPointInTime(ctx, store, folder, m, pit); refused != "" || waiting != "" {
				return restoreStep{refused: refused, waiting: waiting}, nil
			}
			status.PointInTime = pit.Time.DeepCopy() // nil for offsets
		}
		now := metav1.Now()
		status.Phase, status.StartTime, status.Shards = v1alpha1.RestoreLoading, &now, int32(len(m.Shards))
	}
	i := int(status.ShardsLoaded)
	if i >= len(m.Shards) && pit != nil {
		return replayNext(ctx, store, folder, m, pit, status, open, recordNow)
	}
	if i >= len(m.Shards) {
		status.Phase = v1alpha1.RestoreCompleted
		return restoreStep{}, nil
	}
	shard := m.Shards[i]
	key := folder + shard.Object
	format := backup.Format{Compression: m.Compression}
	if m.Encryption != "" {
		format.Key = encKey
	}
	if err := backup.VerifyObject(ctx, store, key, format, shard.Size, shard.SHA256); err != nil {
		if errors.Is(err, backup.ErrChecksum) || errors.Is(err, backup.ErrNotFound) || errors.Is(err, sealed.ErrCorrupt) || errors.Is(err, sealed.ErrWrongKey) {
			return restoreStep{refused: fmt.Sprintf("shard %d: %v; nothing of it was loaded", shard.Shard, err)}, nil
		}
		return restoreStep{waiting: err.Error()}, nil
	}
	target, err := open()
	if err != nil {
		return restoreStep{waiting: err.Error()}, nil
	}
	loaded, err := backup.LoadShard(ctx, store, key, format, shard, kind == backup.KindReplication, target)
	if err != nil {
		var le *persistence.LoadError
		var te *backup.TargetError
		if !errors.As(err, &te) && (errors.Is(err, backup.ErrChecksum) || errors.As(err, &le) || errors.Is(err, sealed.ErrCorrupt) || errors.Is(err, sealed.ErrWrongKey)) {
			return restoreStep{refused: fmt.Sprintf("shard %d: %v", shard.Shard, err)}, nil
		}
		return restoreStep{waiting: fmt.Sprintf("shard %d: %v", shard.Shard, err)}, nil
	}
	status.ShardsLoaded++
	status.KeysLoaded += loaded
	status.Message = ""
	if int(status.ShardsLoaded) == len(m.Shards) && pit == nil {
		status.Phase = v1alpha1.RestoreCompleted
	}
	return restoreStep{shard: &shard, keys: loaded}, nil
}

// restoreDone records a completed restore on obj (a RedisCluster or a
// RedisReplication).
func restoreDone(rec record.EventRecorder, obj restoredObject, status *v1alpha1.RestoreStatus) {
	now := metav1.Now()
	status.Phase, status.CompletionTime, status.Message = v1alpha1.RestoreCompleted, &now, ""
	msg := fmt.Sprintf("%d shards, %d keys loaded from %s", status.Shards, status.KeysLoaded, status.Location)
	if status.PointInTime != nil {
		msg += ", archives replayed to " + status.PointInTime.UTC().Format(time.RFC3339Nano)
	}
	obj.SetCondition(v1alpha1.ConditionRestored, metav1.ConditionTrue, v1alpha1.ReasonRestoreCompleted, msg)
	rec.Event(obj, corev1.EventTypeNormal, eventRestoreCompleted, "Restore completed: "+msg)
}

// releaseAfterRestore releases the PVC stores obj used, once its restore
// is over (Completed or refused); a failure is tried again soon, as the
// restore's status is written anyway.
func releaseAfterRestore(ctx context.Context, c client.Client, obj client.Object) ctrl.Result {
	if err := releasePVCStores(ctx, c, obj.GetNamespace(), obj.GetUID()); err != nil {
		ctrl.LoggerFrom(ctx).Info("releasing the backup store failed, trying again", "error", err.Error())
		return ctrl.Result{RequeueAfter: backupWaitRequeue}
	}
	return ctrl.Result{}
}

// restoredObject is a kind with spec.bootstrap.fromBackup.
type restoredObject interface {
	runtime.Object
	SetCondition(t v1alpha1.ConditionType, status metav1.ConditionStatus, reason v1alpha1.ConditionReason, message string) bool
}

// restoreSpec is spec.bootstrap.fromBackup, nil when unset.
func restoreSpec(rc *v1alpha1.RedisCluster) *v1alpha1.FromBackupSpec {
	if rc.Spec.Bootstrap == nil {
		return nil
	}
	return rc.Spec.Bootstrap.FromBackup
}

// backupLocation is the store and folder of the backup to load, and its
// encryption key's Secret (spec's, else the RedisBackup's; nil: none).
// The RedisBackup is read with c, the store opened with stores.
func backupLocation(ctx context.Context, c client.Reader, stores storeOpener, ns string, spec *v1alpha1.FromBackupSpec) (*openedStore, string, *v1alpha1.BackupEncryption, string, error) {
	dest := v1alpha1.BackupDestination{S3: spec.S3, PVC: spec.PVC}
	folder, enc := strings.TrimSuffix(spec.Path, "/")+"/", spec.Encryption
	if spec.BackupName != "" {
		b := &v1alpha1.RedisBackup{}
		err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: spec.BackupName}, b)
		if apierrors.IsNotFound(err) {
			return nil, "", nil, fmt.Sprintf("RedisBackup %s not found", spec.BackupName), nil
		}
		if err != nil {
			return nil, "", nil, "", err
		}
		if b.Status.Phase != v1alpha1.BackupCompleted {
			return nil, "", nil, fmt.Sprintf("RedisBackup %s is %s, not Completed", spec.BackupName, b.Status.Phase), nil
		}
		dest = b.Spec.Destination
		folder = strings.TrimSuffix(b.Status.Manifest, backup.ManifestName)
		if enc == nil {
			enc = b.Spec.Encryption
		}
	}
	store, _, problem, err := stores(ctx, dest.S3, dest.PVC)
	return store, folder, enc, problem, err
}

// badManifestError: the manifest is there but cannot be used.
type badManifestError struct{ err error }

func (e *badManifestError) Error() string { return e.err.Error() }

func readManifest(ctx context.Context, s backup.Objects, folder string) (*backup.Manifest, error) {
	rd, err := s.Get(ctx, folder+backup.ManifestName)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	b, err := io.ReadAll(io.LimitReader(rd, 16<<20))
	if err != nil {
		return nil, err
	}
	m, err := backup.ParseManifest(b)
	if err != nil {
		return nil, &badManifestError{err}
	}
	return m, nil
}
