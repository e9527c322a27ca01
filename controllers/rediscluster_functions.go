package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// Events of the functions step.
const (
	eventFunctionLoaded     = "FunctionLoaded"
	eventFunctionLoadFailed = "FunctionLoadFailed"
	eventFunctionInvalid    = "FunctionSourceInvalid"
)

// ensureFunctions keeps the libraries of spec.functions loaded: it reads
// their ConfigMaps, asks every node of the cluster for FUNCTION LIST
// WITHCODE, sends FUNCTION LOAD REPLACE to the masters that lack a
// library's current code (topology.PlanFunctionLoads; replicas follow
// their master by replication) and writes status.functions. It never stops
// the reconcile: a library that does not load (a syntax error) is an Event
// and its status entry's error, not a reason to hold back the cluster's
// other work; an unreachable node is asked again next time.
func (r *RedisClusterReconciler) ensureFunctions(ctx context.Context, st *state) (ctrl.Result, error) {
	specs := st.desired.Spec.Functions
	if len(specs) == 0 {
		st.rc.Status.Functions = nil
		return ctrl.Result{}, nil
	}
	sources, err := r.readLibrarySources(ctx, st.rc.Namespace, specs)
	if err != nil {
		return ctrl.Result{}, err
	}
	want, problems := topology.DesiredLibraries(sources)
	members := topology.WithinShape(st.members, st.shape())
	nodes := r.listFunctions(ctx, st, members)
	loads := topology.PlanFunctionLoads(want, nodes)
	loadErrors := r.loadFunctions(ctx, st, members, loads, nodes)

	previous := map[string]string{}
	for _, s := range st.rc.Status.Functions {
		previous[s.Source] = s.Error
	}
	statuses := topology.FunctionStatuses(sources, want, problems, loadErrors, nodes)
	for _, s := range statuses {
		if s.Error != "" && s.Error != previous[s.Source] {
			reason := eventFunctionInvalid
			if _, failed := loadErrors[s.Name]; failed && s.SHA256 != "" {
				reason = eventFunctionLoadFailed
			}
			r.Recorder.Eventf(st.rc, corev1.EventTypeWarning, reason, "%s: %s", s.Source, s.Error)
		}
		// Replicas still syncing a new library: look again soon. A library
		// that failed to load waits for the regular resync (or a spec
		// change) instead of being retried every second.
		if s.Error == "" && s.LoadedNodes < s.Nodes {
			st.functionsPending = true
		}
	}
	st.rc.Status.Functions = statuses
	return ctrl.Result{}, nil
}

// readLibrarySources reads the code of every spec.functions entry. The
// ConfigMaps are the user's, not in the operator's cache: they are read
// through the API reader. A missing ConfigMap or key is the source's
// problem, not an error of the step.
func (r *RedisClusterReconciler) readLibrarySources(ctx context.Context, ns string, specs []v1alpha1.FunctionLibrarySource) ([]topology.LibrarySource, error) {
	maps := map[string]*corev1.ConfigMap{}
	out := make([]topology.LibrarySource, 0, len(specs))
	for _, f := range specs {
		ref := f.ConfigMapRef
		src := topology.LibrarySource{Source: ref.Name + "/" + ref.Key}
		cm, seen := maps[ref.Name]
		if !seen {
			cm = &corev1.ConfigMap{}
			err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ns, Name: ref.Name}, cm)
			switch {
			case apierrors.IsNotFound(err):
				cm = nil
			case err != nil:
				return nil, fmt.Errorf("reading ConfigMap %s: %w", ref.Name, err)
			}
			maps[ref.Name] = cm
		}
		switch code, ok := "", false; {
		case cm == nil:
			src.Err = fmt.Sprintf("ConfigMap %s not found", ref.Name)
		default:
			if code, ok = cm.Data[ref.Key]; !ok {
				src.Err = fmt.Sprintf("ConfigMap %s has no key %s", ref.Name, ref.Key)
			}
			src.Code = code
		}
		out = append(out, src)
	}
	return out, nil
}

