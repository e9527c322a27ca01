package cluster

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/shoal-dev/shoal/node/bus"
)

// ReplyError is the error reply of a command, worded exactly as Redis's
// (the text starts with the error code, "ERR ...").
type ReplyError string

func (e ReplyError) Error() string { return string(e) }

func errorf(format string, args ...any) error { return ReplyError(fmt.Sprintf(format, args...)) }

// ErrInvalidSlot is getSlotOrReply's error.
const ErrInvalidSlot = ReplyError("ERR Invalid or out of range slot")

// ParseSlot parses a slot argument as getSlotOrReply does.
func ParseSlot(s string) (int, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v >= Slots {
		return 0, ErrInvalidSlot
	}
	return int(v), nil
}

// SlotRange is an inclusive range of slots.
type SlotRange struct{ Start, End int }

// Meet is CLUSTER MEET ip port [cport]: start a handshake with the node at
// that address (clusterStartHandshake). cport "" means port + 10000.
func (m *Machine) Meet(now time.Time, ip, port, cport string) (Ready, error) {
	m.begin(now)
	p, err := strconv.ParseInt(port, 10, 64)
	if err != nil {
		return m.finish(), errorf("ERR Invalid TCP base port specified: %s", port)
	}
	cp := p + 10000
	if cport != "" {
		if cp, err = strconv.ParseInt(cport, 10, 64); err != nil {
			return m.finish(), errorf("ERR Invalid TCP bus port specified: %s", cport)
		}
	}
	addr, perr := netip.ParseAddr(ip)
	if perr != nil || addr.Zone() != "" || p <= 0 || p > 65535 || cp <= 0 || cp > 65535 {
		return m.finish(), errorf("ERR Invalid node address specified: %s:%s", ip, port)
	}
	normIP := addr.Unmap().String()
	// A handshake with this address already in progress: nothing to do.
	for _, n := range m.list {
		if n.inHandshake() && n.ip == normIP && n.port == int(p) && n.cport == int(cp) {
			return m.finish(), nil
		}
	}
	// The random ID is replaced by the real one at the first PONG.
	n := m.createNode("", bus.FlagHandshake|bus.FlagMeet)
	n.ip, n.port, n.cport = normIP, int(p), int(cp)
	m.addNode(n)
	return m.finish(), nil
}

// Forget is CLUSTER FORGET: remove a node from the table and ban it from
// coming back through gossip for 60 seconds.
func (m *Machine) Forget(now time.Time, id string) (Ready, error) {
	m.begin(now)
	n := m.lookup(id)
	switch {
	case n == nil:
		return m.finish(), errorf("ERR Unknown node %s", id)
	case n == m.myself:
		return m.finish(), ReplyError("ERR I tried hard but I can't forget myself...")
	case m.myself.isReplica() && m.myself.master == n:
		return m.finish(), ReplyError("ERR Can't forget my master!")
	}
	m.blacklistCleanup()
	m.blacklist[n.id] = m.now + blacklistTTL
	m.delNode(n)
	m.todo |= todoUpdateState | todoSaveConfig
	return m.finish(), nil
}

// Reset is CLUSTER RESET [SOFT|HARD]: become an empty master that knows no
// other node; a hard reset also zeroes the epochs and takes a new node ID.
// A replica's data must be flushed (Ready.FlushData).
func (m *Machine) Reset(now time.Time, hard bool) (Ready, error) {
	m.begin(now)
	me := m.myself
	if me.isMaster() && m.dbSize() != 0 {
		return m.finish(), ReplyError("ERR CLUSTER RESET can't be called with master nodes containing keys")
	}
	if me.isReplica() {
		m.setNodeAsMaster(me)
		m.out.FlushData = true
	}
	m.closeAllSlots()
	m.resetManualFailover()
	for j := range Slots {
		m.delSlot(j)
	}
	for _, n := range append([]*node(nil), m.list...) {
		if n != me {
			m.delNode(n)
		}
	}
	if hard {
		m.currentEpoch, m.lastVoteEpoch, me.configEpoch = 0, 0, 0
		m.logf(LogWarning, "configEpoch set to 0 via CLUSTER RESET HARD")
		delete(m.nodes, me.id)
		me.id = m.randomHex()
		me.shardID = m.randomHex()
		m.nodes[me.id] = me
		m.logf(LogNotice, "Node hard reset, now I'm %s", me.id)
	}
	m.todo |= todoSaveConfig | todoUpdateState | todoFsyncConfig
	return m.finish(), nil
}

