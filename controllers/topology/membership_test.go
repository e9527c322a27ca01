package topology

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// grow adds the members of a new shard (or new ordinals) to a fixture: fresh
// empty masters that know only themselves.
func (f *fixture) grow(s, o int) *fixture {
	id := nodeID(s, o)
	f.order = append(f.order, id)
	f.members[id] = &fxNode{
		m:     Member{Pod: fmt.Sprintf("rc-shard-%d-%d", s, o), Shard: s, Ordinal: o, IP: fmt.Sprintf("10.0.%d.%d", s, o), Port: 6379, BusPort: 16379},
		state: clusteradmin.StateFail, knows: map[string]bool{id: true},
	}
	return f
}

func TestPlanMembership(t *testing.T) {
	formed := func() *fixture { return newFixture(3, 1).meetAll().assignSlots().replicateAll().ok() }
	tests := []struct {
		name        string
		fixture     func() *fixture
		d           Desired
		edit        func([]Member) []Member
		wantPhase   Phase
		wantActions []string
		wantReason  string
	}{
		{
			name: "formed: nothing to do", fixture: formed, d: Desired{3, 1},
			wantPhase: PhaseMembershipOK,
		},
		{
			name:    "scale out: the new shard's pods are met through a master serving slots",
			fixture: func() *fixture { return formed().grow(3, 0).grow(3, 1) }, d: Desired{4, 1},
			wantPhase:   PhaseMeeting,
			wantActions: []string{"CLUSTER MEET 10.0.3.0 6379 16379 on rc-shard-0-0", "CLUSTER MEET 10.0.3.1 6379 16379 on rc-shard-0-0"},
		},
		{
			name:    "scale out, everyone met: the new replica attaches to the new master",
			fixture: func() *fixture { return formed().grow(3, 0).grow(3, 1).meetAll() }, d: Desired{4, 1},
			wantPhase: PhaseReplicating, wantActions: []string{"CLUSTER REPLICATE " + nodeID(3, 0) + " on rc-shard-3-1"},
		},
		{
			name:    "a new replica ordinal attaches to its shard's master",
			fixture: func() *fixture { return formed().grow(1, 2).meetAll() }, d: Desired{3, 2},
			wantPhase: PhaseReplicating, wantActions: []string{"CLUSTER REPLICATE " + nodeID(1, 0) + " on rc-shard-1-2"},
		},
		{
			name: "an empty master holding keys is never made a replica",
			fixture: func() *fixture {
				f := formed().grow(1, 2).meetAll()
				f.node(1, 2).keys = 3
				return f
			},
			d: Desired{3, 2}, wantPhase: PhaseBlocked, wantReason: "holding 3 keys",
		},
		{
			name:    "a restarted pod with a new IP the seed knows at the old one: MEET again",
			fixture: formed, d: Desired{3, 1},
			edit: func(ms []Member) []Member {
				ms[3].IP = "10.9.9.9"
				return ms
			},
			wantPhase: PhaseMeeting, wantActions: []string{"CLUSTER MEET 10.9.9.9 6379 16379 on rc-shard-0-0"},
		},
		{
			name:    "a forgotten node of a shard being removed is not met again when its other pod stops answering",
			fixture: func() *fixture { return formed().grow(3, 0).grow(3, 1) }, d: Desired{3, 1},
			edit: func(ms []Member) []Member {
				ms[len(ms)-1].View = nil // terminating: its StatefulSet is being deleted
				return ms
			},
			wantPhase: PhaseMembershipOK,
		},
		{
			name: "a node of no pod, without slots, everyone reported: FORGET on every node that knows it",
			fixture: func() *fixture {
				f := formed().grow(9, 0)
				for _, id := range f.order {
					f.members[id].knows[nodeID(9, 0)] = true
				}
				return f
			},
			d: Desired{3, 1},
			edit: func(ms []Member) []Member {
				return slices.DeleteFunc(ms, func(m Member) bool { return m.Shard == 9 })
			},
			wantPhase: PhaseForgetting, wantActions: forgetAll(nodeID(9, 0)),
		},
		{
			name: "a gone node but a pod has not reported: forget nothing",
			fixture: func() *fixture {
				f := formed().grow(9, 0)
				for _, id := range f.order {
					f.members[id].knows[nodeID(9, 0)] = true
				}
				return f
			},
			d: Desired{3, 1},
			edit: func(ms []Member) []Member {
				ms = slices.DeleteFunc(ms, func(m Member) bool { return m.Shard == 9 })
				ms[5].View = nil
				return ms
			},
			wantPhase: PhaseMembershipOK,
		},
		{
			name: "a gone node still serving slots is never forgotten",
			fixture: func() *fixture {
				f := formed().grow(9, 0)
				f.node(9, 0).slots = []clusteradmin.SlotRange{{First: 16383, Last: 16383}}
				for _, id := range f.order {
					f.members[id].knows[nodeID(9, 0)] = true
				}
				return f
			},
			d: Desired{3, 1},
			edit: func(ms []Member) []Member {
				return slices.DeleteFunc(ms, func(m Member) bool { return m.Shard == 9 })
			},
			wantPhase: PhaseMembershipOK,
		},
		{
			name: "a master without replica while another shard has a spare: move the spare",
			fixture: func() *fixture {
				f := formed().grow(1, 2).meetAll()
				f.node(1, 2).masterID = nodeID(1, 0)
				f.node(1, 2).link = "up"
				f.node(2, 1).masterID = "" // shard 2's replica is gone
				return f
			},
			d: Desired{3, 1},
			edit: func(ms []Member) []Member {
				return slices.DeleteFunc(ms, func(m Member) bool { return m.Pod == "rc-shard-2-1" })
			},
			wantPhase: PhaseMovingReplica, wantActions: []string{"CLUSTER REPLICATE " + nodeID(2, 0) + " on rc-shard-1-2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			members := tt.fixture().build()
			if tt.edit != nil {
				members = tt.edit(members)
			}
			p := PlanMembership(members, tt.d)
			var got []string
			for _, a := range p.Actions {
				got = append(got, a.String())
			}
			if p.Phase != tt.wantPhase || !slices.Equal(got, tt.wantActions) || !strings.Contains(p.Reason, tt.wantReason) {
				t.Errorf("PlanMembership = %s %q\n  actions %q\nwant %s %q\n  actions %q", p.Phase, p.Reason, got, tt.wantPhase, tt.wantReason, tt.wantActions)
			}
		})
	}
}

func forgetAll(id string) []string {
	var out []string
	for s := range 3 {
		for o := range 2 {
			out = append(out, fmt.Sprintf("CLUSTER FORGET %s on rc-shard-%d-%d", id, s, o))
		}
	}
	return out
}
