package cluster

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/bus"
)

// The simulation runs N state machines with a simulated clock and network,
// carrying out their Ready values as the server will: links are dialed and
// closed, every message goes through the bus codec, nodes.conf is "saved",
// replication follows the announced master. The network can partition,
// drop and delay messages; nodes can be killed and restarted from their
// saved nodes.conf, on the same or a new IP. Everything is driven by seeded
// randomness, so a run is exactly reproducible.

const (
	simNodeTimeout = 2 * time.Second
	simPort        = 7000
)

var simEpoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

type simNode struct {
	name     string
	seed     uint64
	ip       string
	m        *Machine
	up       bool
	conf     []byte // the last nodes.conf saved
	nextTick time.Time
	logs     []string
	nextIn   LinkID
	links    map[LinkID]*simConn // both directions, by this node's link ID
	cfg      func(*Config)

	// Replication, as the replication layer would report it.
	offset        int64
	masterID      string
	replConnected bool
	lastIO        time.Time
	downSince     time.Time
	pausedUntil   time.Time
	writesPaused  int // how many times writes were paused (manual failovers)
	syncs         int
	replBroken    bool
	// writeRate is how many bytes of writes a master accepts per tick
	// (while writes are not paused); replicas catch up at most replRate
	// bytes per tick.
	writeRate int64
}

const replRate = 300

type simConn struct {
	a, b         *simNode // a dialed b
	aLink, bLink LinkID
	alive        bool
	lastAt       time.Time // FIFO delivery per connection
}

type simPacket struct {
	at   time.Time
	seq  int
	dst  *simNode
	link LinkID
	ip   string // remote IP as the destination sees it
	data []byte
	conn *simConn
	down bool // a LinkDown notification instead of data
}

type sim struct {
	t       testing.TB
	now     time.Time
	nodes   []*simNode
	rng     *rand.Rand
	queue   []*simPacket
	seq     int
	group   map[*simNode]int // partition group; 0 for everyone by default
	drop    float64
	delayLo time.Duration
	delayHi time.Duration
	// resolveHostnames: dials fall back to the announced hostname.
	resolveHostnames bool
	// configure, when set, adjusts the configuration of every node.
	configure func(name string, c *Config)
	sent      int
	dropped   int
	codecOK   int
}

func newSim(t testing.TB, seed uint64) *sim {
	return &sim{
		t: t, now: simEpoch, rng: rand.New(rand.NewPCG(seed, seed^0x5eed)),
		group: map[*simNode]int{}, delayLo: time.Millisecond, delayHi: 3 * time.Millisecond,
	}
}

func (s *sim) addNode(cfgFn func(*Config)) *simNode {
	i := len(s.nodes) + 1
	n := &simNode{
		name: "n" + strconv.Itoa(i), seed: uint64(i) * 7919, ip: fmt.Sprintf("10.0.0.%d", i),
		links: map[LinkID]*simConn{}, cfg: cfgFn,
	}
	if cfgFn == nil && s.configure != nil {
		name := n.name
		n.cfg = func(c *Config) { s.configure(name, c) }
	}
	s.nodes = append(s.nodes, n)
	m, rd, err := New(s.now, n.config())
	if err != nil {
		s.t.Fatal(err)
	}
	n.m, n.up = m, true
	n.nextTick = s.now.Add(time.Duration(s.rng.IntN(100)) * time.Millisecond)
	s.apply(n, rd)
	return n
}

func (n *simNode) config() Config {
	cfg := DefaultConfig(simPort, rand.New(rand.NewPCG(n.seed, n.seed+1)))
	cfg.NodeTimeout = simNodeTimeout
	cfg.ReplPingReplicaPeriod = time.Second
	// As the operator runs nodes: the pod IP is announced.
	cfg.AnnounceIP = n.ip
	if n.cfg != nil {
		n.cfg(&cfg)
	}
	return cfg
}

func (s *sim) node(name string) *simNode {
	for _, n := range s.nodes {
		if n.name == name {
			return n
		}
	}
	s.t.Fatalf("no node %q", name)
	return nil
}

