package topology

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// fixture is a hand-made cluster: the truth about every node (role, master,
// slots, keys) and, for every node, which nodes it knows. members() turns it
// into the views the planner reads.
type fixture struct {
	d       Desired
	order   []string // node IDs in member order
	members map[string]*fxNode
}

type fxNode struct {
	m         Member
	masterID  string
	slots     []clusteradmin.SlotRange
	keys      int64
	state     string
	link      string // master_link_status of a replica
	knows     map[string]bool
	handshake []string // IDs this node is in handshake with
}

func nodeID(s, o int) string { return fmt.Sprintf("%040d", s*100+o+1) }

func newFixture(masters, replicas int) *fixture {
	f := &fixture{d: Desired{Masters: masters, ReplicasPerMaster: replicas}, members: map[string]*fxNode{}}
	for s := range masters {
		for o := range 1 + replicas {
			id := nodeID(s, o)
			f.order = append(f.order, id)
			f.members[id] = &fxNode{
				m:     Member{Pod: fmt.Sprintf("rc-shard-%d-%d", s, o), Shard: s, Ordinal: o, IP: fmt.Sprintf("10.0.%d.%d", s, o), Port: 6379, BusPort: 16379},
				state: clusteradmin.StateFail,
				knows: map[string]bool{id: true},
			}
		}
	}
	return f
}

func (f *fixture) node(s, o int) *fxNode { return f.members[nodeID(s, o)] }

// meetAll makes every node know every other.
func (f *fixture) meetAll() *fixture {
	for _, n := range f.members {
		for _, id := range f.order {
			n.knows[id] = true
		}
	}
	return f
}

// assignSlots gives ordinal 0 of every shard its even range.
func (f *fixture) assignSlots() *fixture {
	for s, r := range EvenSlotRanges(f.d.Masters) {
		f.node(s, 0).slots = []clusteradmin.SlotRange{r}
	}
	return f
}

// replicateAll attaches every non-zero ordinal to ordinal 0 of its shard.
func (f *fixture) replicateAll() *fixture {
	for _, id := range f.order {
		n := f.members[id]
		if n.m.Ordinal != 0 {
			n.masterID = nodeID(n.m.Shard, 0)
		}
	}
	return f
}

func (f *fixture) ok() *fixture {
	for _, n := range f.members {
		n.state = clusteradmin.StateOK
		n.link = "up"
	}
	return f
}

func (f *fixture) entry(id string, self bool) clusteradmin.Node {
	n := f.members[id]
	e := clusteradmin.Node{ID: id, IP: n.m.IP, Port: n.m.Port, BusPort: n.m.BusPort, LinkState: clusteradmin.LinkConnected, Slots: n.slots, MasterID: n.masterID}
	if self {
		e.Flags = append(e.Flags, clusteradmin.FlagMyself)
	}
	if n.masterID == "" {
		e.Flags = append(e.Flags, clusteradmin.FlagMaster)
	} else {
		e.Flags = append(e.Flags, clusteradmin.FlagReplica)
	}
	return e
}

func (f *fixture) build() []Member {
	out := make([]Member, 0, len(f.order))
	for _, id := range f.order {
		n := f.members[id]
		v := &clusteradmin.NodeView{Info: clusteradmin.ClusterInfo{State: n.state}, Keys: n.keys, Replication: clusteradmin.Replication{Role: "master"}}
		if n.masterID != "" {
			v.Replication = clusteradmin.Replication{Role: "slave", MasterLinkStatus: n.link}
		}
		for _, other := range f.order {
			if n.knows[other] {
				v.Nodes = append(v.Nodes, f.entry(other, other == id))
			}
		}
		for _, hs := range n.handshake {
			o := f.members[hs]
			v.Nodes = append(v.Nodes, clusteradmin.Node{ID: "ffff" + hs[4:], IP: o.m.IP, Port: o.m.Port, Flags: []string{clusteradmin.FlagHandshake, clusteradmin.FlagMaster}})
		}
		m := n.m
		m.View = v
		out = append(out, m)
	}
	return out
}

