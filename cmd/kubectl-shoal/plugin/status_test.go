package plugin

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var spaces = regexp.MustCompile(` {2,}`)

var testNow = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

// sampleCluster is a 2-master, 1-replica cluster in the middle of a scale
// out, with a rollout and a finished switchover.
func sampleCluster() *v1alpha1.RedisCluster {
	started := metav1.NewTime(testNow.Add(-90 * time.Second))
	return &v1alpha1.RedisCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "sample", Namespace: "ns", Generation: 3,
			Annotations: map[string]string{v1alpha1.PausedAnnotation: "true"}},
		Spec: v1alpha1.RedisClusterSpec{Masters: 3, ReplicasPerMaster: 1},
		Status: v1alpha1.RedisClusterStatus{
			ObservedGeneration: 3, ClusterState: "ok", SlotsAssigned: 16384, ReadyMasters: 2, ReadyReplicas: 1,
			Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "ClusterOK",
				Message: "all slots served", LastTransitionTime: metav1.NewTime(testNow.Add(-3 * time.Hour))}},
			Shards: []v1alpha1.ShardStatus{
				{Name: "sample-shard-0", Master: &v1alpha1.MasterStatus{Pod: "sample-shard-0-0", Slots: []string{"0-8191"}},
					Replicas: []v1alpha1.ReplicaStatus{{Pod: "sample-shard-0-1", LinkState: "connected", LagBytes: 2048}}},
				{Name: "sample-shard-1", Master: &v1alpha1.MasterStatus{Pod: "sample-shard-1-0", Slots: []string{"8192-16383"}},
					Replicas: []v1alpha1.ReplicaStatus{{Pod: "sample-shard-1-1", LinkState: "disconnected"}}},
			},
			Migration: &v1alpha1.MigrationStatus{Reason: v1alpha1.MigrationScaleOut, TotalSlots: 400, MovedSlots: 100,
				StartTime: &started, Moves: []v1alpha1.SlotMove{{FromShard: 0, ToShard: 2, Slots: []string{"0-199"}}}},
			Rollout:        &v1alpha1.RolloutStatus{UpdatedPods: 1, TotalPods: 4, Shards: []string{"sample-shard-1"}, Message: "waiting for sample-shard-1-1 to sync"},
			LastSwitchover: &v1alpha1.SwitchoverStatus{Pod: "sample-shard-0-1", Phase: "Succeeded", Message: "master now"},
		},
	}
}

func pod(name, shard string, phase corev1.PodPhase, ready bool, restarts int32) corev1.Pod {
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"redis.shoal.dev/shard": shard}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "node"}}},
		Status:     corev1.PodStatus{Phase: phase, ContainerStatuses: []corev1.ContainerStatus{{Name: "node", Ready: ready, RestartCount: restarts}}},
	}
}

func TestStatusTable(t *testing.T) {
	pods := []corev1.Pod{
		pod("sample-shard-0-0", "0", corev1.PodRunning, true, 0),
		pod("sample-shard-0-1", "0", corev1.PodRunning, true, 2),
		pod("sample-shard-1-0", "1", corev1.PodRunning, true, 0),
		pod("sample-shard-2-0", "2", corev1.PodPending, false, 0), // not in status yet
	}
	stats := map[string]nodeStats{
		"sample-shard-0-0": {UsedMemory: 3 << 20, MaxMemory: 12 << 20, Role: "master", Keys: 1200},
		"sample-shard-0-1": {UsedMemory: 1536, Role: "master", Keys: 1200}, // says master: status is stale
	}
	var out bytes.Buffer
	if err := statusTable(&out, sampleCluster(), pods, stats, testNow); err != nil {
		t.Fatal(err)
	}
	// Columns are aligned with runs of spaces; compare with single spaces.
	got := spaces.ReplaceAllString(out.String(), " ")
	for _, want := range []string{
		"RedisCluster ns/sample: cluster_state ok, slots 16384/16384, masters 2/3 ready, replicas 1/3 ready, PAUSED\n",
		"Ready True ClusterOK 3h all slots served",
		"sample-shard-0 sample-shard-0-0 master 0-8191 (8192) - - 1200 3.0MiB/12.0MiB (25%) Running 1/1\n",
		" sample-shard-0-1 replica (node says master) - connected 2.0KiB 1200 1.5KiB Running 1/1, 2 restarts\n",
		" sample-shard-1-1 replica - disconnected 0B - - missing\n", // no pod
		"shard 2 sample-shard-2-0 - - - - - - Pending 0/1\n",
		"Migration ScaleOut: 100/400 slots moved (25.0%), started 90s ago\n",
		" shard 0 -> shard 2: 0-199\n",
		"Rollout: 1/4 pods updated, restarting sample-shard-1: waiting for sample-shard-1-1 to sync\n",
		"Last switchover: to sample-shard-0-1 Succeeded: master now\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("status lacks %q:\n%s", want, got)
		}
	}
	// Rows come in status order, then the pods status does not name.
	order := []string{"sample-shard-0-0", "sample-shard-0-1", "sample-shard-1-0", "sample-shard-1-1", "sample-shard-2-0"}
	last := -1
	for _, p := range order {
		i := strings.Index(got, p+" ")
		if i <= last {
			t.Errorf("row %s out of order", p)
		}
		last = i
	}
}

func TestStatusTableNotFormed(t *testing.T) {
	rc := &v1alpha1.RedisCluster{ObjectMeta: metav1.ObjectMeta{Name: "new", Namespace: "ns", Generation: 2},
		Spec: v1alpha1.RedisClusterSpec{Masters: 3, ReplicasPerMaster: 1}, Status: v1alpha1.RedisClusterStatus{ObservedGeneration: 1}}
	var out bytes.Buffer
	if err := statusTable(&out, rc, nil, nil, testNow); err != nil {
		t.Fatal(err)
	}
	if want := "cluster_state not formed, slots 0/16384, masters 0/3 ready, replicas 0/3 ready (status of generation 1, spec is 2)\n"; !strings.Contains(out.String(), want) {
		t.Errorf("got %q, want %q", out.String(), want)
	}
	if strings.Contains(out.String(), "Migration") || strings.Contains(out.String(), "CONDITION") {
		t.Errorf("sections without data printed:\n%s", out.String())
	}
}

func TestSlotSummary(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{nil, "none"},
		{[]string{"0-5460"}, "0-5460 (5461)"},
		{[]string{"0-9", "12", "20-29", "40", "50-51"}, "0-9,12,20-29 +2 ranges (24)"},
	} {
		if got := slotSummary(c.in); got != c.want {
			t.Errorf("slotSummary(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestPickSwitchoverTarget(t *testing.T) {
	rc := sampleCluster()
	rc.Status.Shards[0].Replicas = append(rc.Status.Shards[0].Replicas,
		v1alpha1.ReplicaStatus{Pod: "sample-shard-0-2", LinkState: "connected", LagBytes: 10},
		v1alpha1.ReplicaStatus{Pod: "sample-shard-0-3", LinkState: "disconnected"})
	if got, err := pickSwitchoverTarget(rc, 0); err != nil || got != "sample-shard-0-2" {
		t.Errorf("shard 0: %q, %v; want the connected replica with the least lag", got, err)
	}
	if _, err := pickSwitchoverTarget(rc, 1); err == nil {
		t.Error("shard 1 has only a disconnected replica: want an error")
	}
	if _, err := pickSwitchoverTarget(rc, 5); err == nil {
		t.Error("no shard 5: want an error")
	}
	if _, err := pickSwitchoverTarget(rc, -1); err == nil {
		t.Error("no shard: want an error")
	}
}