func (s *sim) byID(id string) *simNode {
	for _, n := range s.nodes {
		if n.m != nil && n.m.Myself().ID == id {
			return n
		}
	}
	return nil
}

// name maps a node ID to its simulation name ("?" + prefix if unknown, as
// for a handshake node's random ID).
func (s *sim) name(id string) string {
	if n := s.byID(id); n != nil {
		return n.name
	}
	if id == "" {
		return "-"
	}
	return "?" + id[:6]
}

func (s *sim) reachable(a, b *simNode) bool {
	return a.up && b.up && s.group[a] == s.group[b]
}

// partitionReplication breaks the replication link of replica n (the
// cluster bus still works).
func (s *sim) partitionReplication(n *simNode) { n.replBroken = true }

func (s *sim) schedule(p *simPacket) {
	s.seq++
	p.seq = s.seq
	s.queue = append(s.queue, p)
}

func (s *sim) delay() time.Duration {
	return s.delayLo + time.Duration(s.rng.Int64N(int64(s.delayHi-s.delayLo)+1))
}

// apply carries out a Ready as the I/O layer must: save, close, dial, send,
// then replication and pauses.
func (s *sim) apply(n *simNode, rd Ready) {
	if rd.SaveConfig {
		n.conf = append([]byte(nil), rd.NodesConf...)
	}
	for _, l := range rd.Closes {
		if c := n.links[l]; c != nil {
			s.closeConn(c)
		}
	}
	for _, d := range rd.Dials {
		s.dial(n, d)
	}
	for _, e := range rd.Messages {
		s.send(n, e)
	}
	if rd.Replication != nil {
		n.masterID = rd.Replication.MasterID
		if n.masterID != "" {
			n.replConnected = false
			n.downSince = time.Time{}
		}
	}
	if rd.UnpauseWrites {
		n.pausedUntil = time.Time{}
	}
	if !rd.PauseWritesUntil.IsZero() {
		n.pausedUntil = rd.PauseWritesUntil
		n.writesPaused++
		s.apply(n, n.m.WritesPaused(s.now, n.offset))
	}
	for _, l := range rd.Logs {
		if l.Level >= LogNotice {
			n.logs = append(n.logs, fmt.Sprintf("%s %s", s.now.Sub(simEpoch), l.Msg))
		}
	}
}

func (s *sim) findAddr(ip string, port int) *simNode {
	for _, n := range s.nodes {
		if n.ip == ip && port == simPort+10000 && n.up {
			return n
		}
	}
	return nil
}

func (s *sim) dial(n *simNode, d Dial) {
	target := s.findAddr(d.IP, d.Port)
	if target == nil && d.Hostname != "" && s.resolveHostnames {
		// The I/O layer falls back to the hostname (DNS of a StatefulSet).
		for _, o := range s.nodes {
			if o.up && o.config().Hostname == d.Hostname {
				target = o
			}
		}
	}
	if target == nil || !s.reachable(n, target) {
		// Refused, or no answer: the dial fails after a while.
		wait := time.Millisecond
		if target != nil {
			wait = 500 * time.Millisecond
		}
		s.schedule(&simPacket{at: s.now.Add(wait), dst: n, link: d.Link, down: true})
		return
	}
	target.nextIn--
	c := &simConn{a: n, b: target, aLink: d.Link, bLink: target.nextIn, alive: true}
	n.links[d.Link] = c
	target.links[c.bLink] = c
}

func (s *sim) closeConn(c *simConn) {
	if !c.alive {
		return
	}
	c.alive = false
	delete(c.a.links, c.aLink)
	delete(c.b.links, c.bLink)
	// Each side learns the connection is gone.
	s.schedule(&simPacket{at: s.now.Add(time.Millisecond), dst: c.a, link: c.aLink, down: true})
	s.schedule(&simPacket{at: s.now.Add(time.Millisecond), dst: c.b, link: c.bLink, down: true})
}

