package cluster

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/bus"
)

func TestSimFormThreeMastersViaMeetAndAddSlots(t *testing.T) {
	s := newSim(t, 1)
	s.form(3, 0, true)
	for _, n := range s.nodes {
		if s.view(n) != s.view(s.nodes[0]) {
			t.Errorf("%s sees\n%s\nwant\n%s", n.name, s.view(n), s.view(s.nodes[0]))
		}
		if !strings.Contains(s.nodesText(n), n.name+" "+n.ip+":7000@17000 myself,master - 0 ") {
			t.Errorf("%s: myself line:\n%s", n.name, s.nodesText(n))
		}
	}
	want := "n1 master 10.0.0.1:7000 epoch=1 slots=0-5460\n" +
		"n2 master 10.0.0.2:7000 epoch=2 slots=5461-10921\n" +
		"n3 master 10.0.0.3:7000 epoch=3 slots=10922-16383"
	if got := s.view(s.nodes[2]); got != want {
		t.Fatalf("view\n%s\nwant\n%s", got, want)
	}
	for _, n := range s.nodes {
		info := n.m.ClusterInfo(0)
		if !strings.Contains(info, "cluster_state:ok\r\n") || !strings.Contains(info, "cluster_size:3\r\n") || !strings.Contains(info, "cluster_known_nodes:3\r\n") {
			t.Fatalf("%s: %s", n.name, info)
		}
	}
}

// masterOf returns the sim node that n's view says serves slot.
func (s *sim) ownerOf(n *simNode, slot int) *simNode {
	o, ok := n.m.SlotOwner(slot)
	if !ok {
		return nil
	}
	return s.byID(o.ID)
}

func (s *sim) isMasterEverywhere(n *simNode) bool {
	id := n.m.Myself().ID
	for _, o := range s.up() {
		i, ok := o.m.Node(id)
		if !ok || !i.IsMaster() {
			return false
		}
	}
	return true
}

func (s *sim) isReplicaOfEverywhere(n, master *simNode) bool {
	id, mid := n.m.Myself().ID, master.m.Myself().ID
	for _, o := range s.up() {
		i, ok := o.m.Node(id)
		if !ok || !i.IsReplica() || i.MasterID != mid {
			return false
		}
	}
	return true
}

// Spec: "PFAIL after node timeout", "FAIL when a majority of masters
// reported it", "FAIL broadcast", and a master in the minority side of a
// partition stops accepting queries after the node timeout.
func TestSimPartitionedMasterGoesPFailThenFailEverywhere(t *testing.T) {
	s := newSim(t, 2)
	s.form(3, 0, true)
	n1, n2, n3 := s.nodes[0], s.nodes[1], s.nodes[2]
	s.group[n3] = 1
	start := s.now
	pfail := s.runUntil("n3 PFAIL on n1 and n2", 10*time.Second, func() bool {
		return s.flagged(n3, bus.FlagPFail) || s.flagged(n3, bus.FlagFail)
	})
	if pfail < simNodeTimeout {
		t.Fatalf("PFAIL after %s, before the node timeout", pfail)
	}
	s.runUntil("n3 FAIL on n1 and n2", 10*time.Second, func() bool { return s.flagged(n3, bus.FlagFail) })
	t.Logf("FAIL after %s", s.now.Sub(start))
	// Without replicas, n3's slots are not covered: everyone is down.
	s.runUntil("cluster down on the majority", 5*time.Second, func() bool { return !n1.m.StateOK() && !n2.m.StateOK() })
	// The minority master turns its state to fail by itself.
	s.runUntil("n3 in the minority is down", 10*time.Second, func() bool { return !n3.m.StateOK() })
	if s.now.Sub(start) < simNodeTimeout {
		t.Fatal("minority master went down before the node timeout")
	}
	// Healing: the master with slots gets its FAIL cleared (nobody took its
	// slots), and the cluster is ok again everywhere.
	s.group[n3] = 0
	s.runUntil("FAIL cleared", 20*time.Second, func() bool {
		return !s.flagged(n3, bus.FlagFail) && !s.flagged(n3, bus.FlagPFail) && s.stateOK()
	})
	if !s.agree() {
		t.Fatal(s.dump())
	}
}

// Spec: replica election. The failing master's replica is elected by the
// majority of masters, with an epoch greater than any before, takes the
// slots; the old master rejoins as a replica of the new one.
func TestSimFailoverElectsExactlyOneReplica(t *testing.T) {
	s := newSim(t, 3)
	s.form(3, 2, true) // n1..n3 masters; n4,n7 replicate n1
	n1, n4, n7 := s.nodes[0], s.nodes[3], s.nodes[6]
	epochBefore := n4.m.CurrentEpoch()
	n1.offset = 1000
	s.run(time.Second) // replicas catch up
	s.kill(n1)
	var winner, loser *simNode
	s.runUntil("a replica of n1 is promoted everywhere", 30*time.Second, func() bool {
		for _, c := range [][2]*simNode{{n4, n7}, {n7, n4}} {
			if s.isMasterEverywhere(c[0]) {
				winner, loser = c[0], c[1]
				return true
			}
		}
		return false
	})
	s.runUntil("the other replica follows the winner", 20*time.Second, func() bool {
		return s.isReplicaOfEverywhere(loser, winner) && s.agree() && s.stateOK()
	})
	if s.isMasterEverywhere(loser) {
		t.Fatal("two masters")
	}
	wi, _ := winner.m.Node(winner.m.Myself().ID)
	if wi.ConfigEpoch <= epochBefore || wi.NumSlots != 5461 {
		t.Fatalf("winner epoch %d (before %d), %d slots", wi.ConfigEpoch, epochBefore, wi.NumSlots)
	}
	for _, n := range s.up() {
		if s.ownerOf(n, 0) != winner {
			t.Fatalf("%s: slot 0 served by %v", n.name, s.ownerOf(n, 0))
		}
	}
	// The old master comes back from its nodes.conf: it learns it lost its
	// slots (UPDATE) and becomes a replica of the winner.
	s.restart(n1, "")
	s.runUntil("old master rejoins as a replica", 30*time.Second, func() bool {
		return s.isReplicaOfEverywhere(n1, winner) && s.agree() && s.stateOK()
	})
	if n1.masterID != winner.m.Myself().ID {
		t.Fatalf("n1 replicates %q", s.name(n1.masterID))
	}
}

