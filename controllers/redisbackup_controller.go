package controllers

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/backup"
	"github.com/shoal-dev/shoal/controllers/backup/sealed"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// +kubebuilder:rbac:groups=redis.shoal.dev,resources=redisbackups,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups=redis.shoal.dev,resources=redisbackups/status,verbs=get;update;patch

// Events of a backup.
const (
	eventBackupStarted   = "BackupStarted"
	eventBackupCompleted = "BackupCompleted"
	eventBackupFailed    = "BackupFailed"
	eventBackupWaiting   = "BackupWaiting"
)

// backupWaitRequeue is how soon a waiting backup looks again (slots that
// move, a cluster not ready); the store and node timeouts bound each
// snapshot's reads.
const (
	backupWaitRequeue   = 5 * time.Second
	backupStreamTimeout = 30 * time.Second
)

// errStaleBackup: the backup changed since the cache's copy was read.
var errStaleBackup = errors.New("stale RedisBackup")

// RedisBackupReconciler takes RedisBackups: each is taken once, Pending
// until the cluster can be backed up consistently, then Running while the
// shards' snapshots stream to the store, then Completed or Failed. A
// backup found Running (the operator restarted in the middle) is taken
// again from the start: its objects are overwritten.
type RedisBackupReconciler struct {
	client.Client
	// APIReader reads the Secrets (not cached).
	APIReader client.Reader
	Recorder  record.EventRecorder
	// Dial and DialTLS open admin clients to nodes (as the RedisCluster
	// controller's).
	Dial    clusteradmin.Dialer
	DialTLS func(*tls.Config) clusteradmin.Dialer
	// Stores opens the destinations.
	Stores BackupStores
}

