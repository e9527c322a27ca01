package controllers

import (
	"context"
	"fmt"
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

// observePods lists the node pods and waits (through the pod watch) until
// every pod of every desired shard is ready.
func (r *RedisClusterReconciler) observePods(ctx context.Context, st *state) (ctrl.Result, error) {
	// Every object of this generation is applied.
	st.rc.Status.ObservedGeneration = st.rc.Generation
	st.rc.Status.Selector = labels.SelectorFromSet(builders.ClusterSelector(st.rc)).String()

	var list corev1.PodList
	if err := r.List(ctx, &list, client.InNamespace(st.rc.Namespace), client.MatchingLabels(builders.ClusterSelector(st.rc))); err != nil {
		return ctrl.Result{}, err
	}
	byName := make(map[string]*corev1.Pod, len(list.Items))
	for i := range list.Items {
		byName[list.Items[i].Name] = &list.Items[i]
	}
	st.pods = map[string]*corev1.Pod{}
	want, ready := 0, 0
	for s := range int(st.desired.Spec.Masters) {
		for o := range 1 + int(st.desired.Spec.ReplicasPerMaster) {
			want++
			name := builders.PodName(st.desired, s, o)
			if pod, ok := byName[name]; ok {
				st.pods[name] = pod
				if podReady(pod) {
					ready++
				}
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

// formCluster reads every node's view, asks the planner for the next step,
// and carries it out. The nodes' progress (handshakes, gossip) is not
// something a watch reports, so while forming the reconcile requeues.
func (r *RedisClusterReconciler) formCluster(ctx context.Context, st *state) (ctrl.Result, error) {
	st.members = r.observeNodes(ctx, st)
	st.rc.Status = summarizeNodes(st.rc.Status, st.desired, st.members)

	d := topology.Desired{Masters: int(st.desired.Spec.Masters), ReplicasPerMaster: int(st.desired.Spec.ReplicasPerMaster)}
	plan := topology.PlanFormation(st.members, d)
	log := st.log.WithValues("phase", plan.Phase, "reason", plan.Reason)
	switch {
	case plan.Phase == topology.PhaseFormed:
		return ctrl.Result{}, nil
	case plan.Phase == topology.PhaseBlocked:
		log.Info("cluster formation blocked")
		st.degrade(v1alpha1.ReasonFormationBlocked, plan.Reason)
		r.Recorder.Event(st.rc, corev1.EventTypeWarning, string(v1alpha1.ReasonFormationBlocked), plan.Reason)
		return ctrl.Result{RequeueAfter: blockedRequeue}, nil
	case len(plan.Actions) == 0:
		log.V(1).Info("cluster formation waiting")
		st.progress(v1alpha1.ReasonFormingCluster, fmt.Sprintf("%s: %s", plan.Phase, plan.Reason))
		return ctrl.Result{RequeueAfter: formationRequeue}, nil
	}

	addr := make(map[string]string, len(st.members))
	for _, m := range st.members {
		addr[m.Pod] = m.Addr()
	}
	done := make([]string, 0, len(plan.Actions))
	for _, a := range plan.Actions {
		err := func() error {
			c := r.Dial(addr[a.Pod], st.password)
			defer c.Close() //nolint:errcheck // closing a connection that already did its work
			actx, cancel := context.WithTimeout(ctx, nodeTimeout)
			defer cancel()
			return nodeadmin.Execute(actx, c, a)
		}()
		if err != nil {
			return ctrl.Result{}, fmt.Errorf("cluster formation, %s: %w", a, err)
		}
		done = append(done, a.String())
	}
	log.Info("cluster formation step", "actions", done)
	r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, string(v1alpha1.ReasonFormingCluster), "%s: %s", plan.Phase, strings.Join(done, "; "))
	st.progress(v1alpha1.ReasonFormingCluster, fmt.Sprintf("%s: %s", plan.Phase, plan.Reason))
	return ctrl.Result{RequeueAfter: formationRequeue}, nil
}

// observeNodes reads the cluster view of every pod, in parallel. A node that
// does not answer is a member without a view.
func (r *RedisClusterReconciler) observeNodes(ctx context.Context, st *state) []topology.Member {
	var members []topology.Member
	for s := range int(st.desired.Spec.Masters) {
		for o := range 1 + int(st.desired.Spec.ReplicasPerMaster) {
			pod := st.pods[builders.PodName(st.desired, s, o)]
			members = append(members, topology.Member{
				Pod: pod.Name, Shard: s, Ordinal: o,
				IP: pod.Status.PodIP, Port: builders.RedisPort, BusPort: builders.BusPort,
			})
		}
	}
	var wg sync.WaitGroup
	for i := range members {
		wg.Add(1)
		go func(m *topology.Member) {
			defer wg.Done()
			c := r.Dial(m.Addr(), st.password)
			defer c.Close() //nolint:errcheck // read-only use
			vctx, cancel := context.WithTimeout(ctx, nodeTimeout)
			defer cancel()
			v, err := c.ClusterView(vctx)
			if err != nil {
				st.log.V(1).Info("node did not report its cluster view", "pod", m.Pod, "error", err.Error())
				return
			}
			m.View = v
		}(&members[i])
	}
	wg.Wait()
	return members
}
