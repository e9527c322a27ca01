package cluster

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/shoal-dev/shoal/node/bus"
)

// todo flags are CLUSTER_TODO_*: work deferred to the end of the current
// call (clusterBeforeSleep).
type todo uint8

const (
	todoHandleFailover todo = 1 << iota
	todoUpdateState
	todoSaveConfig
	todoFsyncConfig
	todoHandleManualFailover
)

// outLink is an outbound link the machine asked to Dial.
type outLink struct {
	node *node
	ip   string // the address dialed: the peer IP of the link
}

// Machine is the cluster state of one node and the rules that change it
// (clusterState plus cluster.c in Redis). It is not safe for concurrent use:
// the I/O layer calls it from one goroutine (or under one lock), passing the
// current time to every call and carrying out the Ready each call returns.
type Machine struct {
	cfg Config
	// deferNodesConf leaves a save without fsync to the I/O layer's own
	// call of NodesConf (DeferNodesConf).
	deferNodesConf bool
	now            int64 // Unix ms of the call being processed

	myself *node
	nodes  map[string]*node
	list   []*node // the nodes in a stable order: iteration must be deterministic

	slots              [Slots]*node
	migratingSlotsTo   [Slots]*node
	importingSlotsFrom [Slots]*node
	// openBits has a slot's bit set while it is MIGRATING or IMPORTING
	// (setMigrating, setImporting): the pings of a reshard list the open
	// slots without walking all 16384.
	openBits [Slots / 64]uint64

	currentEpoch  uint64
	lastVoteEpoch uint64
	state         bus.ClusterState
	size          int
	blacklist     map[string]int64 // node ID -> expiry

	// Replica election (failover_auth_*).
	failoverAuthTime       int64
	failoverAuthCount      int
	failoverAuthVoters     map[*node]bool
	failoverAuthSent       bool
	failoverAuthRank       int
	failoverAuthEpoch      uint64
	cantFailoverReason     cantFailoverReason
	lastCantFailoverLogged cantFailoverReason
	lastCantFailoverLog    int64

	// Manual failover (mf_*).
	mfEnd          int64
	mfReplica      *node // on a master: the replica that asked for it
	mfMasterOffset int64 // on a replica: the master's offset when paused, -1 unknown
	mfCanStart     bool
	mfPaused       bool   // on a master: the I/O layer confirmed writes are paused
	mfPausedOffset int64  // ... at this offset
	mfStartLink    LinkID // on a replica: the link MFSTART last went out on

	iteration         int
	lastCronTime      int64 // when clusterCron last ran (0: never)
	statsPfailNodes   int
	firstCallTime     int64
	amongMinorityTime int64

	nextLink LinkID
	outLinks map[LinkID]*outLink
	inLinks  map[LinkID]string // inbound link -> ID of the node that spoke on it

	repl           ReplicationState
	replTarget     ReplicationTarget
	replTargetSent bool

	statsSent, statsReceived [bus.TypeCount]uint64

	todo todo
	out  Ready
}

// New creates the machine of a node that has no nodes.conf yet: a master
// with a fresh random node ID that knows no other node (clusterInit). The
// returned Ready asks to save nodes.conf.
func New(now time.Time, cfg Config) (*Machine, Ready, error) {
	m, err := newMachine(cfg)
	if err != nil {
		return nil, Ready{}, err
	}
	m.begin(now)
	m.myself = m.createNode("", bus.FlagMyself|bus.FlagMaster)
	m.applyAnnounced()
	m.addNode(m.myself)
	m.logf(LogNotice, "No cluster configuration found, I'm %s", m.myself.id)
	m.todo |= todoSaveConfig | todoFsyncConfig
	return m, m.finish(), nil
}

func newMachine(cfg Config) (*Machine, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Machine{
		cfg:            cfg,
		nodes:          map[string]*node{},
		blacklist:      map[string]int64{},
		outLinks:       map[LinkID]*outLink{},
		inLinks:        map[LinkID]string{},
		state:          bus.StateFail,
		mfMasterOffset: -1,
	}, nil
}

// applyAnnounced copies the announced address of the configuration into
// myself (clusterUpdateMyselfAnnouncedPorts / hostname).
func (m *Machine) applyAnnounced() {
	me := m.myself
	me.port, me.cport, me.hostname = m.cfg.Port, m.cfg.BusPort, m.cfg.Hostname
	me.clientPort = m.cfg.ClientPort
	if m.cfg.AnnounceIP != "" {
		me.ip = m.cfg.AnnounceIP
	}
}

// begin starts a call at time now.
func (m *Machine) begin(now time.Time) { m.now = now.UnixMilli() }

