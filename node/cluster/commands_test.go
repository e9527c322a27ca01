package cluster

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/bus"
)

func errText(err error) string {
	if err == nil {
		return "OK"
	}
	return err.Error()
}

// The error replies below are the ones Redis 7.0.15 gave for the same
// commands (see testdata/redis7/README.md for the session).
func TestSlotCommandErrorsWordedAsRedis(t *testing.T) {
	m := ruleMachine(t, idA, nil)
	now := ruleNow.Add(4 * time.Second)
	for _, tc := range []struct {
		name string
		do   func() error
		want string
	}{
		{"addslots busy", func() error { _, err := m.AddSlots(now, []int{5}); return err }, "ERR Slot 5 is already busy"},
		{"addslots other's slot", func() error { _, err := m.AddSlots(now, []int{150}); return err }, "ERR Slot 150 is already busy"},
		{"addslots out of range", func() error { _, err := m.AddSlots(now, []int{16384}); return err }, "ERR Invalid or out of range slot"},
		{"addslots twice", func() error { _, err := m.AddSlots(now, []int{400, 400}); return err }, "ERR Slot 400 specified multiple times"},
		{"delslots unassigned", func() error { _, err := m.DelSlots(now, []int{500}); return err }, "ERR Slot 500 is already unassigned"},
		{"range reversed", func() error { _, err := m.AddSlotsRange(now, []SlotRange{{5461, 5460}}); return err }, "ERR start slot number 5461 is greater than end slot number 5460"},
		{"range overlaps", func() error {
			_, err := m.AddSlotsRange(now, []SlotRange{{300, 310}, {305, 320}})
			return err
		}, "ERR Slot 305 specified multiple times"},
		{"setslot migrating not mine", func() error { _, err := m.SetSlot(now, 150, SetSlotMigrating, idB); return err }, "ERR I'm not the owner of hash slot 150"},
		{"setslot importing mine", func() error { _, err := m.SetSlot(now, 5, SetSlotImporting, idB); return err }, "ERR I'm already the owner of hash slot 5"},
		{"setslot unknown target", func() error { _, err := m.SetSlot(now, 5, SetSlotMigrating, "zzz"); return err }, "ERR I don't know about node zzz"},
		{"setslot to a replica", func() error { _, err := m.SetSlot(now, 5, SetSlotMigrating, idRB); return err }, "ERR Target node is not a master"},
		{"setslot node unknown", func() error { _, err := m.SetSlot(now, 5, SetSlotNode, "abcd"); return err }, "ERR Unknown node abcd"},
		{"setslot bad action", func() error { _, err := m.SetSlot(now, 5, "foo", ""); return err }, "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP"},
		{"setslot bad slot", func() error { _, err := m.SetSlot(now, 70000, SetSlotStable, ""); return err }, "ERR Invalid or out of range slot"},
		{"forget myself", func() error { _, err := m.Forget(now, idA); return err }, "ERR I tried hard but I can't forget myself..."},
		{"forget unknown", func() error { _, err := m.Forget(now, "zzz"); return err }, "ERR Unknown node zzz"},
		{"meet bad port", func() error { _, err := m.Meet(now, "1.2.3.4", "abc", ""); return err }, "ERR Invalid TCP base port specified: abc"},
		{"meet port range", func() error { _, err := m.Meet(now, "1.2.3.4", "99999", ""); return err }, "ERR Invalid node address specified: 1.2.3.4:99999"},
		{"meet hostname", func() error { _, err := m.Meet(now, "redis-0.svc", "7000", ""); return err }, "ERR Invalid node address specified: redis-0.svc:7000"},
		{"meet bad bus port", func() error { _, err := m.Meet(now, "1.2.3.4", "7000", "x"); return err }, "ERR Invalid TCP bus port specified: x"},
		{"replicate with slots", func() error { _, err := m.Replicate(now, idB); return err }, "ERR To set a master the node must be empty and without assigned slots."},
		{"replicate unknown", func() error { _, err := m.Replicate(now, "zzz"); return err }, "ERR Unknown node zzz"},
		{"replicate myself", func() error { _, err := m.Replicate(now, idA); return err }, "ERR Can't replicate myself"},
		{"replicate a replica", func() error { _, err := m.Replicate(now, idRB); return err }, "ERR I can only replicate a master, not a replica."},
		{"failover on a master", func() error { _, err := m.Failover(now, FailoverDefault); return err }, "ERR You should send CLUSTER FAILOVER to a replica"},
		{"set-config-epoch knowing others", func() error { _, err := m.SetConfigEpoch(now, 5); return err }, "ERR The user can assign a config epoch only when the node does not know any other node."},
		{"count-failure-reports unknown", func() error { _, err := m.CountFailureReports(now, "zzz"); return err }, "ERR Unknown node zzz"},
	} {
		if got := errText(tc.do()); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	// None of the failed commands changed the slot map.
	if got := m.slotsText(); got != "0-99:a 100-199:b 200-299:c" {
		t.Fatalf("slots changed: %s", got)
	}
	if _, err := ParseSlot("-1"); errText(err) != "ERR Invalid or out of range slot" {
		t.Fatal(err)
	}
	if s, err := ParseSlot("16383"); err != nil || s != 16383 {
		t.Fatal(s, err)
	}
}

// slotsText summarizes the slot map as "start-end:<first letter of owner>".
func (m *Machine) slotsText() string {
	var parts []string
	for _, r := range m.slotRanges() {
		parts = append(parts, strconv.Itoa(r.start)+"-"+strconv.Itoa(r.end)+":"+r.n.id[:1])
	}
	return strings.Join(parts, " ")
}

func TestAddAndDelSlots(t *testing.T) {
	m := ruleMachine(t, idA, nil)
	now := ruleNow.Add(4 * time.Second)
	m.setImporting(400, m.lookup(idB))
	rd, err := m.AddSlotsRange(now, []SlotRange{{300, 399}, {400, 400}})
	if err != nil || !rd.SaveConfig {
		t.Fatal(err)
	}
	if m.importingSlotsFrom[400] != nil {
		t.Fatal("ADDSLOTS of an importing slot must close the import")
	}
	if _, err := m.DelSlots(now, []int{150, 300}); err != nil {
		t.Fatal(err)
	}
	if got := m.slotsText(); got != "0-99:a 100-149:b 151-199:b 200-299:c 301-400:a" {
		t.Fatal(got)
	}
	m.cfg.Keys = fakeKeys{1: 1}
	if _, err := m.FlushSlots(now); errText(err) != "ERR DB must be empty to perform CLUSTER FLUSHSLOTS." {
		t.Fatal(err)
	}
	m.cfg.Keys = nil
	if _, err := m.FlushSlots(now); err != nil || m.Myself().NumSlots != 0 {
		t.Fatal(err)
	}
}

// Spec (slot migration): MIGRATING/IMPORTING/STABLE/NODE.
func TestSetSlotMigrationSteps(t *testing.T) {
	src := ruleMachine(t, idA, nil)
	now := ruleNow.Add(4 * time.Second)
	src.cfg.Keys = fakeKeys{7: 2}
	if _, err := src.SetSlot(now, 7, SetSlotMigrating, idB); err != nil {
		t.Fatal(err)
	}
	if to, ok := src.MigratingTo(7); !ok || to.ID != idB || to.Endpoint != "10.0.0.2" || to.Port != 7000 {
		t.Fatalf("migrating to %+v", to)
	}
	if !strings.Contains(src.ClusterNodes(), " 0-99 [7->-"+idB+"]\n") {
		t.Fatal(src.ClusterNodes())
	}
	// Keys left: the slot cannot be given away.
	if _, err := src.SetSlot(now, 7, SetSlotNode, idB); errText(err) != "ERR Can't assign hashslot 7 to a different node while I still hold keys for this hash slot." {
		t.Fatal(err)
	}
	src.cfg.Keys = nil
	if _, err := src.SetSlot(now, 7, SetSlotNode, idB); err != nil {
		t.Fatal(err)
	}
	if _, ok := src.MigratingTo(7); ok || src.MySlot(7) {
		t.Fatal("slot still migrating or mine")
	}

	dst := ruleMachine(t, idB, nil)
	if _, err := dst.SetSlot(now, 7, SetSlotImporting, idA); err != nil {
		t.Fatal(err)
	}
	if from, ok := dst.ImportingFrom(7); !ok || from.ID != idA {
		t.Fatal("not importing")
	}
	epoch := dst.Myself().ConfigEpoch
	rd, err := dst.SetSlot(now, 7, SetSlotNode, idB)
	if err != nil {
		t.Fatal(err)
	}
	// Closing an import takes a new configEpoch (without consensus) and
	// tells everybody at once.
	if _, ok := dst.ImportingFrom(7); ok || !dst.MySlot(7) || dst.Myself().ConfigEpoch <= epoch || !hasType(rd, bus.TypePong) || !rd.Fsync {
		t.Fatalf("after SETSLOT NODE: epoch %d, sent %v", dst.Myself().ConfigEpoch, sentTypes(rd))
	}
	if _, err := dst.SetSlot(now, 8, SetSlotImporting, idA); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.SetSlot(now, 8, SetSlotStable, ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := dst.ImportingFrom(8); ok {
		t.Fatal("STABLE did not clear the import")
	}
	// A master that gives away its last slot becomes a replica of the
	// receiver.
	lone := ruleMachine(t, idC, nil)
	for j := 200; j < 300; j++ {
		if _, err := lone.SetSlot(now, j, SetSlotNode, idB); err != nil {
			t.Fatal(err)
		}
	}
	if !lone.IsReplica() || lone.Myself().MasterID != idB {
		t.Fatalf("myself %+v", lone.Myself())
	}
	if _, err := lone.SetSlot(now, 1, SetSlotStable, ""); errText(err) != "ERR Please use SETSLOT only with masters." {
		t.Fatal(err)
	}
}

// FORGET removes the node and bans it for 60 s: gossip cannot bring it
// back meanwhile; after the ban it can.
func TestForgetBansTheNodeFor60Seconds(t *testing.T) {
	m := ruleMachine(t, idA, nil)
	now := ruleNow.Add(4 * time.Second)
	c := m.lookup(idC)
	if _, err := m.Forget(now, idC); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Node(idC); ok {
		t.Fatal("not forgotten")
	}
	if _, ok := m.SlotOwner(250); ok {
		t.Fatal("slots of a forgotten node must be unassigned")
	}
	gossip := header(m, idB, bus.TypePing)
	gossip.Gossip = []bus.Gossip{{NodeID: idC, IP: c.ip, Port: 7000, CPort: 17000, Flags: bus.FlagMaster}}
	inbound(m, now.Add(59*time.Second), gossip)
	if _, ok := m.Node(idC); ok {
		t.Fatal("came back within the ban")
	}
	inbound(m, now.Add(61*time.Second), gossip)
	if _, ok := m.Node(idC); !ok {
		t.Fatal("not re-learned after the ban")
	}
	// A replica cannot forget its master.
	r := ruleMachine(t, idRA, nil)
	if _, err := r.Forget(now, idA); errText(err) != "ERR Can't forget my master!" {
		t.Fatal(err)
	}
}

func TestResetSoftAndHard(t *testing.T) {
	now := ruleNow.Add(4 * time.Second)
	m := ruleMachine(t, idA, nil)
	m.cfg.Keys = fakeKeys{1: 1}
	if _, err := m.Reset(now, false); errText(err) != "ERR CLUSTER RESET can't be called with master nodes containing keys" {
		t.Fatal(err)
	}
	m.cfg.Keys = nil
	rd, err := m.Reset(now, false)
	if err != nil {
		t.Fatal(err)
	}
	if me := m.Myself(); me.ID != idA || me.NumSlots != 0 || len(m.Nodes()) != 1 || m.CurrentEpoch() != 3 || !rd.SaveConfig {
		t.Fatalf("soft reset: %+v, %d nodes, epoch %d", me, len(m.Nodes()), m.CurrentEpoch())
	}
	if len(rd.Closes) != 4 {
		t.Fatalf("links of forgotten nodes must close: %v", rd.Closes)
	}
	rd, err = m.Reset(now, true)
	if err != nil {
		t.Fatal(err)
	}
	if me := m.Myself(); me.ID == idA || me.ConfigEpoch != 0 || m.CurrentEpoch() != 0 || m.LastVoteEpoch() != 0 {
		t.Fatalf("hard reset: %+v", me)
	}
	if !strings.HasPrefix(string(rd.NodesConf), m.Myself().ID+" ") {
		t.Fatal("new ID not saved")
	}
	// A replica with data is reset too: it becomes an empty master.
	r := ruleMachine(t, idRA, nil)
	r.cfg.Keys = fakeKeys{1: 5}
	rd, err = r.Reset(now, false)
	if err != nil || r.IsReplica() || !rd.FlushData || rd.Replication == nil || rd.Replication.MasterID != "" {
		t.Fatalf("replica reset: %v %+v", err, rd.Replication)
	}
}

func TestBumpAndSetConfigEpoch(t *testing.T) {
	now := ruleNow.Add(4 * time.Second)
	m := ruleMachine(t, idA, nil)
	if reply, _ := m.BumpEpoch(now); reply != "BUMPED 4" {
		t.Fatal(reply)
	}
	if reply, _ := m.BumpEpoch(now); reply != "STILL 4" {
		t.Fatal(reply)
	}
	fresh, _, _ := New(now, testConfig(7000, 5))
	if _, err := fresh.SetConfigEpoch(now, -1); errText(err) != "ERR Invalid config epoch specified: -1" {
		t.Fatal(err)
	}
	if _, err := fresh.SetConfigEpoch(now, 7); err != nil || fresh.Myself().ConfigEpoch != 7 || fresh.CurrentEpoch() != 7 {
		t.Fatal(err)
	}
	if _, err := fresh.SetConfigEpoch(now, 8); errText(err) != "ERR Node config epoch is already non-zero" {
		t.Fatal(err)
	}
}

// MEET starts a handshake with a random temporary ID, replaced by the
// real ID at the first PONG; a second MEET to the same address while the
// handshake is in progress does nothing.
func TestMeetHandshake(t *testing.T) {
	now := ruleNow
	m, _, _ := New(now, testConfig(7000, 6))
	if _, err := m.Meet(now, "::ffff:10.0.0.9", "7000", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Meet(now, "10.0.0.9", "7000", ""); err != nil {
		t.Fatal(err)
	}
	if len(m.Nodes()) != 2 {
		t.Fatalf("%d nodes", len(m.Nodes()))
	}
	h := m.Nodes()[1]
	if h.IP != "10.0.0.9" || h.BusPort != 17000 || h.Flags != bus.FlagHandshake|bus.FlagMeet {
		t.Fatalf("handshake node %+v", h)
	}
	rd := m.Tick(now)
	if len(rd.Dials) != 1 || rd.Dials[0].IP != "10.0.0.9" || rd.Dials[0].Port != 17000 || len(rd.Messages) != 1 || rd.Messages[0].Msg.Type != bus.TypeMeet {
		t.Fatalf("dials %+v, sent %v", rd.Dials, sentTypes(rd))
	}
	link := rd.Dials[0].Link
	pong := &bus.Message{Header: bus.Header{Type: bus.TypePong, Sender: idC, Port: 7000, CPort: 17000, Flags: bus.FlagMaster}}
	m.Step(now.Add(10*time.Millisecond), Inbound{Link: link, Msg: pong})
	i, ok := m.Node(idC)
	if !ok || i.Flags != bus.FlagMaster || !i.Connected {
		t.Fatalf("after PONG: %+v %v", i, ok)
	}
	// A handshake nobody answers is dropped after the handshake timeout.
	m.Meet(now, "10.0.0.10", "7000", "")
	m.Tick(now.Add(time.Second))
	m.Tick(now.Add(7 * time.Second))
	if len(m.Nodes()) != 2 {
		t.Fatalf("stale handshake kept: %d nodes", len(m.Nodes()))
	}
}

// A node that MEETs us is added in handshake state at the address it
// connects from, and we learn our own IP from the socket.
func TestMeetFromUnknownNode(t *testing.T) {
	m, _, _ := New(ruleNow, testConfig(7000, 7))
	meet := &bus.Message{Header: bus.Header{Type: bus.TypeMeet, Sender: idB, Port: 7001, CPort: 17001, Flags: bus.FlagMaster}}
	rd := m.Step(ruleNow, Inbound{Link: -3, RemoteIP: "10.0.0.2", LocalIP: "10.0.0.1", Msg: meet})
	if len(rd.Messages) != 1 || rd.Messages[0].Link != -3 || rd.Messages[0].Msg.Type != bus.TypePong {
		t.Fatalf("reply %v", sentTypes(rd))
	}
	if m.Myself().IP != "10.0.0.1" {
		t.Fatalf("own IP %q", m.Myself().IP)
	}
	if _, ok := m.LinkNode(-3); ok {
		t.Fatal("a MEET from an unknown node names no node yet")
	}
	nodes := m.Nodes()
	if len(nodes) != 2 || nodes[1].IP != "10.0.0.2" || nodes[1].Port != 7001 || nodes[1].Flags != bus.FlagHandshake {
		t.Fatalf("%+v", nodes)
	}
	// A PING (not MEET) from an unknown node is answered but adds nothing.
	ping := &bus.Message{Header: bus.Header{Type: bus.TypePing, Sender: idC, Port: 7002, CPort: 17002, Flags: bus.FlagMaster}}
	rd = m.Step(ruleNow, Inbound{Link: -4, RemoteIP: "10.0.0.3", Msg: ping})
	if len(m.Nodes()) != 2 || !hasType(rd, bus.TypePong) {
		t.Fatal("unknown PING")
	}
}

// Spec: a known node seen at a new address is updated (PING on an inbound
// link), its old link is closed; a replica follows its master's address.
func TestAddressUpdateWhenKnownNodeMoves(t *testing.T) {
	m := ruleMachine(t, idRA, nil)
	a := m.lookup(idA)
	oldLink := a.link
	ping := header(m, idA, bus.TypePing)
	rd := m.Step(ruleNow.Add(4*time.Second), Inbound{Link: -7, RemoteIP: "10.1.0.1", Msg: ping})
	if a.ip != "10.1.0.1" || a.link != 0 {
		t.Fatalf("address %s link %d", a.ip, a.link)
	}
	if id, ok := m.LinkNode(-7); !ok || id != idA {
		t.Fatalf("inbound link -7 is from %q", id)
	}
	m.LinkDown(ruleNow.Add(4*time.Second), -7)
	if _, ok := m.LinkNode(-7); ok {
		t.Fatal("closed link still known")
	}
	if id, ok := m.LinkNode(m.lookup(idB).link); !ok || id != idB {
		t.Fatalf("outbound link to B: %q", id)
	}
	if len(rd.Closes) != 1 || rd.Closes[0] != oldLink {
		t.Fatalf("closes %v", rd.Closes)
	}
	if rd.Replication == nil || rd.Replication.IP != "10.1.0.1" || rd.Replication.MasterID != idA {
		t.Fatalf("replication target %+v", rd.Replication)
	}
	// A restart on other ports (same IP) is an address change too.
	moved := header(m, idA, bus.TypePing)
	moved.Port, moved.CPort = 7100, 17100
	m.Step(ruleNow.Add(4*time.Second), Inbound{Link: -9, RemoteIP: "10.1.0.1", Msg: moved})
	if a.port != 7100 || a.cport != 17100 || m.replTarget.Port != 7100 {
		t.Fatalf("ports %d/%d, replication target %+v", a.port, a.cport, m.replTarget)
	}
	// An announced IP wins over the socket's.
	ping.IP, ping.Port, ping.CPort = "10.2.0.1", 7100, 17100
	m.Step(ruleNow.Add(5*time.Second), Inbound{Link: -8, RemoteIP: "10.1.0.1", Msg: ping})
	if a.ip != "10.2.0.1" {
		t.Fatal(a.ip)
	}
	// A PONG from another node at a node's address: that address is no
	// longer the node's.
	rd = m.Tick(ruleNow.Add(5 * time.Second))
	var link LinkID
	for _, d := range rd.Dials {
		if d.NodeID == idA {
			link = d.Link
		}
	}
	wrong := header(m, idC, bus.TypePong)
	m.Step(ruleNow.Add(5*time.Second), Inbound{Link: link, Msg: wrong})
	if a.ip != "" || !a.has(bus.FlagNoAddr) {
		t.Fatalf("mismatching PONG: %q %b", a.ip, a.flags)
	}
}

func TestPublishPropagation(t *testing.T) {
	m := ruleMachine(t, idA, nil)
	now := ruleNow.Add(4 * time.Second)
	rd := m.Publish(now, []byte("ch"), []byte("hi"))
	if len(rd.Messages) != 4 {
		t.Fatalf("PUBLISH to %d nodes", len(rd.Messages))
	}
	rd = m.PublishShard(now, []byte("ch"), []byte("hi"))
	if len(rd.Messages) != 1 || rd.Messages[0].To != idRA {
		t.Fatalf("SPUBLISH to %+v", rd.Messages)
	}
	pub := header(m, idB, bus.TypePublishShard)
	pub.Publish = &bus.Publish{Channel: []byte("c"), Message: []byte("m")}
	rd = inbound(m, now, pub)
	if len(rd.Published) != 1 || !rd.Published[0].Sharded || string(rd.Published[0].Message) != "m" {
		t.Fatalf("published %+v", rd.Published)
	}
	pub.Sender = "dddddddddddddddddddddddddddddddddddddddd"
	if rd = inbound(m, now, pub); len(rd.Published) != 0 {
		t.Fatal("PUBLISH from an unknown node delivered")
	}
}

// TestReconfigureAnnouncesAndSaves: CONFIG SET of cluster-announce-* and
// the policy parameters at runtime reaches myself (the nodes.conf line and
// the NOFAILOVER flag) and asks for a save, keeping the machine's own
// randomness; an invalid configuration is refused and changes nothing.
func TestReconfigureAnnouncesAndSaves(t *testing.T) {
	m := ruleMachine(t, idA, nil)
	now := ruleNow.Add(4 * time.Second)
	cfg := m.cfg
	cfg.Rand = nil // the machine keeps its own
	cfg.AnnounceIP, cfg.Port, cfg.BusPort, cfg.Hostname = "10.9.9.9", 7100, 17100, "host-a"
	cfg.ReplicaNoFailover = true
	rd, err := m.Reconfigure(now, cfg)
	if err != nil {
		t.Fatal(err)
	}
	conf := string(rd.NodesConf)
	if !rd.SaveConfig || !strings.Contains(conf, idA+" 10.9.9.9:7100@17100,host-a,") || !strings.Contains(conf, " myself,master,nofailover ") {
		t.Fatalf("reconfigured nodes.conf (save %v):\n%s", rd.SaveConfig, conf)
	}
	if m.cfg.Rand == nil {
		t.Fatal("the machine lost its randomness")
	}
	bad := m.cfg
	bad.PreferredEndpointType = "bogus"
	if _, err := m.Reconfigure(now, bad); err == nil || m.cfg.PreferredEndpointType == "bogus" {
		t.Fatalf("invalid configuration taken: err %v", err)
	}
}
