package cluster

import (
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/bus"
)

// Node IDs of the rule tests: masters A, B, C (slots 0-99, 100-199,
// 200-299), replicas RA (of A) and RB (of B).
const (
	idA  = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	idB  = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	idC  = "cccccccccccccccccccccccccccccccccccccccc"
	idRA = "1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	idRB = "1bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

var ruleNow = time.UnixMilli(1_900_000_000_000)

// ruleMachine loads the five-node table as seen by myself (one of the IDs),
// with links to every node, and returns it after a tick.
func ruleMachine(t testing.TB, myself string, edit func(string) string) *Machine {
	t.Helper()
	conf := "" +
		idA + " 10.0.0.1:7000@17000 master - 0 0 1 connected 0-99\n" +
		idB + " 10.0.0.2:7000@17000 master - 0 0 2 connected 100-199\n" +
		idC + " 10.0.0.3:7000@17000 master - 0 0 3 connected 200-299\n" +
		idRA + " 10.0.0.4:7000@17000 slave " + idA + " 0 0 1 connected\n" +
		idRB + " 10.0.0.5:7000@17000 slave " + idB + " 0 0 2 connected\n" +
		"vars currentEpoch 3 lastVoteEpoch 0\n"
	conf = strings.Replace(conf, myself+" 10.0.0.", myself+" 10.0.0.", 1)
	lines := strings.Split(conf, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, myself) {
			f := strings.Fields(l)
			f[2] = "myself," + f[2]
			lines[i] = strings.Join(f, " ")
		}
	}
	conf = strings.Join(lines, "\n")
	if edit != nil {
		conf = edit(conf)
	}
	m, _, err := Load(ruleNow, testConfig(7000, 1), []byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	m.Tick(ruleNow) // dials every node: all links up
	for _, n := range m.list {
		n.pongReceived = ruleNow.UnixMilli()
		n.pingSent = 0
	}
	m.Tick(ruleNow.Add(3 * time.Second)) // past the writable delay: state computed
	return m
}

// header is the header node id would send, as m knows it.
func header(m *Machine, id string, t bus.Type) *bus.Message {
	n := m.lookup(id)
	msg := &bus.Message{Header: bus.Header{
		Type: t, Port: uint16(n.port), CPort: uint16(n.cport), CurrentEpoch: m.currentEpoch,
		ConfigEpoch: n.epoch(), Sender: id, Flags: n.flags &^ bus.FlagMyself, ShardID: n.shardID,
	}}
	if n.master != nil {
		msg.MasterID = n.master.id
		msg.Slots = n.master.slots
	} else {
		msg.Slots = n.slots
	}
	return msg
}

func sentTypes(rd Ready) []bus.Type {
	var out []bus.Type
	for _, e := range rd.Messages {
		out = append(out, e.Msg.Type)
	}
	return out
}

func hasType(rd Ready, t bus.Type) bool {
	for _, e := range rd.Messages {
		if e.Msg.Type == t {
			return true
		}
	}
	return false
}

// inbound delivers msg as if received on an inbound link from its sender,
// at the address m knows for the sender.
func inbound(m *Machine, now time.Time, msg *bus.Message) Ready {
	ip := "10.9.9.9"
	if n := m.lookup(msg.Sender); n != nil {
		ip = n.ip
	}
	return m.Step(now, Inbound{Link: -1, RemoteIP: ip, LocalIP: m.myself.ip, Msg: msg})
}

// Spec: "masters grant at most one vote per epoch (lastVoteEpoch, persisted
// before answering), not for the same master within 2 x node timeout, and
// only if the claimed slots' config epochs are not newer than the request's".
func TestFailoverAuthGrantRules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		myself string
		setup  func(m *Machine)
		req    func(m *Machine) *bus.Message
		grant  bool
	}{
		{name: "grants to a replica of a failing master", myself: idB, grant: true},
		{name: "a replica does not vote", myself: idRB},
		{name: "a master without slots does not vote", myself: idB, setup: func(m *Machine) { m.delNodeSlots(m.myself) }},
		{name: "request epoch older than currentEpoch", myself: idB, req: func(m *Machine) *bus.Message {
			r := voteRequest(m)
			r.CurrentEpoch = 3
			m.currentEpoch = 5
			return r
		}},
		{name: "already voted in this epoch", myself: idB, setup: func(m *Machine) { m.lastVoteEpoch = 4 }},
		{name: "master not failing", myself: idB, setup: func(m *Machine) { m.lookup(idA).flags &^= bus.FlagFail }},
		{name: "master not failing but FORCEACK (manual failover)", myself: idB, grant: true,
			setup: func(m *Machine) { m.lookup(idA).flags &^= bus.FlagFail },
			req: func(m *Machine) *bus.Message {
				r := voteRequest(m)
				r.MFlags |= bus.MsgFlagForceAck
				return r
			}},
		{name: "requester we still see as a master says it is a replica now (FORCEACK)", myself: idB, grant: true,
			setup: func(m *Machine) {
				m.setNodeAsMaster(m.lookup(idRA)) // it just followed A, which took its slots
				m.lookup(idA).flags &^= bus.FlagFail
			},
			req: func(m *Machine) *bus.Message {
				r := voteRequest(m)
				r.MasterID, r.Slots = idA, m.lookup(idA).slots
				r.MFlags |= bus.MsgFlagForceAck
				return r
			}},
		{name: "requester is a master", myself: idB, req: func(m *Machine) *bus.Message {
			r := voteRequest(m)
			r.Sender, r.MasterID = idC, ""
			return r
		}},
		{name: "voted for this master within 2 x node timeout", myself: idB,
			setup: func(m *Machine) { m.lookup(idA).votedTime = ruleNow.Add(5 * time.Second).UnixMilli() }},
		{name: "a claimed slot has a newer config epoch", myself: idB, req: func(m *Machine) *bus.Message {
			r := voteRequest(m)
			r.Slots.Set(250) // served by C with epoch 3 > request's 1
			return r
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := ruleMachine(t, tc.myself, nil)
			m.lookup(idA).flags |= bus.FlagFail
			if tc.setup != nil {
				tc.setup(m)
			}
			req := voteRequest(m)
			if tc.req != nil {
				req = tc.req(m)
			}
			epochBefore := m.lastVoteEpoch
			rd := inbound(m, ruleNow.Add(10*time.Second), req)
			granted := hasType(rd, bus.TypeFailoverAuthAck)
			if granted != tc.grant {
				t.Fatalf("granted %v, want %v; sent %v; logs %v", granted, tc.grant, sentTypes(rd), rd.Logs)
			}
			if granted {
				if m.lastVoteEpoch != req.CurrentEpoch || !rd.SaveConfig || !rd.Fsync ||
					!strings.Contains(string(rd.NodesConf), "lastVoteEpoch 4") {
					t.Fatalf("vote not persisted with the reply: lastVoteEpoch %d, save %v fsync %v", m.lastVoteEpoch, rd.SaveConfig, rd.Fsync)
				}
				// A second request in the same epoch (another replica) is denied.
				again := voteRequest(m)
				if hasType(inbound(m, ruleNow.Add(11*time.Second), again), bus.TypeFailoverAuthAck) {
					t.Fatal("voted twice in one epoch")
				}
			} else if m.lastVoteEpoch != epochBefore {
				t.Fatal("lastVoteEpoch changed without a vote")
			}
		})
	}
}