// finish is clusterBeforeSleep: it runs the deferred work and hands out
// what the I/O layer must do.
func (m *Machine) finish() Ready {
	t := m.todo
	m.todo = 0
	if t&todoHandleManualFailover != 0 {
		if m.myself.isReplica() {
			m.handleManualFailover()
			m.handleReplicaFailover()
		}
	} else if t&todoHandleFailover != 0 {
		m.handleReplicaFailover()
	}
	if t&todoUpdateState != 0 || m.todo&todoUpdateState != 0 {
		m.updateState()
	}
	m.updateMyselfFlags()
	t |= m.todo // what the handlers above asked for
	m.todo = 0
	if t&todoSaveConfig != 0 {
		m.out.SaveConfig = true
		m.out.Fsync = m.out.Fsync || t&todoFsyncConfig != 0
		if !m.deferNodesConf || m.out.Fsync {
			m.out.NodesConf = m.NodesConf()
		}
	}
	m.updateReplicationTarget()
	rd := m.out
	m.out = Ready{}
	return rd
}

// updateMyselfFlags is clusterUpdateMyselfFlags: myself's NOFAILOVER flag
// follows cluster-replica-no-failover.
func (m *Machine) updateMyselfFlags() {
	old := m.myself.flags
	if m.cfg.ReplicaNoFailover {
		m.myself.flags |= bus.FlagNoFailover
	} else {
		m.myself.flags &^= bus.FlagNoFailover
	}
	if m.myself.flags != old {
		m.todo |= todoSaveConfig | todoFsyncConfig
	}
}

// updateReplicationTarget reports a change of myself's master (role or
// address) as Ready.Replication.
func (m *Machine) updateReplicationTarget() {
	want := ReplicationTarget{}
	if me := m.myself; me.isReplica() && me.master != nil {
		want = ReplicationTarget{MasterID: me.master.id, IP: me.master.ip, Port: me.master.port}
	}
	if m.replTargetSent && want == m.replTarget {
		return
	}
	m.replTarget, m.replTargetSent = want, true
	t := want
	m.out.Replication = &t
}

func (m *Machine) logf(level LogLevel, format string, args ...any) {
	m.out.Logs = append(m.out.Logs, LogEntry{Level: level, Msg: fmt.Sprintf(format, args...)})
}

// randomHex is getRandomHexChars: 40 hex characters from the injected Rand.
func (m *Machine) randomHex() string {
	var b [20]byte
	for i := 0; i < len(b); i += 8 {
		v := m.cfg.Rand.Uint64()
		for j := i; j < i+8 && j < len(b); j++ {
			b[j] = byte(v)
			v >>= 8
		}
	}
	return hex.EncodeToString(b[:])
}

// createNode is createClusterNode: id "" gets a random ID.
func (m *Machine) createNode(id string, flags bus.NodeFlags) *node {
	if id == "" {
		id = m.randomHex()
	}
	return &node{id: id, shardID: m.randomHex(), flags: flags, ctime: m.now}
}

// addNode is clusterAddNode.
func (m *Machine) addNode(n *node) {
	m.nodes[n.id] = n
	m.list = append(m.list, n)
}

func (m *Machine) lookup(id string) *node { return m.nodes[id] }

// randomNode is dictGetRandomKey over the node table.
func (m *Machine) randomNode() *node { return m.list[m.cfg.Rand.IntN(len(m.list))] }

// delNode is clusterDelNode plus freeClusterNode.
func (m *Machine) delNode(n *node) {
	for j := range Slots {
		if m.importingSlotsFrom[j] == n {
			m.setImporting(j, nil)
		}
		if m.migratingSlotsTo[j] == n {
			m.setMigrating(j, nil)
		}
		if m.slots[j] == n {
			m.delSlot(j)
		}
	}
	validity := m.cfg.nodeTimeout() * failReportValidityMult
	for _, o := range m.list {
		if o != n {
			o.delFailureReport(n, m.now, validity)
		}
	}
	if n.isReplica() && n.master != nil {
		n.master.removeReplica(n)
	}
	for _, r := range n.replicas {
		r.master = nil
	}
	if m.mfReplica == n {
		m.resetManualFailover()
	}
	m.freeLink(n)
	delete(m.nodes, n.id)
	for i, o := range m.list {
		if o == n {
			m.list = append(m.list[:i:i], m.list[i+1:]...)
			break
		}
	}
}

// renameNode is clusterRenameNode.
func (m *Machine) renameNode(n *node, id string) {
	m.logf(LogDebug, "Renaming node %s into %s", n.id, id)
	delete(m.nodes, n.id)
	n.id = id
	m.nodes[id] = n
}

// freeLink is freeClusterLink for the node's outbound link.
func (m *Machine) freeLink(n *node) {
	if n.link == 0 {
		return
	}
	delete(m.outLinks, n.link)
	m.out.Closes = append(m.out.Closes, n.link)
	n.link = 0
}

// addSlot is clusterAddSlot.
func (m *Machine) addSlot(n *node, slot int) bool {
	if m.slots[slot] != nil {
		return false
	}
	n.slots.Set(slot)
	n.numSlots++
	m.slots[slot] = n
	return true
}

