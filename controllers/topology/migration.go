package topology

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// Move is part of a migration plan: slots that go from one shard to
// another. Shards are indexes, not node IDs: a failover during the move
// changes the node, not the shard.
type Move struct {
	From, To int
	Slots    []clusteradmin.SlotRange
}

// SlotTask is one slot of a plan that has not moved yet.
type SlotTask struct {
	Slot     int
	From, To int
}

// Owners maps every slot to the shard whose master claims it (its own
// myself line), -1 when no shard master claims it, -2 when several do
// (a transient state after SETSLOT NODE, until gossip settles it).
func Owners(shards [][]Member) [clusteradmin.SlotCount]int {
	var out [clusteradmin.SlotCount]int
	for i := range out {
		out[i] = -1
	}
	for s, shard := range shards {
		m, _, ok := ShardMaster(shard)
		if !ok {
			continue
		}
		me, _ := m.View.Myself()
		for _, r := range me.Slots {
			for slot := r.First; slot <= r.Last; slot++ {
				if out[slot] >= 0 && out[slot] != s {
					out[slot] = -2
				} else {
					out[slot] = s
				}
			}
		}
	}
	return out
}

// SlotsByShard lists, for every shard, the slots its master claims, in
// order. n is the number of shards.
func SlotsByShard(owners [clusteradmin.SlotCount]int, n int) [][]int {
	out := make([][]int, n)
	for slot, s := range owners {
		if s >= 0 && s < n {
			out[s] = append(out[s], slot)
		}
	}
	return out
}

// Targets is how many slots each of n shards should serve: the shards below
// masters share the 16384 slots by weight (every weight 1 when weights does
// not have one entry per master), the shards at or above masters (leaving)
// get none. Rounding hands the remainder to the first shards, so the
// targets always sum to 16384.
func Targets(n, masters int, weights []int32) []int {
	w := make([]int64, n)
	var sum int64
	for s := range min(n, masters) {
		w[s] = 1
		if len(weights) == masters {
			w[s] = int64(weights[s])
		}
		sum += w[s]
	}
	out := make([]int, n)
	if sum == 0 {
		return out
	}
	given := 0
	for s := range n {
		out[s] = int(int64(clusteradmin.SlotCount) * w[s] / sum)
		given += out[s]
	}
	for s := 0; given < clusteradmin.SlotCount; s = (s + 1) % n {
		if w[s] > 0 {
			out[s]++
			given++
		}
	}
	return out
}

// PlanSlotMoves plans the moves that take every shard from the slots it
// serves (slots[s], in order) to its target count. With a threshold
// (percent), a shard whose count is within threshold percent of its target
// neither gives nor takes slots, and when every shard is within it nothing
// moves (redis-cli --cluster rebalance --cluster-threshold); a shard with a
// target of 0 always gives all its slots. Givers give their highest slots,
// so ranges stay contiguous; the largest surplus goes to the largest
// deficit first. It is deterministic: the same input, the same plan.
func PlanSlotMoves(slots [][]int, targets []int, threshold int) []Move {
	type bal struct{ shard, n int }
	var give, take []bal
	for s := range slots {
		have, want := len(slots[s]), targets[s]
		d := have - want
		if d == 0 {
			continue
		}
		if want > 0 && threshold > 0 && abs(d)*100 <= want*threshold {
			continue
		}
		if d > 0 {
			give = append(give, bal{s, d})
		} else {
			take = append(take, bal{s, -d})
		}
	}
	byNeed := func(a, b bal) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.shard, b.shard)) }
	slices.SortFunc(give, byNeed)
	slices.SortFunc(take, byNeed)
	pool := make([][]int, len(slots))
	for s := range slots {
		pool[s] = slices.Clone(slots[s])
	}
	var moves []Move
	for gi, ti := 0, 0; gi < len(give) && ti < len(take); {
		g, t := &give[gi], &take[ti]
		n := min(g.n, t.n)
		src := pool[g.shard]
		moved := src[len(src)-n:]
		pool[g.shard] = src[:len(src)-n]
		moves = append(moves, Move{From: g.shard, To: t.shard, Slots: Ranges(moved)})
		g.n -= n
		t.n -= n
		if g.n == 0 {
			gi++
		}
		if t.n == 0 {
			ti++
		}
	}
	return moves
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Ranges compresses slots into contiguous ranges, in order.
func Ranges(slots []int) []clusteradmin.SlotRange {
	s := slices.Clone(slots)
	slices.Sort(s)
	var out []clusteradmin.SlotRange
	for _, x := range s {
		if n := len(out); n > 0 && out[n-1].Last+1 == x {
			out[n-1].Last = x
			continue
		}
		out = append(out, clusteradmin.SlotRange{First: x, Last: x})
	}
	return out
}

