package controllers

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/api/v1alpha1"
)

func TestSlotsMovedBetween(t *testing.T) {
	t0 := metav1.NewTime(time.Unix(100, 0))
	t1 := metav1.NewTime(time.Unix(200, 0))
	mig := func(start metav1.Time, total, moved int32) *v1alpha1.MigrationStatus {
		return &v1alpha1.MigrationStatus{StartTime: &start, TotalSlots: total, MovedSlots: moved}
	}
	for _, c := range []struct {
		name          string
		before, after *v1alpha1.MigrationStatus
		want          int32
	}{
		{"none", nil, nil, 0},
		{"started", nil, mig(t0, 100, 8), 8},
		{"progressed", mig(t0, 100, 8), mig(t0, 100, 24), 16},
		{"ended: the rest moved", mig(t0, 100, 96), nil, 4},
		{"another started", mig(t0, 100, 96), mig(t1, 50, 2), 6},
		{"dry run moves nothing", nil, &v1alpha1.MigrationStatus{DryRun: true, TotalSlots: 10, MovedSlots: 0}, 0},
	} {
		if got := slotsMovedBetween(c.before, c.after); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

func TestUnplannedMasterChanges(t *testing.T) {
	shard := func(master string) v1alpha1.ShardStatus {
		return v1alpha1.ShardStatus{Name: "c-shard-0", Master: &v1alpha1.MasterStatus{Pod: master}}
	}
	before := v1alpha1.RedisClusterStatus{Shards: []v1alpha1.ShardStatus{shard("c-shard-0-0")}}
	if n := unplannedMasterChanges(before, v1alpha1.RedisClusterStatus{Shards: []v1alpha1.ShardStatus{shard("c-shard-0-1")}}); n != 1 {
		t.Errorf("a replica elected by the nodes: %d", n)
	}
	before.Failovers = []v1alpha1.PendingFailover{{Pod: "c-shard-0-1", Reason: "RollingUpdate"}}
	if n := unplannedMasterChanges(before, v1alpha1.RedisClusterStatus{Shards: []v1alpha1.ShardStatus{shard("c-shard-0-1")}}); n != 0 {
		t.Errorf("a failover the operator sent: %d", n)
	}
	if n := unplannedMasterChanges(before, before); n != 0 {
		t.Errorf("no change: %d", n)
	}
}

// TestClusterMetricsObserve: one reconcile's status becomes the gauges
// and counters, and a deleted cluster's series go.
func TestClusterMetricsObserve(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newClusterMetrics(reg)
	before := newCluster("ns", "c")
	before.Status.Migration = &v1alpha1.MigrationStatus{StartTime: &metav1.Time{Time: time.Unix(1, 0)}, TotalSlots: 100, MovedSlots: 10}
	after := before.DeepCopy()
	after.Status.Migration.MovedSlots = 30
	after.Status.Rollout = &v1alpha1.RolloutStatus{UpdatedPods: 2, TotalPods: 6}
	m.observe(before, after, "statefulsets")
	m.failoverSeen(after, "Switchover")
	for _, c := range []struct {
		c    prometheus.Collector
		want float64
	}{
		{m.slotsMoved.WithLabelValues("ns", "c"), 20},
		{m.slotsRemaining.WithLabelValues("ns", "c"), 70},
		{m.rolloutPending.WithLabelValues("ns", "c"), 4},
		{m.rolloutUpdated.WithLabelValues("ns", "c"), 2},
		{m.reconcileErrors.WithLabelValues("ns", "c", "statefulsets"), 1},
		{m.failovers.WithLabelValues("ns", "c", "Switchover"), 1},
	} {
		if got := testutil.ToFloat64(c.c); got != c.want {
			t.Errorf("%v = %v, want %v", c.c, got, c.want)
		}
	}
	if n := testutil.CollectAndCount(reg, metricSlotsRemaining); n != 1 {
		t.Errorf("%d series of %s", n, metricSlotsRemaining)
	}
	// A cluster that never migrated nor failed over has its counters at 0
	// (the dashboard's rate() and increase() show 0, not "No data").
	calm := newCluster("ns", "calm")
	m.observe(calm, calm.DeepCopy(), "")
	for _, name := range []string{metricSlotsMoved, metricFailovers} {
		if n := testutil.CollectAndCount(reg, name); n < 2 {
			t.Errorf("%d series of %s: the calm cluster has none", n, name)
		}
	}
	if got := testutil.ToFloat64(m.failovers.WithLabelValues("ns", "calm", failoverByNodes)); got != 0 {
		t.Errorf("failovers of the calm cluster = %v", got)
	}
	m.forget("ns", "calm")
	// A second registration shares the vectors (two managers in a process).
	if m2 := newClusterMetrics(reg); m2.slotsMoved != m.slotsMoved {
		t.Error("a second newClusterMetrics made new vectors")
	}
	m.forget("ns", "c")
	if n := testutil.CollectAndCount(reg); n != 0 {
		t.Errorf("%d series left after forget", n)
	}
	var nilMetrics *clusterMetrics
	nilMetrics.observe(before, after, "") // records nothing, no panic
}
