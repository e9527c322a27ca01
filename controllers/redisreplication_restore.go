package controllers

import (
	"context"
	"fmt"
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/backup"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/controllers/nodeadmin"
)

// ensureReplicationRestore carries out spec.bootstrap.fromBackup of a
// RedisReplication, as a RedisCluster's (restoreNext): once a master is
// confirmed, the backup's snapshot object is verified against its SHA-256
// and every key of every database is restored into the master (SELECT,
// then RESTORE ... REPLACE ABSTTL); the replicas receive them by
// replication. A backup of a RedisCluster is refused.
//
// Until the backup is loaded the pods get no role label, so neither the
// master nor the replicas Service sends clients to a node, and the
// replication is not Ready. held reports that the reconcile stops here
// (the status is written, with the restore's reason on Ready).
func (r *RedisReplicationReconciler) ensureReplicationRestore(ctx context.Context, st *replState) (res ctrl.Result, held bool, err error) {
	rr := st.rr
	var spec *v1alpha1.FromBackupSpec
	if b := st.desired.Spec.Bootstrap; b != nil {
		spec = b.FromBackup
	}
	if spec == nil {
		rr.Status.FromBackup = nil
		return ctrl.Result{}, false, nil
	}
	if rr.Status.FromBackup == nil {
		rr.Status.FromBackup = &v1alpha1.RestoreStatus{Phase: v1alpha1.RestoreWaiting}
	}
	status := rr.Status.FromBackup
	hold := func(reason v1alpha1.ConditionReason, msg string, degraded bool, after ctrl.Result) (ctrl.Result, bool, error) {
		r.writeReplicationStatus(st)
		rr.SetCondition(v1alpha1.ConditionReady, metav1.ConditionFalse, reason, "restore from a backup: "+msg)
		if degraded {
			rr.SetCondition(v1alpha1.ConditionDegraded, metav1.ConditionTrue, reason, "the backup was refused: "+msg)
		}
		return after, true, nil
	}
	switch status.Phase {
	case v1alpha1.RestoreCompleted:
		return ctrl.Result{}, false, releasePVCStores(ctx, r.Client, rr.Namespace, rr.UID)
	case v1alpha1.RestoreFailed:
		// Never Ready: the master holds none or part of the backup.
		// Delete the RedisReplication and restore from another backup.
		return hold(v1alpha1.ReasonRestoreRefused, status.Message, true, releaseAfterRestore(ctx, r.Client, rr))
	}
	waiting := func(msg string) (ctrl.Result, bool, error) {
		status.Message = msg
		rr.SetCondition(v1alpha1.ConditionRestored, metav1.ConditionFalse, v1alpha1.ReasonRestoreWaiting, msg)
		return hold(v1alpha1.ReasonRestoreWaiting, msg, false, ctrl.Result{RequeueAfter: backupWaitRequeue})
	}
	master, ok := st.nodes[st.decision.Master]
	if st.decision.Master == "" || !ok {
		return waiting("no master yet: " + st.decision.Problem)
	}
	var target *nodeadmin.ImportTarget
	open := func() (*nodeadmin.ImportTarget, error) {
		target = nodeadmin.NewNodeTarget(net.JoinHostPort(master.Status.PodIP, strconv.Itoa(builders.RedisPort)),
			nodeadmin.SourceAuth{Password: st.password, TLS: tlsConfigOf(st.tls), Timeout: importSourceTimeout})
		return target, nil
	}
	defer func() {
		if target != nil {
			target.Close()
		}
	}()
	stores := r.Stores.opener(r.Client, r.APIReader, rr, "RedisReplication")
	step, err := restoreNext(ctx, r.Client, r.APIReader, stores, rr.Namespace, backup.KindReplication, spec, status, open, nil)
	switch {
	case err != nil:
		return ctrl.Result{}, true, err
	case step.refused != "":
		now := metav1.Now()
		status.Phase, status.Message, status.CompletionTime = v1alpha1.RestoreFailed, step.refused, &now
		rr.SetCondition(v1alpha1.ConditionRestored, metav1.ConditionFalse, v1alpha1.ReasonRestoreRefused, step.refused)
		r.Recorder.Event(rr, corev1.EventTypeWarning, eventRestoreRefused, step.refused)
		return hold(v1alpha1.ReasonRestoreRefused, step.refused, true, releaseAfterRestore(ctx, r.Client, rr))
	case step.waiting != "":
		return waiting(step.waiting)
	}
	if step.shard != nil {
		r.Recorder.Eventf(rr, corev1.EventTypeNormal, eventRestoreShardLoaded, "The backup's snapshot loaded into %s (%d keys)", st.decision.Master, step.keys)
	}
	if status.Phase == v1alpha1.RestoreCompleted {
		restoreDone(r.Recorder, rr, status)
		return releaseAfterRestore(ctx, r.Client, rr), false, nil
	}
	msg := fmt.Sprintf("%d of %d shards loaded, %d keys", status.ShardsLoaded, status.Shards, status.KeysLoaded)
	rr.SetCondition(v1alpha1.ConditionRestored, metav1.ConditionFalse, v1alpha1.ReasonRestoreLoading, msg)
	return hold(v1alpha1.ReasonRestoreLoading, msg, false, ctrl.Result{RequeueAfter: importRequeue})
}