func (s *sim) send(n *simNode, e Envelope) {
	c := n.links[e.Link]
	if c == nil || !c.alive {
		return
	}
	data, err := bus.Encode(nil, e.Msg)
	if err != nil {
		s.t.Fatalf("%s: encode %s: %v", n.name, e.Msg.Type, err)
	}
	s.sent++
	dst, link := c.b, c.bLink
	if n == c.b {
		dst, link = c.a, c.aLink
	}
	if !s.reachable(n, dst) || (s.drop > 0 && s.rng.Float64() < s.drop) {
		s.dropped++
		return
	}
	at := s.now.Add(s.delay())
	if at.Before(c.lastAt) {
		at = c.lastAt
	}
	c.lastAt = at
	s.schedule(&simPacket{at: at, dst: dst, link: link, ip: n.ip, data: data, conn: c})
}

// replicate updates what the replication layer would report: a replica
// whose master is reachable is in sync with it.
func (s *sim) replicate(n *simNode) {
	if n.masterID == "" {
		if n.writeRate > 0 && n.m.Myself().IsMaster() && (n.pausedUntil.IsZero() || !s.now.Before(n.pausedUntil)) {
			n.offset += n.writeRate
		}
		n.m.SetReplicationState(ReplicationState{Offset: n.offset})
		return
	}
	master := s.byID(n.masterID)
	if master != nil && s.reachable(n, master) && !n.replBroken {
		if !n.replConnected {
			n.syncs++
		}
		n.replConnected, n.lastIO = true, s.now
		n.offset = min(master.offset, n.offset+replRate)
	} else if n.replConnected {
		n.replConnected, n.downSince = false, s.now
	}
	n.m.SetReplicationState(ReplicationState{Offset: n.offset, Connected: n.replConnected, LastInteraction: n.lastIO, DownSince: n.downSince})
}

// step runs the next event (a tick or a delivery) not after end; it
// reports false when there is none.
func (s *sim) step(end time.Time) bool {
	var next *simNode
	for _, n := range s.nodes {
		if n.up && (next == nil || n.nextTick.Before(next.nextTick)) {
			next = n
		}
	}
	pi := -1
	for i, p := range s.queue {
		if pi < 0 || p.at.Before(s.queue[pi].at) || (p.at.Equal(s.queue[pi].at) && p.seq < s.queue[pi].seq) {
			pi = i
		}
	}
	if pi >= 0 && (next == nil || !s.queue[pi].at.After(next.nextTick)) {
		p := s.queue[pi]
		if p.at.After(end) {
			return false
		}
		s.queue = slices.Delete(s.queue, pi, pi+1)
		s.now = p.at
		s.deliver(p)
		return true
	}
	if next == nil || next.nextTick.After(end) {
		return false
	}
	s.now = next.nextTick
	next.nextTick = next.nextTick.Add(CronInterval)
	s.replicate(next)
	s.apply(next, next.m.Tick(s.now))
	return true
}

func (s *sim) deliver(p *simPacket) {
	n := p.dst
	if !n.up {
		return
	}
	if p.down {
		s.apply(n, n.m.LinkDown(s.now, p.link))
		return
	}
	if !p.conn.alive {
		return
	}
	msg, err := bus.Decode(p.data)
	if err != nil {
		s.t.Fatalf("decode: %v", err)
	}
	s.codecOK++
	in := Inbound{Link: p.link, Msg: msg}
	if p.link.Inbound() {
		in.RemoteIP, in.LocalIP = p.ip, n.ip
	}
	s.apply(n, n.m.Step(s.now, in))
}

func (s *sim) run(d time.Duration) {
	end := s.now.Add(d)
	for s.step(end) {
	}
	s.now = end
}

// runUntil runs until cond holds (checked every 100 ms of simulated time)
// or fails the test after max.
func (s *sim) runUntil(what string, max time.Duration, cond func() bool) time.Duration {
	start := s.now
	for !cond() {
		if s.now.Sub(start) > max {
			s.t.Fatalf("%s: not reached after %s\n%s", what, max, s.dump())
		}
		s.run(CronInterval)
	}
	return s.now.Sub(start)
}

