package controllers

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

func view(id, masterID, link string, offset int64, state string, slots ...clusteradmin.SlotRange) *clusteradmin.NodeView {
	me := clusteradmin.Node{ID: id, Flags: []string{clusteradmin.FlagMyself, clusteradmin.FlagMaster}, Slots: slots}
	repl := clusteradmin.Replication{Role: "master", Offset: offset}
	if masterID != "" {
		me.Flags = []string{clusteradmin.FlagMyself, clusteradmin.FlagReplica}
		me.MasterID = masterID
		repl = clusteradmin.Replication{Role: "slave", MasterLinkStatus: link, Offset: offset}
	}
	assigned := 0
	if state == clusteradmin.StateOK {
		assigned = clusteradmin.SlotCount
	}
	return &clusteradmin.NodeView{Nodes: []clusteradmin.Node{me}, Info: clusteradmin.ClusterInfo{State: state, SlotsAssigned: assigned}, Replication: repl}
}

// TestSummarizeNodes checks the shard view of status against hand-made views:
// who is master, which replicas are linked, how far behind they are.
func TestSummarizeNodes(t *testing.T) {
	rc := newCluster("ns", "sum")
	rc.Spec.Masters, rc.Spec.ReplicasPerMaster = 3, 1
	members := []topology.Member{
		{Pod: "sum-shard-0-0", Shard: 0, View: view("a0", "", "", 1000, "ok", clusteradmin.SlotRange{First: 0, Last: 5460})},
		{Pod: "sum-shard-0-1", Shard: 0, Ordinal: 1, View: view("a1", "a0", "up", 900, "ok")},
		// Shard 1 after a failover: ordinal 1 is the master.
		{Pod: "sum-shard-1-0", Shard: 1, View: view("b0", "b1", "down", 50, "ok")},
		{Pod: "sum-shard-1-1", Shard: 1, Ordinal: 1, View: view("b1", "", "", 70, "ok", clusteradmin.SlotRange{First: 5461, Last: 10922})},
		// Shard 2: the replica did not answer.
		{Pod: "sum-shard-2-0", Shard: 2, View: view("c0", "", "", 5, "fail", clusteradmin.SlotRange{First: 10923, Last: 16383})},
		{Pod: "sum-shard-2-1", Shard: 2, Ordinal: 1},
	}
	s := summarizeNodes(v1alpha1.RedisClusterStatus{ObservedGeneration: 7}, rc, members)

	if s.ObservedGeneration != 7 {
		t.Error("summarizeNodes must keep the rest of the status")
	}
	if s.ReadyMasters != 3 || s.ReadyReplicas != 1 || s.ClusterState != "fail" || s.SlotsAssigned != 0 {
		t.Errorf("counts: masters %d replicas %d state %q slots %d", s.ReadyMasters, s.ReadyReplicas, s.ClusterState, s.SlotsAssigned)
	}
	if len(s.Shards) != 3 {
		t.Fatalf("shards %+v", s.Shards)
	}
	sh0 := s.Shards[0]
	if sh0.Name != "sum-shard-0" || sh0.Master.Pod != "sum-shard-0-0" || sh0.Master.NodeID != "a0" || sh0.Master.Slots[0] != "0-5460" ||
		sh0.Replicas[0].LinkState != "connected" || sh0.Replicas[0].LagBytes != 100 {
		t.Errorf("shard 0: %+v %+v", sh0.Master, sh0.Replicas)
	}
	sh1 := s.Shards[1]
	if sh1.Master.Pod != "sum-shard-1-1" || sh1.Replicas[0].Pod != "sum-shard-1-0" || sh1.Replicas[0].LinkState != "disconnected" ||
		sh1.Replicas[0].LagBytes != 0 {
		t.Errorf("shard 1: %+v %+v", sh1.Master, sh1.Replicas)
	}
	sh2 := s.Shards[2]
	if sh2.Replicas[0].NodeID != "" || sh2.Replicas[0].LinkState != "disconnected" {
		t.Errorf("shard 2 replica that did not answer: %+v", sh2.Replicas[0])
	}
}

// TestSummarizeNodesStateOfDesiredMembers checks that the cluster state in
// status is that of the members Ready looks at: a drained shard's node that
// is being forgotten (found by the Day-2 e2e: Ready=True next to
// clusterState fail during a scale in) does not count.
func TestSummarizeNodesStateOfDesiredMembers(t *testing.T) {
	rc := newCluster("ns", "sum")
	rc.Spec.Masters, rc.Spec.ReplicasPerMaster = 3, 0
	members := []topology.Member{
		{Pod: "sum-shard-0-0", Shard: 0, View: view("a0", "", "", 1, "ok", clusteradmin.SlotRange{First: 0, Last: 5460})},
		{Pod: "sum-shard-1-0", Shard: 1, View: view("b0", "", "", 1, "ok", clusteradmin.SlotRange{First: 5461, Last: 10922})},
		{Pod: "sum-shard-2-0", Shard: 2, View: view("c0", "", "", 1, "ok", clusteradmin.SlotRange{First: 10923, Last: 16383})},
		{Pod: "sum-shard-3-0", Shard: 3, View: view("d0", "", "", 1, "fail")},
	}
	s := summarizeNodes(v1alpha1.RedisClusterStatus{}, rc, members)
	if s.ClusterState != clusteradmin.StateOK || s.SlotsAssigned != clusteradmin.SlotCount {
		t.Errorf("state %q slots %d, want ok and all slots (the leaving shard 3 does not count)", s.ClusterState, s.SlotsAssigned)
	}
	if len(s.Shards) != 4 {
		t.Errorf("the leaving shard is still shown: %+v", s.Shards)
	}
}

