package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// The operator deletes pods (the StatefulSet makes them again) to roll them.
//
// +kubebuilder:rbac:groups="",resources=pods,verbs=delete

// Day-2 pod operations: live configuration, switchovers, replica
// scale-down safety and rolling updates. They run once the cluster is
// formed and converged; each reconcile changes at most one thing per shard
// and then requeues to observe.
const (
	// rolloutRequeue is how soon a rollout looks again: restarts,
	// resyncs and failovers are not reported by any watch.
	rolloutRequeue = 1 * time.Second
	// failoverTimeout is how long a coordinated CLUSTER FAILOVER may take
	// before the operator considers it lost (a node gives up a manual
	// failover after 5 seconds).
	failoverTimeout = 20 * time.Second
	// maxLagBytes is how far a replica's offset may trail its master's and
	// still count as caught up (offsets are read from both at slightly
	// different times; a coordinated failover then waits for the exact
	// offset with writes paused).
	maxLagBytes = 256 << 10
)

// Event reasons of the Day-2 pod operations.
const (
	eventRestartingPod    = "RestartingPod"
	eventFailover         = "Failover"
	eventFailoverDone     = "FailoverDone"
	eventFailoverTimedOut = "FailoverTimedOut"
	eventConfigSet        = "ConfigSet"
	eventSwitchover       = "Switchover"
)

// errNotAReplica is how a node (as Redis) refuses CLUSTER FAILOVER when it
// is a master.
const errNotAReplica = "ERR You should send CLUSTER FAILOVER to a replica"

// Failover reasons in status.failovers.
const (
	failoverRollingUpdate = "RollingUpdate"
	failoverSwitchover    = "Switchover"
	failoverScaleDown     = "ScaleDown"
)

// Failpoints: where a test may stop the operator as if it crashed, right
// after a change and before its status is written.
const (
	FailpointAfterPodDelete = "rollout/after-pod-delete"
	FailpointAfterFailover  = "rollout/after-failover"
)

// ensurePodOperations is the reconcile step of the Day-2 pod operations, in
// order: failovers sent earlier, live configuration, a switchover asked for
// by annotation, a replica scale-down whose StatefulSet would remove a
// master, then a rolling update.
func (r *RedisClusterReconciler) ensurePodOperations(ctx context.Context, st *state) (ctrl.Result, error) {
	startStatus := st.rc.Status.DeepCopy()
	op := &podOps{state: st}
	op.pending = r.resolveFailovers(st, time.Now())
	for _, f := range []func(context.Context, *podOps) (bool, error){
		r.applyLiveConfig, r.ensureSwitchover, r.protectScaleDown, r.rollPods, r.balanceMasters,
	} {
		acted, err := f(ctx, op)
		if err != nil {
			return ctrl.Result{}, err
		}
		if op.crashed {
			// As if the process died after the change: this step's status
			// is not written, and the reconcile comes back as a restarted
			// operator's first one would.
			st.rc.Status = *startStatus
			st.halt = true
			return ctrl.Result{RequeueAfter: rolloutRequeue}, nil
		}
		if acted {
			return ctrl.Result{RequeueAfter: rolloutRequeue}, nil
		}
	}
	return ctrl.Result{}, nil
}

// podOps is the state of the pod operations step: the reconcile's state,
// the failovers still open, and whether a failpoint stopped the step.
type podOps struct {
	*state
	pending []topology.PendingFailover
	crashed bool
}

// failpoint stops the step at point when a test asked for it
// (RedisClusterReconciler.Failpoint, nil outside tests): the change is
// made, its record in status is not.
func (r *RedisClusterReconciler) failpoint(op *podOps, point string) {
	if r.Failpoint != nil && r.Failpoint(client.ObjectKeyFromObject(op.rc), point) {
		op.log.Info("failpoint: stopping as if crashed", "point", point)
		op.crashed = true
	}
}