// Reconcile takes one backup.
func (r *RedisBackupReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	b := &v1alpha1.RedisBackup{}
	if err := r.Get(ctx, req.NamespacedName, b); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if b.Status.Phase == v1alpha1.BackupCompleted || b.Status.Phase == v1alpha1.BackupFailed || !b.DeletionTimestamp.IsZero() {
		if b.Spec.Destination.PVC == nil {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, releasePVCStores(ctx, r.Client, b.Namespace, b.UID)
	}
	before := b.DeepCopy()
	res, err := r.take(ctx, b)
	if errors.Is(err, errStaleBackup) {
		return res, nil
	}
	if perr := r.patchBackupStatus(ctx, before, b); perr != nil && err == nil {
		err = perr
	}
	return res, err
}

// wait records why the backup waits.
func (r *RedisBackupReconciler) wait(b *v1alpha1.RedisBackup, reason v1alpha1.ConditionReason, msg string) (ctrl.Result, error) {
	b.Status.Phase = v1alpha1.BackupPending
	if b.SetCondition(v1alpha1.ConditionBackupCompleted, metav1.ConditionFalse, reason, msg) {
		r.Recorder.Event(b, corev1.EventTypeNormal, eventBackupWaiting, msg)
	}
	return ctrl.Result{RequeueAfter: backupWaitRequeue}, nil
}

// fail ends the backup.
func (r *RedisBackupReconciler) fail(b *v1alpha1.RedisBackup, msg string) {
	now := metav1.Now()
	b.Status.Phase = v1alpha1.BackupFailed
	b.Status.Reason = msg
	b.Status.CompletionTime = &now
	b.SetCondition(v1alpha1.ConditionBackupCompleted, metav1.ConditionFalse, v1alpha1.ReasonBackupFailed, msg)
	r.Recorder.Event(b, corev1.EventTypeWarning, eventBackupFailed, msg)
}

// backupTarget is what a backup reads: the nodes of its shards' snapshots
// and how to reach them.
type backupTarget struct {
	// kind and name of the resource backed up (backup.KindCluster or
	// backup.KindReplication).
	kind, name string
	sources    []backup.Source
	// auth is the user a replica authenticates as (PSYNC); tls the
	// nodes' TLS (nil: plain TCP).
	auth clusteradmin.Auth
	tls  *tls.Config
	// changed, when not nil, reports after the snapshots why they are not
	// consistent together ("" when they are).
	changed func(context.Context) (string, error)
}

// target finds the resource b names and the nodes to read, or why the
// backup must wait (reason and message).
func (r *RedisBackupReconciler) target(ctx context.Context, b *v1alpha1.RedisBackup) (*backupTarget, v1alpha1.ConditionReason, string, error) {
	if b.Spec.Replication != "" {
		return r.replicationTarget(ctx, b)
	}
	return r.clusterTarget(ctx, b)
}

// clusterTarget: every shard's master (or in-sync replica), while no slot
// moves; the slot map is checked again after the snapshots.
func (r *RedisBackupReconciler) clusterTarget(ctx context.Context, b *v1alpha1.RedisBackup) (*backupTarget, v1alpha1.ConditionReason, string, error) {
	rc := &v1alpha1.RedisCluster{}
	err := r.Get(ctx, types.NamespacedName{Namespace: b.Namespace, Name: b.Spec.Cluster}, rc)
	if apierrors.IsNotFound(err) {
		return nil, v1alpha1.ReasonBackupWaitingForCluster, fmt.Sprintf("RedisCluster %s not found", b.Spec.Cluster), nil
	}
	if err != nil {
		return nil, "", "", err
	}
	if m := rc.Status.Migration; m != nil {
		return nil, v1alpha1.ReasonBackupSlotsMoving, fmt.Sprintf("slots are moving (%s, %d of %d slots moved)", m.Reason, m.MovedSlots, m.TotalSlots), nil
	}
	access, problem, err := readClusterAccess(ctx, r.APIReader, rc)
	if err != nil || problem != "" {
		return nil, v1alpha1.ReasonBackupWaitingForCluster, problem, err
	}
	dial := r.Dial
	if access.tls != nil && r.DialTLS != nil {
		dial = r.DialTLS(access.tls)
	}
	members, err := observeMembers(ctx, r.Client, rc, dial, access.admin)
	if err != nil {
		return nil, "", "", err
	}
	sources, why := backup.ChooseSources(members, b.Spec.Source == v1alpha1.BackupFromReplica)
	if why != "" {
		reason := v1alpha1.ReasonBackupWaitingForCluster
		if strings.HasPrefix(why, "slots are moving") {
			reason = v1alpha1.ReasonBackupSlotsMoving
		}
		return nil, reason, why, nil
	}
	// The slot map must not have changed while the snapshots were taken:
	// keys moved between two shards' snapshots would be missed or doubled.
	changed := func(ctx context.Context) (string, error) {
		after, err := observeMembers(ctx, r.Client, rc, dial, access.admin)
		if err != nil {
			return "", err
		}
		now, why := backup.ChooseSources(after, false)
		if why == "" {
			why = backup.SlotMapChanged(sources, now)
		}
		if why != "" {
			why = "the cluster changed during the backup, which is not consistent: " + why
		}
		return why, nil
	}
	return &backupTarget{kind: backup.KindCluster, name: rc.Name, sources: sources, auth: access.replication, tls: access.tls, changed: changed}, "", "", nil
}

// replicationTarget: one snapshot, every database, of the master the
// RedisReplication's status names (or of an in-sync replica).
func (r *RedisBackupReconciler) replicationTarget(ctx context.Context, b *v1alpha1.RedisBackup) (*backupTarget, v1alpha1.ConditionReason, string, error) {
	const waiting = v1alpha1.ReasonBackupWaitingForReplication
	rr := &v1alpha1.RedisReplication{}
	err := r.Get(ctx, types.NamespacedName{Namespace: b.Namespace, Name: b.Spec.Replication}, rr)
	if apierrors.IsNotFound(err) {
		return nil, waiting, fmt.Sprintf("RedisReplication %s not found", b.Spec.Replication), nil
	}
	if err != nil {
		return nil, "", "", err
	}
	if rr.Status.Master == "" {
		return nil, waiting, fmt.Sprintf("RedisReplication %s has no master yet", rr.Name), nil
	}
	if rs := rr.Status.FromBackup; rs != nil && rs.Phase != v1alpha1.RestoreCompleted {
		return nil, waiting, fmt.Sprintf("RedisReplication %s is restoring from a backup (%s)", rr.Name, rs.Phase), nil
	}
	access, problem, err := readReplicationAccess(ctx, r.APIReader, rr)
	if err != nil || problem != "" {
		return nil, waiting, problem, err
	}
	links := make([]backup.ReplicaLink, 0, len(rr.Status.Replicas))
	for _, rep := range rr.Status.Replicas {
		links = append(links, backup.ReplicaLink{Pod: rep.Pod, Synced: rep.Synced, LagBytes: rep.LagBytes})
	}
	name := backup.ChooseReplicationSource(rr.Status.Master, links, b.Spec.Source == v1alpha1.BackupFromReplica)
	pod := &corev1.Pod{}
	err = r.Get(ctx, types.NamespacedName{Namespace: rr.Namespace, Name: name}, pod)
	if apierrors.IsNotFound(err) || err == nil && (pod.Status.PodIP == "" || !pod.DeletionTimestamp.IsZero()) {
		return nil, waiting, fmt.Sprintf("pod %s of RedisReplication %s is not running", name, rr.Name), nil
	}
	if err != nil {
		return nil, "", "", err
	}
	src := backup.Source{Pod: name, Addr: net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(builders.RedisPort))}
	return &backupTarget{kind: backup.KindReplication, name: rr.Name, sources: []backup.Source{src}, auth: access.replication, tls: access.tls}, "", "", nil
}

