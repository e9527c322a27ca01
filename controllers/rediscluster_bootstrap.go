package controllers

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/controllers/nodeadmin"
	"github.com/shoal-dev/shoal/controllers/topology"
)

// observePods lists every node pod of the cluster (found by the cluster
// label, so pods of shards beyond spec.masters that still exist while they
// drain, and ordinals beyond replicasPerMaster, are members too) and turns
// each into a member placed by the shard and ordinal of its name. It does
// not wait for anything: waitForPods does.
func (r *RedisClusterReconciler) observePods(ctx context.Context, st *state) (ctrl.Result, error) {
	// Every object of this generation is applied.
	st.rc.Status.ObservedGeneration = st.rc.Generation
	st.rc.Status.Selector = labels.SelectorFromSet(builders.ClusterSelector(st.rc)).String()

	var list corev1.PodList
	if err := r.List(ctx, &list, client.InNamespace(st.rc.Namespace), client.MatchingLabels(builders.ClusterSelector(st.rc))); err != nil {
		return ctrl.Result{}, err
	}
	st.pods = make(map[string]*corev1.Pod, len(list.Items))
	st.members = st.members[:0]
	for i := range list.Items {
		pod := &list.Items[i]
		shard, ordinal, ok := podShardOrdinal(st.rc, pod.Name)
		if !ok {
			continue
		}
		st.pods[pod.Name] = pod
		m := topology.Member{Pod: pod.Name, Shard: shard, Ordinal: ordinal, Port: builders.RedisPort, BusPort: builders.BusPort}
		if pod.DeletionTimestamp.IsZero() {
			m.IP = pod.Status.PodIP
		}
		st.members = append(st.members, m)
	}
	slices.SortFunc(st.members, func(a, b topology.Member) int {
		return cmp.Or(cmp.Compare(a.Shard, b.Shard), cmp.Compare(a.Ordinal, b.Ordinal))
	})
	return ctrl.Result{}, nil
}

// podShardOrdinal parses "<cluster>-shard-<shard>-<ordinal>", the name of a
// node pod (builders.PodName).
func podShardOrdinal(rc *v1alpha1.RedisCluster, pod string) (shard, ordinal int, ok bool) {
	prefix := strings.TrimSuffix(builders.ShardName(rc, 0), "0")
	tail, ok := strings.CutPrefix(pod, prefix)
	if !ok {
		return 0, 0, false
	}
	s, o, ok := strings.Cut(tail, "-")
	if !ok {
		return 0, 0, false
	}
	shard, ok1 := parseIndex(s)
	ordinal, ok2 := parseIndex(o)
	return shard, ordinal, ok1 && ok2
}

// parseIndex parses a non-negative decimal without sign or leading zeros.
func parseIndex(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0 && strconv.Itoa(n) == s
}

// waitForPods stops the reconcile (the pod watch brings it back) until every
// pod of every desired shard is ready.
func (r *RedisClusterReconciler) waitForPods(_ context.Context, st *state) (ctrl.Result, error) {
	want, ready := 0, 0
	for s := range int(st.desired.Spec.Masters) {
		for o := range 1 + int(st.desired.Spec.ReplicasPerMaster) {
			want++
			if pod, ok := st.pods[builders.PodName(st.desired, s, o)]; ok && podReady(pod) {
				ready++
			}
		}
	}
	if ready < want {
		st.progress(v1alpha1.ReasonWaitingForPods, fmt.Sprintf("%d of %d pods ready", ready, want))
		st.halt = true
	}
	return ctrl.Result{}, nil
}