// voteRequest is RA's FAILOVER_AUTH_REQUEST for epoch 4.
func voteRequest(m *Machine) *bus.Message {
	r := header(m, idRA, bus.TypeFailoverAuthRequest)
	r.CurrentEpoch = 4
	return r
}

// Spec: configEpoch collision: the node with the smaller node ID takes
// currentEpoch+1.
func TestConfigEpochCollisionSmallerIDBumps(t *testing.T) {
	for _, tc := range []struct {
		myself, sender string
		bump           bool
	}{{idA, idB, true}, {idB, idA, false}} {
		m := ruleMachine(t, tc.myself, nil)
		m.lookup(tc.sender).configEpoch = m.myself.configEpoch
		ping := header(m, tc.sender, bus.TypePing)
		ping.ConfigEpoch = m.myself.configEpoch
		before := m.myself.configEpoch
		rd := inbound(m, ruleNow.Add(4*time.Second), ping)
		bumped := m.myself.configEpoch != before
		if bumped != tc.bump {
			t.Fatalf("myself %s, sender %s: bumped %v", tc.myself[:1], tc.sender[:1], bumped)
		}
		if bumped && (m.myself.configEpoch != 4 || m.currentEpoch != 4 || !rd.Fsync) {
			t.Fatalf("new epoch %d current %d fsync %v", m.myself.configEpoch, m.currentEpoch, rd.Fsync)
		}
	}
}

