package controllers

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
)

// The operator's own metrics, per RedisCluster, in controller-runtime's
// registry (served on the manager's metrics port beside
// controller_runtime_*): reconcile errors, slot migration progress,
// rollout progress, failovers and switchovers seen. The labels are
// rediscluster_namespace and rediscluster (the scrape's own namespace
// label is the operator's). They are derived from the status each
// reconcile writes (observe), and from the failovers the rollout step
// sees complete (failoverSeen); the PrometheusRule's alerts and the
// chart's dashboard read them.

// Metric names.
const (
	metricReconcileErrors = "shoal_rediscluster_reconcile_errors_total"
	metricSlotsMoved      = "shoal_rediscluster_migration_slots_moved_total"
	metricSlotsRemaining  = "shoal_rediscluster_migration_slots_remaining"
	metricRolloutPending  = "shoal_rediscluster_rollout_pods_pending"
	metricRolloutUpdated  = "shoal_rediscluster_rollout_pods_updated"
	metricFailovers       = "shoal_rediscluster_failovers_total"
	// failoverByNodes is the reason of a master change the operator did
	// not ask for (the nodes elected a replica).
	failoverByNodes = "Failover"
)

// clusterMetrics are the operator's metric vectors.
type clusterMetrics struct {
	reconcileErrors *prometheus.CounterVec
	slotsMoved      *prometheus.CounterVec
	slotsRemaining  *prometheus.GaugeVec
	rolloutPending  *prometheus.GaugeVec
	rolloutUpdated  *prometheus.GaugeVec
	failovers       *prometheus.CounterVec
}

var clusterLabels = []string{builders.MetricLabelClusterNamespace, builders.MetricLabelCluster}

// newClusterMetrics makes the vectors and registers them in reg; vectors
// already registered there (another manager in the same process: tests)
// are shared.
func newClusterMetrics(reg prometheus.Registerer) *clusterMetrics {
	m := &clusterMetrics{
		reconcileErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricReconcileErrors,
			Help: "Reconciles of the RedisCluster that ended in an error, by step."}, append(clusterLabels, "step")),
		slotsMoved: prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricSlotsMoved,
			Help: "Hash slots the operator's migrations moved between shards."}, clusterLabels),
		slotsRemaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: metricSlotsRemaining,
			Help: "Hash slots the running migration has still to move (0 when none runs)."}, clusterLabels),
		rolloutPending: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: metricRolloutPending,
			Help: "Node pods waiting for a restart onto the current template (0 when no rollout runs)."}, clusterLabels),
		rolloutUpdated: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: metricRolloutUpdated,
			Help: "Node pods running the current template, during a rollout."}, clusterLabels),
		failovers: prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricFailovers,
			Help: "Master changes seen, by reason: Failover (elected by the nodes), RollingUpdate, Switchover, ScaleDown (asked for by the operator)."},
			append(clusterLabels, "reason")),
	}
	m.reconcileErrors = register(reg, m.reconcileErrors)
	m.slotsMoved = register(reg, m.slotsMoved)
	m.slotsRemaining = register(reg, m.slotsRemaining)
	m.rolloutPending = register(reg, m.rolloutPending)
	m.rolloutUpdated = register(reg, m.rolloutUpdated)
	m.failovers = register(reg, m.failovers)
	return m
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}

// observe records one reconcile of rc: its error (the step that failed,
// "" for none) and the status it went from (before) to (rc).
func (m *clusterMetrics) observe(before, rc *v1alpha1.RedisCluster, failedStep string) {
	if m == nil {
		return
	}
	l := []string{rc.Namespace, rc.Name}
	if failedStep != "" {
		m.reconcileErrors.WithLabelValues(rc.Namespace, rc.Name, failedStep).Inc()
	}
	// The counters exist at 0 from the first reconcile, so that the
	// dashboard's rate() and increase() of a cluster that never migrated
	// or failed over show 0, not "No data".
	m.slotsMoved.WithLabelValues(l...).Add(float64(max(slotsMovedBetween(before.Status.Migration, rc.Status.Migration), 0)))
	m.slotsRemaining.WithLabelValues(l...).Set(float64(slotsRemaining(rc.Status.Migration)))
	pending, updated := rolloutProgress(rc.Status.Rollout)
	m.rolloutPending.WithLabelValues(l...).Set(float64(pending))
	m.rolloutUpdated.WithLabelValues(l...).Set(float64(updated))
	m.failovers.WithLabelValues(rc.Namespace, rc.Name, failoverByNodes).Add(float64(unplannedMasterChanges(before.Status, rc.Status)))
}

