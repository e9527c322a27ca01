package cluster

import (
	"flag"
	"testing"
	"time"
)

var (
	simSeeds = flag.Int("sim.seeds", 0, "how many seeds the randomized simulations run (0: default)")
	simSeed  = flag.Int("sim.seed", -1, "run only this seed of the randomized simulations")
)

// TestSimFailoverManySeeds runs the kill-a-master scenario under many
// seeds, with message loss and delays, and checks the safety properties of
// every run: at most one master per slot range in the end, the promoted
// replica has a greater configEpoch than the old master, and every node
// agrees.
func TestSimFailoverManySeeds(t *testing.T) {
	seeds := 100
	if testing.Short() {
		seeds = 10
	}
	if *simSeeds > 0 {
		seeds = *simSeeds
	}
	for seed := range uint64(seeds) {
		if *simSeed >= 0 && seed != uint64(*simSeed) {
			continue
		}
		s := newSim(t, 1000+seed)
		t.Logf("seed %d", seed)
		// Elections may need several rounds when votes are lost: do not
		// let the replica validity factor end them (Redis's rule, tested
		// elsewhere).
		s.configure = func(_ string, c *Config) { c.ReplicaValidityFactor = 0 }
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

// TestSimChaosConverges partitions, kills and restarts random nodes for a
// minute of simulated time, with message loss, then heals everything: the
// cluster must converge to one agreed configuration where every slot has
// one master, masters have distinct configEpochs and every replica follows
// a master.
func TestSimChaosConverges(t *testing.T) {
	seeds := 30
	if testing.Short() {
		seeds = 5
	}
	if *simSeeds > 0 {
		seeds = *simSeeds
	}
	for seed := range uint64(seeds) {
		s := newSim(t, 5000+seed)
		s.drop = 0.02
		s.delayHi = 20 * time.Millisecond
		s.form(3, 1, seed%2 == 0)
		chaos := s.rng
		end := s.now.Add(60 * time.Second)
		for s.now.Before(end) {
			s.run(time.Duration(1000+chaos.IntN(4000)) * time.Millisecond)
			n := s.nodes[chaos.IntN(len(s.nodes))]
			switch chaos.IntN(4) {
			case 0:
				s.group[n] = 1 + chaos.IntN(2)
			case 1:
				s.group = map[*simNode]int{}
			case 2:
				if n.up && len(s.up()) > 4 {
					s.kill(n)
				}
			case 3:
				for _, d := range s.nodes {
					if !d.up {
						s.restart(d, "")
						break
					}
				}
			}
		}
		s.group = map[*simNode]int{}
		s.drop = 0
		for _, d := range s.nodes {
			if !d.up {
				s.restart(d, "")
			}
		}
		s.runUntil("converged after chaos", 120*time.Second, func() bool { return s.agree() && s.stateOK() })
		checkConfigInvariants(t, s, seed)
	}
}

func checkConfigInvariants(t *testing.T, s *sim, seed uint64) {
	t.Helper()
	n := s.nodes[0]
	epochs := map[uint64]string{}
	for _, i := range n.m.Nodes() {
		switch {
		case i.IsMaster() && i.NumSlots > 0:
			if other, dup := epochs[i.ConfigEpoch]; dup {
				t.Fatalf("seed %d: masters %s and %s share configEpoch %d\n%s", seed, other, s.name(i.ID), i.ConfigEpoch, s.dump())
			}
			epochs[i.ConfigEpoch] = s.name(i.ID)
		case i.IsReplica():
			m, ok := n.m.Node(i.MasterID)
			if !ok || !m.IsMaster() {
				t.Fatalf("seed %d: %s replicates %s, not a master\n%s", seed, s.name(i.ID), s.name(i.MasterID), s.dump())
			}
		}
	}
	for j := 0; j < Slots; j++ {
		if _, ok := n.m.SlotOwner(j); !ok {
			t.Fatalf("seed %d: slot %d unassigned", seed, j)
		}
	}
	// What each node replicates is what everyone thinks it replicates.
	for _, d := range s.nodes {
		if want := d.m.Myself().MasterID; d.masterID != want {
			t.Fatalf("seed %d: %s replicates %s but its config says %s", seed, d.name, s.name(d.masterID), s.name(want))
		}
	}
}