// Spec: currentEpoch propagation: a greater currentEpoch in any header is
// adopted (and saved); a greater configEpoch of the sender too.
func TestCurrentEpochPropagation(t *testing.T) {
	m := ruleMachine(t, idA, nil)
	ping := header(m, idC, bus.TypePing)
	ping.CurrentEpoch, ping.ConfigEpoch = 9, 7
	rd := inbound(m, ruleNow.Add(4*time.Second), ping)
	if m.currentEpoch != 9 || m.lookup(idC).configEpoch != 7 || !rd.SaveConfig || !rd.Fsync {
		t.Fatalf("currentEpoch %d, C's configEpoch %d, save %v", m.currentEpoch, m.lookup(idC).configEpoch, rd.SaveConfig)
	}
	// Never backwards.
	ping.CurrentEpoch, ping.ConfigEpoch = 2, 1
	inbound(m, ruleNow.Add(5*time.Second), ping)
	if m.currentEpoch != 9 || m.lookup(idC).configEpoch != 7 {
		t.Fatal("epochs went backwards")
	}
}

// Spec: a higher configEpoch wins a slot; UPDATE carries it to a node with
// an old configuration; a master that loses all its slots becomes a
// replica of the winner.
func TestUpdateHigherConfigEpochWinsSlots(t *testing.T) {
	m := ruleMachine(t, idA, nil)
	upd := header(m, idC, bus.TypeUpdate)
	upd.Update = &bus.Update{ConfigEpoch: 2, NodeID: idRA}
	for j := range 100 {
		upd.Update.Slots.Set(j)
	}
	// Epoch 2 is not newer than... RA's own epoch: RA becomes a master
	// with 2 > A's 1: it wins A's slots, and A follows it.
	rd := inbound(m, ruleNow.Add(4*time.Second), upd)
	if o, _ := m.SlotOwner(50); o.ID != idRA {
		t.Fatalf("slot 50 owner %s", o.ID)
	}
	if !m.IsReplica() || m.Myself().MasterID != idRA || rd.Replication == nil || rd.Replication.MasterID != idRA {
		t.Fatalf("myself %+v, replication %+v", m.Myself(), rd.Replication)
	}
	// An UPDATE that is not newer changes nothing.
	m2 := ruleMachine(t, idA, nil)
	old := header(m2, idC, bus.TypeUpdate)
	old.Update = &bus.Update{ConfigEpoch: 1, NodeID: idB}
	old.Update.Slots.Set(5)
	inbound(m2, ruleNow.Add(4*time.Second), old)
	if o, _ := m2.SlotOwner(5); o.ID != idA {
		t.Fatal("an older configuration won a slot")
	}
}

