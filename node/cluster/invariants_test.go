package cluster

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/bus"
)

// checkInvariants verifies the internal consistency of a machine: the node
// map and list agree, the slot array agrees with every node's bitmap and
// count, master/replica links are symmetric, open slots point to known
// nodes, and myself is in the table.
func (m *Machine) checkInvariants() error {
	if len(m.nodes) != len(m.list) {
		return fmt.Errorf("map has %d nodes, list %d", len(m.nodes), len(m.list))
	}
	for _, n := range m.list {
		if m.nodes[n.id] != n {
			return fmt.Errorf("node %s not in the map under its ID", n.id)
		}
	}
	if m.nodes[m.myself.id] != m.myself || !m.myself.isMyself() {
		return fmt.Errorf("myself missing or not flagged")
	}
	counts := map[*node]int{}
	for j := range Slots {
		open := m.migratingSlotsTo[j] != nil || m.importingSlotsFrom[j] != nil
		if bit := m.openBits[j/64]&(1<<(j%64)) != 0; bit != open {
			return fmt.Errorf("slot %d: open %v, openBits %v", j, open, bit)
		}
		n := m.slots[j]
		if n == nil {
			continue
		}
		if m.nodes[n.id] != n {
			return fmt.Errorf("slot %d owned by a node not in the table", j)
		}
		if !n.slots.Has(j) {
			return fmt.Errorf("slot %d: owner %s's bitmap does not have it", j, n.id)
		}
		counts[n]++
		for _, o := range []*node{m.migratingSlotsTo[j], m.importingSlotsFrom[j]} {
			if o != nil && m.nodes[o.id] != o {
				return fmt.Errorf("slot %d open with a node not in the table", j)
			}
		}
	}
	for _, n := range m.list {
		if n.numSlots != counts[n] || n.slots.Count() != counts[n] {
			return fmt.Errorf("node %s: numSlots %d, bitmap %d, slot array %d", n.id, n.numSlots, n.slots.Count(), counts[n])
		}
		if n.master != nil {
			if m.nodes[n.master.id] != n.master || !slices.Contains(n.master.replicas, n) {
				return fmt.Errorf("node %s: master %s does not list it", n.id, n.master.id)
			}
		}
		for _, r := range n.replicas {
			if r.master != n || m.nodes[r.id] != r {
				return fmt.Errorf("node %s lists replica %s that does not follow it", n.id, r.id)
			}
		}
		if n.has(bus.FlagMaster) && n.has(bus.FlagSlave) {
			return fmt.Errorf("node %s is master and replica", n.id)
		}
		for _, r := range n.failReports {
			if m.nodes[r.reporter.id] != r.reporter {
				return fmt.Errorf("node %s has a failure report from a deleted node", n.id)
			}
		}
	}
	for l, o := range m.outLinks {
		if m.nodes[o.node.id] != o.node || o.node.link != l {
			return fmt.Errorf("outbound link %d belongs to no node", l)
		}
	}
	served := true
	for j := range Slots {
		if m.slots[j] == nil || m.slots[j].failed() {
			served = false
			break
		}
	}
	if m.allSlotsServed() != served {
		return fmt.Errorf("allSlotsServed %v, slot by slot %v", m.allSlotsServed(), served)
	}
	return nil
}

// FuzzStep feeds arbitrary (decodable) bus messages to a machine of a
// formed cluster, on outbound and inbound links: it must never panic and
// the node table must stay consistent whatever a hostile peer sends.
func FuzzStep(f *testing.F) {
	seedMachine := ruleMachine(f, idA, nil)
	for _, t := range []bus.Type{bus.TypePing, bus.TypePong, bus.TypeMeet, bus.TypeFailoverAuthRequest, bus.TypeFailoverAuthAck, bus.TypeMFStart} {
		for _, from := range []string{idB, idRA, idC} {
			msg := header(seedMachine, from, t)
			msg.Gossip = []bus.Gossip{{NodeID: idRB, IP: "10.0.0.5", Port: 7000, CPort: 17000, Flags: bus.FlagSlave | bus.FlagPFail}}
			if t != bus.TypePing && t != bus.TypePong && t != bus.TypeMeet {
				msg.Gossip = nil
			}
			b, err := bus.Encode(nil, msg)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b, uint8(0))
			f.Add(b, uint8(3))
		}
	}
	upd := header(seedMachine, idB, bus.TypeUpdate)
	upd.Update = &bus.Update{ConfigEpoch: 9, NodeID: idA}
	upd.Update.Slots.Set(1)
	b, _ := bus.Encode(nil, upd)
	f.Add(b, uint8(1))
	fail := header(seedMachine, idB, bus.TypeFail)
	fail.Fail = &bus.Fail{NodeID: idC}
	b, _ = bus.Encode(nil, fail)
	f.Add(b, uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, linkSel uint8) {
		msg, err := bus.Decode(data)
		if err != nil {
			return
		}
		m := ruleMachine(t, idA, nil)
		// Which link it arrives on: inbound, or our link to one of the
		// nodes (a reply).
		link := LinkID(-1)
		if i := int(linkSel) % (len(m.list) + 1); i < len(m.list) && m.list[i].link != 0 {
			link = m.list[i].link
		}
		now := ruleNow.Add(4 * time.Second)
		m.Step(now, Inbound{Link: link, RemoteIP: "10.0.0.9", LocalIP: "10.0.0.1", Msg: msg})
		if err := m.checkInvariants(); err != nil {
			t.Fatalf("after %s: %v", msg.Type, err)
		}
		// The machine keeps working: ticks, and a second copy of the message.
		m.Tick(now.Add(time.Second))
		m.Step(now.Add(time.Second), Inbound{Link: -2, RemoteIP: "10.0.0.9", Msg: msg})
		m.Tick(now.Add(20 * time.Second))
		if err := m.checkInvariants(); err != nil {
			t.Fatalf("later: %v", err)
		}
		if _, _, err := Load(now, testConfig(7000, 1), m.NodesConf()); err != nil {
			t.Fatalf("nodes.conf after %s does not load: %v\n%s", msg.Type, err, m.NodesConf())
		}
	})
}

// The simulations check the invariants of every machine as they go.
func TestInvariantsHoldInSimulations(t *testing.T) {
	s := newSim(t, 77)
	s.form(3, 1, false)
	check := func() {
		for _, n := range s.up() {
			if err := n.m.checkInvariants(); err != nil {
				t.Fatalf("%s: %v", n.name, err)
			}
		}
	}
	check()
	s.kill(s.nodes[0])
	for range 100 {
		s.run(200 * time.Millisecond)
		check()
	}
	s.restart(s.nodes[0], "")
	rd, err := s.nodes[1].m.Forget(s.now, s.nodes[5].m.Myself().ID)
	s.must(s.nodes[1], rd, err)
	check()
	rd, err = s.nodes[2].m.Reset(s.now, true)
	s.apply(s.nodes[2], rd)
	_ = err
	for range 100 {
		s.run(200 * time.Millisecond)
		check()
	}
}
