package replication

import (
	"slices"
	"testing"
)

func master(pod string, ordinal int, offset int64) Node {
	return Node{Pod: pod, Ordinal: ordinal, Hosts: []string{pod + ".h", "10.0.0." + pod[len(pod)-1:]}, Ready: true, Updated: true,
		Reachable: true, Info: Info{Role: "master", Offset: offset}}
}

func replica(pod string, ordinal int, of string, offset int64, up bool) Node {
	n := master(pod, ordinal, 0)
	n.Info = Info{Role: "slave", MasterHost: of + ".h", MasterPort: 6379, LinkUp: up, Offset: offset}
	return n
}

func sentinels(hosts ...string) []Sentinel {
	var out []Sentinel
	for i, h := range hosts {
		out = append(out, Sentinel{Pod: "s-" + string(rune('0'+i)), Reachable: h != "-", MasterHost: map[bool]string{true: "", false: h}[h == "-"]})
	}
	return out
}

func TestParseInfoReplication(t *testing.T) {
	in := ParseInfo("# Replication\r\nrole:slave\r\nmaster_host:n-0.h\r\nmaster_port:6379\r\nmaster_link_status:up\r\n" +
		"master_sync_in_progress:0\r\nslave_repl_offset:1234\r\nmaster_repl_offset:1234\r\n")
	if in.Role != "slave" || in.MasterHost != "n-0.h" || in.MasterPort != 6379 || !in.LinkUp || in.SyncInProgress || in.Offset != 1234 {
		t.Fatalf("%+v", in)
	}
	m := ParseInfo("role:master\nconnected_slaves:2\nmaster_repl_offset:99\nbogus\nmaster_port:x\n")
	if m.Role != "master" || m.ConnectedReplicas != 2 || m.Offset != 99 || m.MasterPort != 0 {
		t.Fatalf("%+v", m)
	}
}

// The first master is the first pod when nothing was ever seeded and no
// sentinel answers; the others are pointed at it.
func TestPlanSeedsFirstPod(t *testing.T) {
	d := Plan(Input{Nodes: []Node{master("n-1", 1, 0), master("n-0", 0, 0), master("n-2", 2, 0)},
		Sentinels: sentinels("-", "-", "-"), WantReplicas: 3, WantSentinels: 3})
	if d.Master != "n-0" || d.Source != Seeded {
		t.Fatalf("master %q source %q problem %q", d.Master, d.Source, d.Problem)
	}
	if !slices.Equal(d.ReplicaOf, []string{"n-1", "n-2"}) {
		t.Fatalf("ReplicaOf %v", d.ReplicaOf)
	}
	if d.Roles["n-0"] != RoleMaster || d.Roles["n-1"] != "" {
		t.Fatalf("roles %v", d.Roles)
	}
}

// Once a master was known, an empty sentinel answer never reseeds: a
// restarted first pod must not take over.
func TestPlanNoReseedWhenMasterWasKnown(t *testing.T) {
	d := Plan(Input{Nodes: []Node{master("n-0", 0, 0), replica("n-1", 1, "n-0", 5, true)},
		Sentinels: sentinels("-", "-", "-"), WantReplicas: 2, WantSentinels: 3, KnownMaster: "n-1"})
	if d.Master != "" || d.Roles != nil || len(d.ReplicaOf) != 0 {
		t.Fatalf("%+v", d)
	}
}