func (r *RedisBackupReconciler) take(ctx context.Context, b *v1alpha1.RedisBackup) (ctrl.Result, error) {
	target, reason, why, err := r.target(ctx, b)
	if err != nil {
		return ctrl.Result{}, err
	}
	if why != "" {
		return r.wait(b, reason, why)
	}
	dest := b.Spec.Destination
	store, reason, problem, err := r.Stores.opener(r.Client, r.APIReader, b, "RedisBackup")(ctx, dest.S3, dest.PVC)
	if err != nil {
		return ctrl.Result{}, err
	}
	if problem != "" {
		return r.wait(b, reason, problem)
	}
	encKey, problem, err := readBackupKey(ctx, r.APIReader, b.Namespace, b.Spec.Encryption)
	if err != nil {
		return ctrl.Result{}, err
	}
	if problem != "" {
		return r.wait(b, v1alpha1.ReasonBackupCredentials, problem)
	}
	sources := target.sources

	// Running is written before the snapshots start, so a watcher sees it.
	start := metav1.Now()
	folder := backup.Folder(store.prefix, b.Namespace, target.name, b.Name)
	b.Status.Phase = v1alpha1.BackupRunning
	b.Status.StartTime = &start
	b.Status.Location = store.root + folder
	b.SetCondition(v1alpha1.ConditionBackupCompleted, metav1.ConditionFalse, v1alpha1.ReasonBackupRunning,
		fmt.Sprintf("streaming the snapshots of %d shards", len(sources)))
	r.Recorder.Eventf(b, corev1.EventTypeNormal, eventBackupStarted, "Backup of %d shards to %s started", len(sources), b.Status.Location)
	running := b.DeepCopy()
	if err := r.Status().Update(ctx, running); err != nil {
		if apierrors.IsConflict(err) {
			// Read from a stale cache: observe again, write nothing.
			return ctrl.Result{RequeueAfter: conflictRequeue}, errStaleBackup
		}
		return ctrl.Result{}, err
	}
	b.ResourceVersion = running.ResourceVersion

	compression := string(b.Spec.Compression)
	if compression == "" {
		compression = backup.CompressionNone
	}
	format := backup.Format{Compression: compression, Key: encKey}
	objects, err := backup.UploadShards(ctx, store.objects, folder, format, sources, backup.Options{
		Username: target.auth.Username, Password: target.auth.Password, TLS: target.tls, Timeout: backupStreamTimeout})
	if err != nil {
		r.fail(b, err.Error())
		return ctrl.Result{}, nil
	}
	if target.changed != nil {
		why, err := target.changed(ctx)
		if err != nil {
			return ctrl.Result{}, err
		}
		if why != "" {
			r.fail(b, why)
			return ctrl.Result{}, nil
		}
	}

	done := metav1.Now()
	m := manifestOf(b, target, format, objects, start.Time, done.Time)
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return ctrl.Result{}, err
	}
	key := folder + backup.ManifestName
	if err := store.objects.Put(ctx, key, bytes.NewReader(body), int64(len(body)), "application/json"); err != nil {
		r.fail(b, err.Error())
		return ctrl.Result{}, nil
	}
	b.Status.Manifest = key
	b.Status.Shards, b.Status.Size = shardStatuses(sources, objects)
	b.Status.Phase = v1alpha1.BackupCompleted
	b.Status.CompletionTime = &done
	msg := fmt.Sprintf("%d shards, %d bytes, in %s", len(objects), b.Status.Size, done.Sub(start.Time).Round(time.Millisecond))
	b.SetCondition(v1alpha1.ConditionBackupCompleted, metav1.ConditionTrue, v1alpha1.ReasonBackupSucceeded, msg)
	r.Recorder.Eventf(b, corev1.EventTypeNormal, eventBackupCompleted, "Backup completed: %s", msg)
	log.FromContext(ctx).Info("backup completed", "location", b.Status.Location, "shards", len(objects), "bytes", b.Status.Size)
	return ctrl.Result{}, nil
}

