package cluster

import "github.com/shoal-dev/shoal/node/bus"

// NodeInfo is a read-only snapshot of a node table entry.
type NodeInfo struct {
	ID, ShardID string
	IP          string
	Port        int
	BusPort     int
	Hostname    string
	Flags       bus.NodeFlags
	// MasterID is the master of a replica, "" for a master.
	MasterID    string
	ConfigEpoch uint64
	// ReplOffset is the replication offset the node last announced.
	ReplOffset int64
	NumSlots   int
	// Connected: we have an outbound link to the node (always for myself).
	Connected bool
}

// IsMaster, IsReplica, Failing report the node's flags.
func (n NodeInfo) IsMaster() bool  { return n.Flags&bus.FlagMaster != 0 }
func (n NodeInfo) IsReplica() bool { return n.Flags&bus.FlagSlave != 0 }
func (n NodeInfo) Failing() bool   { return n.Flags&bus.FlagFail != 0 }

func (m *Machine) info(n *node) NodeInfo {
	i := NodeInfo{
		ID: n.id, ShardID: n.shardID, IP: n.ip, Port: n.port, BusPort: n.cport, Hostname: n.hostname,
		Flags: n.flags, ConfigEpoch: n.configEpoch, ReplOffset: n.replOffset, NumSlots: n.numSlots,
		Connected: n.link != 0 || n.isMyself(),
	}
	if n.master != nil {
		i.MasterID = n.master.id
	}
	if n.isMyself() {
		i.ReplOffset = m.repl.Offset
	}
	return i
}

// Myself is myself's entry (CLUSTER MYID is Myself().ID, MYSHARDID its
// ShardID).
func (m *Machine) Myself() NodeInfo { return m.info(m.myself) }

// Node is the entry of the node with that ID.
func (m *Machine) Node(id string) (NodeInfo, bool) {
	n := m.lookup(id)
	if n == nil {
		return NodeInfo{}, false
	}
	return m.info(n), true
}

// Nodes lists the node table in its (stable) order.
func (m *Machine) Nodes() []NodeInfo {
	out := make([]NodeInfo, len(m.list))
	for i, n := range m.list {
		out[i] = m.info(n)
	}
	return out
}

// Replicas lists the replicas of a master, for CLUSTER REPLICAS; ok is
// false when the node is unknown, and a replica has none.
func (m *Machine) Replicas(id string) (replicas []NodeInfo, ok bool) {
	n := m.lookup(id)
	if n == nil {
		return nil, false
	}
	for _, r := range n.replicas {
		replicas = append(replicas, m.info(r))
	}
	return replicas, true
}

// Addr is where clients find a node: its preferred endpoint (what MOVED and
// ASK redirect to) and client port.
type Addr struct {
	ID       string
	Endpoint string
	Port     int
}

// endpoint is clusterNodePreferredEndpoint.
func (m *Machine) endpoint(n *node) string {
	switch m.cfg.PreferredEndpointType {
	case "hostname":
		if n.hostname != "" {
			return n.hostname
		}
		return "?"
	case "unknown-endpoint":
		return ""
	}
	return n.ip
}

func (m *Machine) addr(n *node) Addr {
	return Addr{ID: n.id, Endpoint: m.endpoint(n), Port: n.clientFacingPort()}
}

// SlotOwner is the master serving slot; ok is false for an unassigned slot.
func (m *Machine) SlotOwner(slot int) (owner Addr, ok bool) {
	n := m.slots[slot]
	if n == nil {
		return Addr{}, false
	}
	return m.addr(n), true
}

// MySlot reports whether myself serves slot (a replica: its master does).
func (m *Machine) MySlot(slot int) bool {
	me := m.myself
	if me.isReplica() {
		return me.master != nil && m.slots[slot] == me.master
	}
	return m.slots[slot] == me
}

// MigratingTo is the node slot is MIGRATING to (ok false when it is not).
func (m *Machine) MigratingTo(slot int) (to Addr, ok bool) {
	if n := m.migratingSlotsTo[slot]; n != nil {
		return m.addr(n), true
	}
	return Addr{}, false
}

// ImportingFrom is the node slot is IMPORTING from (ok false when it is not).
func (m *Machine) ImportingFrom(slot int) (from Addr, ok bool) {
	if n := m.importingSlotsFrom[slot]; n != nil {
		return m.addr(n), true
	}
	return Addr{}, false
}

// StateOK is cluster_state:ok. A node whose state is fail answers
// CLUSTERDOWN (unless cluster-allow-reads-when-down lets reads through).
func (m *Machine) StateOK() bool { return m.state == bus.StateOK }

// IsReplica reports whether myself is a replica.
func (m *Machine) IsReplica() bool { return m.myself.isReplica() }

// CurrentEpoch and LastVoteEpoch are the persistent epochs.
func (m *Machine) CurrentEpoch() uint64  { return m.currentEpoch }
func (m *Machine) LastVoteEpoch() uint64 { return m.lastVoteEpoch }

// Size is the number of masters serving slots (cluster_size).
func (m *Machine) Size() int { return m.size }

// ManualFailoverInProgress reports whether a manual failover is running
// (on the master: writes stay paused until it ends).
func (m *Machine) ManualFailoverInProgress() bool { return m.mfEnd != 0 }