// The master is what a majority of sentinels name; a minority is not
// enough; names are matched by host or IP.
func TestPlanFollowsSentinelMajority(t *testing.T) {
	nodes := []Node{replica("n-0", 0, "n-1", 90, true), master("n-1", 1, 100), replica("n-2", 2, "n-1", 100, true)}
	d := Plan(Input{Nodes: nodes, Sentinels: sentinels("n-1.h", "10.0.0.1", "n-0.h"), WantReplicas: 3, WantSentinels: 3, KnownMaster: "n-0"})
	if d.Master != "n-1" || d.Source != FromSentinels || d.AgreeingSentinels != 2 {
		t.Fatalf("%+v", d)
	}
	if d.Roles["n-1"] != RoleMaster || d.Roles["n-0"] != RoleReplica || d.Roles["n-2"] != RoleReplica {
		t.Fatalf("roles %v", d.Roles)
	}
	if len(d.ReplicaOf) != 0 || d.ReadyReplicas != 2 || d.Replicas[0].LagBytes != 10 {
		t.Fatalf("%+v", d)
	}
	if ok, why := d.Ready(Input{WantReplicas: 3, WantSentinels: 3}); ok {
		t.Fatalf("ready with 2 of 3 sentinels: %s", why)
	}
	minority := Plan(Input{Nodes: nodes, Sentinels: sentinels("n-1.h", "-", "n-0.h"), WantReplicas: 3, WantSentinels: 3, KnownMaster: "n-0"})
	if minority.Master != "" || minority.Roles != nil {
		t.Fatalf("minority decided: %+v", minority)
	}
}

// A master the sentinels name that still reports role:slave (a failover
// under way) is not confirmed: labels stay.
func TestPlanWaitsForPromotion(t *testing.T) {
	d := Plan(Input{Nodes: []Node{replica("n-0", 0, "n-1", 1, false), replica("n-1", 1, "n-0", 1, true)},
		Sentinels: sentinels("n-1.h", "n-1.h", "n-1.h"), WantReplicas: 2, WantSentinels: 3, KnownMaster: "n-0"})
	if d.Master != "" || d.Roles != nil {
		t.Fatalf("%+v", d)
	}
}

// A node following another master, or a syncing replica, is not labelled
// replica; the former is pointed at the master.
func TestPlanLabelsOnlySyncedReplicas(t *testing.T) {
	syncing := replica("n-2", 2, "n-0", 0, true)
	syncing.Info.SyncInProgress = true
	d := Plan(Input{Nodes: []Node{master("n-0", 0, 10), replica("n-1", 1, "n-9", 0, true), syncing},
		Sentinels: sentinels("n-0.h", "n-0.h", "n-0.h"), WantReplicas: 3, WantSentinels: 3, KnownMaster: "n-0"})
	if !slices.Equal(d.ReplicaOf, []string{"n-1"}) || d.Roles["n-2"] != "" || d.Roles["n-1"] != "" || d.ReadyReplicas != 0 {
		t.Fatalf("%+v", d)
	}
}

func TestRolloutReplicasFirstThenFailoverThenOldMaster(t *testing.T) {
	nodes := []Node{master("n-0", 0, 10), replica("n-1", 1, "n-0", 10, true), replica("n-2", 2, "n-0", 10, true)}
	for i := range nodes {
		nodes[i].Updated = false
	}
	in := Input{Nodes: nodes, Sentinels: sentinels("n-0.h", "n-0.h", "n-0.h"), WantReplicas: 3, WantSentinels: 3, KnownMaster: "n-0"}
	if a := NextRollout(Plan(in), nodes, 3); a.Kind != ActDeletePod || a.Pod != "n-1" {
		t.Fatalf("first step %+v", a)
	}
	// n-1 deleted and not made again yet: nothing else restarts.
	if a := NextRollout(Plan(Input{Nodes: []Node{nodes[0], nodes[2]}, Sentinels: in.Sentinels, WantReplicas: 3, WantSentinels: 3, KnownMaster: "n-0"}),
		[]Node{nodes[0], nodes[2]}, 3); a.Kind != ActWait {
		t.Fatalf("restarted while a pod is missing: %+v", a)
	}
	nodes[1].Updated = true
	nodes[2].Info.LinkUp = false
	if a := NextRollout(Plan(in), nodes, 3); a.Kind != ActWait {
		t.Fatalf("restarted while a replica is out of sync: %+v", a)
	}
	nodes[2].Info.LinkUp = true
	if a := NextRollout(Plan(in), nodes, 3); a.Kind != ActDeletePod || a.Pod != "n-2" {
		t.Fatalf("second step %+v", a)
	}
	nodes[2].Updated = true
	if a := NextRollout(Plan(in), nodes, 3); a.Kind != ActFailover {
		t.Fatalf("third step %+v", a)
	}
	// After the failover the old master is an outdated replica.
	nodes[0], nodes[1] = replica("n-0", 0, "n-1", 10, true), master("n-1", 1, 10)
	nodes[0].Updated = false
	nodes[2] = replica("n-2", 2, "n-1", 10, true)
	in.Sentinels = sentinels("n-1.h", "n-1.h", "n-1.h")
	if a := NextRollout(Plan(in), nodes, 3); a.Kind != ActDeletePod || a.Pod != "n-0" {
		t.Fatalf("last step %+v", a)
	}
	nodes[0].Updated = true
	if a := NextRollout(Plan(in), nodes, 3); a.Kind != ActNone {
		t.Fatalf("done %+v", a)
	}
}