// rolloutShards arranges the members by shard and ordinal with what the
// rollout needs from their pods. With all false, only the ordinals the
// spec asks for are included (missing ones as not existing); with all true,
// every existing pod of the desired shards, scale-down leftovers included.
func rolloutShards(st *state, all bool) [][]topology.RolloutPod {
	d := st.shape()
	want := make([]string, d.Masters)
	for s := range want {
		want[s] = builders.ShardStatefulSet(st.desired, s, st.configHash).Spec.Template.Annotations[builders.AnnotationPodTemplateHash]
	}
	shards := make([][]topology.RolloutPod, d.Masters)
	byPod := map[string]topology.Member{}
	for _, m := range st.members {
		byPod[m.Pod] = m
	}
	for s := range shards {
		for o := 0; ; o++ {
			name := builders.PodName(st.desired, s, o)
			pod, exists := st.pods[name]
			if o > d.ReplicasPerMaster && (!all || !exists) {
				break
			}
			m, ok := byPod[name]
			if !ok {
				m = topology.Member{Pod: name, Shard: s, Ordinal: o}
			}
			rp := topology.RolloutPod{Member: m}
			if exists && pod.DeletionTimestamp.IsZero() {
				rp.Exists = true
				rp.Ready = podReady(pod)
				rp.Updated = pod.Annotations[builders.AnnotationPodTemplateHash] == want[s]
			}
			shards[s] = append(shards[s], rp)
		}
	}
	return shards
}

// resolveFailovers drops the failovers that completed or expired from
// status.failovers, with an event for each, and returns the open ones.
func (r *RedisClusterReconciler) resolveFailovers(st *state, now time.Time) []topology.PendingFailover {
	var pending []topology.PendingFailover
	for _, f := range st.rc.Status.Failovers {
		pending = append(pending, topology.PendingFailover{Pod: f.Pod, Reason: f.Reason, Since: f.Time.Time})
	}
	open, done, expired := topology.ResolveFailovers(pending, st.members, now, failoverTimeout)
	for _, f := range done {
		r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, eventFailoverDone, "%s is master (%s)", f.Pod, f.Reason)
		r.metrics.failoverSeen(st.rc, f.Reason)
	}
	for _, f := range expired {
		r.Recorder.Eventf(st.rc, corev1.EventTypeWarning, eventFailoverTimedOut, "CLUSTER FAILOVER sent to %s (%s) did not make it master within %s", f.Pod, f.Reason, failoverTimeout)
		if last := st.rc.Status.LastSwitchover; f.Reason == failoverSwitchover && last != nil && last.Pod == f.Pod && last.Phase == topology.SwitchoverInProgress {
			setSwitchover(st.rc, f.Pod, topology.SwitchoverFailed, fmt.Sprintf("CLUSTER FAILOVER sent to %s did not make it master within %s", f.Pod, failoverTimeout), now)
		}
	}
	st.rc.Status.Failovers = nil
	for _, f := range open {
		st.rc.Status.Failovers = append(st.rc.Status.Failovers, v1alpha1.PendingFailover{Pod: f.Pod, Reason: f.Reason, Time: metav1.NewTime(f.Since)})
	}
	return open
}

// failover sends a coordinated CLUSTER FAILOVER to pod and records it.
func (r *RedisClusterReconciler) failover(ctx context.Context, op *podOps, pod, reason, why string) error {
	st := op.state
	var addr string
	for _, m := range st.members {
		if m.Pod == pod {
			addr = m.Addr()
		}
	}
	c := r.dial(st)(addr, st.auth)
	defer c.Close() //nolint:errcheck // the command's reply is what counts
	fctx, cancel := context.WithTimeout(ctx, nodeTimeout)
	defer cancel()
	if err := c.Failover(fctx, clusteradmin.FailoverDefault); err != nil {
		if strings.Contains(err.Error(), errNotAReplica) {
			// It became master since it was observed (a failover sent by
			// an operator that stopped before recording it).
			st.log.Info("CLUSTER FAILOVER not needed: the node is a master already", "pod", pod)
			return nil
		}
		return fmt.Errorf("CLUSTER FAILOVER on %s: %w", pod, err)
	}
	st.rc.Status.Failovers = append(st.rc.Status.Failovers, v1alpha1.PendingFailover{Pod: pod, Reason: reason, Time: metav1.Now()})
	st.log.Info("sent CLUSTER FAILOVER", "pod", pod, "reason", reason)
	r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, eventFailover, "CLUSTER FAILOVER sent to %s (%s): %s", pod, reason, why)
	r.failpoint(op, FailpointAfterFailover)
	return nil
}