// Spec (PING/PONG slot claims): a master claiming slots with a newer epoch
// takes them; slots we import are only changed by hand; slots we lost with
// keys in them must be emptied.
func TestClaimedSlotsRebind(t *testing.T) {
	m := ruleMachine(t, idA, nil)
	m.cfg.Keys = fakeKeys{10: 3}
	m.setImporting(150, m.lookup(idB))
	ping := header(m, idC, bus.TypePing)
	ping.ConfigEpoch = 5
	for _, j := range []int{10, 11, 150} {
		ping.Slots.Set(j)
	}
	rd := inbound(m, ruleNow.Add(4*time.Second), ping)
	if o, _ := m.SlotOwner(10); o.ID != idC {
		t.Fatal("slot 10 not rebound")
	}
	if o, _ := m.SlotOwner(150); o.ID != idB {
		t.Fatal("an importing slot was rebound")
	}
	if len(rd.DelKeysInSlots) != 1 || rd.DelKeysInSlots[0] != 10 {
		t.Fatalf("DelKeysInSlots %v", rd.DelKeysInSlots)
	}
	// The reverse: a stale claim gets an UPDATE about the real owner.
	stale := header(m, idB, bus.TypePing)
	stale.Slots.Set(10)
	rd = inbound(m, ruleNow.Add(5*time.Second), stale)
	var upd *bus.Message
	for _, e := range rd.Messages {
		if e.Msg.Type == bus.TypeUpdate {
			upd = e.Msg
		}
	}
	if upd == nil || upd.Update.NodeID != idC || upd.Update.ConfigEpoch != 5 || !upd.Update.Slots.Has(10) {
		t.Fatalf("no UPDATE about C: %v", sentTypes(rd))
	}
}

type fakeKeys map[int]int

func (f fakeKeys) CountKeysInSlot(slot int) int { return f[slot] }
func (f fakeKeys) DBSize() int {
	n := 0
	for _, c := range f {
		n += c
	}
	return n
}

// Spec: PFAIL -> FAIL when a majority of masters reported the node within
// 2 x node timeout; FAIL is broadcast.
func TestMarkNodeAsFailingNeedsMajorityOfMasters(t *testing.T) {
	gossipAbout := func(m *Machine, from, about string, flags bus.NodeFlags) *bus.Message {
		p := header(m, from, bus.TypePing)
		n := m.lookup(about)
		p.Gossip = []bus.Gossip{{NodeID: about, IP: n.ip, Port: 7000, CPort: 17000, Flags: flags}}
		return p
	}
	m := ruleMachine(t, idRA, nil) // a replica: it does not count itself
	c := m.lookup(idC)
	c.flags |= bus.FlagPFail
	now := ruleNow.Add(4 * time.Second)
	rd := inbound(m, now, gossipAbout(m, idA, idC, bus.FlagMaster|bus.FlagPFail))
	if c.failed() || hasType(rd, bus.TypeFail) {
		t.Fatal("one report of three masters is not a majority")
	}
	// A replica's report does not count.
	inbound(m, now, gossipAbout(m, idRB, idC, bus.FlagMaster|bus.FlagPFail))
	if n, _ := m.CountFailureReports(now, idC); n != 1 || c.failed() {
		t.Fatalf("reports %d", n)
	}
	// The first report expired (2 x node timeout) when B reports: no FAIL.
	late := now.Add(2*m.cfg.NodeTimeout + time.Second)
	inbound(m, late, gossipAbout(m, idB, idC, bus.FlagMaster|bus.FlagPFail))
	if c.failed() {
		t.Fatal("an expired report counted")
	}
	// A reports again in time: 2 of 3 masters.
	rd = inbound(m, late, gossipAbout(m, idA, idC, bus.FlagMaster|bus.FlagFail))
	if !c.failed() || c.timedOut() || !hasType(rd, bus.TypeFail) {
		t.Fatalf("not FAIL with a majority: flags %b, sent %v", c.flags, sentTypes(rd))
	}
	// A master reporting the node as fine removes its report.
	m2 := ruleMachine(t, idA, nil)
	m2.lookup(idC).flags |= bus.FlagPFail
	inbound(m2, now, gossipAbout(m2, idB, idC, bus.FlagMaster|bus.FlagPFail))
	inbound(m2, now, gossipAbout(m2, idB, idC, bus.FlagMaster))
	if n, _ := m2.CountFailureReports(now, idC); n != 0 {
		t.Fatalf("report not removed: %d", n)
	}
}