func TestSwitchoverExcludesOtherReplicas(t *testing.T) {
	nodes := []Node{master("n-0", 0, 10), replica("n-1", 1, "n-0", 10, true), replica("n-2", 2, "n-0", 10, true)}
	d := Plan(Input{Nodes: nodes, Sentinels: sentinels("n-0.h", "n-0.h", "n-0.h"), WantReplicas: 3, WantSentinels: 3, KnownMaster: "n-0"})
	a, err := NextSwitchover(d, "n-2")
	if err != nil || a.Kind != ActFailover || !slices.Equal(a.Exclude, []string{"n-1"}) {
		t.Fatalf("%+v %v", a, err)
	}
	if a, err := NextSwitchover(d, "n-0"); err != nil || a.Kind != ActNone {
		t.Fatalf("to the master: %+v %v", a, err)
	}
	if _, err := NextSwitchover(d, "n-7"); err == nil {
		t.Fatal("switchover to a pod that is no replica accepted")
	}
}

func TestScaleInMovesMasterOffRemovedOrdinal(t *testing.T) {
	nodes := []Node{replica("n-0", 0, "n-2", 10, true), replica("n-1", 1, "n-2", 10, true), master("n-2", 2, 10)}
	d := Plan(Input{Nodes: nodes, Sentinels: sentinels("n-2.h", "n-2.h", "n-2.h"), WantReplicas: 1, WantSentinels: 3, KnownMaster: "n-2"})
	a, keep := NextScaleIn(d, nodes, 1)
	if a.Kind != ActFailover || keep != 3 || !slices.Equal(a.Exclude, []string{"n-1"}) {
		t.Fatalf("%+v keep %d", a, keep)
	}
	nodes = []Node{master("n-0", 0, 10), replica("n-1", 1, "n-0", 10, true), replica("n-2", 2, "n-0", 10, true)}
	d = Plan(Input{Nodes: nodes, Sentinels: sentinels("n-0.h", "n-0.h", "n-0.h"), WantReplicas: 1, WantSentinels: 3, KnownMaster: "n-0"})
	if a, keep := NextScaleIn(d, nodes, 1); a.Kind != ActNone || keep != 1 {
		t.Fatalf("%+v keep %d", a, keep)
	}
}