// delSlot is clusterDelSlot.
func (m *Machine) delSlot(slot int) bool {
	n := m.slots[slot]
	if n == nil {
		return false
	}
	n.slots.Clear(slot)
	n.numSlots--
	m.slots[slot] = nil
	return true
}

// delNodeSlots is clusterDelNodeSlots.
func (m *Machine) delNodeSlots(n *node) int {
	deleted := 0
	for j := range Slots {
		if n.slots.Has(j) {
			m.delSlot(j)
			deleted++
		}
	}
	return deleted
}

// closeAllSlots is clusterCloseAllSlots.
func (m *Machine) closeAllSlots() {
	m.migratingSlotsTo = [Slots]*node{}
	m.importingSlotsFrom = [Slots]*node{}
	m.openBits = [Slots / 64]uint64{}
}

// setNodeAsMaster is clusterSetNodeAsMaster.
func (m *Machine) setNodeAsMaster(n *node) {
	if n.isMaster() {
		return
	}
	if n.master != nil {
		n.master.removeReplica(n)
		if n != m.myself {
			n.flags |= bus.FlagMigrateTo
			m.retargetOpenSlots(n.master, n)
		}
	}
	n.flags &^= bus.FlagSlave
	n.flags |= bus.FlagMaster
	n.master = nil
	m.todo |= todoSaveConfig | todoUpdateState
}

// retargetOpenSlots: a replica of old was promoted to master in its place,
// so our migrations to or from old now go to or come from it. (A shoal
// rule: with Redis a failover in the middle of a slot migration leaves the
// other side pointing at a failed node, and the slot's keys unreachable.)
func (m *Machine) retargetOpenSlots(old, promoted *node) {
	for _, n := range m.list {
		for i := range n.openSlots {
			if n.openSlots[i].NodeID == old.id {
				n.openSlots[i].NodeID = promoted.id
			}
		}
	}
	for j := range Slots {
		if m.migratingSlotsTo[j] == old {
			m.setMigrating(j, promoted)
			m.todo |= todoSaveConfig
		}
		if m.importingSlotsFrom[j] == old {
			m.setImporting(j, promoted)
			m.todo |= todoSaveConfig
		}
	}
}

// setMyMaster is clusterSetMaster: myself becomes a replica of n.
func (m *Machine) setMyMaster(n *node) {
	me := m.myself
	if me.isMaster() {
		me.flags &^= bus.FlagMaster | bus.FlagMigrateTo
		me.flags |= bus.FlagSlave
		m.closeAllSlots()
	} else if me.master != nil {
		me.master.removeReplica(me)
	}
	me.master = n
	me.shardID = n.shardID
	n.addReplica(me)
	m.resetManualFailover()
}

// maxEpoch is clusterGetMaxEpoch.
func (m *Machine) maxEpoch() uint64 {
	max := m.currentEpoch
	for _, n := range m.list {
		if n.configEpoch > max {
			max = n.configEpoch
		}
	}
	return max
}

// blacklistCleanup is clusterBlacklistCleanup.
func (m *Machine) blacklistCleanup() {
	for id, expire := range m.blacklist {
		if expire < m.now {
			delete(m.blacklist, id)
		}
	}
}

// blacklistExists is clusterBlacklistExists.
func (m *Machine) blacklistExists(id string) bool {
	m.blacklistCleanup()
	_, ok := m.blacklist[id]
	return ok
}

// keysInSlot asks the keyspace.
func (m *Machine) keysInSlot(slot int) int {
	if m.cfg.Keys == nil {
		return 0
	}
	return m.cfg.Keys.CountKeysInSlot(slot)
}

func (m *Machine) dbSize() int {
	if m.cfg.Keys == nil {
		return 0
	}
	return m.cfg.Keys.DBSize()
}

// DeferNodesConf, on, makes a Ready that saves without fsync carry no
// NodesConf: the I/O layer, which coalesces such saves, calls NodesConf
// itself when it writes (with the machine's lock held). A reshard makes
// several such saves per slot on every master; serializing each, most
// never written, cost a third of a SETSLOT. Fsynced saves carry it still.
func (m *Machine) DeferNodesConf(on bool) { m.deferNodesConf = on }

// setMigrating sets (nil: clears) where a slot of myself migrates to.
func (m *Machine) setMigrating(slot int, n *node) {
	m.migratingSlotsTo[slot] = n
	m.markOpen(slot)
}

// setImporting sets (nil: clears) where a slot is imported from.
func (m *Machine) setImporting(slot int, n *node) {
	m.importingSlotsFrom[slot] = n
	m.markOpen(slot)
}

// markOpen keeps a slot's bit of openBits.
func (m *Machine) markOpen(slot int) {
	bit := uint64(1) << (slot % 64)
	if m.migratingSlotsTo[slot] != nil || m.importingSlotsFrom[slot] != nil {
		m.openBits[slot/64] |= bit
	} else {
		m.openBits[slot/64] &^= bit
	}
}
