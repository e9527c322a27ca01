package topology

import (
	"slices"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/node/clusteradmin"
)

func opStrings(ops []SlotOp) []string {
	out := make([]string, len(ops))
	for i, o := range ops {
		out[i] = o.String()
	}
	return out
}

const (
	idS = "ssssssss00000000000000000000000000000000" // source
	idT = "tttttttt00000000000000000000000000000000" // target
	idO = "oooooooo00000000000000000000000000000000" // another master
)

func TestMoveSlotOpsFollowsTheSpecification(t *testing.T) {
	got := opStrings(MoveSlotOps(7, idS, idT))
	want := []string{
		"CLUSTER SETSLOT 7 IMPORTING ssssssss on tttttttt",
		"CLUSTER SETSLOT 7 MIGRATING tttttttt on ssssssss",
		"MIGRATE keys of slot 7 from ssssssss to tttttttt",
		"CLUSTER SETSLOT 7 NODE tttttttt on tttttttt",
		"CLUSTER SETSLOT 7 NODE tttttttt on ssssssss",
	}
	if !slices.Equal(got, want) {
		t.Errorf("MoveSlotOps =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestPlanOpenSlot covers every crash point of a move (what the nodes show
// after it) and the cases of redis-cli --cluster fix.
func TestPlanOpenSlot(t *testing.T) {
	masters := []string{idS, idT, idO}
	tests := []struct {
		name string
		open OpenSlot
		keys map[string]int64
		want []string
		wait string
		stop string
	}{
		{
			name: "crash after IMPORTING: the target got nothing, roll back",
			open: OpenSlot{Slot: 7, Owners: []string{idS}, Importing: map[string]string{idT: idS}},
			keys: map[string]int64{idS: 10},
			want: []string{"CLUSTER SETSLOT 7 STABLE on tttttttt"},
		},
		{
			name: "importing only, but the target holds keys (written by ASK): they go back to the owner",
			open: OpenSlot{Slot: 7, Owners: []string{idS}, Importing: map[string]string{idT: idS}},
			keys: map[string]int64{idS: 10, idT: 2},
			want: []string{"MIGRATE keys of slot 7 from tttttttt to ssssssss", "CLUSTER SETSLOT 7 STABLE on tttttttt"},
		},
		{
			name: "crash after MIGRATING (or mid-keys): both sides open, finish the move",
			open: OpenSlot{Slot: 7, Owners: []string{idS}, Migrating: map[string]string{idS: idT}, Importing: map[string]string{idT: idS}},
			keys: map[string]int64{idS: 10, idT: 5},
			want: []string{
				"MIGRATE keys of slot 7 from ssssssss to tttttttt",
				"CLUSTER SETSLOT 7 NODE tttttttt on tttttttt",
				"CLUSTER SETSLOT 7 NODE tttttttt on ssssssss",
				"CLUSTER SETSLOT 7 NODE tttttttt on oooooooo",
			},
		},
		{
			name: "migrating only, the target holds no key: roll back",
			open: OpenSlot{Slot: 7, Owners: []string{idS}, Migrating: map[string]string{idS: idT}},
			keys: map[string]int64{idS: 10},
			want: []string{"CLUSTER SETSLOT 7 STABLE on ssssssss"},
		},
		{
			name: "migrating only, the target holds keys: reopen importing and finish",
			open: OpenSlot{Slot: 7, Owners: []string{idS}, Migrating: map[string]string{idS: idT}},
			keys: map[string]int64{idS: 10, idT: 3},
			want: []string{
				"CLUSTER SETSLOT 7 IMPORTING ssssssss on tttttttt",
				"MIGRATE keys of slot 7 from ssssssss to tttttttt",
				"CLUSTER SETSLOT 7 NODE tttttttt on tttttttt",
				"CLUSTER SETSLOT 7 NODE tttttttt on ssssssss",
				"CLUSTER SETSLOT 7 NODE tttttttt on oooooooo",
			},
		},
		{
			name: "crash after NODE on the target, before gossip settled: wait",
			open: OpenSlot{Slot: 7, Owners: []string{idS, idT}, Migrating: map[string]string{idS: idT}},
			wait: "claimed by 2 masters",
		},
		{
			name: "crash after NODE on the target, settled: the old source is closed",
			open: OpenSlot{Slot: 7, Owners: []string{idT}, Migrating: map[string]string{idS: idT}},
			keys: map[string]int64{idT: 10},
			want: []string{"CLUSTER SETSLOT 7 STABLE on ssssssss"},
		},
		{
			name: "an old source still holding keys gives them to the owner first",
			open: OpenSlot{Slot: 7, Owners: []string{idT}, Migrating: map[string]string{idS: idT}},
			keys: map[string]int64{idT: 10, idS: 1},
			want: []string{"MIGRATE keys of slot 7 from ssssssss to tttttttt", "CLUSTER SETSLOT 7 STABLE on ssssssss"},
		},
		{
			name: "the owner importing its own slot: stable",
			open: OpenSlot{Slot: 7, Owners: []string{idT}, Importing: map[string]string{idT: idS}},
			want: []string{"CLUSTER SETSLOT 7 STABLE on tttttttt"},
		},
		{
			name: "no master serves the slot: blocked",
			open: OpenSlot{Slot: 7, Importing: map[string]string{idT: idS}},
			stop: "no master serves it",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.open.Migrating == nil {
				tt.open.Migrating = map[string]string{}
			}
			if tt.open.Importing == nil {
				tt.open.Importing = map[string]string{}
			}
			fix := PlanOpenSlot(tt.open, tt.keys, masters)
			got := opStrings(fix.Ops)
			if !slices.Equal(got, tt.want) || !strings.Contains(fix.Wait, tt.wait) || !strings.Contains(fix.Blocked, tt.stop) ||
				(tt.wait == "") != (fix.Wait == "") || (tt.stop == "") != (fix.Blocked == "") {
				t.Errorf("PlanOpenSlot = %q wait %q blocked %q\nwant %q wait %q blocked %q", got, fix.Wait, fix.Blocked, tt.want, tt.wait, tt.stop)
			}
		})
	}
}

func TestOpenSlotsAndUncovered(t *testing.T) {
	f := newFixture(2, 0).meetAll().assignSlots().ok()
	f.node(0, 0).slots = []clusteradmin.SlotRange{{First: 0, Last: 8191}}
	f.node(1, 0).slots = []clusteradmin.SlotRange{{First: 8192, Last: 16000}}
	members := f.build()
	me0 := &members[0].View.Nodes[0]
	for i := range members[0].View.Nodes {
		if members[0].View.Nodes[i].HasFlag(clusteradmin.FlagMyself) {
			me0 = &members[0].View.Nodes[i]
		}
	}
	me0.MigratingSlotsTo = map[int]string{5: nodeID(1, 0)}
	open := OpenSlots(members)
	if len(open) != 1 || open[0].Slot != 5 || !slices.Equal(open[0].Owners, []string{nodeID(0, 0)}) || open[0].Migrating[nodeID(0, 0)] != nodeID(1, 0) {
		t.Errorf("OpenSlots = %+v", open)
	}
	if got := Uncovered(members); !slices.Equal(got, []clusteradmin.SlotRange{{First: 16001, Last: 16383}}) {
		t.Errorf("Uncovered = %v", got)
	}
	masters := []*Member{&members[0], &members[1]}
	got := PlanCoverage([]clusteradmin.SlotRange{{First: 16001, Last: 16383}}, masters, 2)
	if len(got) != 1 || got[0].String() != "CLUSTER ADDSLOTSRANGE 16001-16383 on rc-shard-1-0" {
		t.Errorf("PlanCoverage = %v", got)
	}
	// A down master's slots are still seen by the others: not uncovered.
	members[1].View = nil
	if got := Uncovered(members); !slices.Equal(got, []clusteradmin.SlotRange{{First: 16001, Last: 16383}}) {
		t.Errorf("Uncovered with a silent master = %v", got)
	}
}