func podReady(p *corev1.Pod) bool {
	if p.Status.PodIP == "" || !p.DeletionTimestamp.IsZero() {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// observeNodes reads the cluster view of every member with an address, in
// parallel, and fills the observed part of the status. A node that does not
// answer is a member without a view.
func (r *RedisClusterReconciler) observeNodes(ctx context.Context, st *state) (ctrl.Result, error) {
	var wg sync.WaitGroup
	for i := range st.members {
		m := &st.members[i]
		if m.IP == "" {
			continue
		}
		wg.Go(func() {
			c := r.dial(st)(m.Addr(), st.auth)
			defer c.Close() //nolint:errcheck // read-only use
			vctx, cancel := context.WithTimeout(ctx, nodeTimeout)
			defer cancel()
			v, err := c.ClusterView(vctx)
			if err != nil {
				st.log.V(1).Info("node did not report its cluster view", "pod", m.Pod, "error", err.Error())
				return
			}
			m.View = v
		})
	}
	wg.Wait()
	st.rc.Status = withPlacement(summarizeNodes(st.rc.Status, st.desired, st.members), st.pods, st.domains, st.desired.Spec.Placement.Keys())
	return ctrl.Result{}, nil
}

// formCluster asks the formation planner for the next step while no node
// serves a slot, and carries it out. Once slots are assigned, the Day-2
// steps (membership, slots) take over. The nodes' progress (handshakes,
// gossip) is not something a watch reports, so while forming the reconcile
// requeues.
func (r *RedisClusterReconciler) formCluster(ctx context.Context, st *state) (ctrl.Result, error) {
	if topology.AnySlotAssigned(st.members) {
		return ctrl.Result{}, nil
	}
	d := st.shape()
	plan := topology.PlanFormation(topology.WithinShape(st.members, d), d)
	return r.runPlan(ctx, st, plan, planReasons{
		done: topology.PhaseFormed, progress: v1alpha1.ReasonFormingCluster, blocked: v1alpha1.ReasonFormationBlocked,
	})
}

// planReasons say how a planner's plan shows in conditions and events.
type planReasons struct {
	// done is the phase in which there is nothing to do.
	done     topology.Phase
	progress v1alpha1.ConditionReason
	blocked  v1alpha1.ConditionReason
}

// runPlan carries out the actions of a plan (formation, membership): when
// the plan is done, the next step runs; when blocked, Degraded says why and
// the reconcile waits; otherwise the actions are carried out and the
// reconcile requeues to observe their effect (gossip and replication are
// not something a watch reports).
func (r *RedisClusterReconciler) runPlan(ctx context.Context, st *state, plan topology.Plan, rs planReasons) (ctrl.Result, error) {
	log := st.log.WithValues("phase", plan.Phase, "reason", plan.Reason)
	switch {
	case plan.Phase == rs.done:
		return ctrl.Result{}, nil
	case plan.Phase == topology.PhaseBlocked:
		log.Info("blocked", "condition", rs.blocked)
		st.degrade(rs.blocked, plan.Reason)
		r.Recorder.Event(st.rc, corev1.EventTypeWarning, string(rs.blocked), plan.Reason)
		return ctrl.Result{RequeueAfter: blockedRequeue}, nil
	case len(plan.Actions) == 0:
		log.V(1).Info("waiting", "condition", rs.progress)
		st.progress(rs.progress, fmt.Sprintf("%s: %s", plan.Phase, plan.Reason))
		return ctrl.Result{RequeueAfter: formationRequeue}, nil
	}
	done, err := r.execute(ctx, st, plan.Actions)
	if len(done) > 0 {
		log.Info("cluster commands sent", "condition", rs.progress, "actions", done)
		r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, string(rs.progress), "%s: %s", plan.Phase, strings.Join(done, "; "))
	}
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("%s, %w", plan.Phase, err)
	}
	st.progress(rs.progress, fmt.Sprintf("%s: %s", plan.Phase, plan.Reason))
	return ctrl.Result{RequeueAfter: formationRequeue}, nil
}

// shape is the desired shape of the cluster.
func (st *state) shape() topology.Desired {
	return topology.Desired{Masters: int(st.desired.Spec.Masters), ReplicasPerMaster: int(st.desired.Spec.ReplicasPerMaster)}
}

// execute carries out actions in order, each on its own member, and returns
// their descriptions. It stops at the first error.
func (r *RedisClusterReconciler) execute(ctx context.Context, st *state, actions []topology.Action) ([]string, error) {
	addr := make(map[string]string, len(st.members))
	for _, m := range st.members {
		addr[m.Pod] = m.Addr()
	}
	done := make([]string, 0, len(actions))
	for _, a := range actions {
		err := func() error {
			c := r.dial(st)(addr[a.Pod], st.auth)
			defer c.Close() //nolint:errcheck // closing a connection that already did its work
			actx, cancel := context.WithTimeout(ctx, nodeTimeout)
			defer cancel()
			return nodeadmin.Execute(actx, c, a)
		}()
		if err != nil {
			return done, fmt.Errorf("%s: %w", a, err)
		}
		done = append(done, a.String())
	}
	return done, nil
}
