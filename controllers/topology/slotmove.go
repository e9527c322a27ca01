package topology

import (
	"fmt"
	"maps"
	"slices"

	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// SlotOpType is one primitive of a slot move.
type SlotOpType string

// The primitives of a slot move.
const (
	// OpSetSlot is CLUSTER SETSLOT slot State [Arg], sent to Node.
	OpSetSlot SlotOpType = "SETSLOT"
	// OpMoveKeys repeats CLUSTER GETKEYSINSLOT slot n on Node and MIGRATE
	// of those keys to node Arg until Node holds no key of the slot.
	OpMoveKeys SlotOpType = "MOVEKEYS"
)

// SETSLOT subcommands.
const (
	SlotImporting = "IMPORTING"
	SlotMigrating = "MIGRATING"
	SlotNode      = "NODE"
	SlotStable    = "STABLE"
)

// Failpoints of a slot move: the points between its non-atomic steps at
// which a test may stop the operator as if it crashed.
const (
	FailpointAfterImporting    = "migration/after-importing"
	FailpointAfterMigrating    = "migration/after-migrating"
	FailpointMidKeys           = "migration/mid-keys"
	FailpointAfterNodeOnTarget = "migration/after-node-on-target"
)

// SlotOp is one step of moving or fixing a slot. Nodes are named by node
// ID; the caller resolves them to addresses.
type SlotOp struct {
	Type  SlotOpType
	Slot  int
	Node  string
	State string // SETSLOT: IMPORTING, MIGRATING, NODE or STABLE
	Arg   string // SETSLOT: the node ID argument; MOVEKEYS: the target
	// Failpoint names the point right after this step, if it is one.
	Failpoint string
	// BestEffort steps may fail without failing the move: telling the
	// other masters the new owner only speeds up what gossip spreads
	// anyway (and a drained master may have become a replica meanwhile).
	BestEffort bool
}

func (o SlotOp) String() string {
	switch {
	case o.Type == OpMoveKeys:
		return fmt.Sprintf("MIGRATE keys of slot %d from %.8s to %.8s", o.Slot, o.Node, o.Arg)
	case o.State == SlotStable:
		return fmt.Sprintf("CLUSTER SETSLOT %d STABLE on %.8s", o.Slot, o.Node)
	}
	return fmt.Sprintf("CLUSTER SETSLOT %d %s %.8s on %.8s", o.Slot, o.State, o.Arg, o.Node)
}

// MoveSlotOps is the move of one slot from the master source to the master
// target as the Redis Cluster specification gives it: IMPORTING on the
// target, MIGRATING on the source, the keys, then NODE on the target and
// the source. The other masters learn the new owner from the target:
// SETSLOT NODE that closes an import broadcasts a pong to every node (as
// Redis 7.0's), carrying the claim with the target's configEpoch, the
// greatest of the cluster, before a SETSLOT from the mover could reach
// them. redis-cli --cluster sends SETSLOT NODE to every master as well; on
// a move of thousands of slots that is three commands of five per slot
// (the bench-reshard cluster) for news the nodes already have.
func MoveSlotOps(slot int, source, target string) []SlotOp {
	ops := []SlotOp{
		{Type: OpSetSlot, Slot: slot, Node: target, State: SlotImporting, Arg: source, Failpoint: FailpointAfterImporting},
		{Type: OpSetSlot, Slot: slot, Node: source, State: SlotMigrating, Arg: target, Failpoint: FailpointAfterMigrating},
	}
	return append(ops, finishOps(slot, source, target, nil)...)
}

// finishOps moves the keys and hands the slot to target, on target and
// source, then on the masters (best effort).
func finishOps(slot int, source, target string, masters []string) []SlotOp {
	ops := []SlotOp{
		{Type: OpMoveKeys, Slot: slot, Node: source, Arg: target, Failpoint: FailpointMidKeys},
		{Type: OpSetSlot, Slot: slot, Node: target, State: SlotNode, Arg: target, Failpoint: FailpointAfterNodeOnTarget},
		{Type: OpSetSlot, Slot: slot, Node: source, State: SlotNode, Arg: target},
	}
	for _, m := range masters {
		if m != source && m != target {
			ops = append(ops, SlotOp{Type: OpSetSlot, Slot: slot, Node: m, State: SlotNode, Arg: target, BestEffort: true})
		}
	}
	return ops
}

// OpenSlot is a slot some master left MIGRATING or IMPORTING: an
// interrupted move.
type OpenSlot struct {
	Slot int
	// Owners are the masters that claim the slot (normally one).
	Owners []string
	// Migrating maps a node to the node it migrates the slot to;
	// Importing a node to the node it imports from.
	Migrating map[string]string
	Importing map[string]string
}

// OpenSlots lists the open slots of the masters' own lines, in slot order.
func OpenSlots(members []Member) []OpenSlot {
	open := map[int]*OpenSlot{}
	get := func(slot int) *OpenSlot {
		if o, ok := open[slot]; ok {
			return o
		}
		o := &OpenSlot{Slot: slot, Migrating: map[string]string{}, Importing: map[string]string{}}
		open[slot] = o
		return o
	}
	masters := masterSelves(members)
	for _, me := range masters {
		for slot, to := range me.MigratingSlotsTo {
			get(slot).Migrating[me.ID] = to
		}
		for slot, from := range me.ImportingSlotsFrom {
			get(slot).Importing[me.ID] = from
		}
	}
	for _, me := range masters {
		for slot, o := range open {
			if servesSlot(me.Slots, slot) {
				o.Owners = append(o.Owners, me.ID)
			}
		}
	}
	out := make([]OpenSlot, 0, len(open))
	for _, slot := range slices.Sorted(maps.Keys(open)) {
		slices.Sort(open[slot].Owners)
		out = append(out, *open[slot])
	}
	return out
}

func servesSlot(rs []clusteradmin.SlotRange, slot int) bool {
	for _, r := range rs {
		if r.First <= slot && slot <= r.Last {
			return true
		}
	}
	return false
}

// OpenSlotFix is what to do with an open slot: Ops to carry out, or a
// reason to wait (a transient state) or to stop (Blocked: a state the
// operator must not change on its own).
type OpenSlotFix struct {
	Ops     []SlotOp
	Wait    string
	Blocked string
}

// PlanOpenSlot decides how to close an open slot from where its keys are
// (keys: COUNTKEYSINSLOT of every master), as redis-cli --cluster fix
// does, never dropping a key:
//   - the owner migrates to T, and T imports from it or already holds keys
//     of the slot: finish the move to T;
//   - the owner migrates to T, T neither imports nor holds keys: roll back
//     (SETSLOT STABLE on the owner), the keys never left;
//   - any other node with the slot open (an importing target that got
//     nothing, an old source after the target took the slot): its keys of
//     the slot, if any, move to the owner, then SETSLOT STABLE.
//
// Several masters claiming the slot is a transient state after SETSLOT
// NODE (wait for gossip); no master claiming it is blocked.
func PlanOpenSlot(o OpenSlot, keys map[string]int64, masters []string) OpenSlotFix {
	switch len(o.Owners) {
	case 0:
		return OpenSlotFix{Blocked: fmt.Sprintf("slot %d is open (migrating %v, importing %v) and no master serves it", o.Slot, o.Migrating, o.Importing)}
	case 1:
	default:
		return OpenSlotFix{Wait: fmt.Sprintf("slot %d is claimed by %d masters: waiting for the cluster to settle its owner", o.Slot, len(o.Owners))}
	}
	owner := o.Owners[0]
	var ops []SlotOp
	finishTo := ""
	if t, ok := o.Migrating[owner]; ok {
		if o.Importing[t] == owner || keys[t] > 0 {
			finishTo = t
			if o.Importing[t] != owner {
				ops = append(ops, SlotOp{Type: OpSetSlot, Slot: o.Slot, Node: t, State: SlotImporting, Arg: owner})
			}
		} else {
			ops = append(ops, SlotOp{Type: OpSetSlot, Slot: o.Slot, Node: owner, State: SlotStable})
		}
	}
	if _, ok := o.Importing[owner]; ok {
		ops = append(ops, SlotOp{Type: OpSetSlot, Slot: o.Slot, Node: owner, State: SlotStable})
	}
	// Every other open node gives its keys to the owner first, so that
	// finishing the move then takes them along.
	for _, n := range slices.Sorted(maps.Keys(union(o.Migrating, o.Importing))) {
		if n == owner || n == finishTo {
			continue
		}
		if keys[n] > 0 {
			ops = append(ops, SlotOp{Type: OpMoveKeys, Slot: o.Slot, Node: n, Arg: owner})
		}
		ops = append(ops, SlotOp{Type: OpSetSlot, Slot: o.Slot, Node: n, State: SlotStable})
	}
	if finishTo != "" {
		// A repair, unlike a move, tells every master too: it runs after
		// a crash or by hand, when a master may have missed (or not yet
		// received) the broadcast of an earlier attempt; it is rare.
		ops = append(ops, finishOps(o.Slot, owner, finishTo, masters)...)
	}
	return OpenSlotFix{Ops: ops}
}

func union(a, b map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// Uncovered lists the slots no node, in any member's view, sees served.
// A master that is down still shows with its slots in the others' views,
// so its slots are not uncovered.
func Uncovered(members []Member) []clusteradmin.SlotRange {
	var covered [clusteradmin.SlotCount]bool
	for _, m := range members {
		if m.View == nil {
			continue
		}
		for _, n := range m.View.Nodes {
			for _, r := range n.Slots {
				for s := r.First; s <= r.Last; s++ {
					covered[s] = true
				}
			}
		}
	}
	var slots []int
	for s, c := range covered {
		if !c {
			slots = append(slots, s)
		}
	}
	return Ranges(slots)
}

// PlanCoverage assigns uncovered slots (which no node holds keys of: the
// caller checked) to shard masters: each slot to the shard formation would
// have given it, when that shard has a master serving slots or an empty
// one; else to the master with the fewest slots. masters is indexed by
// shard (nil when none), n the desired number of masters.
func PlanCoverage(uncovered []clusteradmin.SlotRange, masters []*Member, n int) []Action {
	even := EvenSlotRanges(n)
	give := map[string][]int{}
	var order []string
	count := map[string]int{}
	for _, m := range masters {
		if m != nil {
			me, _ := m.View.Myself()
			count[m.Pod] = me.SlotCount()
		}
	}
	for _, r := range uncovered {
		for slot := r.First; slot <= r.Last; slot++ {
			var to *Member
			for s, er := range even {
				if er.First <= slot && slot <= er.Last && s < len(masters) && masters[s] != nil {
					to = masters[s]
				}
			}
			if to == nil {
				for s := range min(n, len(masters)) {
					if m := masters[s]; m != nil && (to == nil || count[m.Pod] < count[to.Pod]) {
						to = m
					}
				}
			}
			if to == nil {
				continue
			}
			if _, ok := give[to.Pod]; !ok {
				order = append(order, to.Pod)
			}
			give[to.Pod] = append(give[to.Pod], slot)
			count[to.Pod]++
		}
	}
	var out []Action
	for _, pod := range order {
		out = append(out, Action{Type: ActionAddSlots, Pod: pod, Slots: Ranges(give[pod])})
	}
	return out
}

// masterSelves is the own entry of every member that reported a view and is
// a master.
func masterSelves(members []Member) []clusteradmin.Node {
	var out []clusteradmin.Node
	for _, m := range members {
		if m.View == nil {
			continue
		}
		if me, _ := m.View.Myself(); me.IsMaster() {
			out = append(out, me)
		}
	}
	return out
}