func TestEvenSlotRanges(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{1, "0-16383"},
		{3, "0-5460 5461-10922 10923-16383"}, // what redis-cli --cluster create assigns
		{4, "0-4095 4096-8191 8192-12287 12288-16383"},
		{6, "0-2730 2731-5460 5461-8191 8192-10922 10923-13652 13653-16383"},
	}
	for _, tt := range tests {
		if got := clusteradmin.FormatSlots(EvenSlotRanges(tt.n)); got != tt.want {
			t.Errorf("EvenSlotRanges(%d) = %s, want %s", tt.n, got, tt.want)
		}
	}
}

func TestEvenSlotRangesCoverEverySlotOnce(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 7, 10, 99, 100, 333, 1000, 16384} {
		rs := EvenSlotRanges(n)
		if len(rs) != n {
			t.Fatalf("n=%d: %d ranges", n, len(rs))
		}
		next, minLen, maxLen := 0, clusteradmin.SlotCount, 0
		for _, r := range rs {
			if r.First != next || r.Last < r.First {
				t.Fatalf("n=%d: range %v after slot %d", n, r, next-1)
			}
			next = r.Last + 1
			minLen, maxLen = min(minLen, r.Len()), max(maxLen, r.Len())
		}
		if next != clusteradmin.SlotCount {
			t.Fatalf("n=%d: ranges end at %d", n, next-1)
		}
		if maxLen-minLen > 1 {
			t.Errorf("n=%d: uneven ranges: %d to %d slots", n, minLen, maxLen)
		}
	}
}