// Spec: configEpoch collision resolution. Masters created without
// SET-CONFIG-EPOCH all have configEpoch 0; they end up with distinct ones.
func TestSimEpochCollisionsResolveToDistinctEpochs(t *testing.T) {
	s := newSim(t, 4)
	for range 5 {
		s.addNode(nil)
	}
	for _, n := range s.nodes {
		rd, err := n.m.AddSlots(s.now, []int{int(n.seed % Slots)})
		s.must(n, rd, err)
	}
	for _, n := range s.nodes[1:] {
		s.meet(s.nodes[0], n)
	}
	s.runUntil("distinct config epochs everywhere", 60*time.Second, func() bool {
		if !s.agree() || len(s.nodes[0].m.Nodes()) != 5 {
			return false
		}
		seen := map[uint64]bool{}
		for _, i := range s.nodes[0].m.Nodes() {
			if seen[i.ConfigEpoch] {
				return false
			}
			seen[i.ConfigEpoch] = true
		}
		return true
	})
	var max uint64
	for _, i := range s.nodes[0].m.Nodes() {
		max = MaxUint64(max, i.ConfigEpoch)
	}
	for _, n := range s.nodes {
		if n.m.CurrentEpoch() < max {
			t.Fatalf("%s: currentEpoch %d < max configEpoch %d", n.name, n.m.CurrentEpoch(), max)
		}
	}
}

func MaxUint64(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// Pods get new IPs on restart: a node that comes back under the same node
// ID at a new address is updated in every peer, without any MEET.
func TestSimNodeAtNewAddressIsUpdatedEverywhere(t *testing.T) {
	s := newSim(t, 5)
	s.form(3, 1, true)
	n2 := s.nodes[1]
	s.kill(n2)
	s.run(500 * time.Millisecond)
	s.restart(n2, "10.0.1.2")
	s.runUntil("everyone knows n2 at 10.0.1.2", 30*time.Second, func() bool {
		for _, n := range s.up() {
			i, _ := n.m.Node(n2.m.Myself().ID)
			if n != n2 && i.IP != "10.0.1.2" {
				return false
			}
		}
		return s.stateOK()
	})
	if !s.isMasterEverywhere(n2) {
		t.Fatalf("n2 lost its role:\n%s", s.dump())
	}
	// Its replica follows it to the new address.
	rep := s.nodes[4]
	if !rep.replConnected || s.byID(rep.masterID) != n2 {
		t.Fatalf("replica of n2: connected=%v master=%s", rep.replConnected, s.name(rep.masterID))
	}
}

// Message loss and delay do not prevent convergence.
func TestSimConvergesDespiteMessageLoss(t *testing.T) {
	s := newSim(t, 6)
	s.drop = 0.2
	s.delayLo, s.delayHi = time.Millisecond, 80*time.Millisecond
	s.form(3, 1, false)
	s.kill(s.nodes[2])
	s.runUntil("failover despite loss", 60*time.Second, func() bool {
		return s.isMasterEverywhere(s.nodes[5]) && s.agree() && s.stateOK()
	})
	if s.dropped == 0 {
		t.Fatal("nothing was dropped")
	}
	t.Logf("sent %d, dropped %d", s.sent, s.dropped)
}

// Every pod of the cluster restarts at once with a new IP: no saved IP
// answers. Dialing the announced hostname (stable DNS names of a
// StatefulSet) lets the nodes find each other and correct every address,
// with no MEET.
func TestSimWholeClusterRestartsWithNewIPs(t *testing.T) {
	s := newSim(t, 31)
	s.configure = func(name string, c *Config) { c.Hostname = name + ".shoal.default.svc" }
	s.resolveHostnames = true
	s.form(3, 1, true)
	before := s.view(s.nodes[0])
	for _, n := range s.nodes {
		s.kill(n)
	}
	s.run(time.Second)
	for i, n := range s.nodes {
		s.restart(n, fmt.Sprintf("10.1.0.%d", i+1))
	}
	s.runUntil("every node at its new IP everywhere", 60*time.Second, func() bool {
		for _, n := range s.nodes {
			for _, o := range s.nodes {
				if i, _ := o.m.Node(n.m.Myself().ID); i.IP != n.ip {
					return false
				}
			}
		}
		return s.agree() && s.stateOK()
	})
	after := strings.ReplaceAll(s.view(s.nodes[0]), "10.1.0.", "10.0.0.")
	if after != before {
		t.Fatalf("configuration changed across the restart:\n%s\nwant\n%s", after, before)
	}
}
