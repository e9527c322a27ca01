package topology

import (
	"fmt"
	"slices"

	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// The actions of membership beyond formation's.
const (
	// ActionForget is CLUSTER FORGET node-id, sent to Action.Pod.
	ActionForget ActionType = "FORGET"
)

// The phases of a formed cluster's membership.
const (
	// PhaseForgetting: nodes that are gone are being forgotten.
	PhaseForgetting Phase = "Forgetting"
	// PhaseMovingReplica: a spare replica moves to a master without one.
	PhaseMovingReplica Phase = "MovingReplica"
	// PhaseMembershipOK: every node knows every other and replicates the
	// master it should.
	PhaseMembershipOK Phase = "MembershipOK"
)

// Shards is the members arranged by shard index (every index up to the
// highest shard that has a member, or d.Masters), each shard's members in
// ordinal order.
func Shards(members []Member, masters int) [][]Member {
	n := masters
	for _, m := range members {
		n = max(n, m.Shard+1)
	}
	out := make([][]Member, n)
	for _, m := range members {
		if m.Shard >= 0 {
			out[m.Shard] = append(out[m.Shard], m)
		}
	}
	for _, s := range out {
		slices.SortFunc(s, func(a, b Member) int { return a.Ordinal - b.Ordinal })
	}
	return out
}

// ShardMaster is the member that is a shard's master: the one serving
// slots; else the empty master the others replicate; else ordinal 0 while it
// is an empty master (a new shard). ok is false when the shard has none
// (nothing reported, or ordinal 0 is a replica of another shard); a plan
// says why when the shard is in a state the operator must not change (two
// masters serving slots).
func ShardMaster(shard []Member) (Member, Plan, bool) {
	var serving []Member
	for _, m := range shard {
		if m.View == nil {
			continue
		}
		if me, _ := m.View.Myself(); me.IsMaster() && len(me.Slots) > 0 {
			serving = append(serving, m)
		}
	}
	switch {
	case len(serving) == 1:
		return serving[0], Plan{}, true
	case len(serving) > 1:
		return Member{}, blocked("shard %d has %d masters serving slots (%s, %s): repair needed",
			serving[0].Shard, len(serving), serving[0].Pod, serving[1].Pod), false
	}
	for _, m := range shard {
		if m.View == nil {
			continue
		}
		id := m.ID()
		if me, _ := m.View.Myself(); !me.IsMaster() {
			continue
		}
		for _, o := range shard {
			if o.View != nil && o.Pod != m.Pod {
				if ome, _ := o.View.Myself(); ome.MasterID == id {
					return m, Plan{}, true
				}
			}
		}
	}
	if len(shard) > 0 && shard[0].Ordinal == 0 && shard[0].View != nil {
		if me, _ := shard[0].View.Myself(); me.IsMaster() {
			return shard[0], Plan{}, true
		}
	}
	return Member{}, Plan{}, false
}

// PlanMembership decides the next membership change of a formed cluster
// (one where slots are assigned), in this order: MEET nodes the others do
// not know (new shards' pods, new replicas) or know at an old address (a
// restarted pod that did not rejoin by itself), through a seed that serves
// slots; wait for gossip; CLUSTER REPLICATE empty nodes, and replicas of
// another master, to their shard's master; FORGET, on every node, nodes
// that belong to no pod; move a spare replica to a master that has none.
//
// It never sends REPLICATE to a master that serves slots or holds keys, and
// forgets a node only when every pod of every shard reported its node ID,
// the node is none of them, and no node sees it serving slots.
func PlanMembership(members []Member, d Desired) Plan {
	shards := Shards(members, d.Masters)
	masters := make([]*Member, len(shards))
	for s, shard := range shards {
		m, p, ok := ShardMaster(shard)
		if p.Phase == PhaseBlocked {
			return p
		}
		if ok {
			masters[s] = &m
		}
	}
	seed, ok := membershipSeed(members)
	if !ok {
		return wait(PhaseWaitingForNodes, "no node serving slots reported its view")
	}
	if p, ok := planRejoin(members, seed, d.Masters); !ok {
		return p
	}
	if p, ok := planReplicas(shards, masters); !ok {
		return p
	}
	if p, ok := planForget(members, d); !ok {
		return p
	}
	if p, ok := planSpareReplica(shards, masters, d); !ok {
		return p
	}
	return Plan{Phase: PhaseMembershipOK, Reason: "every node knows every other and replicates its shard's master"}
}

// membershipSeed is the first member that serves slots: it knows the
// cluster, so what it learns, every node learns.
func membershipSeed(members []Member) (Member, bool) {
	for _, m := range members {
		if m.View == nil {
			continue
		}
		if me, _ := m.View.Myself(); me.IsMaster() && len(me.Slots) > 0 {
			return m, true
		}
	}
	return Member{}, false
}

// planRejoin MEETs, through the seed, every member the seed does not know,
// or knows at another address, and then waits until every member knows
// every other. A node of a shard being removed (at or above masters) that
// the seed does not know was forgotten on purpose: it is never introduced
// again, even when its shard no longer counts as retired because one of its
// pods stopped answering while its StatefulSet is deleted.
func planRejoin(members []Member, seed Member, masters int) (Plan, bool) {
	members = slices.DeleteFunc(slices.Clone(members), func(m Member) bool {
		return m.Shard >= masters && !seed.View.Knows(m.ID())
	})
	return introduce(members, seed, func(m Member) bool {
		if m.View == nil || m.IP == "" {
			return true // nothing to introduce yet
		}
		n, ok := seed.View.Node(m.ID())
		return ok && n.IP == m.IP && n.Port == m.Port
	})
}

// planReplicas attaches every member of a shard other than its master to
// that master: empty masters (new pods) and replicas of another node that
// is not a spare placement. A master holding keys or slots is never told to
// replicate.
func planReplicas(shards [][]Member, masters []*Member) (Plan, bool) {
	var reps []Action
	waiting := ""
	for s, shard := range shards {
		if masters[s] == nil {
			continue
		}
		master := *masters[s]
		for _, m := range shard {
			if m.View == nil || m.Pod == master.Pod {
				continue
			}
			me, _ := m.View.Myself()
			switch {
			case me.IsReplica() && me.MasterID == master.ID():
				continue
			case me.IsReplica() && isMasterOf(shards, masters, me.MasterID):
				// A spare placed with another shard's master
				// (planSpareReplica), or the master's pod of another
				// shard: it stays until that shard has its own.
				continue
			case me.IsMaster() && len(me.Slots) > 0:
				return blocked("%s serves slots %s but is not its shard's master: repair needed", m, clusteradmin.FormatSlots(me.Slots)), false
			case me.IsMaster() && m.View.Keys > 0:
				return blocked("%s is a master without slots holding %d keys: the operator does not discard data", m, m.View.Keys), false
			case !m.View.Knows(master.ID()):
				if waiting == "" {
					waiting = fmt.Sprintf("waiting for gossip: %s does not know its master %s yet", m.Pod, master.Pod)
				}
				continue
			}
			reps = append(reps, Action{Type: ActionReplicate, Pod: m.Pod, MasterID: master.ID()})
		}
	}
	if len(reps) > 0 {
		return Plan{Phase: PhaseReplicating, Actions: reps, Reason: fmt.Sprintf("attaching %d nodes to their shard's master", len(reps))}, false
	}
	if waiting != "" {
		return wait(PhaseReplicating, "%s", waiting), false
	}
	return Plan{}, true
}

func isMasterOf(shards [][]Member, masters []*Member, id string) bool {
	for s := range shards {
		if masters[s] != nil && masters[s].ID() == id {
			return true
		}
	}
	return false
}

// planForget forgets, on every member that knows them, the nodes that
// belong to no pod. It is safe only when every pod of every desired shard
// exists and reported its node ID (a pod being restarted keeps its
// identity), and when no member sees the node serving slots. All the
// FORGETs go out in one plan so that no node re-learns the forgotten one by
// gossip within the 60 s ban.
func planForget(members []Member, d Desired) (Plan, bool) {
	ids := map[string]bool{}
	have := map[[2]int]bool{}
	for _, m := range members {
		if m.View == nil || m.ID() == "" {
			return Plan{}, true // not everyone reported: forget nothing
		}
		ids[m.ID()] = true
		have[[2]int{m.Shard, m.Ordinal}] = true
	}
	for s := range d.Masters {
		for o := range 1 + d.ReplicasPerMaster {
			if !have[[2]int{s, o}] {
				return Plan{}, true
			}
		}
	}
	gone := map[string]bool{}
	var order []string
	for _, m := range members {
		for _, n := range m.View.Nodes {
			if ids[n.ID] || n.HasFlag(clusteradmin.FlagHandshake) {
				continue
			}
			if len(n.Slots) > 0 {
				gone[n.ID] = false
				continue
			}
			if _, seen := gone[n.ID]; !seen {
				gone[n.ID] = true
				order = append(order, n.ID)
			}
		}
	}
	var forgets []Action
	for _, id := range order {
		if !gone[id] {
			continue
		}
		for _, m := range members {
			if _, ok := m.View.Node(id); ok {
				forgets = append(forgets, Action{Type: ActionForget, Pod: m.Pod, NodeID: id})
			}
		}
	}
	if len(forgets) > 0 {
		return Plan{Phase: PhaseForgetting, Actions: forgets, Reason: fmt.Sprintf("forgetting nodes that belong to no pod: %v", forgetIDs(order, gone))}, false
	}
	return Plan{}, true
}

func forgetIDs(order []string, gone map[string]bool) []string {
	var out []string
	for _, id := range order {
		if gone[id] {
			out = append(out, id)
		}
	}
	return out
}

// planSpareReplica gives a master that has no replica (when replicas are
// wanted) one from a shard that has more than it needs: a spare is a
// linked replica beyond the first of its master.
func planSpareReplica(shards [][]Member, masters []*Member, d Desired) (Plan, bool) {
	if d.ReplicasPerMaster == 0 {
		return Plan{}, true
	}
	replicasOf := map[string][]Member{}
	for _, m := range slices.Concat(shards...) {
		if m.View == nil {
			continue
		}
		if me, _ := m.View.Myself(); me.IsReplica() {
			replicasOf[me.MasterID] = append(replicasOf[me.MasterID], m)
		}
	}
	for s := range shards {
		if masters[s] == nil || s >= d.Masters || len(replicasOf[masters[s].ID()]) > 0 {
			continue
		}
		if me, _ := masters[s].View.Myself(); len(me.Slots) == 0 || liveReplicas(masters[s].View, me.ID) > 0 {
			// A replica whose pod restarts is still one until the
			// cluster marks it failing.
			continue
		}
		for o := range shards {
			if o == s || masters[o] == nil {
				continue
			}
			reps := replicasOf[masters[o].ID()]
			if len(reps) < 2 {
				continue
			}
			spare := reps[len(reps)-1]
			if !spare.View.Knows(masters[s].ID()) {
				continue
			}
			return Plan{Phase: PhaseMovingReplica, Actions: []Action{{Type: ActionReplicate, Pod: spare.Pod, MasterID: masters[s].ID()}},
				Reason: fmt.Sprintf("%s has no replica: moving the spare %s of shard %d to it", masters[s].Pod, spare.Pod, o)}, false
		}
	}
	return Plan{}, true
}

// liveReplicas counts the replicas of id that v knows and does not mark
// failing.
func liveReplicas(v *clusteradmin.NodeView, id string) int {
	n := 0
	for _, x := range v.Nodes {
		if x.MasterID == id && !x.HasFlag(clusteradmin.FlagFail) && !x.HasFlag(clusteradmin.FlagPFail) {
			n++
		}
	}
	return n
}