func TestPlanFormation(t *testing.T) {
	tests := []struct {
		name        string
		fixture     func() *fixture
		drop        string // pod to leave out of the members
		wantPhase   Phase
		wantActions []string // Action.String() of every action, in order
		wantReason  string   // substring of the reason
	}{
		{
			name:      "a missing member waits",
			fixture:   func() *fixture { return newFixture(3, 1) },
			drop:      "rc-shard-2-1",
			wantPhase: PhaseWaitingForNodes, wantReason: "shard 2 has no node 1",
		},
		{
			name: "fresh nodes: the seed MEETs every other member",
			fixture: func() *fixture {
				return newFixture(3, 1)
			},
			wantPhase: PhaseMeeting,
			wantActions: []string{
				"CLUSTER MEET 10.0.0.1 6379 16379 on rc-shard-0-0",
				"CLUSTER MEET 10.0.1.0 6379 16379 on rc-shard-0-0",
				"CLUSTER MEET 10.0.1.1 6379 16379 on rc-shard-0-0",
				"CLUSTER MEET 10.0.2.0 6379 16379 on rc-shard-0-0",
				"CLUSTER MEET 10.0.2.1 6379 16379 on rc-shard-0-0",
			},
		},
		{
			name: "a MEET still in handshake is not sent again",
			fixture: func() *fixture {
				f := newFixture(3, 0)
				f.node(0, 0).handshake = []string{nodeID(1, 0)}
				return f
			},
			wantPhase:   PhaseMeeting,
			wantActions: []string{"CLUSTER MEET 10.0.2.0 6379 16379 on rc-shard-0-0"},
		},
		{
			name: "the seed knows everyone, the others not yet: wait for gossip",
			fixture: func() *fixture {
				f := newFixture(3, 0)
				for _, id := range f.order {
					f.node(0, 0).knows[id] = true
				}
				return f
			},
			wantPhase: PhaseMeeting, wantReason: "waiting for gossip: rc-shard-1-0 does not know rc-shard-0-0",
		},
		{
			name:      "everyone met: ordinal 0 of every shard gets its even range",
			fixture:   func() *fixture { return newFixture(3, 1).meetAll() },
			wantPhase: PhaseAssigningSlots,
			wantActions: []string{
				"CLUSTER ADDSLOTSRANGE 0-5460 on rc-shard-0-0",
				"CLUSTER ADDSLOTSRANGE 5461-10922 on rc-shard-1-0",
				"CLUSTER ADDSLOTSRANGE 10923-16383 on rc-shard-2-0",
			},
		},
		{
			name: "resume after a crash between ADDSLOTSRANGE calls: only the masters still without slots",
			fixture: func() *fixture {
				f := newFixture(3, 1).meetAll()
				f.node(0, 0).slots = []clusteradmin.SlotRange{{First: 0, Last: 5460}}
				return f
			},
			wantPhase: PhaseAssigningSlots,
			wantActions: []string{
				"CLUSTER ADDSLOTSRANGE 5461-10922 on rc-shard-1-0",
				"CLUSTER ADDSLOTSRANGE 10923-16383 on rc-shard-2-0",
			},
		},
		{
			name: "a master holding keys gets no slots",
			fixture: func() *fixture {
				f := newFixture(3, 0).meetAll()
				f.node(1, 0).keys = 42
				return f
			},
			wantPhase: PhaseBlocked, wantReason: "holds 42 keys but no slots",
		},
		{
			name: "a master serving other slots than formation would give it blocks",
			fixture: func() *fixture {
				f := newFixture(3, 0).meetAll()
				f.node(0, 0).slots = []clusteradmin.SlotRange{{First: 0, Last: 100}}
				return f
			},
			wantPhase: PhaseBlocked, wantReason: "serves slots 0-100, formation would give it 0-5460",
		},
		{
			name: "slots another master serves are never assigned again",
			fixture: func() *fixture {
				f := newFixture(3, 0).meetAll()
				f.node(0, 0).slots = []clusteradmin.SlotRange{{First: 0, Last: 5460}, {First: 5461, Last: 5500}}
				return f
			},
			wantPhase: PhaseBlocked, wantReason: "rc-shard-0-0",
		},
		{
			name: "a replica ordinal serving slots blocks",
			fixture: func() *fixture {
				f := newFixture(3, 1).meetAll().assignSlots()
				f.node(2, 1).slots = []clusteradmin.SlotRange{{First: 7, Last: 7}}
				return f
			},
			wantPhase: PhaseBlocked, wantReason: "shard 2 has 2 masters serving slots",
		},
		{
			name: "a node that is not a member blocks (old identity or another cluster)",
			fixture: func() *fixture {
				f := newFixture(3, 0).meetAll()
				stranger := &fxNode{m: Member{Pod: "stranger", IP: "10.9.9.9", Port: 6379}, knows: map[string]bool{}}
				id := "f00d" + nodeID(9, 9)[4:]
				f.members[id] = stranger
				f.order = append(f.order, id)
				f.node(1, 0).knows[id] = true
				return f
			},
			wantPhase: PhaseBlocked, wantReason: "not a member of this cluster",
		},
		{
			name:      "slots assigned: replicas attach to their shard's master",
			fixture:   func() *fixture { return newFixture(3, 1).meetAll().assignSlots() },
			wantPhase: PhaseReplicating,
			wantActions: []string{
				"CLUSTER REPLICATE " + nodeID(0, 0) + " on rc-shard-0-1",
				"CLUSTER REPLICATE " + nodeID(1, 0) + " on rc-shard-1-1",
				"CLUSTER REPLICATE " + nodeID(2, 0) + " on rc-shard-2-1",
			},
		},
		{
			name: "a replica holding keys is not attached",
			fixture: func() *fixture {
				f := newFixture(3, 1).meetAll().assignSlots()
				f.node(1, 1).keys = 1
				return f
			},
			wantPhase: PhaseBlocked, wantReason: "rc-shard-1-1 (shard 1, 10.0.1.1:6379) holds 1 keys",
		},
		{
			name: "a replica of another shard's master blocks",
			fixture: func() *fixture {
				f := newFixture(3, 1).meetAll().assignSlots().replicateAll()
				f.node(2, 1).masterID = nodeID(0, 0)
				return f
			},
			wantPhase: PhaseBlocked, wantReason: "not the master of shard 2",
		},
		{
			name: "commands done, not every node ok yet: converging",
			fixture: func() *fixture {
				f := newFixture(3, 1).meetAll().assignSlots().replicateAll().ok()
				f.node(2, 1).state = clusteradmin.StateFail
				return f
			},
			wantPhase: PhaseConverging, wantReason: "rc-shard-2-1 reports cluster_state:fail",
		},
		{
			name: "a replica still synchronizing with its master: converging",
			fixture: func() *fixture {
				f := newFixture(3, 1).meetAll().assignSlots().replicateAll().ok()
				f.node(1, 1).link = "down"
				return f
			},
			wantPhase: PhaseConverging, wantReason: "rc-shard-1-1 is synchronizing with its master",
		},
		{
			name:      "formed",
			fixture:   func() *fixture { return newFixture(3, 1).meetAll().assignSlots().replicateAll().ok() },
			wantPhase: PhaseFormed,
		},
		{
			name: "formed after a failover: ordinal 1 is the master, ordinal 0 its replica",
			fixture: func() *fixture {
				f := newFixture(3, 1).meetAll().assignSlots().replicateAll().ok()
				old, promoted := f.node(1, 0), f.node(1, 1)
				promoted.slots, old.slots = old.slots, nil
				promoted.masterID, old.masterID = "", nodeID(1, 1)
				return f
			},
			wantPhase: PhaseFormed,
		},
		{
			name:      "no replicas: formed without REPLICATE",
			fixture:   func() *fixture { return newFixture(3, 0).meetAll().assignSlots().ok() },
			wantPhase: PhaseFormed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.fixture()
			members := slices.DeleteFunc(f.build(), func(m Member) bool { return m.Pod == tt.drop || m.Pod == "stranger" })
			p := PlanFormation(members, f.d)
			var got []string
			for _, a := range p.Actions {
				got = append(got, a.String())
			}
			if p.Phase != tt.wantPhase || !slices.Equal(got, tt.wantActions) || !strings.Contains(p.Reason, tt.wantReason) {
				t.Errorf("PlanFormation = %s %q\n  actions %q\nwant %s %q\n  actions %q", p.Phase, p.Reason, got, tt.wantPhase, tt.wantReason, tt.wantActions)
			}
		})
	}
}