// TestWriteConditionsKeepsTransitionTimes checks that writing the same
// outcome twice changes nothing, so the status patch is skipped.
func TestWriteConditionsKeepsTransitionTimes(t *testing.T) {
	rc := newCluster("ns", "cond")
	rc.Generation = 3
	o := outcome{progressReason: v1alpha1.ReasonWaitingForPods, progressMessage: "0 of 6 pods ready"}
	writeConditions(rc, o, false)
	before := rc.DeepCopy()
	writeConditions(rc, o, false)
	if !statusEqual(before.Status, rc.Status) {
		t.Errorf("second write changed the status:\n%+v\n%+v", before.Status, rc.Status)
	}
	if c := rc.Condition(v1alpha1.ConditionReady); c.Status != metav1.ConditionFalse || c.Reason != "WaitingForPods" || c.ObservedGeneration != 3 {
		t.Errorf("Ready %+v", c)
	}

	writeConditions(rc, outcome{ready: true}, false)
	for ct, want := range map[v1alpha1.ConditionType]metav1.ConditionStatus{
		v1alpha1.ConditionReady: metav1.ConditionTrue, v1alpha1.ConditionProgressing: metav1.ConditionFalse, v1alpha1.ConditionDegraded: metav1.ConditionFalse,
	} {
		if c := rc.Condition(ct); c.Status != want {
			t.Errorf("%s = %s, want %s", ct, c.Status, want)
		}
	}
	writeConditions(rc, outcome{degradedReason: v1alpha1.ReasonFormationBlocked, degradedMessage: "x"}, false)
	if c := rc.Condition(v1alpha1.ConditionDegraded); c.Status != metav1.ConditionTrue || c.Reason != "FormationBlocked" {
		t.Errorf("Degraded %+v", c)
	}
	if c := rc.Condition(v1alpha1.ConditionReady); c.Status != metav1.ConditionFalse {
		t.Errorf("Ready %+v", c)
	}
	paused := rc.DeepCopy()
	writeConditions(rc, outcome{ready: true}, true)
	if !statusEqual(paused.Status, rc.Status) {
		t.Error("a paused cluster's conditions changed")
	}
}

func TestPodOperationInProgressHoldsMigrations(t *testing.T) {
	tests := []struct {
		name   string
		status v1alpha1.RedisClusterStatus
		want   bool
	}{
		{"nothing going on", v1alpha1.RedisClusterStatus{}, false},
		{"a dry-run plan is no pod operation", v1alpha1.RedisClusterStatus{Migration: &v1alpha1.MigrationStatus{DryRun: true}}, false},
		{"a rolling update", v1alpha1.RedisClusterStatus{Rollout: &v1alpha1.RolloutStatus{UpdatedPods: 2, TotalPods: 6}}, true},
		{"a planned failover settling", v1alpha1.RedisClusterStatus{Failovers: []v1alpha1.PendingFailover{{Pod: "c-shard-0-1", Reason: "Switchover"}}}, true},
	}
	for _, tt := range tests {
		if got := podOperationInProgress(tt.status); got != tt.want {
			t.Errorf("%s: podOperationInProgress = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestStatusFromAStaleCopyIsRefused: a reconcile that started from a copy
// older than the stored object must not write its status over the newer
// one (a merge patch replaces the whole conditions list).
func TestStatusFromAStaleCopyIsRefused(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	rc := newCluster(ns, "stale")
	if err := testEnv.c.Create(ctx, rc); err != nil {
		t.Fatal(err)
	}
	stale := rc.DeepCopy()

	newer := rc.DeepCopy()
	newer.Status.Rollout = &v1alpha1.RolloutStatus{UpdatedPods: 1, TotalPods: 6}
	newer.SetCondition(v1alpha1.ConditionRollingUpdate, metav1.ConditionTrue, v1alpha1.ReasonRollingUpdate, "1 of 6 pods updated")
	if err := testEnv.c.Status().Update(ctx, newer); err != nil {
		t.Fatal(err)
	}

	r := &RedisClusterReconciler{Client: testEnv.c}
	changed := stale.DeepCopy()
	changed.SetCondition(v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonWaitingForPods, "5 of 6 pods ready")
	if err := r.patchStatus(ctx, stale, changed); !apierrors.IsConflict(err) {
		t.Fatalf("patching status from a stale copy: want a conflict, got %v", err)
	}
	got := &v1alpha1.RedisCluster{}
	if err := testEnv.c.Get(ctx, client.ObjectKeyFromObject(rc), got); err != nil {
		t.Fatal(err)
	}
	if ru := got.Condition(v1alpha1.ConditionRollingUpdate); got.Status.Rollout == nil || ru == nil || ru.Status != metav1.ConditionTrue {
		t.Errorf("the newer status was overwritten: rollout %+v, RollingUpdate %+v", got.Status.Rollout, ru)
	}

	fresh := got.DeepCopy()
	fresh.SetCondition(v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonWaitingForPods, "5 of 6 pods ready")
	if err := r.patchStatus(ctx, got, fresh); err != nil {
		t.Fatalf("patching status from the current copy: %v", err)
	}
}
