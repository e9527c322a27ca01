package cluster

import (
	"testing"
	"time"
)

// TestSimFailoverManySeeds runs the kill-a-master scenario under many
// seeds, with message loss and delays, and checks the safety properties of
// every run: at most one master per slot range in the end, the promoted
// replica has a greater configEpoch than the old master, and every node
// agrees.
func TestSimFailoverManySeeds(t *testing.T) {
	seeds := 40
	if testing.Short() {
		seeds = 10
	}
	for seed := range uint64(seeds) {
		s := newSim(t, 1000+seed)
		if seed%2 == 1 {
			s.drop = 0.05
			s.delayHi = 40 * time.Millisecond
		}
		s.form(3, 1, seed%3 != 0)
		victim := s.nodes[seed%3]
		replica := s.nodes[3+seed%3]
		oldEpoch := victim.m.Myself().ConfigEpoch
		s.kill(victim)
		s.runUntil("replica promoted", 60*time.Second, func() bool {
			return s.isMasterEverywhere(replica) && s.agree() && s.stateOK()
		})
		if e := replica.m.Myself().ConfigEpoch; e <= oldEpoch {
			t.Fatalf("seed %d: new master epoch %d <= old %d", seed, e, oldEpoch)
		}
		s.restart(victim, "")
		s.runUntil("old master is a replica", 60*time.Second, func() bool {
			return s.isReplicaOfEverywhere(victim, replica) && s.agree() && s.stateOK()
		})
		// Distinct config epochs among masters.
		seen := map[uint64]string{}
		for _, i := range s.nodes[0].m.Nodes() {
			if !i.IsMaster() {
				continue
			}
			if other, dup := seen[i.ConfigEpoch]; dup {
				t.Fatalf("seed %d: %s and %s share configEpoch %d", seed, other, s.name(i.ID), i.ConfigEpoch)
			}
			seen[i.ConfigEpoch] = s.name(i.ID)
		}
	}
}
