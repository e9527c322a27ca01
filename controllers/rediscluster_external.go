package controllers

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/controllers/topology"
)

// +kubebuilder:rbac:groups="",resources=services,verbs=delete

// eventExternalAccess is the event reason of announce changes.
const eventExternalAccess = "ExternalAccess"

// ensureExternalAccess keeps one Service per node pod with
// spec.externalAccess (and none without), and makes every node announce
// its Service's endpoint to clients with CONFIG SET (no restart): a
// changed address (a pod moved to another Kubernetes node, a new load
// balancer address) is set at the next reconcile and reaches the peers by
// gossip. It never stops the reconcile: a node not reachable now is set
// when it is, a pod restarted without the settings gets them again.
func (r *RedisClusterReconciler) ensureExternalAccess(ctx context.Context, st *state) (ctrl.Result, error) {
	ea := st.desired.Spec.ExternalAccess
	if err := r.removeExternalServices(ctx, st, ea != nil); err != nil {
		return ctrl.Result{}, err
	}
	if ea == nil {
		if len(st.rc.Status.ExternalEndpoints) == 0 {
			return ctrl.Result{}, nil
		}
		// Switched off: the nodes go back to their pod addresses.
		if r.announce(ctx, st, map[string]builders.Endpoint{}, false) {
			st.rc.Status.ExternalEndpoints = nil
			meta.RemoveStatusCondition(&st.rc.Status.Conditions, string(v1alpha1.ConditionExternalAccess))
		}
		return ctrl.Result{}, nil
	}

	endpoints := map[string]builders.Endpoint{}
	nodes := map[string]*corev1.Node{}
	for _, m := range st.members {
		svc, err := r.ensureExternalService(ctx, st, m.Pod)
		if err != nil {
			return ctrl.Result{}, err
		}
		endpoints[m.Pod] = builders.ExternalEndpoint(ea, svc, r.podNode(ctx, st, m.Pod, nodes))
	}
	hostnames := allEndpointsKnown(endpoints) || anyAnnounced(st.rc.Status.ExternalEndpoints)
	announced := map[string]bool{}
	r.announceEach(ctx, st, endpoints, hostnames, announced)
	st.rc.Status.ExternalEndpoints = externalStatus(st.rc, st.members, endpoints, announced)
	writeExternalCondition(st.rc)
	return ctrl.Result{}, nil
}

// ensureExternalService applies pod's external Service unless the cached
// one is already current, and returns it as cached (nil when just created
// and not in the cache yet).
func (r *RedisClusterReconciler) ensureExternalService(ctx context.Context, st *state, pod string) (*corev1.Service, error) {
	want := builders.ExternalService(st.desired, pod)
	key := client.ObjectKeyFromObject(want)
	svc := &corev1.Service{}
	err := r.Get(ctx, key, svc)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, err
	}
	if err == nil && builders.ExternalServiceCurrent(want, svc) {
		return svc, nil
	}
	if err := r.apply(ctx, st, want, &corev1.Service{}); err != nil {
		return nil, err
	}
	svc = &corev1.Service{}
	if err := r.Get(ctx, key, svc); err != nil {
		if !apierrors.IsNotFound(err) {
			return nil, err
		}
		return nil, nil // created by this apply, not in the cache yet
	}
	return svc, nil
}

// podNode is the Kubernetes node pod runs on, nil when unknown (not
// scheduled, or Nodes not readable).
func (r *RedisClusterReconciler) podNode(ctx context.Context, st *state, pod string, cache map[string]*corev1.Node) *corev1.Node {
	p := st.pods[pod]
	if p == nil || p.Spec.NodeName == "" {
		return nil
	}
	if n, ok := cache[p.Spec.NodeName]; ok {
		return n
	}
	n := &corev1.Node{}
	if err := r.Get(ctx, client.ObjectKey{Name: p.Spec.NodeName}, n); err != nil {
		st.log.V(1).Info("external access: node not readable", "node", p.Spec.NodeName, "error", err.Error())
		n = nil
	}
	cache[p.Spec.NodeName] = n
	return n
}

// removeExternalServices deletes the external Services the operator made
// that no pod needs any more (its pod is gone, or external access is off).
func (r *RedisClusterReconciler) removeExternalServices(ctx context.Context, st *state, on bool) error {
	var list corev1.ServiceList
	if err := r.List(ctx, &list, client.InNamespace(st.rc.Namespace), client.MatchingLabels(builders.ExternalSelector(st.rc))); err != nil {
		return err
	}
	keep := map[string]bool{}
	if on {
		for _, m := range st.members {
			keep[builders.ExternalServiceName(m.Pod)] = true
		}
	}
	for i := range list.Items {
		svc := &list.Items[i]
		if keep[svc.Name] || !metav1.IsControlledBy(svc, st.rc) {
			continue
		}
		if err := r.Delete(ctx, svc); client.IgnoreNotFound(err) != nil {
			return err
		}
		r.Recorder.Eventf(st.rc, corev1.EventTypeNormal, eventDeleted, "Deleted Service %s (external access)", svc.Name)
	}
	return nil
}

