package topology

import (
	"fmt"
	"slices"
	"testing"

	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// ownersOf builds the slot owner table from ranges per shard.
func ownersOf(byShard ...[]clusteradmin.SlotRange) [clusteradmin.SlotCount]int {
	var o [clusteradmin.SlotCount]int
	for i := range o {
		o[i] = -1
	}
	for s, rs := range byShard {
		for _, r := range rs {
			for x := r.First; x <= r.Last; x++ {
				o[x] = s
			}
		}
	}
	return o
}

func evenOwners(n int) [clusteradmin.SlotCount]int {
	var byShard [][]clusteradmin.SlotRange
	for _, r := range EvenSlotRanges(n) {
		byShard = append(byShard, []clusteradmin.SlotRange{r})
	}
	return ownersOf(byShard...)
}

// apply moves the planned slots in the owner table.
func apply(o [clusteradmin.SlotCount]int, moves []Move) [clusteradmin.SlotCount]int {
	for _, m := range moves {
		for _, r := range m.Slots {
			for x := r.First; x <= r.Last; x++ {
				o[x] = m.To
			}
		}
	}
	return o
}

func counts(o [clusteradmin.SlotCount]int, n int) []int {
	c := make([]int, n)
	for _, s := range o {
		if s >= 0 {
			c[s]++
		}
	}
	return c
}

func TestTargets(t *testing.T) {
	tests := []struct {
		n, masters int
		weights    []int32
		want       []int
	}{
		{3, 3, nil, []int{5462, 5461, 5461}},
		{5, 5, nil, []int{3277, 3277, 3277, 3277, 3276}},
		{5, 3, nil, []int{5462, 5461, 5461, 0, 0}},
		{3, 3, []int32{2, 1, 1}, []int{8192, 4096, 4096}},
		{3, 3, []int32{1, 0, 1}, []int{8192, 0, 8192}},
		{3, 3, []int32{1, 1}, []int{5462, 5461, 5461}}, // weights of the wrong length: even
	}
	for _, tt := range tests {
		got := Targets(tt.n, tt.masters, tt.weights)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Targets(%d, %d, %v) = %v, want %v", tt.n, tt.masters, tt.weights, got, tt.want)
		}
	}
}