// ensureSwitchover carries out the switchover annotation.
func (r *RedisClusterReconciler) ensureSwitchover(ctx context.Context, op *podOps) (bool, error) {
	st := op.state
	target := st.rc.Annotations[v1alpha1.SwitchoverAnnotation]
	lastPod, lastPhase := "", ""
	if last := st.rc.Status.LastSwitchover; last != nil {
		lastPod, lastPhase = last.Pod, last.Phase
	}
	isPending := false
	for _, f := range op.pending {
		isPending = isPending || f.Pod == target
	}
	d := topology.PlanSwitchover(target, lastPod, lastPhase, rolloutShards(st, true), isPending, maxLagBytes)
	if d.Phase == "" {
		return false, nil
	}
	if target == "" {
		target = lastPod
	}
	if d.Failover {
		if err := r.failover(ctx, op, target, failoverSwitchover, "switchover asked for by annotation"); err != nil {
			return false, err
		}
	}
	if setSwitchover(st.rc, target, d.Phase, d.Message, time.Now()) && d.Phase != topology.SwitchoverInProgress {
		kind := corev1.EventTypeNormal
		if d.Phase == topology.SwitchoverFailed {
			kind = corev1.EventTypeWarning
		}
		r.Recorder.Eventf(st.rc, kind, eventSwitchover, "switchover to %s %s: %s", target, strings.ToLower(d.Phase), d.Message)
	}
	if d.Phase != topology.SwitchoverInProgress {
		return false, nil
	}
	st.progress(v1alpha1.ReasonSwitchover, d.Message)
	return true, nil
}

// setSwitchover records the switchover's phase; Time changes with the
// phase. It reports whether the phase changed.
func setSwitchover(rc *v1alpha1.RedisCluster, pod, phase, message string, now time.Time) bool {
	last := rc.Status.LastSwitchover
	if last != nil && last.Pod == pod && last.Phase == phase {
		last.Message = message
		return false
	}
	rc.Status.LastSwitchover = &v1alpha1.SwitchoverStatus{Pod: pod, Phase: phase, Message: message, Time: ptr.To(metav1.NewTime(now))}
	return true
}

// protectScaleDown moves a master off the pods a replica scale-down removes.
func (r *RedisClusterReconciler) protectScaleDown(ctx context.Context, op *podOps) (bool, error) {
	st := op.state
	keep := 1 + st.shape().ReplicasPerMaster
	all := rolloutShards(st, true)
	actions, waiting := topology.PlanReplicaScaleDown(all, keep, op.pending, maxLagBytes)
	for _, a := range actions {
		if err := r.failover(ctx, op, a.Pod, failoverScaleDown, a.Reason); err != nil {
			return false, err
		}
		if op.crashed {
			return true, nil
		}
	}
	switch {
	case len(actions) > 0:
		st.progress(v1alpha1.ReasonScalingReplicasDown, actions[0].Reason)
		return true, nil
	case waiting != "":
		st.progress(v1alpha1.ReasonScalingReplicasDown, waiting)
		return true, nil
	}
	for _, shard := range all {
		if len(shard) > keep {
			// The StatefulSet shrinks in a later reconcile, once status
			// shows the master on a pod that stays (keepMasterPod); look
			// again until the removed pods are gone.
			st.progress(v1alpha1.ReasonScalingReplicasDown, fmt.Sprintf("waiting for the StatefulSet to remove %s", shard[len(shard)-1].Pod))
			return true, nil
		}
	}
	return false, nil
}