// ParseSlotRange parses "first-last" or one slot, as CLUSTER NODES prints
// them (SlotRange.String).
func ParseSlotRange(s string) (clusteradmin.SlotRange, error) {
	a, b, isRange := strings.Cut(s, "-")
	first, err := strconv.Atoi(a)
	last := first
	if err == nil && isRange {
		last, err = strconv.Atoi(b)
	}
	if err != nil || first < 0 || last < first || last >= clusteradmin.SlotCount {
		return clusteradmin.SlotRange{}, fmt.Errorf("slot range %q", s)
	}
	return clusteradmin.SlotRange{First: first, Last: last}, nil
}

// SlotCountOf is the number of slots in moves.
func SlotCountOf(moves []Move) int {
	n := 0
	for _, m := range moves {
		for _, r := range m.Slots {
			n += r.Len()
		}
	}
	return n
}

// Remaining is the slots of a plan that have not moved, and how many have:
// a slot has moved when its owner is the move's target. A slot now owned by
// a shard that is neither side (changed by hand) counts as moved: the plan
// does not fight it. A slot whose ownership is unsettled (-2) or uncovered
// (-1) is neither: it waits for repair.
func Remaining(moves []Move, owners [clusteradmin.SlotCount]int) (todo []SlotTask, moved, unsettled int) {
	for _, m := range moves {
		for _, r := range m.Slots {
			for slot := r.First; slot <= r.Last; slot++ {
				switch o := owners[slot]; {
				case o == m.From:
					todo = append(todo, SlotTask{Slot: slot, From: m.From, To: m.To})
				case o < 0:
					unsettled++
				default:
					moved++
				}
			}
		}
	}
	return todo, moved, unsettled
}

// Migration reasons (the API's MigrationReason values).
const (
	ReasonScaleOut  = "ScaleOut"
	ReasonScaleIn   = "ScaleIn"
	ReasonRebalance = "Rebalance"
)

// MigrationGoal is what the slot distribution should be.
type MigrationGoal struct {
	// Masters is the number of shards that keep slots; shards at or above
	// it are drained.
	Masters int
	// Weights by shard (see Targets).
	Weights []int32
	// ThresholdPercent applies to rebalancing only.
	ThresholdPercent int
	// Rebalance is false when rebalancing is disabled: only scaling moves
	// slots.
	Rebalance bool
}

// PlanMigration plans the next slot migration of n shards from the owner
// of every slot: ScaleIn when a shard at or above g.Masters serves slots,
// ScaleOut when a desired shard with a non-zero target serves none (both to
// the exact targets, no threshold), else Rebalance toward the weights with
// the threshold when enabled. No moves: nothing to do.
func PlanMigration(owners [clusteradmin.SlotCount]int, n int, g MigrationGoal) ([]Move, string) {
	n = max(n, g.Masters)
	slots := SlotsByShard(owners, n)
	targets := Targets(n, g.Masters, g.Weights)
	reason := ReasonRebalance
	for s := range n {
		switch {
		case s >= g.Masters && len(slots[s]) > 0:
			reason = ReasonScaleIn
		case s < g.Masters && len(slots[s]) == 0 && targets[s] > 0 && reason != ReasonScaleIn:
			reason = ReasonScaleOut
		}
	}
	threshold := 0
	if reason == ReasonRebalance {
		if !g.Rebalance {
			return nil, ""
		}
		threshold = g.ThresholdPercent
	}
	moves := PlanSlotMoves(slots, targets, threshold)
	if len(moves) == 0 {
		return nil, ""
	}
	return moves, reason
}

// ScaleInFits reports whether the data of all shards fits the maxmemory of
// the shards that stay (below masters). used and maxmemory are by shard
// (the master's INFO memory); a staying shard without a limit (0) takes
// anything.
func ScaleInFits(used, maxmemory []int64, masters int) (bool, string) {
	var total, room int64
	for s := range used {
		total += used[s]
		if s < masters {
			if maxmemory[s] == 0 {
				return true, ""
			}
			room += maxmemory[s]
		}
	}
	if total > room {
		return false, fmt.Sprintf("the data (%d bytes used) would not fit the maxmemory of the %d remaining masters (%d bytes)", total, masters, room)
	}
	return true, ""
}

// Retired reports whether a shard at or above masters is drained: every
// member reported, none serves slots or has a slot open, and none that is a
// master holds keys (a replica's keys are its master's: a master that gave
// away its last slot becomes a replica of the node that took it). Its nodes
// may then be forgotten and its pods removed.
func Retired(shard []Member, masters int) bool {
	if len(shard) == 0 || shard[0].Shard < masters {
		return false
	}
	for _, m := range shard {
		if m.View == nil {
			return false
		}
		me, _ := m.View.Myself()
		if len(me.Slots) > 0 || me.IsMaster() && m.View.Keys > 0 || len(me.MigratingSlotsTo) > 0 || len(me.ImportingSlotsFrom) > 0 {
			return false
		}
	}
	return true
}

// Active is the members that take part in the cluster: all but the members
// of retired shards, which are to be forgotten.
func Active(members []Member, masters int) []Member {
	var out []Member
	for _, shard := range Shards(members, masters) {
		if !Retired(shard, masters) {
			out = append(out, shard...)
		}
	}
	return out
}