// Spec: FAIL is cleared at once for replicas and masters without slots
// that are reachable again; for a master with slots only after
// node timeout * 2, if nobody took its slots.
func TestClearNodeFailureRules(t *testing.T) {
	for _, tc := range []struct {
		name    string
		node    string
		after   time.Duration
		cleared bool
	}{
		{"replica reachable again", idRB, time.Second, true},
		{"master with slots, too early", idC, time.Second, false},
		{"master with slots, after 2 x node timeout", idC, 11 * time.Second, true},
	} {
		m := ruleMachine(t, idA, nil)
		n := m.lookup(tc.node)
		n.flags |= bus.FlagFail
		n.failTime = ruleNow.Add(3 * time.Second).UnixMilli()
		pong := header(m, tc.node, bus.TypePong)
		m.Step(ruleNow.Add(3*time.Second+tc.after), Inbound{Link: n.link, Msg: pong})
		if got := !n.failed(); got != tc.cleared {
			t.Errorf("%s: cleared %v, want %v", tc.name, got, tc.cleared)
		}
	}
}

// A replica that was attached a moment ago (its PINGs did not tell us yet)
// asks for a manual failover: its MFSTART header names us as its master,
// and we pause writes for it instead of dropping the request.
func TestMFStartFromReplicaNotYetKnownAsOurs(t *testing.T) {
	m := ruleMachine(t, idA, nil)
	msg := header(m, idRB, bus.TypeMFStart) // we still see RB as B's replica
	msg.MasterID, msg.Slots = idA, m.lookup(idA).slots
	rd := inbound(m, ruleNow.Add(4*time.Second), msg)
	if rd.PauseWritesUntil.IsZero() {
		t.Fatal("MFSTART from a replica announcing us as its master was dropped")
	}
	if rb := m.lookup(idRB); rb.master != m.myself {
		t.Fatalf("RB's master is %v, want myself", rb.master)
	}
	// A node that names another master is still refused.
	m = ruleMachine(t, idA, nil)
	if rd := inbound(m, ruleNow.Add(4*time.Second), header(m, idRB, bus.TypeMFStart)); !rd.PauseWritesUntil.IsZero() {
		t.Fatal("MFSTART from B's replica paused our writes")
	}
}

// A second MFSTART (resent, or a new CLUSTER FAILOVER) restarts the manual
// failover: the Ready ends the old pause and starts a new one, and the
// server applies the end first (Ready.UnpauseWrites), so writes stay
// paused.
func TestSecondMFStartPausesAgain(t *testing.T) {
	m := ruleMachine(t, idA, nil)
	mfstart := func() *bus.Message {
		msg := header(m, idRB, bus.TypeMFStart)
		msg.MasterID, msg.Slots = idA, m.lookup(idA).slots
		return msg
	}
	if rd := inbound(m, ruleNow.Add(4*time.Second), mfstart()); rd.PauseWritesUntil.IsZero() || rd.UnpauseWrites {
		t.Fatalf("first MFSTART: pause until %v, unpause %v", rd.PauseWritesUntil, rd.UnpauseWrites)
	}
	rd := inbound(m, ruleNow.Add(5*time.Second), mfstart())
	if rd.PauseWritesUntil.IsZero() || !rd.UnpauseWrites {
		t.Fatalf("second MFSTART: pause until %v, unpause %v; want both", rd.PauseWritesUntil, rd.UnpauseWrites)
	}
}
