package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
	corev1 "k8s.io/api/core/v1"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/controllers/topology"
)

// applyLiveConfig sets, with CONFIG SET, the live keys of the configuration
// (builders.LiveConfig) on every node whose CONFIG GET differs. Changing
// them restarts no pod: they are not in the pod template's hash. A node
// that refuses a value (a reply error) fails the step; a node that cannot
// be reached is tried again in the next reconcile. The
// ConfigMap carries them too, so a node that restarts later starts with
// them; CONFIG REWRITE is not needed.
func (r *RedisClusterReconciler) applyLiveConfig(ctx context.Context, op *podOps) (bool, error) {
	st := op.state
	want := builders.LiveConfig(st.desired)
	if len(want) == 0 {
		return false, nil
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	type result struct {
		pod string
		set map[string]string
		err error
	}
	var (
		mu      sync.Mutex
		results []result
		wg      sync.WaitGroup
	)
	// Nodes leaving (drained shards, ordinals a scale-down removes) are
	// left alone.
	for _, m := range topology.WithinShape(st.members, st.shape()) {
		if m.View == nil {
			continue
		}
		wg.Go(func() {
			set, err := r.setLiveConfig(ctx, st, m, want, keys)
			mu.Lock()
			defer mu.Unlock()
			results = append(results, result{pod: m.Pod, set: set, err: err})
		})
	}
	wg.Wait()

	var changed, failed, unreachable []string
	var firstErr error
	settings := map[string]bool{}
	for _, res := range results {
		var refused redis.Error
		switch {
		case res.err != nil && !errors.As(res.err, &refused):
			// Gone since its view was read (restarting): next time.
			st.log.V(1).Info("live configuration: node unreachable", "pod", res.pod, "error", res.err.Error())
			unreachable = append(unreachable, res.pod)
		case res.err != nil:
			failed = append(failed, res.pod)
			if firstErr == nil {
				firstErr = res.err
			}
		case len(res.set) > 0:
			changed = append(changed, res.pod)
			for k, v := range res.set {
				settings[fmt.Sprintf("%s=%q", k, v)] = true
			}
		}
	}
	slices.Sort(changed)
	if len(changed) > 0 {
		list := make([]string, 0, len(settings))
		for kv := range settings {
			list = append(list, kv)
		}
		sort.Strings(list)
		msg := fmt.Sprintf("CONFIG SET %s on %d nodes (%s)", strings.Join(list, " "), len(changed), strings.Join(changed, ", "))
		st.log.Info("applied live configuration", "settings", list, "pods", changed)
		r.Recorder.Event(st.rc, corev1.EventTypeNormal, eventConfigSet, msg)
		st.progress(v1alpha1.ReasonApplyingConfig, msg)
	}
	if firstErr != nil {
		return false, fmt.Errorf("live configuration on %s: %w", strings.Join(failed, ", "), firstErr)
	}
	return len(changed) > 0 || len(unreachable) > 0, nil
}

// setLiveConfig reads the live keys of one node and sets those that differ,
// in one CONFIG SET. It returns what it set.
func (r *RedisClusterReconciler) setLiveConfig(ctx context.Context, st *state, m topology.Member, want map[string]string, keys []string) (map[string]string, error) {
	c := r.dial(st)(m.Addr(), st.auth)
	defer c.Close() //nolint:errcheck // the replies are what count
	cctx, cancel := context.WithTimeout(ctx, nodeTimeout)
	defer cancel()
	got, err := c.ConfigGet(cctx, keys...)
	if err != nil {
		return nil, err
	}
	diff := topology.LiveConfigDiff(want, got)
	if len(diff) == 0 {
		return nil, nil
	}
	if err := c.ConfigSet(cctx, diff); err != nil {
		return nil, err
	}
	return diff, nil
}
