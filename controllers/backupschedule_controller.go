package controllers

import (
	"context"
	"crypto/tls"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/backup"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// Events of a backup schedule.
const (
	eventScheduledBackup = "ScheduledBackupCreated"
	eventBackupPruned    = "BackupPruned"
	eventScheduleInvalid = "InvalidBackupSchedule"
)

// BackupScheduleReconciler carries out spec.backup of RedisClusters and
// RedisReplications: a RedisBackup at every run time of the schedule, and
// the removal of the backups the retention policy no longer keeps. It
// keeps no state of its own: the last run is the newest scheduled
// RedisBackup's time (the resource's creation before the first), and a
// run's RedisBackup has a name derived from its time, so a run is never
// taken twice.
type BackupScheduleReconciler struct {
	client.Client
	APIReader client.Reader
	Recorder  record.EventRecorder
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Archives runs the archivers of spec.backup.continuous (nil: none);
	// Dial and DialTLS open admin clients to the nodes, to find the
	// shards' masters.
	Archives *ArchiveManager
	Dial     clusteradmin.Dialer
	DialTLS  func(*tls.Config) clusteradmin.Dialer
	// Stores opens the destinations (to prune).
	Stores BackupStores

	kind scheduledKind
}

// scheduledKind is what the schedule needs of a kind with spec.backup.
type scheduledKind struct {
	// controller is the controller's name; label the label naming the
	// resource on its scheduled RedisBackups; kind the resource's kind.
	controller, label, kind string
	object                  func() client.Object
	// schedule is the object's spec.backup (nil: none).
	schedule func(client.Object) *v1alpha1.ScheduledBackupSpec
	// name is a run's RedisBackup name; source sets spec.cluster or
	// spec.replication.
	name   func(owner string, due time.Time) string
	source func(spec *v1alpha1.RedisBackupSpec, owner string)
}

// scheduledKinds are the kinds with spec.backup. A RedisReplication's
// backups are named <name>-rr-<unix time>, apart from those of a
// RedisCluster of its name.
func scheduledKinds() []scheduledKind {
	cluster := scheduledKind{controller: "backupschedule", label: v1alpha1.LabelBackupCluster, kind: "RedisCluster",
		object:   func() client.Object { return &v1alpha1.RedisCluster{} },
		schedule: func(o client.Object) *v1alpha1.ScheduledBackupSpec { return o.(*v1alpha1.RedisCluster).Spec.Backup },
		name:     scheduledBackupName,
		source:   func(s *v1alpha1.RedisBackupSpec, owner string) { s.Cluster = owner }}
	replication := scheduledKind{controller: "replicationbackupschedule", label: v1alpha1.LabelBackupReplication, kind: "RedisReplication",
		object:   func() client.Object { return &v1alpha1.RedisReplication{} },
		schedule: func(o client.Object) *v1alpha1.ScheduledBackupSpec { return o.(*v1alpha1.RedisReplication).Spec.Backup },
		name:     func(owner string, due time.Time) string { return scheduledBackupName(owner+"-rr", due) },
		source:   func(s *v1alpha1.RedisBackupSpec, owner string) { s.Replication = owner }}
	return []scheduledKind{cluster, replication}
}

// Reconcile takes the due backup and prunes, then waits for the next run.
func (r *BackupScheduleReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	owner := r.kind.object()
	if err := r.Get(ctx, req.NamespacedName, owner); err != nil {
		if apierrors.IsNotFound(err) && r.Archives != nil {
			r.Archives.Stop(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	spec := r.kind.schedule(owner)
	if spec == nil || !owner.GetDeletionTimestamp().IsZero() {
		if rc, ok := owner.(*v1alpha1.RedisCluster); ok && r.Archives != nil {
			r.Archives.Stop(req.NamespacedName)
			return ctrl.Result{}, r.patchArchiveStatus(ctx, rc, nil)
		}
		return ctrl.Result{}, nil
	}
	sched, err := backup.ParseSchedule(spec.Schedule)
	if err != nil {
		r.Recorder.Event(owner, corev1.EventTypeWarning, eventScheduleInvalid, err.Error())
		return ctrl.Result{}, nil
	}
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	var list v1alpha1.RedisBackupList
	if err := r.List(ctx, &list, client.InNamespace(owner.GetNamespace()), client.MatchingLabels{r.kind.label: owner.GetName()}); err != nil {
		return ctrl.Result{}, err
	}
	last := owner.GetCreationTimestamp().Time
	var kept []backup.Kept
	for _, b := range list.Items {
		t, err := time.Parse(time.RFC3339, b.Annotations[v1alpha1.AnnotationScheduledTime])
		if err != nil {
			continue
		}
		if t.After(last) {
			last = t
		}
		kept = append(kept, backup.Kept{Name: b.Name, Time: t, Completed: b.Status.Phase == v1alpha1.BackupCompleted,
			Finished: b.Status.Phase == v1alpha1.BackupCompleted || b.Status.Phase == v1alpha1.BackupFailed})
	}
	due, ok, next := backup.Due(sched, last, now)
	if ok {
		if err := r.createScheduled(ctx, owner, spec, due); err != nil {
			return ctrl.Result{}, err
		}
	}
	waiting, err := r.prune(ctx, owner, spec.Retention, list.Items, kept, now)
	if err != nil {
		return ctrl.Result{}, err
	}
	// Pruning looks again soon while a backup runs or a store starts;
	// otherwise at the next run time.
	after := min(max(next.Sub(now), time.Second), healthyResync)
	if waiting {
		after = min(after, backupWaitRequeue)
	}
	if !ok {
		// A backup created by this run is in the list next time.
		again, err := r.ensureContinuous(ctx, owner, spec, list.Items, now)
		if err != nil {
			return ctrl.Result{}, err
		}
		if again > 0 {
			after = min(after, again)
		}
	}
	return ctrl.Result{RequeueAfter: after}, nil
}

func (r *BackupScheduleReconciler) createScheduled(ctx context.Context, owner client.Object, spec *v1alpha1.ScheduledBackupSpec, due time.Time) error {
	b := &v1alpha1.RedisBackup{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:   owner.GetNamespace(),
			Name:        r.kind.name(owner.GetName(), due),
			Labels:      map[string]string{r.kind.label: owner.GetName()},
			Annotations: map[string]string{v1alpha1.AnnotationScheduledTime: due.UTC().Format(time.RFC3339)},
		},
		Spec: v1alpha1.RedisBackupSpec{Destination: spec.Destination, Source: spec.Source, Compression: spec.Compression, Encryption: spec.Encryption},
	}
	r.kind.source(&b.Spec, owner.GetName())
	err := r.Create(ctx, b)
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err != nil {
		return err
	}
	r.Recorder.Eventf(owner, corev1.EventTypeNormal, eventScheduledBackup, "RedisBackup %s created for the run of %s", b.Name, due.UTC().Format(time.RFC3339))
	return nil
}

// scheduledBackupName is <owner>-<unix seconds of the run>.
func scheduledBackupName(owner string, due time.Time) string {
	return owner + "-" + strconv.FormatInt(due.Unix(), 10)
}

// prune removes the objects of each backup the retention policy drops,
// then the RedisBackup.
func (r *BackupScheduleReconciler) prune(ctx context.Context, owner client.Object, ret v1alpha1.BackupRetention, items []v1alpha1.RedisBackup, kept []backup.Kept, now time.Time) (waiting bool, err error) {
	count := int(ret.Count)
	if count < 1 {
		count = 7
	}
	var maxAge time.Duration
	if ret.MaxAge != nil {
		maxAge = ret.MaxAge.Duration
	}
	drop := backup.Prune(kept, count, maxAge, now)
	usedPVC := false
	for _, name := range drop {
		var b *v1alpha1.RedisBackup
		for i := range items {
			if items[i].Name == name {
				b = &items[i]
			}
		}
		if b == nil {
			continue
		}
		if b.Status.Manifest != "" {
			// A PVC store is held by the scheduled resource, not by the
			// completed backup (which releases what it holds).
			dest := b.Spec.Destination
			usedPVC = usedPVC || dest.PVC != nil
			store, _, problem, err := r.Stores.opener(r.Client, r.APIReader, owner, r.kind.kind)(ctx, dest.S3, dest.PVC)
			if err != nil {
				return false, err
			}
			if problem != "" {
				// The credentials or the store's pod: tried again soon.
				log.FromContext(ctx).Info("pruning waits", "backup", b.Name, "for", problem)
				waiting = true
				continue
			}
			folder := strings.TrimSuffix(b.Status.Manifest, backup.ManifestName)
			if err := store.objects.RemoveAll(ctx, folder); err != nil {
				return false, fmt.Errorf("pruning %s: %w", b.Name, err)
			}
		}
		if err := r.Delete(ctx, b); err != nil && !apierrors.IsNotFound(err) {
			return false, err
		}
		r.Recorder.Eventf(owner, corev1.EventTypeNormal, eventBackupPruned, "RedisBackup %s (run of %s) and its objects removed by the retention policy",
			b.Name, b.Annotations[v1alpha1.AnnotationScheduledTime])
	}
	if usedPVC && !waiting {
		// Done with the stores of this round.
		if err := releasePVCStores(ctx, r.Client, owner.GetNamespace(), owner.GetUID()); err != nil {
			return false, err
		}
	}
	return waiting, nil
}

// SetupWithManager registers one controller per kind with spec.backup
// (and the archive manager, when set, as a runnable of mgr):
// the RedisClusters (or RedisReplications), and the RedisBackups their
// schedules made (by label), so pruning follows a backup's completion.
func (r *BackupScheduleReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Archives != nil {
		if err := mgr.Add(r.Archives); err != nil {
			return err
		}
	}
	for _, kind := range scheduledKinds() {
		kr := &BackupScheduleReconciler{Client: r.Client, APIReader: r.APIReader, Recorder: r.Recorder, Now: r.Now,
			Archives: r.Archives, Dial: r.Dial, DialTLS: r.DialTLS, Stores: r.Stores, kind: kind}
		err := ctrl.NewControllerManagedBy(mgr).
			For(kind.object()).
			Watches(&v1alpha1.RedisBackup{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
				name, ok := o.GetLabels()[kind.label]
				if !ok {
					return nil
				}
				return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: name}}}
			})).
			Named(kind.controller).
			Complete(kr)
		if err != nil {
			return err
		}
	}
	return nil
}
