package backup

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

func member(pod string, shard int, ip string, me clusteradmin.Node, offset int64, link string) topology.Member {
	me.Flags = append(me.Flags, clusteradmin.FlagMyself)
	return topology.Member{Pod: pod, Shard: shard, IP: ip, Port: 6379, View: &clusteradmin.NodeView{
		Nodes: []clusteradmin.Node{me}, Info: clusteradmin.ClusterInfo{State: clusteradmin.StateOK},
		Replication: clusteradmin.Replication{Offset: offset, MasterLinkStatus: link}}}
}

func master(id string, first, last int) clusteradmin.Node {
	return clusteradmin.Node{ID: id, Flags: []string{clusteradmin.FlagMaster}, Slots: []clusteradmin.SlotRange{{First: first, Last: last}}, ConfigEpoch: 1}
}

func replica(id, of string) clusteradmin.Node {
	return clusteradmin.Node{ID: id, Flags: []string{clusteradmin.FlagReplica}, MasterID: of}
}

func TestChooseSources(t *testing.T) {
	healthy := func() []topology.Member {
		return []topology.Member{
			member("p0", 0, "10.0.0.1", master("a", 0, 8191), 5000, ""),
			member("p0r", 0, "10.0.0.2", replica("ar", "a"), 4990, "up"),
			member("p1", 1, "10.0.0.3", master("b", 8192, 16383), 9<<20, ""),
			member("p1r", 1, "10.0.0.4", replica("br", "b"), 1, "up"), // far behind
		}
	}
	src, why := ChooseSources(healthy(), false)
	if why != "" || len(src) != 2 || src[0].Pod != "p0" || src[1].Pod != "p1" || src[0].MasterID != "a" {
		t.Fatalf("masters: %+v %q", src, why)
	}
	src, why = ChooseSources(healthy(), true)
	if why != "" || src[0].Pod != "p0r" || src[0].Addr != "10.0.0.2:6379" || src[1].Pod != "p1" {
		t.Fatalf("from replicas (in sync for a, none for b): %+v %q", src, why)
	}

	open := healthy()
	me, _ := open[2].View.Myself()
	me.MigratingSlotsTo = map[int]string{9000: "a"}
	open[2].View.Nodes[0] = me
	if _, why := ChooseSources(open, false); !strings.HasPrefix(why, "slots are moving") || !strings.Contains(why, "[9000->-a]") {
		t.Errorf("a MIGRATING slot: %q", why)
	}
	down := healthy()
	down[3].View = nil
	if _, why := ChooseSources(down, false); !strings.Contains(why, "p1r does not answer") {
		t.Errorf("a node that does not answer: %q", why)
	}
	partial := healthy()[:2]
	if _, why := ChooseSources(partial, false); !strings.Contains(why, "8192 of 16384") {
		t.Errorf("slots without a master: %q", why)
	}

	before, _ := ChooseSources(healthy(), false)
	after, _ := ChooseSources(healthy(), false)
	if d := SlotMapChanged(before, after); d != "" {
		t.Errorf("same map: %q", d)
	}
	after[1].ConfigEpoch++
	if d := SlotMapChanged(before, after); d == "" {
		t.Error("a bumped epoch went unnoticed")
	}
}

func TestChooseReplicationSource(t *testing.T) {
	replicas := []ReplicaLink{{Pod: "n1", Synced: false}, {Pod: "n2", Synced: true, LagBytes: 2 << 20}, {Pod: "n3", Synced: true, LagBytes: 10}}
	for _, tc := range []struct {
		name        string
		replicas    []ReplicaLink
		fromReplica bool
		want        string
	}{
		{"master asked", replicas, false, "n0"},
		{"the first replica in sync and close", replicas, true, "n3"},
		{"no replica in sync: the master", replicas[:2], true, "n0"},
		{"no replica", nil, true, "n0"},
	} {
		if got := ChooseReplicationSource("n0", tc.replicas, tc.fromReplica); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestArchiveMasters: each shard's master while the slot map is the
// backup's; the change named otherwise.
func TestArchiveMasters(t *testing.T) {
	shards := []ManifestShard{{Shard: 0, Slots: []string{"0-8191"}}, {Shard: 1, Slots: []string{"8192-16383"}}}
	now := []Source{{Shard: 1, Addr: "b:6379", Slots: []clusteradmin.SlotRange{{First: 8192, Last: 16383}}},
		{Shard: 0, Addr: "a:6379", Slots: []clusteradmin.SlotRange{{First: 0, Last: 8191}}}}
	if addrs, why := ArchiveMasters(shards, now); why != "" || addrs[0] != "a:6379" || addrs[1] != "b:6379" {
		t.Errorf("%v %q", addrs, why)
	}
	moved := slices.Clone(now)
	moved[0].Slots = []clusteradmin.SlotRange{{First: 8000, Last: 16383}}
	if _, why := ArchiveMasters(shards, moved); !strings.Contains(why, "shard 1 serves slots 8000-16383") {
		t.Errorf("a moved slot range: %q", why)
	}
	if _, why := ArchiveMasters(shards, now[:1]); why == "" {
		t.Error("a missing master")
	}
	if s, err := ShardSlots(ManifestShard{Slots: []string{"3", "5-7"}}); err != nil || fmt.Sprint(s) != "[3 5 6 7]" {
		t.Errorf("%v %v", s, err)
	}
}