// failoverSeen counts a failover the operator asked for that completed.
func (m *clusterMetrics) failoverSeen(rc *v1alpha1.RedisCluster, reason string) {
	if m == nil {
		return
	}
	m.failovers.WithLabelValues(rc.Namespace, rc.Name, reason).Inc()
}

// forget drops the series of a deleted RedisCluster.
func (m *clusterMetrics) forget(namespace, name string) {
	if m == nil {
		return
	}
	match := prometheus.Labels{builders.MetricLabelClusterNamespace: namespace, builders.MetricLabelCluster: name}
	m.reconcileErrors.DeletePartialMatch(match)
	m.slotsMoved.DeletePartialMatch(match)
	m.slotsRemaining.DeletePartialMatch(match)
	m.rolloutPending.DeletePartialMatch(match)
	m.rolloutUpdated.DeletePartialMatch(match)
	m.failovers.DeletePartialMatch(match)
}

// slotsRemaining is what a running (not dry-run) migration has left.
func slotsRemaining(m *v1alpha1.MigrationStatus) int32 {
	if m == nil || m.DryRun {
		return 0
	}
	return max(m.TotalSlots-m.MovedSlots, 0)
}

// slotsMovedBetween is how many slots moved from one status to the next:
// the growth of movedSlots within one migration (same start time), the
// new one's movedSlots when another started, and what was left when the
// migration ended (its plan done: status.migration is cleared once every
// move is made).
func slotsMovedBetween(before, after *v1alpha1.MigrationStatus) int32 {
	running := func(m *v1alpha1.MigrationStatus) bool { return m != nil && !m.DryRun }
	switch {
	case !running(before) && !running(after):
		return 0
	case !running(before):
		return after.MovedSlots
	case !running(after):
		return slotsRemaining(before)
	case sameMigration(before, after):
		return max(after.MovedSlots-before.MovedSlots, 0)
	default:
		return slotsRemaining(before) + after.MovedSlots
	}
}

func sameMigration(a, b *v1alpha1.MigrationStatus) bool {
	if a.StartTime == nil || b.StartTime == nil {
		return a.StartTime == nil && b.StartTime == nil && a.Reason == b.Reason
	}
	return a.StartTime.Equal(b.StartTime)
}

// rolloutProgress is the pods waiting for a restart and those done.
func rolloutProgress(r *v1alpha1.RolloutStatus) (pending, updated int32) {
	if r == nil {
		return 0, 0
	}
	return max(r.TotalPods-r.UpdatedPods, 0), r.UpdatedPods
}

// unplannedMasterChanges counts the shards whose master pod changed from
// one status to the next to a pod no failover of the operator's was sent
// to (before's status.failovers).
func unplannedMasterChanges(before, after v1alpha1.RedisClusterStatus) int {
	planned := map[string]bool{}
	for _, f := range before.Failovers {
		planned[f.Pod] = true
	}
	for _, f := range after.Failovers {
		planned[f.Pod] = true
	}
	was := map[string]string{}
	for _, s := range before.Shards {
		if s.Master != nil && s.Master.Pod != "" {
			was[s.Name] = s.Master.Pod
		}
	}
	n := 0
	for _, s := range after.Shards {
		if s.Master == nil || s.Master.Pod == "" {
			continue
		}
		if old, ok := was[s.Name]; ok && old != s.Master.Pod && !planned[s.Master.Pod] {
			n++
		}
	}
	return n
}