func manifestOf(b *v1alpha1.RedisBackup, t *backupTarget, f backup.Format, objects []backup.ShardObject, start, done time.Time) backup.Manifest {
	m := backup.Manifest{Format: backup.ManifestFormat, Kind: t.kind, Namespace: b.Namespace, Cluster: b.Spec.Cluster, Replication: b.Spec.Replication,
		Backup: b.Name, StartTime: start.UTC(), CompletionTime: done.UTC(), Compression: f.Compression}
	sources := t.sources
	if f.Key != nil {
		m.Encryption, m.KeyID = sealed.Algorithm, sealed.KeyID(f.Key)
	}
	for i, src := range sources {
		o := objects[i]
		m.Shards = append(m.Shards, backup.ManifestShard{
			Shard: src.Shard, NodeID: src.MasterID, Pod: src.Pod, Slots: slotStrings(src.Slots),
			Object: o.Key[strings.LastIndex(o.Key, "/")+1:], Size: o.ObjectSize, SHA256: o.ObjectSHA256,
			RDBSize: o.Size, RDBSHA256: o.SHA256, ReplicationID: o.ReplID, ReplicationOffset: o.Offset,
			DurationMillis: o.Duration.Milliseconds(),
		})
	}
	return m
}

func shardStatuses(sources []backup.Source, objects []backup.ShardObject) ([]v1alpha1.BackupShardStatus, int64) {
	var out []v1alpha1.BackupShardStatus
	var total int64
	for i, src := range sources {
		o := objects[i]
		total += o.ObjectSize
		out = append(out, v1alpha1.BackupShardStatus{
			Shard: int32(src.Shard), NodeID: src.MasterID, Pod: src.Pod, Slots: slotStrings(src.Slots),
			Object: o.Key, Size: o.ObjectSize, RDBSize: o.Size, SHA256: o.ObjectSHA256,
			ReplicationID: o.ReplID, ReplicationOffset: o.Offset, DurationMillis: o.Duration.Milliseconds(),
		})
	}
	return out, total
}

func (r *RedisBackupReconciler) patchBackupStatus(ctx context.Context, before, b *v1alpha1.RedisBackup) error {
	if equalJSON(before.Status, b.Status) {
		return nil
	}
	if err := r.Status().Patch(ctx, b, client.MergeFrom(before)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("patching status: %w", err)
	}
	return nil
}

func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// SetupWithManager registers the controller. Snapshots stream within a
// reconcile, so backups of different clusters run side by side on
// workers of their own. A PVC store's Deployment wakes the backups that
// own it (that wait for it to be ready).
func (r *RedisBackupReconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.RedisBackup{}).
		Watches(&appsv1.Deployment{}, handler.EnqueueRequestForOwner(mgr.GetScheme(), mgr.GetRESTMapper(), &v1alpha1.RedisBackup{})).
		Named("redisbackup").
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, workers)}).
		Complete(r)
}