// kill stops a node: it stops ticking and its connections break.
func (s *sim) kill(n *simNode) {
	n.up = false
	for _, c := range n.links {
		s.closeConn(c)
	}
}

// restart starts a killed node again from its saved nodes.conf, on ip
// (its old one if "").
func (s *sim) restart(n *simNode, ip string) {
	if ip != "" {
		n.ip = ip
	}
	m, rd, err := Load(s.now, n.config(), n.conf)
	if err != nil {
		s.t.Fatalf("%s: load nodes.conf: %v\n%s", n.name, err, n.conf)
	}
	n.m, n.up, n.links, n.nextIn = m, true, map[LinkID]*simConn{}, 0
	n.replConnected, n.masterID = false, ""
	n.nextTick = s.now.Add(time.Duration(s.rng.IntN(100)) * time.Millisecond)
	s.apply(n, rd)
}

// view is one node's view of the cluster configuration: what all nodes
// must agree on.
func (s *sim) view(n *simNode) string {
	ranges := s.slotRangesByOwner(n)
	var lines []string
	for _, i := range n.m.Nodes() {
		if i.Flags&bus.FlagHandshake != 0 {
			continue
		}
		role := "master"
		if i.IsReplica() {
			role = "replica-of-" + s.name(i.MasterID)
		}
		epoch := ""
		if i.IsMaster() {
			epoch = " epoch=" + strconv.FormatUint(i.ConfigEpoch, 10)
		}
		slots := ranges[i.ID]
		if slots == "" {
			slots = "-"
		}
		lines = append(lines, fmt.Sprintf("%s %s %s:%d%s slots=%s", s.name(i.ID), role, i.IP, i.Port, epoch, slots))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// slotRangesByOwner lists, per owner ID, the slot ranges n's view gives it
// ("0-99,200").
func (s *sim) slotRangesByOwner(n *simNode) map[string]string {
	out := map[string]string{}
	for _, r := range n.m.slotRanges() {
		text := strconv.Itoa(r.start)
		if r.end != r.start {
			text += "-" + strconv.Itoa(r.end)
		}
		if out[r.n.id] != "" {
			text = out[r.n.id] + "," + text
		}
		out[r.n.id] = text
	}
	return out
}

func (s *sim) up() []*simNode {
	var out []*simNode
	for _, n := range s.nodes {
		if n.up {
			out = append(out, n)
		}
	}
	return out
}

// agree reports whether every running node has the same view.
func (s *sim) agree(nodes ...*simNode) bool {
	if len(nodes) == 0 {
		nodes = s.up()
	}
	for _, n := range nodes[1:] {
		if s.view(n) != s.view(nodes[0]) {
			return false
		}
	}
	return true
}

// flagged reports whether every running node but n sees n with flag.
func (s *sim) flagged(n *simNode, flag bus.NodeFlags) bool {
	id := n.m.Myself().ID
	for _, o := range s.up() {
		if o == n {
			continue
		}
		i, ok := o.m.Node(id)
		if !ok || i.Flags&flag == 0 {
			return false
		}
	}
	return true
}

func (s *sim) stateOK(nodes ...*simNode) bool {
	if len(nodes) == 0 {
		nodes = s.up()
	}
	for _, n := range nodes {
		if !n.m.StateOK() {
			return false
		}
	}
	return true
}

// nodesText is n's CLUSTER NODES with IDs replaced by names and times
// masked, sorted by name: stable enough for golden outputs.
func (s *sim) nodesText(n *simNode) string {
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(n.m.ClusterNodes()), "\n") {
		f := strings.Fields(line)
		f[0] = s.name(f[0])
		if f[3] != "-" {
			f[3] = s.name(f[3])
		}
		for _, i := range []int{4, 5} {
			if f[i] != "0" {
				f[i] = "t"
			}
		}
		for i := 8; i < len(f); i++ {
			if strings.HasPrefix(f[i], "[") {
				sep := "->-"
				if !strings.Contains(f[i], sep) {
					sep = "-<-"
				}
				slot, id, _ := strings.Cut(strings.Trim(f[i], "[]"), sep)
				f[i] = "[" + slot + sep + s.name(id) + "]"
			}
		}
		lines = append(lines, strings.Join(f, " "))
	}
	slices.SortFunc(lines, func(a, b string) int {
		x, _ := strconv.Atoi(strings.TrimPrefix(strings.Fields(a)[0], "n"))
		y, _ := strconv.Atoi(strings.TrimPrefix(strings.Fields(b)[0], "n"))
		return cmp.Compare(x, y)
	})
	return strings.Join(lines, "\n")
}

func (s *sim) dump() string {
	var b strings.Builder
	fmt.Fprintf(&b, "t=%s sent=%d dropped=%d\n", s.now.Sub(simEpoch), s.sent, s.dropped)
	for _, n := range s.nodes {
		fmt.Fprintf(&b, "--- %s up=%v ip=%s state-ok=%v current-epoch=%d offset=%d\n", n.name, n.up, n.ip, n.m.StateOK(), n.m.CurrentEpoch(), n.offset)
		if n.up {
			b.WriteString(s.nodesText(n))
			b.WriteString("\n")
		}
		logs := n.logs
		if len(logs) > 15 {
			logs = logs[len(logs)-15:]
		}
		for _, l := range logs {
			b.WriteString("    log: " + l + "\n")
		}
	}
	return b.String()
}

// must fails the test on a command error.
func (s *sim) must(n *simNode, rd Ready, err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatalf("%s: %v", n.name, err)
	}
	s.apply(n, rd)
}

