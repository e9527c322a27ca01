package cluster

import (
	"strings"
	"testing"
	"time"
)

// The slot migration of the specification, driven as redis-cli --cluster
// reshard drives it: IMPORTING on the target, MIGRATING on the source,
// (keys move), SETSLOT NODE on the target and the source. The new owner's
// bumped configEpoch makes every node agree.
func TestSimSlotMigrationPropagates(t *testing.T) {
	s := newSim(t, 21)
	s.form(3, 1, true)
	n1, n2 := s.nodes[0], s.nodes[1]
	id1, id2 := n1.m.Myself().ID, n2.m.Myself().ID
	for _, slot := range []int{0, 1, 2} {
		rd, err := n2.m.SetSlot(s.now, slot, SetSlotImporting, id1)
		s.must(n2, rd, err)
		rd, err = n1.m.SetSlot(s.now, slot, SetSlotMigrating, id2)
		s.must(n1, rd, err)
	}
	// The replicas of n1 and n2 learn the open slots from their masters.
	s.run(2 * time.Second)
	if got := s.nodesText(s.nodes[3]); strings.Contains(got, "[") {
		t.Fatalf("open slots are shown on myself only, by masters:\n%s", got)
	}
	if len(s.nodes[3].m.lookup(id1).openSlots) != 3 || len(s.nodes[4].m.lookup(id2).openSlots) != 3 {
		t.Fatal("replicas did not learn their master's open slots")
	}
	for _, slot := range []int{0, 1, 2} {
		rd, err := n2.m.SetSlot(s.now, slot, SetSlotNode, id2)
		s.must(n2, rd, err)
		rd, err = n1.m.SetSlot(s.now, slot, SetSlotNode, id2)
		s.must(n1, rd, err)
	}
	s.runUntil("slots 0-2 on n2 everywhere", 10*time.Second, func() bool {
		for _, n := range s.up() {
			if s.ownerOf(n, 0) != n2 || s.ownerOf(n, 2) != n2 || s.ownerOf(n, 3) != n1 {
				return false
			}
		}
		return s.agree() && s.stateOK()
	})
	if e1, e2 := n1.m.Myself().ConfigEpoch, n2.m.Myself().ConfigEpoch; e2 <= 3 || e1 == e2 {
		t.Fatalf("epochs n1=%d n2=%d", e1, e2)
	}
}

// Replicas keep their master's MIGRATING/IMPORTING slots, so that a
// failover in the middle of a migration leaves no key unreachable: the
// promoted replica still answers ASK for the slot.
func TestSimOpenSlotsSurviveFailover(t *testing.T) {
	s := newSim(t, 22)
	s.form(3, 1, true)
	n1, n2, n4, n5 := s.nodes[0], s.nodes[1], s.nodes[3], s.nodes[4]
	id1, id2 := n1.m.Myself().ID, n2.m.Myself().ID
	rd, err := n2.m.SetSlot(s.now, 100, SetSlotImporting, id1)
	s.must(n2, rd, err)
	rd, err = n1.m.SetSlot(s.now, 100, SetSlotMigrating, id2)
	s.must(n1, rd, err)
	s.run(2 * time.Second)
	// The source master dies mid-migration.
	s.kill(n1)
	s.runUntil("n4 promoted", 30*time.Second, func() bool { return s.isMasterEverywhere(n4) && s.stateOK() })
	to, ok := n4.m.MigratingTo(100)
	if !ok || to.ID != id2 {
		t.Fatalf("promoted replica lost the MIGRATING state:\n%s", n4.m.ClusterNodes())
	}
	// The target now imports from the promoted replica, which serves the
	// slot for everybody.
	id4 := n4.m.Myself().ID
	if from, ok := n2.m.ImportingFrom(100); !ok || from.ID != id4 || s.ownerOf(n2, 100) != n4 {
		t.Fatalf("target side not retargeted:\n%s", n2.m.ClusterNodes())
	}
	// And the target side fails: n5 keeps IMPORTING, from n4, and n4
	// migrates to n5.
	s.kill(n2)
	s.runUntil("n5 promoted", 30*time.Second, func() bool { return s.isMasterEverywhere(n5) && s.stateOK() })
	if from, ok := n5.m.ImportingFrom(100); !ok || from.ID != id4 {
		t.Fatalf("promoted replica lost the IMPORTING state:\n%s", n5.m.ClusterNodes())
	}
	if to, ok := n4.m.MigratingTo(100); !ok || to.ID != n5.m.Myself().ID {
		t.Fatalf("source not retargeted:\n%s", n4.m.ClusterNodes())
	}
	_ = id1
}

// A master partitioned away with the minority while its replica is
// promoted: when the partition heals it learns (by UPDATE or by the new
// master's PINGs) that it lost its slots and becomes a replica; meanwhile
// it refused queries (state fail) and stays down for the rejoin delay.
func TestSimMinorityMasterRejoinsAsReplica(t *testing.T) {
	s := newSim(t, 23)
	s.form(3, 1, true)
	n1, n4 := s.nodes[0], s.nodes[3]
	s.group[n1] = 1
	s.runUntil("n4 promoted on the majority side", 30*time.Second, func() bool {
		for _, n := range s.up() {
			if n == n1 {
				continue
			}
			if i, _ := n.m.Node(n4.m.Myself().ID); !i.IsMaster() {
				return false
			}
		}
		return true
	})
	if n1.m.StateOK() {
		t.Fatal("the minority master still accepts queries")
	}
	if !n1.m.Myself().IsMaster() {
		t.Fatal("n1 learned something through the partition")
	}
	s.group[n1] = 0
	s.runUntil("n1 is a replica of n4", 20*time.Second, func() bool {
		return s.isReplicaOfEverywhere(n1, n4) && s.agree() && s.stateOK()
	})
	if !strings.Contains(strings.Join(n1.logs, "\n"), "Reconfiguring myself as a replica of "+n4.m.Myself().ID) {
		t.Fatalf("logs:\n%s", strings.Join(n1.logs, "\n"))
	}
}