// announce sets the announce parameters on every reachable node and
// reports whether every node took them.
func (r *RedisClusterReconciler) announce(ctx context.Context, st *state, endpoints map[string]builders.Endpoint, hostnames bool) bool {
	done := map[string]bool{}
	r.announceEach(ctx, st, endpoints, hostnames, done)
	for _, m := range st.members {
		if !done[m.Pod] {
			return false
		}
	}
	return true
}

// announceEach sets, on every member that answers, the announce parameters
// of its endpoint where its CONFIG GET differs; done records the members
// whose node announces what it should.
func (r *RedisClusterReconciler) announceEach(ctx context.Context, st *state, endpoints map[string]builders.Endpoint, hostnames bool, done map[string]bool) {
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		changed []string
	)
	for _, m := range st.members {
		if m.View == nil || m.IP == "" {
			continue
		}
		want := builders.AnnounceConfig(st.desired, endpoints[m.Pod], hostnames)
		wg.Go(func() {
			set, err := r.setAnnounce(ctx, st, m, want)
			mu.Lock()
			defer mu.Unlock()
			var refused redis.Error
			switch {
			case errors.As(err, &refused):
				st.log.Error(err, "external access: the node refused the announce parameters", "pod", m.Pod)
				r.Recorder.Eventf(st.rc, corev1.EventTypeWarning, eventExternalAccess, "%s refused %v: %v", m.Pod, want, err)
			case err != nil:
				st.log.V(1).Info("external access: node unreachable", "pod", m.Pod, "error", err.Error())
			default:
				done[m.Pod] = true
				if len(set) > 0 {
					changed = append(changed, fmt.Sprintf("%s (%s)", m.Pod, formatSettings(set)))
				}
			}
		})
	}
	wg.Wait()
	if len(changed) > 0 {
		sort.Strings(changed)
		msg := "announce parameters set on " + strings.Join(changed, ", ")
		st.log.Info("external access: announce parameters set", "nodes", changed)
		r.Recorder.Event(st.rc, corev1.EventTypeNormal, eventExternalAccess, msg)
	}
}

// setAnnounce sets what differs from want on one node, in one CONFIG SET.
func (r *RedisClusterReconciler) setAnnounce(ctx context.Context, st *state, m topology.Member, want map[string]string) (map[string]string, error) {
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return r.setLiveConfig(ctx, st, m, want, keys)
}

func formatSettings(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, m[k])
	}
	return strings.Join(parts, " ")
}

// allEndpointsKnown says whether every pod has its endpoint.
func allEndpointsKnown(endpoints map[string]builders.Endpoint) bool {
	for _, e := range endpoints {
		if e.Host == "" {
			return false
		}
	}
	return len(endpoints) > 0
}

// anyAnnounced says whether clients were already sent to hostnames: then
// a new node without an endpoint yet does not switch every node back.
func anyAnnounced(s []v1alpha1.ExternalEndpoint) bool {
	for _, e := range s {
		if e.Announced {
			return true
		}
	}
	return false
}

// externalStatus is status.externalEndpoints: one entry per pod, sorted.
func externalStatus(rc *v1alpha1.RedisCluster, members []topology.Member, endpoints map[string]builders.Endpoint, announced map[string]bool) []v1alpha1.ExternalEndpoint {
	out := make([]v1alpha1.ExternalEndpoint, 0, len(members))
	for _, m := range members {
		e := endpoints[m.Pod]
		s := v1alpha1.ExternalEndpoint{Pod: m.Pod, Service: builders.ExternalServiceName(m.Pod), Host: e.Host, Message: e.Waiting}
		if e.Host != "" {
			if rc.Spec.TLS != nil {
				s.TLSPort = e.Port
			} else {
				s.Port = e.Port
			}
			s.Announced = announced[m.Pod]
			if !s.Announced {
				s.Message = "the node has not been told yet (not reachable)"
			}
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pod < out[j].Pod })
	return out
}

// writeExternalCondition sets ExternalAccess from status.externalEndpoints.
func writeExternalCondition(rc *v1alpha1.RedisCluster) {
	var waiting []string
	for _, e := range rc.Status.ExternalEndpoints {
		if !e.Announced {
			waiting = append(waiting, e.Pod+": "+e.Message)
		}
	}
	if len(waiting) == 0 {
		rc.SetCondition(v1alpha1.ConditionExternalAccess, metav1.ConditionTrue, v1alpha1.ReasonEndpointsAnnounced,
			fmt.Sprintf("%d nodes announce their external endpoints", len(rc.Status.ExternalEndpoints)))
		return
	}
	if len(waiting) > 3 {
		waiting = append(waiting[:3], fmt.Sprintf("and %d more", len(waiting)-3))
	}
	rc.SetCondition(v1alpha1.ConditionExternalAccess, metav1.ConditionFalse, v1alpha1.ReasonWaitingForAddress, strings.Join(waiting, "; "))
}