func TestPlanMigration(t *testing.T) {
	tests := []struct {
		name       string
		owners     [clusteradmin.SlotCount]int
		n          int
		goal       MigrationGoal
		wantReason string
		wantCounts []int // slot counts per shard after the plan
		wantSlots  int   // slots moved
	}{
		{
			name:   "scale out 3 to 5: the new shards get a fifth each, from every old shard",
			owners: evenOwners(3), n: 5, goal: MigrationGoal{Masters: 5, Rebalance: true, ThresholdPercent: 2},
			wantReason: ReasonScaleOut, wantCounts: []int{3277, 3277, 3277, 3277, 3276}, wantSlots: 2*3277 - 1,
		},
		{
			name:   "scale out with rebalancing disabled still moves",
			owners: evenOwners(3), n: 5, goal: MigrationGoal{Masters: 5},
			wantReason: ReasonScaleOut, wantCounts: []int{3277, 3277, 3277, 3277, 3276}, wantSlots: 2*3277 - 1,
		},
		{
			name:   "scale in 5 to 3: the leaving shards drain to the others",
			owners: evenOwners(5), n: 5, goal: MigrationGoal{Masters: 3, Rebalance: true, ThresholdPercent: 50},
			wantReason: ReasonScaleIn, wantCounts: []int{5462, 5461, 5461, 0, 0}, wantSlots: EvenSlotRanges(5)[3].Len() + EvenSlotRanges(5)[4].Len(),
		},
		{
			name:   "even within the threshold: nothing",
			owners: ownersOf([]clusteradmin.SlotRange{{First: 0, Last: 5499}}, []clusteradmin.SlotRange{{First: 5500, Last: 10922}}, []clusteradmin.SlotRange{{First: 10923, Last: 16383}}), n: 3,
			goal: MigrationGoal{Masters: 3, Rebalance: true, ThresholdPercent: 2},
		},
		{
			name:   "uneven beyond the threshold: rebalance",
			owners: ownersOf([]clusteradmin.SlotRange{{First: 0, Last: 8191}}, []clusteradmin.SlotRange{{First: 8192, Last: 12287}}, []clusteradmin.SlotRange{{First: 12288, Last: 16383}}), n: 3,
			goal:       MigrationGoal{Masters: 3, Rebalance: true, ThresholdPercent: 2},
			wantReason: ReasonRebalance, wantCounts: []int{5462, 5461, 5461}, wantSlots: 8192 - 5462,
		},
		{
			name:   "uneven, rebalancing disabled: nothing",
			owners: ownersOf([]clusteradmin.SlotRange{{First: 0, Last: 8191}}, []clusteradmin.SlotRange{{First: 8192, Last: 12287}}, []clusteradmin.SlotRange{{First: 12288, Last: 16383}}), n: 3,
			goal: MigrationGoal{Masters: 3, ThresholdPercent: 2},
		},
		{
			name:   "weights 2:1:1 from even",
			owners: evenOwners(3), n: 3, goal: MigrationGoal{Masters: 3, Weights: []int32{2, 1, 1}, Rebalance: true, ThresholdPercent: 2},
			wantReason: ReasonRebalance, wantCounts: []int{8192, 4096, 4096}, wantSlots: 8192 - EvenSlotRanges(3)[0].Len(),
		},
		{
			name:   "a shard within the threshold neither gives nor takes",
			owners: ownersOf([]clusteradmin.SlotRange{{First: 0, Last: 5470}}, []clusteradmin.SlotRange{{First: 5471, Last: 12000}}, []clusteradmin.SlotRange{{First: 12001, Last: 16383}}), n: 3,
			goal:       MigrationGoal{Masters: 3, Rebalance: true, ThresholdPercent: 5},
			wantReason: ReasonRebalance, wantCounts: []int{5471, 5461 + 1069 - 1069, 4383 + 1069}, wantSlots: 1069,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			moves, reason := PlanMigration(tt.owners, tt.n, tt.goal)
			if reason != tt.wantReason {
				t.Fatalf("reason %q, want %q (moves %v)", reason, tt.wantReason, moves)
			}
			if tt.wantReason == "" {
				if len(moves) > 0 {
					t.Fatalf("moves %v, want none", moves)
				}
				return
			}
			if got := SlotCountOf(moves); got != tt.wantSlots {
				t.Errorf("moves %d slots, want %d", got, tt.wantSlots)
			}
			after := apply(tt.owners, moves)
			if got := counts(after, tt.n); !slices.Equal(got, tt.wantCounts) {
				t.Errorf("counts after %v, want %v", got, tt.wantCounts)
			}
			for _, m := range moves {
				for _, r := range m.Slots {
					for x := r.First; x <= r.Last; x++ {
						if tt.owners[x] != m.From {
							t.Fatalf("slot %d planned from shard %d, owned by %d", x, m.From, tt.owners[x])
						}
					}
				}
			}
			again, _ := PlanMigration(tt.owners, tt.n, tt.goal)
			if fmt.Sprint(again) != fmt.Sprint(moves) {
				t.Error("the same input gave another plan")
			}
			if next, r := PlanMigration(after, tt.n, tt.goal); len(next) > 0 && tt.goal.ThresholdPercent > 0 {
				t.Errorf("after the plan another %s plan: %v", r, next)
			}
		})
	}
}