// keepMasterPod keeps a shard's StatefulSet large enough for the pod of its
// master, as status last saw it, while a replica scale-down waits for that
// master to hand over (protectScaleDown).
func keepMasterPod(rc *v1alpha1.RedisCluster, shard int, sts *appsv1.StatefulSet) {
	for _, ss := range rc.Status.Shards {
		if ss.Name != builders.ShardName(rc, shard) || ss.Master == nil {
			continue
		}
		prefix := builders.ShardName(rc, shard) + "-"
		var ordinal int
		if _, err := fmt.Sscanf(strings.TrimPrefix(ss.Master.Pod, prefix), "%d", &ordinal); err != nil || !strings.HasPrefix(ss.Master.Pod, prefix) {
			return
		}
		sts.Spec.Replicas = ptr.To(int32(topology.ShardSize(int(*sts.Spec.Replicas), ordinal)))
	}
}

// rollPods restarts pods made from an outdated template, shard by shard.
func (r *RedisClusterReconciler) rollPods(ctx context.Context, op *podOps) (bool, error) {
	st := op.state
	plan := topology.PlanRollout(topology.RolloutInput{
		Shards:              rolloutShards(st, false),
		MaxConcurrentShards: int(ptr.Deref(st.desired.Spec.UpdateStrategy.MaxConcurrentShards, 1)),
		MaxLagBytes:         maxLagBytes,
		Pending:             op.pending,
	})
	if plan.Done {
		st.rc.Status.Rollout = nil
		st.rc.SetCondition(v1alpha1.ConditionRollingUpdate, metav1.ConditionFalse, v1alpha1.ReasonUpToDate, "every pod runs the current template")
		return false, nil
	}
	if mig := st.rc.Status.Migration; mig != nil && !mig.DryRun {
		// The migration engine does not start while status.rollout is set;
		// a rollout does not start while slots move.
		msg := fmt.Sprintf("%d of %d pods run an outdated template; waiting until the slot migration ends", plan.TotalPods-plan.UpdatedPods, plan.TotalPods)
		st.rc.SetCondition(v1alpha1.ConditionRollingUpdate, metav1.ConditionTrue, v1alpha1.ReasonWaitingForMigration, msg)
		return false, nil
	}
	names := make([]string, 0, len(plan.Shards))
	for _, s := range plan.Shards {
		names = append(names, builders.ShardName(st.desired, s))
	}
	msg := plan.Waiting
	if len(plan.Actions) > 0 {
		parts := make([]string, 0, len(plan.Actions))
		for _, a := range plan.Actions {
			parts = append(parts, a.String())
		}
		msg = strings.Join(parts, "; ")
	}
	st.rc.Status.Rollout = &v1alpha1.RolloutStatus{UpdatedPods: int32(plan.UpdatedPods), TotalPods: int32(plan.TotalPods), Shards: names, Message: msg}
	reason := v1alpha1.ReasonRollingUpdate
	if plan.MasterAlone {
		reason = v1alpha1.ReasonRestartingMasterAlone
	}
	summary := fmt.Sprintf("%d of %d pods updated: %s", plan.UpdatedPods, plan.TotalPods, msg)
	st.rc.SetCondition(v1alpha1.ConditionRollingUpdate, metav1.ConditionTrue, reason, summary)
	st.progress(reason, summary)

	for _, a := range plan.Actions {
		var err error
		switch a.Type {
		case topology.RolloutDeletePod:
			err = r.deletePod(ctx, op, a)
		case topology.RolloutFailover:
			err = r.failover(ctx, op, a.Pod, failoverRollingUpdate, a.Reason)
		}
		if err != nil || op.crashed {
			return true, err
		}
	}
	return true, nil
}

// deletePod deletes a pod for the StatefulSet to make again from the
// current template; the precondition makes sure it is the pod observed.
func (r *RedisClusterReconciler) deletePod(ctx context.Context, op *podOps, a topology.RolloutAction) error {
	st := op.state
	pod := st.pods[a.Pod]
	if err := r.Delete(ctx, pod, client.Preconditions{UID: &pod.UID}); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting pod %s: %w", a.Pod, err)
	}
	st.log.Info("deleted pod for a rolling update", "pod", a.Pod, "reason", a.Reason)
	r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, eventRestartingPod, "Deleted pod %s (shard %d): %s", a.Pod, a.Shard, a.Reason)
	r.failpoint(op, FailpointAfterPodDelete)
	return nil
}