// listFunctions asks every member that reported its view for FUNCTION
// LIST WITHCODE, in parallel; a node that does not answer has nil
// Libraries.
func (r *RedisClusterReconciler) listFunctions(ctx context.Context, st *state, members []topology.Member) []topology.NodeFunctions {
	nodes := make([]topology.NodeFunctions, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		if m.View == nil {
			nodes[i] = topology.NodeFunctions{Pod: m.Pod}
			continue
		}
		me, _ := m.View.Myself()
		nodes[i] = topology.NodeFunctions{Pod: m.Pod, Master: me.IsMaster()}
		wg.Go(func() {
			libs, err := r.withFunctionAdmin(ctx, st, m, func(ctx context.Context, fa clusteradmin.FunctionAdmin) (map[string]string, error) {
				return fa.FunctionList(ctx)
			})
			if err != nil {
				st.log.V(1).Info("functions: FUNCTION LIST failed", "pod", m.Pod, "error", err.Error())
				return
			}
			hashes := make(map[string]string, len(libs))
			for name, code := range libs {
				hashes[name] = topology.CodeHash(code)
			}
			nodes[i].Libraries = hashes
		})
	}
	wg.Wait()
	return nodes
}

// loadFunctions sends the planned FUNCTION LOAD REPLACEs, the libraries
// of one master in order, the masters in parallel. A load that succeeds is
// recorded in nodes; the node's error of a load that fails is returned by
// library name.
func (r *RedisClusterReconciler) loadFunctions(ctx context.Context, st *state, members []topology.Member, loads []topology.FunctionLoad, nodes []topology.NodeFunctions) map[string]string {
	byPod := map[string][]topology.Library{}
	for _, l := range loads {
		byPod[l.Pod] = append(byPod[l.Pod], l.Library)
	}
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		errs    = map[string]string{}
		loaded  = map[string][]string{} // library -> pods
		nodeIdx = map[string]int{}
	)
	for i, n := range nodes {
		nodeIdx[n.Pod] = i
	}
	for _, m := range members {
		libs := byPod[m.Pod]
		if len(libs) == 0 {
			continue
		}
		wg.Go(func() {
			for _, lib := range libs {
				_, err := r.withFunctionAdmin(ctx, st, m, func(ctx context.Context, fa clusteradmin.FunctionAdmin) (map[string]string, error) {
					return nil, fa.FunctionLoad(ctx, lib.Code)
				})
				mu.Lock()
				var refused redis.Error
				switch {
				case err == nil:
					nodes[nodeIdx[m.Pod]].Libraries[lib.Name] = lib.SHA256
					loaded[lib.Name] = append(loaded[lib.Name], m.Pod)
				case errors.As(err, &refused):
					// Without the pod: the text stays the same from one
					// reconcile to the next, whichever master answers first.
					errs[lib.Name] = "FUNCTION LOAD: " + refused.Error()
				default:
					st.log.V(1).Info("functions: FUNCTION LOAD not sent", "pod", m.Pod, "library", lib.Name, "error", err.Error())
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, lib := range sortedKeys(loaded) {
		pods := loaded[lib]
		slices.Sort(pods)
		msg := fmt.Sprintf("FUNCTION LOAD REPLACE %s on %d masters (%s)", lib, len(pods), strings.Join(pods, ", "))
		st.log.Info("loaded function library", "library", lib, "pods", pods)
		r.Recorder.Event(st.rc, corev1.EventTypeNormal, eventFunctionLoaded, msg)
	}
	return errs
}

// withFunctionAdmin runs f on a connection to m, if its client can load
// functions.
func (r *RedisClusterReconciler) withFunctionAdmin(ctx context.Context, st *state, m topology.Member,
	f func(context.Context, clusteradmin.FunctionAdmin) (map[string]string, error)) (map[string]string, error) {
	c := r.dial(st)(m.Addr(), st.auth)
	defer c.Close() //nolint:errcheck // the replies are what count
	fa, ok := c.(clusteradmin.FunctionAdmin)
	if !ok {
		return nil, fmt.Errorf("the client of %s cannot load functions", m.Pod)
	}
	cctx, cancel := context.WithTimeout(ctx, nodeTimeout)
	defer cancel()
	return f(cctx, fa)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