// checkSlotAssignments is checkSlotAssignmentsOrReply.
func (m *Machine) checkSlotAssignments(marked *[Slots]byte, del bool, start, end int) error {
	for j := start; j <= end; j++ {
		if del && m.slots[j] == nil {
			return errorf("ERR Slot %d is already unassigned", j)
		} else if !del && m.slots[j] != nil {
			return errorf("ERR Slot %d is already busy", j)
		}
		if marked[j]++; marked[j] == 2 {
			return errorf("ERR Slot %d specified multiple times", j)
		}
	}
	return nil
}

// updateSlots is clusterUpdateSlots: assign (or unassign) the marked slots.
func (m *Machine) updateSlots(marked *[Slots]byte, del bool) {
	for j := range Slots {
		if marked[j] == 0 {
			continue
		}
		// We are now the real owner of a slot we were importing.
		m.setImporting(j, nil)
		if del {
			m.delSlot(j)
		} else {
			m.addSlot(m.myself, j)
		}
	}
	m.todo |= todoUpdateState | todoSaveConfig
}

func (m *Machine) changeSlots(now time.Time, ranges []SlotRange, del bool) (Ready, error) {
	m.begin(now)
	var marked [Slots]byte
	for _, r := range ranges {
		if r.Start < 0 || r.End < 0 || r.Start >= Slots || r.End >= Slots {
			return m.finish(), ErrInvalidSlot
		}
		if r.Start > r.End {
			return m.finish(), errorf("ERR start slot number %d is greater than end slot number %d", r.Start, r.End)
		}
		if err := m.checkSlotAssignments(&marked, del, r.Start, r.End); err != nil {
			return m.finish(), err
		}
	}
	m.updateSlots(&marked, del)
	return m.finish(), nil
}

func singleSlots(slots []int) []SlotRange {
	ranges := make([]SlotRange, len(slots))
	for i, s := range slots {
		ranges[i] = SlotRange{s, s}
	}
	return ranges
}

// AddSlots is CLUSTER ADDSLOTS: assign the slots to myself.
func (m *Machine) AddSlots(now time.Time, slots []int) (Ready, error) {
	return m.changeSlots(now, singleSlots(slots), false)
}

// DelSlots is CLUSTER DELSLOTS: forget who serves the slots.
func (m *Machine) DelSlots(now time.Time, slots []int) (Ready, error) {
	return m.changeSlots(now, singleSlots(slots), true)
}

// AddSlotsRange is CLUSTER ADDSLOTSRANGE.
func (m *Machine) AddSlotsRange(now time.Time, ranges []SlotRange) (Ready, error) {
	return m.changeSlots(now, ranges, false)
}

// DelSlotsRange is CLUSTER DELSLOTSRANGE.
func (m *Machine) DelSlotsRange(now time.Time, ranges []SlotRange) (Ready, error) {
	return m.changeSlots(now, ranges, true)
}

// FlushSlots is CLUSTER FLUSHSLOTS: unassign all of myself's slots.
func (m *Machine) FlushSlots(now time.Time) (Ready, error) {
	m.begin(now)
	if m.dbSize() != 0 {
		return m.finish(), ReplyError("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.")
	}
	m.delNodeSlots(m.myself)
	m.todo |= todoUpdateState | todoSaveConfig
	return m.finish(), nil
}

// SetSlot actions.
const (
	SetSlotMigrating = "migrating"
	SetSlotImporting = "importing"
	SetSlotStable    = "stable"
	SetSlotNode      = "node"
)

// ErrSetSlotSyntax is CLUSTER SETSLOT's reply to an unknown action.
const ErrSetSlotSyntax = ReplyError("ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP")

// SetSlot is CLUSTER SETSLOT slot MIGRATING|IMPORTING|NODE id and
// CLUSTER SETSLOT slot STABLE (nodeID ""), as the specification's slot
// migration describes. action is lower case.
func (m *Machine) SetSlot(now time.Time, slot int, action, nodeID string) (Ready, error) {
	m.begin(now)
	err := m.setSlot(slot, action, nodeID)
	if err == nil {
		m.todo |= todoSaveConfig | todoUpdateState
	}
	return m.finish(), err
}

