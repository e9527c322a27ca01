package cluster

import (
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/bus"
)

func (s *sim) failover(n *simNode, mode FailoverMode) error {
	rd, err := n.m.Failover(s.now, mode)
	s.apply(n, rd)
	return err
}

// Manual failover: the master pauses writes, the replica catches up to the
// master's offset, wins an election without delay, and the old master
// becomes its replica; no write acknowledged by the old master is lost.
func TestSimManualFailoverLosesNoWrite(t *testing.T) {
	s := newSim(t, 11)
	s.form(3, 1, true)
	n1, n4 := s.nodes[0], s.nodes[3]
	// n1 takes writes faster than n4 replicates them: n4 lags behind.
	n1.writeRate = 1000
	s.run(2 * time.Second)
	if n4.offset >= n1.offset {
		t.Fatalf("replica not lagging: %d >= %d", n4.offset, n1.offset)
	}
	if err := s.failover(n4, FailoverDefault); err != nil {
		t.Fatal(err)
	}
	// The master pauses writes as soon as the MFSTART arrives; every write
	// it accepted before the pause reaches the replica before the switch.
	s.runUntil("n1 paused writes", time.Second, func() bool { return n1.writesPaused == 1 })
	pausedAt := n1.offset
	n1.writeRate = 0
	s.runUntil("n4 is master everywhere", 10*time.Second, func() bool {
		return s.isMasterEverywhere(n4) && s.isReplicaOfEverywhere(n1, n4) && s.agree() && s.stateOK()
	})
	if n4.offset != pausedAt || n1.offset != pausedAt {
		t.Fatalf("new master offset %d, old master %d, want both %d", n4.offset, n1.offset, pausedAt)
	}
	if !n1.pausedUntil.IsZero() {
		t.Fatal("the old master must unpause writes when the failover completes")
	}
	// No election delay: well within the automatic failover times.
	if n1.m.ManualFailoverInProgress() || n4.m.ManualFailoverInProgress() {
		t.Fatal("manual failover state left behind")
	}
}

func TestSimManualFailoverErrors(t *testing.T) {
	s := newSim(t, 12)
	s.form(3, 1, true)
	if err := s.failover(s.nodes[0], FailoverDefault); err == nil || err.Error() != "ERR You should send CLUSTER FAILOVER to a replica" {
		t.Fatalf("on a master: %v", err)
	}
	s.kill(s.nodes[1])
	s.runUntil("n5 sees n2 down", 10*time.Second, func() bool {
		i, _ := s.nodes[4].m.Node(s.nodes[1].m.Myself().ID)
		return i.Failing() || !i.Connected
	})
	if err := s.failover(s.nodes[4], FailoverDefault); err == nil || err.Error() != "ERR Master is down or failed, please use CLUSTER FAILOVER FORCE" {
		t.Fatalf("master down: %v", err)
	}
}

// FORCE: the master is unreachable (before it is even flagged FAIL); the
// replica goes to the election without agreeing on an offset.
func TestSimForcedFailover(t *testing.T) {
	s := newSim(t, 13)
	s.form(3, 1, true)
	n2, n5 := s.nodes[1], s.nodes[4]
	s.kill(n2)
	if err := s.failover(n5, FailoverForce); err != nil {
		t.Fatal(err)
	}
	d := s.runUntil("n5 promoted", 5*time.Second, func() bool { return s.isMasterEverywhere(n5) })
	if d >= simNodeTimeout {
		t.Fatalf("forced failover took %s: it must not wait for the FAIL state", d)
	}
}

// TAKEOVER: no votes at all, even when the masters cannot be reached: the
// replica bumps its epoch and takes the slots.
func TestSimTakeoverWithoutMajority(t *testing.T) {
	s := newSim(t, 14)
	s.form(3, 1, true)
	n3, n6 := s.nodes[2], s.nodes[5]
	s.group[n6] = 1 // n6 alone
	before := n6.m.CurrentEpoch()
	if err := s.failover(n6, FailoverTakeover); err != nil {
		t.Fatal(err)
	}
	me := n6.m.Myself()
	if !me.IsMaster() || me.NumSlots != 5462 || me.ConfigEpoch <= before {
		t.Fatalf("after takeover: %+v (epoch before %d)", me, before)
	}
	s.group[n6] = 0
	s.runUntil("everyone follows n6", 20*time.Second, func() bool {
		return s.isMasterEverywhere(n6) && s.isReplicaOfEverywhere(n3, n6) && s.agree() && s.stateOK()
	})
}