// TestPlanFormationConverges runs the planner against a simulated cluster in
// which every action takes effect and gossip spreads one hop per round, and
// checks that formation ends Formed with no action repeated.
func TestPlanFormationConverges(t *testing.T) {
	for _, shape := range []Desired{{3, 0}, {3, 1}, {5, 2}} {
		t.Run(fmt.Sprintf("%dx%d", shape.Masters, shape.ReplicasPerMaster), func(t *testing.T) {
			f := newFixture(shape.Masters, shape.ReplicasPerMaster)
			seen := map[string]bool{}
			for round := range 50 {
				p := PlanFormation(f.build(), shape)
				if p.Phase == PhaseFormed {
					return
				}
				if p.Phase == PhaseBlocked {
					t.Fatalf("round %d: blocked: %s", round, p.Reason)
				}
				for _, a := range p.Actions {
					if seen[a.String()] {
						t.Fatalf("round %d: action repeated: %s", round, a)
					}
					seen[a.String()] = true
					f.apply(a)
				}
				f.gossip()
			}
			t.Fatal("not formed after 50 rounds")
		})
	}
}

func (f *fixture) byPod(pod string) *fxNode {
	for _, n := range f.members {
		if n.m.Pod == pod {
			return n
		}
	}
	return nil
}

func (f *fixture) apply(a Action) {
	n := f.byPod(a.Pod)
	switch a.Type {
	case ActionMeet:
		for id, o := range f.members {
			if o.m.IP == a.IP {
				n.knows[id] = true
				o.knows[nodeID(n.m.Shard, n.m.Ordinal)] = true
			}
		}
	case ActionAddSlots:
		n.slots = append(n.slots, a.Slots...)
	case ActionReplicate:
		n.masterID = a.MasterID
	}
	done := true
	for _, id := range f.order {
		m := f.members[id]
		if m.m.Ordinal == 0 && len(m.slots) == 0 || m.m.Ordinal > 0 && m.masterID == "" {
			done = false
		}
	}
	if done {
		f.ok()
	}
}

// gossip: every node learns the nodes its known nodes know (one hop).
func (f *fixture) gossip() {
	next := map[string]map[string]bool{}
	for id, n := range f.members {
		next[id] = map[string]bool{}
		for k := range n.knows {
			next[id][k] = true
			for kk := range f.members[k].knows {
				next[id][kk] = true
			}
		}
	}
	for id, n := range f.members {
		n.knows = next[id]
	}
}