func (m *Machine) setSlot(slot int, action, nodeID string) error {
	me := m.myself
	if me.isReplica() {
		return ReplyError("ERR Please use SETSLOT only with masters.")
	}
	if slot < 0 || slot >= Slots {
		return ErrInvalidSlot
	}
	switch action {
	case SetSlotMigrating:
		if m.slots[slot] != me {
			return errorf("ERR I'm not the owner of hash slot %d", slot)
		}
		n := m.lookup(nodeID)
		if n == nil {
			return errorf("ERR I don't know about node %s", nodeID)
		}
		if n.isReplica() {
			return ReplyError("ERR Target node is not a master")
		}
		m.setMigrating(slot, n)
	case SetSlotImporting:
		if m.slots[slot] == me {
			return errorf("ERR I'm already the owner of hash slot %d", slot)
		}
		n := m.lookup(nodeID)
		if n == nil {
			return errorf("ERR I don't know about node %s", nodeID)
		}
		if n.isReplica() {
			return ReplyError("ERR Target node is not a master")
		}
		m.setImporting(slot, n)
	case SetSlotStable:
		m.setImporting(slot, nil)
		m.setMigrating(slot, nil)
	case SetSlotNode:
		return m.setSlotNode(slot, nodeID)
	default:
		return ErrSetSlotSyntax
	}
	return nil
}

// setSlotNode is CLUSTER SETSLOT slot NODE id: the end of a slot migration.
func (m *Machine) setSlotNode(slot int, nodeID string) error {
	me := m.myself
	n := m.lookup(nodeID)
	if n == nil {
		return errorf("ERR Unknown node %s", nodeID)
	}
	if n.isReplica() {
		return ReplyError("ERR Target node is not a master")
	}
	// Giving away a slot of ours: it must have no keys left.
	keys := m.keysInSlot(slot)
	if m.slots[slot] == me && n != me && keys != 0 {
		return errorf("ERR Can't assign hashslot %d to a different node while I still hold keys for this hash slot.", slot)
	}
	// A migrating slot without keys left is no longer migrating.
	if keys == 0 && m.migratingSlotsTo[slot] != nil {
		m.setMigrating(slot, nil)
	}
	slotWasMine := m.slots[slot] == me
	m.delSlot(slot)
	m.addSlot(n, slot)
	// A master left without slots becomes a replica of the new owner.
	if slotWasMine && n != me && me.numSlots == 0 && m.cfg.AllowReplicaMigration {
		m.logf(LogWarning, "Configuration change detected. Reconfiguring myself as a replica of %s", n.id)
		m.setMyMaster(n)
		m.todo |= todoSaveConfig | todoUpdateState | todoFsyncConfig
	}
	// Importing the slot into myself closes the import; a new configEpoch
	// makes the new owner win everywhere (collisions are resolved as usual).
	if n == me && m.importingSlotsFrom[slot] != nil {
		if m.bumpConfigEpochWithoutConsensus() {
			m.logf(LogWarning, "configEpoch updated after importing slot %d", slot)
		}
		m.setImporting(slot, nil)
		// Let the other nodes know as soon as possible.
		m.broadcastPong(false)
	}
	return nil
}

// Replicate is CLUSTER REPLICATE: make myself a replica of the master id.
func (m *Machine) Replicate(now time.Time, id string) (Ready, error) {
	m.begin(now)
	me := m.myself
	n := m.lookup(id)
	switch {
	case n == nil:
		return m.finish(), errorf("ERR Unknown node %s", id)
	case n == me:
		return m.finish(), ReplyError("ERR Can't replicate myself")
	case n.isReplica():
		return m.finish(), ReplyError("ERR I can only replicate a master, not a replica.")
	case me.isMaster() && (me.numSlots != 0 || m.dbSize() != 0):
		return m.finish(), ReplyError("ERR To set a master the node must be empty and without assigned slots.")
	}
	m.setMyMaster(n)
	m.todo |= todoUpdateState | todoSaveConfig
	return m.finish(), nil
}

// FailoverMode is the option of CLUSTER FAILOVER.
type FailoverMode int

// Failover modes.
const (
	FailoverDefault  FailoverMode = iota // coordinated with the master
	FailoverForce                        // without the master's agreement
	FailoverTakeover                     // without the master and without votes
)

// Failover is CLUSTER FAILOVER [FORCE|TAKEOVER], sent to a replica.
func (m *Machine) Failover(now time.Time, mode FailoverMode) (Ready, error) {
	m.begin(now)
	me := m.myself
	switch {
	case me.isMaster():
		return m.finish(), ReplyError("ERR You should send CLUSTER FAILOVER to a replica")
	case me.master == nil:
		return m.finish(), ReplyError("ERR I'm a replica but my master is unknown to me")
	case mode == FailoverDefault && (me.master.failed() || me.master.link == 0):
		return m.finish(), ReplyError("ERR Master is down or failed, please use CLUSTER FAILOVER FORCE")
	}
	m.resetManualFailover()
	m.mfEnd = m.now + mfTimeout
	switch mode {
	case FailoverTakeover:
		// No checks and no votes: a new configEpoch, the master's slots,
		// and the new configuration broadcast.
		m.logf(LogWarning, "Taking over the master (user request).")
		m.bumpConfigEpochWithoutConsensus()
		m.failoverReplaceYourMaster()
	case FailoverForce:
		// No agreement on the offset with the master: go to the election.
		m.logf(LogWarning, "Forced failover user request accepted.")
		m.mfCanStart = true
		m.todo |= todoHandleFailover
	default:
		m.logf(LogWarning, "Manual failover user request accepted.")
		m.sendMFStart()
	}
	return m.finish(), nil
}