func TestRemaining(t *testing.T) {
	moves := []Move{{From: 0, To: 3, Slots: []clusteradmin.SlotRange{{First: 0, Last: 3}}}, {From: 1, To: 3, Slots: []clusteradmin.SlotRange{{First: 10, Last: 11}}}}
	o := ownersOf([]clusteradmin.SlotRange{{First: 0, Last: 9}}, []clusteradmin.SlotRange{{First: 10, Last: 16383}})
	o[0], o[1] = 3, 2 // slot 0 moved; slot 1 taken by hand by shard 2
	o[2] = -2         // unsettled
	todo, moved, unsettled := Remaining(moves, o)
	want := []SlotTask{{3, 0, 3}, {10, 1, 3}, {11, 1, 3}}
	if !slices.Equal(todo, want) || moved != 2 || unsettled != 1 {
		t.Errorf("Remaining = %v, %d, %d; want %v, 2, 1", todo, moved, unsettled, want)
	}
}

func TestRangesAndParse(t *testing.T) {
	got := Ranges([]int{5, 1, 2, 3, 7, 8, 16383})
	want := []clusteradmin.SlotRange{{First: 1, Last: 3}, {First: 5, Last: 5}, {First: 7, Last: 8}, {First: 16383, Last: 16383}}
	if !slices.Equal(got, want) {
		t.Errorf("Ranges = %v", got)
	}
	for _, r := range want {
		p, err := ParseSlotRange(r.String())
		if err != nil || p != r {
			t.Errorf("ParseSlotRange(%q) = %v, %v", r, p, err)
		}
	}
	for _, bad := range []string{"", "x", "5-3", "16384", "-1", "1-16384"} {
		if _, err := ParseSlotRange(bad); err == nil {
			t.Errorf("ParseSlotRange(%q) accepted", bad)
		}
	}
}

func TestScaleInFits(t *testing.T) {
	tests := []struct {
		used, limit []int64
		ok          bool
	}{
		{[]int64{10, 10, 10}, []int64{20, 20, 20}, true},
		{[]int64{30, 30, 30}, []int64{40, 40, 40}, false},
		{[]int64{30, 30, 30}, []int64{0, 40, 40}, true}, // no limit on a staying shard
		{[]int64{30, 30, 30}, []int64{45, 45, 0}, true},
	}
	for _, tt := range tests {
		if ok, why := ScaleInFits(tt.used, tt.limit, 2); ok != tt.ok {
			t.Errorf("ScaleInFits(%v, %v, 2) = %v (%s)", tt.used, tt.limit, ok, why)
		}
	}
}

func TestRetired(t *testing.T) {
	mk := func(slots []clusteradmin.SlotRange, keys int64, replicaOf string) Member {
		me := clusteradmin.Node{ID: "x", Flags: []string{clusteradmin.FlagMyself, clusteradmin.FlagMaster}, Slots: slots}
		if replicaOf != "" {
			me.Flags, me.MasterID = []string{clusteradmin.FlagMyself, clusteradmin.FlagReplica}, replicaOf
		}
		return Member{Pod: "p", Shard: 3, View: &clusteradmin.NodeView{Nodes: []clusteradmin.Node{me}, Keys: keys}}
	}
	tests := []struct {
		name  string
		shard []Member
		want  bool
	}{
		{"a drained empty master", []Member{mk(nil, 0, "")}, true},
		{"a master still serving slots", []Member{mk([]clusteradmin.SlotRange{{First: 1, Last: 1}}, 0, "")}, false},
		{"a master without slots but with keys", []Member{mk(nil, 4, "")}, false},
		{"a drained master that became a replica of the slots' new owner", []Member{mk(nil, 400, "owner")}, true},
		{"a member that did not report", []Member{{Pod: "p", Shard: 3}}, false},
	}
	for _, tt := range tests {
		if got := Retired(tt.shard, 3); got != tt.want {
			t.Errorf("%s: Retired = %v", tt.name, got)
		}
	}
	if Retired([]Member{mk(nil, 0, "")}, 4) {
		t.Error("a desired shard is never retired")
	}
}