// While a failover runs, the leader sentinel names the promoted replica and
// the others the old master: the promoted replica, a master by now, must
// not be pointed back at the old one.
func TestPlanDoesNotUndoARunningFailover(t *testing.T) {
	nodes := []Node{master("n-0", 0, 10), master("n-1", 1, 0), replica("n-2", 2, "n-0", 10, true)}
	d := Plan(Input{Nodes: nodes, Sentinels: sentinels("n-0.h", "n-0.h", "n-1.h"), WantReplicas: 3, WantSentinels: 3, KnownMaster: "n-0"})
	if d.Master != "n-0" || len(d.ReplicaOf) != 0 {
		t.Fatalf("%+v", d)
	}
	d = Plan(Input{Nodes: nodes, Sentinels: sentinels("n-0.h", "n-0.h", "n-0.h"), WantReplicas: 3, WantSentinels: 3, KnownMaster: "n-0"})
	if !slices.Equal(d.ReplicaOf, []string{"n-1"}) {
		t.Fatalf("unanimous sentinels, fresh node: ReplicaOf %v", d.ReplicaOf)
	}
	// Promoted (offset > 0) while every sentinel still names the old
	// master (the leader waits for the promotion): left alone.
	nodes[1].Info.Offset = 10
	d = Plan(Input{Nodes: nodes, Sentinels: sentinels("n-0.h", "n-0.h", "n-0.h"), WantReplicas: 3, WantSentinels: 3, KnownMaster: "n-0"})
	if len(d.ReplicaOf) != 0 {
		t.Fatalf("promoted replica pointed back: %v", d.ReplicaOf)
	}
}

// A replica the sentinels had not discovered when they failed its master
// over stays behind the old master once that one is turned into a
// replica: it is pointed at the new master, but only once every sentinel
// names it (not while a failover may still be running).
func TestPlanRepointsReplicaChainedBehindOldMaster(t *testing.T) {
	nodes := []Node{replica("n-0", 0, "n-1", 80, true), master("n-1", 1, 80), replica("n-2", 2, "n-0", 80, true)}
	d := Plan(Input{Nodes: nodes, Sentinels: sentinels("n-1.h", "n-1.h", "n-1.h"), WantReplicas: 3, WantSentinels: 3, KnownMaster: "n-0"})
	if d.Master != "n-1" || !slices.Equal(d.ReplicaOf, []string{"n-2"}) {
		t.Fatalf("master %q ReplicaOf %v", d.Master, d.ReplicaOf)
	}
	if d.Roles["n-2"] != "" || d.ReadyReplicas != 1 {
		t.Fatalf("chained replica counted: %+v", d)
	}
	split := Plan(Input{Nodes: nodes, Sentinels: sentinels("n-1.h", "n-1.h", "n-0.h"), WantReplicas: 3, WantSentinels: 3, KnownMaster: "n-0"})
	if len(split.ReplicaOf) != 0 {
		t.Fatalf("repointed while the sentinels disagree: %v", split.ReplicaOf)
	}
	// The replica of a master that is not the sentinels' (the old master
	// still running as one) is left to the sentinels.
	nodes[0] = master("n-0", 0, 80)
	d = Plan(Input{Nodes: nodes, Sentinels: sentinels("n-1.h", "n-1.h", "n-1.h"), WantReplicas: 3, WantSentinels: 3, KnownMaster: "n-0"})
	if len(d.ReplicaOf) != 0 {
		t.Fatalf("replica of the old master repointed before the sentinels turned it: %v", d.ReplicaOf)
	}
}

// Ready waits until every sentinel lists every replica: a failover led by
// a sentinel that does not know a replica leaves that replica behind.
func TestReadyWaitsUntilSentinelsKnowEveryReplica(t *testing.T) {
	nodes := []Node{master("n-0", 0, 10), replica("n-1", 1, "n-0", 10, true), replica("n-2", 2, "n-0", 10, true)}
	ss := sentinels("n-0.h", "n-0.h", "n-0.h")
	for i := range ss {
		ss[i].Replicas = []string{"n-1.h", "10.0.0.2"}
	}
	ss[2].Replicas = []string{"n-1.h"}
	in := Input{Nodes: nodes, Sentinels: ss, WantReplicas: 3, WantSentinels: 3, KnownMaster: "n-0"}
	if ok, why := Plan(in).Ready(in); ok || why != "sentinel s-2 does not know replica n-2 yet" {
		t.Fatalf("ready %v: %s", ok, why)
	}
	ss[2].Replicas = append(ss[2].Replicas, "n-2.h")
	if ok, why := Plan(in).Ready(in); !ok {
		t.Fatalf("not ready: %s", why)
	}
}