// BumpEpoch is CLUSTER BUMPEPOCH; the reply is the status "BUMPED <epoch>"
// or "STILL <epoch>".
func (m *Machine) BumpEpoch(now time.Time) (string, Ready) {
	m.begin(now)
	word := "STILL"
	if m.bumpConfigEpochWithoutConsensus() {
		word = "BUMPED"
	}
	m.todo |= todoSaveConfig | todoFsyncConfig
	return word + " " + strconv.FormatUint(m.myself.configEpoch, 10), m.finish()
}

// SetConfigEpoch is CLUSTER SET-CONFIG-EPOCH, for a node that knows no
// other node yet.
func (m *Machine) SetConfigEpoch(now time.Time, epoch int64) (Ready, error) {
	m.begin(now)
	switch {
	case epoch < 0:
		return m.finish(), errorf("ERR Invalid config epoch specified: %d", epoch)
	case len(m.list) > 1:
		return m.finish(), ReplyError("ERR The user can assign a config epoch only when the node does not know any other node.")
	case m.myself.configEpoch != 0:
		return m.finish(), ReplyError("ERR Node config epoch is already non-zero")
	}
	m.myself.configEpoch = uint64(epoch)
	m.logf(LogWarning, "configEpoch set to %d via CLUSTER SET-CONFIG-EPOCH", epoch)
	if m.currentEpoch < uint64(epoch) {
		m.currentEpoch = uint64(epoch)
	}
	// No fsync needed: if this is lost, collision resolution gives the node
	// a unique epoch anyway.
	m.todo |= todoUpdateState | todoSaveConfig
	return m.finish(), nil
}

// CountFailureReports is CLUSTER COUNT-FAILURE-REPORTS.
func (m *Machine) CountFailureReports(now time.Time, id string) (int, error) {
	m.begin(now)
	n := m.lookup(id)
	if n == nil {
		return 0, errorf("ERR Unknown node %s", id)
	}
	return n.failureReportsCount(m.now, m.cfg.nodeTimeout()*failReportValidityMult), nil
}

// SaveConfig is CLUSTER SAVECONFIG: the Ready asks to save and fsync.
func (m *Machine) SaveConfig(now time.Time) Ready {
	m.begin(now)
	m.todo |= todoSaveConfig | todoFsyncConfig
	return m.finish()
}

// Publish propagates a PUBLISH to every node (clusterPropagatePublish).
func (m *Machine) Publish(now time.Time, channel, message []byte) Ready {
	m.begin(now)
	msg := m.buildHeader(bus.TypePublish)
	msg.Publish = &bus.Publish{Channel: channel, Message: message}
	m.broadcast(msg)
	return m.finish()
}

// PublishShard propagates an SPUBLISH to the other nodes of myself's shard
// (clusterPropagatePublishShard).
func (m *Machine) PublishShard(now time.Time, channel, message []byte) Ready {
	m.begin(now)
	msg := m.buildHeader(bus.TypePublishShard)
	msg.Publish = &bus.Publish{Channel: channel, Message: message}
	master := m.myself
	if master.isReplica() && master.master != nil {
		master = master.master
	}
	for _, n := range append([]*node{master}, master.replicas...) {
		if n != m.myself {
			m.sendTo(n, msg)
		}
	}
	return m.finish()
}

// SetReplicationState records myself's replication offset and link state
// (call it before each Tick and whenever they change).
func (m *Machine) SetReplicationState(s ReplicationState) { m.repl = s }

// Reconfigure is CONFIG SET of the cluster-* parameters at runtime: the
// machine takes cfg's policy and announced address (keeping its own
// randomness and key counter), myself announces the new address from the
// next message on, and the configuration is saved as Redis's
// clusterUpdateMyselfAnnouncedPorts / updateClusterHostname do.
func (m *Machine) Reconfigure(now time.Time, cfg Config) (Ready, error) {
	m.begin(now)
	cfg.Rand, cfg.Keys = m.cfg.Rand, m.cfg.Keys
	if err := cfg.validate(); err != nil {
		return m.finish(), err
	}
	m.cfg = cfg
	m.applyAnnounced()
	m.todo |= todoSaveConfig | todoUpdateState
	return m.finish(), nil
}