// meet is CLUSTER MEET from a to b.
func (s *sim) meet(a, b *simNode) {
	rd, err := a.m.Meet(s.now, b.ip, strconv.Itoa(simPort), "")
	s.must(a, rd, err)
}

// form builds a cluster of masters masters, each with replicas replicas,
// as redis-cli --cluster create does: ADDSLOTSRANGE evenly and (when
// setEpochs) SET-CONFIG-EPOCH on each master, MEET everyone to the first
// node, REPLICATE; then it waits until all nodes agree and are ok.
func (s *sim) form(masters, replicas int, setEpochs bool) {
	s.t.Helper()
	for range masters * (1 + replicas) {
		s.addNode(nil)
	}
	for i := range masters {
		n := s.nodes[i]
		if setEpochs {
			rd, err := n.m.SetConfigEpoch(s.now, int64(i+1))
			s.must(n, rd, err)
		}
		start, end := i*Slots/masters, (i+1)*Slots/masters-1
		rd, err := n.m.AddSlotsRange(s.now, []SlotRange{{start, end}})
		s.must(n, rd, err)
	}
	for _, n := range s.nodes[1:] {
		s.meet(s.nodes[0], n)
	}
	// Like redis-cli --cluster create, MEET again the nodes that did not
	// join (a MEET or its PONG can be lost).
	lastMeet := s.now
	s.runUntil("all nodes known", 60*time.Second, func() bool {
		if s.now.Sub(lastMeet) > 3*time.Second {
			lastMeet = s.now
			for _, n := range s.nodes[1:] {
				_, knowsFirst := n.m.Node(s.nodes[0].m.Myself().ID)
				_, known := s.nodes[0].m.Node(n.m.Myself().ID)
				if !knowsFirst || !known {
					s.meet(s.nodes[0], n)
				}
			}
		}
		for _, n := range s.nodes {
			if len(n.m.Nodes()) != len(s.nodes) {
				return false
			}
			for _, i := range n.m.Nodes() {
				if i.Flags&bus.FlagHandshake != 0 {
					return false
				}
			}
		}
		return true
	})
	for r := range replicas {
		for i := range masters {
			rep := s.nodes[masters+r*masters+i]
			rd, err := rep.m.Replicate(s.now, s.nodes[i].m.Myself().ID)
			s.must(rep, rd, err)
		}
	}
	s.runUntil("cluster formed", 60*time.Second, func() bool { return s.agree() && s.stateOK() })
}
