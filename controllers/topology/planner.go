package topology

import (
	"fmt"
	"math"
	"slices"

	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// Desired is the shape the RedisCluster asks for.
type Desired struct {
	Masters           int
	ReplicasPerMaster int
}

// ActionType is a cluster command the planner asks for.
type ActionType string

// The actions of cluster formation.
const (
	// ActionMeet is CLUSTER MEET ip port bus-port, sent to Action.Pod.
	ActionMeet ActionType = "MEET"
	// ActionAddSlots is CLUSTER ADDSLOTSRANGE, sent to the future master.
	ActionAddSlots ActionType = "ADDSLOTSRANGE"
	// ActionReplicate is CLUSTER REPLICATE master-id, sent to the replica.
	ActionReplicate ActionType = "REPLICATE"
)

// Action is one command for one node.
type Action struct {
	Type ActionType
	// Pod is the member the command is sent to.
	Pod string
	// Meet: the node to meet.
	IP      string
	Port    int
	BusPort int
	// AddSlots: the slots to assign.
	Slots []clusteradmin.SlotRange
	// Replicate: the node ID of the master.
	MasterID string
	// Forget: the node ID to forget.
	NodeID string
}

func (a Action) String() string {
	switch a.Type {
	case ActionMeet:
		return fmt.Sprintf("CLUSTER MEET %s %d %d on %s", a.IP, a.Port, a.BusPort, a.Pod)
	case ActionAddSlots:
		return fmt.Sprintf("CLUSTER ADDSLOTSRANGE %s on %s", clusteradmin.FormatSlots(a.Slots), a.Pod)
	case ActionReplicate:
		return fmt.Sprintf("CLUSTER REPLICATE %s on %s", a.MasterID, a.Pod)
	case ActionForget:
		return fmt.Sprintf("CLUSTER FORGET %s on %s", a.NodeID, a.Pod)
	}
	return string(a.Type) + " on " + a.Pod
}

// Phase is where formation stands.
type Phase string

// The phases of formation, in order.
const (
	// PhaseWaitingForNodes: some member is missing or did not report.
	PhaseWaitingForNodes Phase = "WaitingForNodes"
	// PhaseMeeting: nodes are being introduced (MEET) or learning about
	// each other through gossip.
	PhaseMeeting Phase = "Meeting"
	// PhaseAssigningSlots: masters are given their slot ranges.
	PhaseAssigningSlots Phase = "AssigningSlots"
	// PhaseReplicating: replicas are attached to their shard's master.
	PhaseReplicating Phase = "Replicating"
	// PhaseConverging: every command is done; waiting until every node
	// reports cluster_state:ok and every replica's link to its master is up.
	PhaseConverging Phase = "Converging"
	// PhaseFormed: the cluster has the desired shape and is ok.
	PhaseFormed Phase = "Formed"
	// PhaseBlocked: the nodes are in a state formation must not touch
	// (keys or foreign slots, unknown nodes); repair is needed.
	PhaseBlocked Phase = "Blocked"
)

// Plan is the next step: the actions of one phase, to carry out together,
// after which the caller observes again. Reason says why, for status and
// events.
type Plan struct {
	Phase   Phase
	Actions []Action
	Reason  string
}

func wait(p Phase, format string, args ...any) Plan {
	return Plan{Phase: p, Reason: fmt.Sprintf(format, args...)}
}

func blocked(format string, args ...any) Plan {
	return Plan{Phase: PhaseBlocked, Reason: fmt.Sprintf(format, args...)}
}

// EvenSlotRanges splits the 16384 slots into n contiguous ranges the way
// redis-cli --cluster create does (0-5460, 5461-10922, 10923-16383 for 3).
func EvenSlotRanges(n int) []clusteradmin.SlotRange {
	if n <= 0 {
		return nil
	}
	per := float64(clusteradmin.SlotCount) / float64(n)
	out := make([]clusteradmin.SlotRange, 0, n)
	first, cursor := 0, 0.0
	for i := range n {
		last := int(math.Round(cursor + per - 1))
		if last > clusteradmin.SlotCount-1 || i == n-1 {
			last = clusteradmin.SlotCount - 1
		}
		if last < first {
			last = first
		}
		out = append(out, clusteradmin.SlotRange{First: first, Last: last})
		first = last + 1
		cursor += per
	}
	return out
}

// PlanFormation decides the next step of forming the cluster out of members
// (only the members of the desired shards). Formation goes MEET, then
// ADDSLOTSRANGE, then REPLICATE, one phase per call; a phase whose commands
// were all carried out shows up as done in the next views, so the plan
// resumes where a crash left it. Nodes holding keys, or slots other than
// the ones formation gives them, block formation.
func PlanFormation(members []Member, d Desired) Plan {
	shards, p, ok := indexMembers(members, d)
	if !ok {
		return p
	}
	if p, ok := checkNoForeignNodes(members); !ok {
		return p
	}
	if p, ok := planMeet(members, shards[0][0]); !ok {
		return p
	}
	masters := make([]Member, d.Masters)
	for s := range shards {
		m, p, ok := shardMaster(shards[s], s)
		if !ok {
			return p
		}
		masters[s] = m
	}
	if p, ok := planSlots(members, masters, EvenSlotRanges(d.Masters)); !ok {
		return p
	}
	if p, ok := planReplicate(shards, masters); !ok {
		return p
	}
	if reason, ok := Converged(members); !ok {
		return wait(PhaseConverging, "%s", reason)
	}
	return Plan{Phase: PhaseFormed, Reason: fmt.Sprintf("%d masters with %d replicas each, cluster_state:ok", d.Masters, d.ReplicasPerMaster)}
}

// indexMembers arranges members by shard and ordinal and checks that every
// expected member is there and reported a node ID.
func indexMembers(members []Member, d Desired) ([][]Member, Plan, bool) {
	shards := make([][]Member, d.Masters)
	for s := range shards {
		shards[s] = make([]Member, 1+d.ReplicasPerMaster)
	}
	seen := make([][]bool, d.Masters)
	for s := range seen {
		seen[s] = make([]bool, 1+d.ReplicasPerMaster)
	}
	for _, m := range members {
		if m.Shard < 0 || m.Shard >= d.Masters || m.Ordinal < 0 || m.Ordinal > d.ReplicasPerMaster {
			return nil, blocked("%s is outside the desired shape (%d masters, %d replicas each)", m, d.Masters, d.ReplicasPerMaster), false
		}
		if m.View == nil || m.ID() == "" {
			return nil, wait(PhaseWaitingForNodes, "%s has not reported its cluster view", m), false
		}
		shards[m.Shard][m.Ordinal] = m
		seen[m.Shard][m.Ordinal] = true
	}
	for s := range seen {
		for o, ok := range seen[s] {
			if !ok {
				return nil, wait(PhaseWaitingForNodes, "shard %d has no node %d yet", s, o), false
			}
		}
	}
	return shards, Plan{}, true
}

// checkNoForeignNodes refuses to go on when a member knows a node that is not
// a member: that is an old identity or another cluster, and forgetting it is
// repair.
func checkNoForeignNodes(members []Member) (Plan, bool) {
	ids := make(map[string]bool, len(members))
	for _, m := range members {
		ids[m.ID()] = true
	}
	for _, m := range members {
		for _, n := range m.View.Nodes {
			if !n.HasFlag(clusteradmin.FlagHandshake) && !ids[n.ID] {
				return blocked("%s knows node %s (%s:%d), which is not a member of this cluster: repair needed", m, n.ID, n.IP, n.Port), false
			}
		}
	}
	return Plan{}, true
}

// planMeet introduces every member to the seed; gossip then spreads the
// introductions. It is done when every member knows every other.
func planMeet(members []Member, seed Member) (Plan, bool) {
	return introduce(members, seed, func(m Member) bool { return seed.View.Knows(m.ID()) })
}

// introduce MEETs the seed with every member it does not know (known says
// which it does, the seed itself and handshakes in progress aside), then
// waits until gossip has told every member about every other. Members
// without a view are left out of the wait.
func introduce(members []Member, seed Member, known func(Member) bool) (Plan, bool) {
	var meets []Action
	for _, m := range members {
		if m.Pod == seed.Pod || seed.View.InHandshakeWith(m.IP, m.Port) || known(m) {
			continue
		}
		meets = append(meets, Action{Type: ActionMeet, Pod: seed.Pod, IP: m.IP, Port: m.Port, BusPort: m.BusPort})
	}
	if len(meets) > 0 {
		return Plan{Phase: PhaseMeeting, Actions: meets, Reason: fmt.Sprintf("introducing %d nodes to %s", len(meets), seed.Pod)}, false
	}
	for _, m := range members {
		for _, o := range members {
			if m.View != nil && o.View != nil && o.Pod != m.Pod && !m.View.Knows(o.ID()) {
				return wait(PhaseMeeting, "waiting for gossip: %s does not know %s yet", m.Pod, o.Pod), false
			}
		}
	}
	return Plan{}, true
}

// shardMaster is the member that is, or will be, the master of a shard: the
// one serving slots, or else ordinal 0 while it is still an empty master.
func shardMaster(shard []Member, s int) (Member, Plan, bool) {
	var serving []Member
	for _, m := range shard {
		if me, _ := m.View.Myself(); me.IsMaster() && len(me.Slots) > 0 {
			serving = append(serving, m)
		}
	}
	switch len(serving) {
	case 1:
		return serving[0], Plan{}, true
	case 0:
		if me, _ := shard[0].View.Myself(); !me.IsMaster() {
			return Member{}, blocked("shard %d has no master serving slots and %s is a replica: repair needed", s, shard[0].Pod), false
		}
		return shard[0], Plan{}, true
	}
	return Member{}, blocked("shard %d has %d masters serving slots (%s, %s): repair needed", s, len(serving), serving[0].Pod, serving[1].Pod), false
}

// planSlots gives every shard master its range. It never touches a node that
// holds keys or serves other slots, and never assigns a slot another member
// already serves.
func planSlots(members, masters []Member, ranges []clusteradmin.SlotRange) (Plan, bool) {
	isMaster := make(map[string]bool, len(masters))
	for _, m := range masters {
		isMaster[m.Pod] = true
	}
	for _, m := range members {
		if me, _ := m.View.Myself(); !isMaster[m.Pod] && len(me.Slots) > 0 {
			return blocked("%s serves slots %s but is not its shard's master: repair needed", m, clusteradmin.FormatSlots(me.Slots)), false
		}
	}
	var adds []Action
	for s, m := range masters {
		me, _ := m.View.Myself()
		want := []clusteradmin.SlotRange{ranges[s]}
		switch {
		case slices.Equal(me.Slots, want):
			continue
		case len(me.Slots) > 0:
			return blocked("%s serves slots %s, formation would give it %s: repair needed", m, clusteradmin.FormatSlots(me.Slots), clusteradmin.FormatSlots(want)), false
		case m.View.Keys > 0:
			return blocked("%s holds %d keys but no slots: formation only assigns slots to empty nodes", m, m.View.Keys), false
		}
		for _, o := range masters {
			if ome, _ := o.View.Myself(); o.Pod != m.Pod && overlaps(ome.Slots, ranges[s]) {
				return blocked("slots %s of shard %d are served by %s: moving slots is not formation", ranges[s], s, o.Pod), false
			}
		}
		adds = append(adds, Action{Type: ActionAddSlots, Pod: m.Pod, Slots: want})
	}
	if len(adds) > 0 {
		return Plan{Phase: PhaseAssigningSlots, Actions: adds, Reason: fmt.Sprintf("assigning slots to %d masters", len(adds))}, false
	}
	return Plan{}, true
}

// planReplicate attaches every other member of a shard to its master. A
// member must be an empty master without slots, and must already know the
// master (gossip), before it is told to replicate.
func planReplicate(shards [][]Member, masters []Member) (Plan, bool) {
	var reps []Action
	waiting := ""
	for s, shard := range shards {
		masterID := masters[s].ID()
		for _, m := range shard {
			if m.Pod == masters[s].Pod {
				continue
			}
			me, _ := m.View.Myself()
			switch {
			case me.IsReplica() && me.MasterID == masterID:
				continue
			case me.IsReplica():
				return blocked("%s replicates %s, not the master of shard %d (%s): repair needed", m, me.MasterID, s, masters[s].Pod), false
			case m.View.Keys > 0:
				return blocked("%s holds %d keys: formation only makes empty nodes replicas", m, m.View.Keys), false
			case !m.View.Knows(masterID):
				if waiting == "" {
					waiting = fmt.Sprintf("waiting for gossip: %s does not know its master %s yet", m.Pod, masters[s].Pod)
				}
				continue
			}
			reps = append(reps, Action{Type: ActionReplicate, Pod: m.Pod, MasterID: masterID})
		}
	}
	if len(reps) > 0 {
		return Plan{Phase: PhaseReplicating, Actions: reps, Reason: fmt.Sprintf("attaching %d replicas to their masters", len(reps))}, false
	}
	if waiting != "" {
		return wait(PhaseReplicating, "%s", waiting), false
	}
	return Plan{}, true
}

func overlaps(rs []clusteradmin.SlotRange, r clusteradmin.SlotRange) bool {
	for _, x := range rs {
		if x.First <= r.Last && r.First <= x.Last {
			return true
		}
	}
	return false
}