// cluster-replica-no-failover: the replica never starts an election, so
// the cluster stays down; its NOFAILOVER flag is known to everyone.
func TestSimReplicaNoFailover(t *testing.T) {
	s := newSim(t, 15)
	s.configure = func(name string, c *Config) { c.ReplicaNoFailover = name == "n4" }
	s.form(3, 1, true)
	n1, n4 := s.nodes[0], s.nodes[3]
	if !strings.Contains(s.nodesText(s.nodes[1]), "n4 10.0.0.4:7000@17000 slave,nofailover n1") {
		t.Fatalf("nofailover flag not propagated:\n%s", s.nodesText(s.nodes[1]))
	}
	s.kill(n1)
	s.runUntil("n1 FAIL", 10*time.Second, func() bool { return s.flagged(n1, bus.FlagFail) })
	s.run(20 * time.Second)
	if !n4.m.IsReplica() || s.stateOK() {
		t.Fatalf("n4 failed over or the cluster is ok:\n%s", s.dump())
	}
	// A manual FORCE failover is still allowed.
	if err := s.failover(n4, FailoverForce); err != nil {
		t.Fatal(err)
	}
	s.runUntil("n4 promoted by hand", 10*time.Second, func() bool { return s.isMasterEverywhere(n4) && s.stateOK() })
}

// cluster-replica-validity-factor: a replica disconnected from its master
// for longer than node timeout * factor + repl-ping-replica-period does not
// fail over; with factor 0 it does.
func TestSimReplicaValidityFactor(t *testing.T) {
	for _, tc := range []struct {
		factor   int
		failover bool
	}{{1, false}, {0, true}} {
		s := newSim(t, 16)
		s.configure = func(name string, c *Config) { c.ReplicaValidityFactor = tc.factor }
		s.form(3, 1, true)
		n1, n4 := s.nodes[0], s.nodes[3]
		// The replication link breaks long before the master fails.
		s.partitionReplication(n4)
		s.run(10 * time.Second)
		s.kill(n1)
		s.run(20 * time.Second)
		if got := n4.m.Myself().IsMaster(); got != tc.failover {
			t.Fatalf("factor %d: failed over %v, want %v\n%s", tc.factor, got, tc.failover, s.dump())
		}
		if !tc.failover && !strings.Contains(strings.Join(n4.logs, "\n"), "Disconnected from master for longer than allowed") {
			t.Fatalf("no log of the reason:\n%s", strings.Join(n4.logs, "\n"))
		}
	}
}

// Replica migration: a master left without working replicas (that had
// some) gets one from the master with the most replicas, above the
// migration barrier.
func TestSimReplicaMigrationToOrphanedMaster(t *testing.T) {
	s := newSim(t, 17)
	s.form(3, 1, true) // n4, n5, n6 replicate n1, n2, n3
	n1, n2, n5 := s.nodes[0], s.nodes[1], s.nodes[4]
	n7 := s.addNode(nil)
	s.meet(n1, n7)
	s.runUntil("n7 known", 10*time.Second, func() bool { return s.agree() && len(n2.m.Nodes()) == 7 })
	rd, err := n7.m.Replicate(s.now, n1.m.Myself().ID)
	s.must(n7, rd, err)
	s.runUntil("n1 has two replicas", 10*time.Second, func() bool { return s.isReplicaOfEverywhere(n7, n1) && s.agree() })
	// n2 loses its only replica: it is orphaned.
	s.kill(n5)
	s.runUntil("a replica of n1 migrated to n2", 30*time.Second, func() bool {
		return s.isReplicaOfEverywhere(s.nodes[3], n2) || s.isReplicaOfEverywhere(n7, n2)
	})
	// Exactly one migrated: n1 keeps one.
	s.run(10 * time.Second)
	if s.isReplicaOfEverywhere(s.nodes[3], n2) == s.isReplicaOfEverywhere(n7, n2) {
		t.Fatalf("both or none migrated:\n%s", s.dump())
	}
}

// With cluster-migration-barrier 1 and one replica per master, nothing
// migrates.
func TestSimNoReplicaMigrationBelowBarrier(t *testing.T) {
	s := newSim(t, 18)
	s.form(3, 1, true)
	s.kill(s.nodes[4])
	s.run(20 * time.Second)
	for _, rep := range []*simNode{s.nodes[3], s.nodes[5]} {
		if s.byID(rep.masterID) == s.nodes[1] {
			t.Fatalf("%s migrated", rep.name)
		}
	}
}

// A master whose process was stopped (SIGSTOP) for longer than the node
// timeout takes no write when it wakes up: its first cron flags every
// other node PFAIL, so it counts itself in a minority (cluster state fail)
// until it heard the news, here that its replica took its slots, and then
// it follows the new master.
func TestSimStoppedMasterWakesInMinority(t *testing.T) {
	for seed := uint64(21); seed < 26; seed++ {
		s := newSim(t, seed)
		s.form(3, 1, true)
		n1, n4 := s.nodes[0], s.nodes[3]
		s.run(3 * time.Second) // pings settle: none outstanding, or some
		n1.up = false          // stopped: no cron, no message processed
		s.runUntil("n4 promoted", 30*time.Second, func() bool { return s.isMasterEverywhere(n4) && s.stateOK() })
		n1.up = true
		n1.nextTick = s.now.Add(CronInterval)
		s.apply(n1, n1.m.Tick(s.now))
		if n1.m.StateOK() {
			t.Fatalf("seed %d: the woken master's cluster state is ok before it heard from anyone", seed)
		}
		s.runUntil("n1 follows n4", 30*time.Second, func() bool {
			return s.isReplicaOfEverywhere(n1, n4) && s.agree() && s.stateOK()
		})
	}
}
