package clusteradmin

import (
	"fmt"
	"slices"
	"strings"
)

// SlotCount is the number of hash slots of a Redis Cluster.
const SlotCount = 16384

// SlotRange is an inclusive range of hash slots.
type SlotRange struct {
	First, Last int
}

// Len is the number of slots in the range.
func (r SlotRange) Len() int { return r.Last - r.First + 1 }

// String formats the range as CLUSTER NODES does: "first-last", or one number.
func (r SlotRange) String() string {
	if r.First == r.Last {
		return fmt.Sprint(r.First)
	}
	return fmt.Sprintf("%d-%d", r.First, r.Last)
}

// Node flags as CLUSTER NODES prints them.
const (
	FlagMyself    = "myself"
	FlagMaster    = "master"
	FlagReplica   = "slave"
	FlagPFail     = "fail?"
	FlagFail      = "fail"
	FlagHandshake = "handshake"
	FlagNoAddr    = "noaddr"
)

// Link states of CLUSTER NODES.
const (
	LinkConnected    = "connected"
	LinkDisconnected = "disconnected"
)

// Node is one line of CLUSTER NODES: what the reporting node believes about
// a node of the cluster (itself included, flagged myself).
type Node struct {
	ID          string
	IP          string
	Port        int
	BusPort     int
	Hostname    string
	Flags       []string
	MasterID    string // empty for a master ("-" in CLUSTER NODES)
	PingSent    int64
	PongRecv    int64
	ConfigEpoch uint64
	LinkState   string
	Slots       []SlotRange
	// MigratingSlotsTo maps an open slot to the node ID it migrates to
	// ("[slot->-id]"); ImportingSlotsFrom to the node ID it imports from
	// ("[slot-<-id]").
	MigratingSlotsTo   map[int]string
	ImportingSlotsFrom map[int]string
}

// HasFlag reports whether the node carries flag f.
func (n Node) HasFlag(f string) bool { return slices.Contains(n.Flags, f) }

// IsMaster reports whether the node is a master.
func (n Node) IsMaster() bool { return n.HasFlag(FlagMaster) }

// IsReplica reports whether the node is a replica.
func (n Node) IsReplica() bool { return n.HasFlag(FlagReplica) }

// SlotCount is the number of slots the node serves.
func (n Node) SlotCount() int {
	c := 0
	for _, r := range n.Slots {
		c += r.Len()
	}
	return c
}

// SlotStrings formats the slot ranges as CLUSTER NODES does.
func (n Node) SlotStrings() []string {
	out := make([]string, 0, len(n.Slots))
	for _, r := range n.Slots {
		out = append(out, r.String())
	}
	return out
}

// ClusterInfo is the typed reply of CLUSTER INFO.
type ClusterInfo struct {
	State         string // "ok" or "fail"
	SlotsAssigned int
	SlotsOK       int
	SlotsPFail    int
	SlotsFail     int
	KnownNodes    int
	Size          int
	CurrentEpoch  uint64
	MyEpoch       uint64
}

// Cluster states of CLUSTER INFO.
const (
	StateOK   = "ok"
	StateFail = "fail"
)

// Replication is the part of INFO replication the operator uses.
type Replication struct {
	Role string // "master" or "slave"
	// MasterLinkStatus is "up" or "down" on a replica.
	MasterLinkStatus string
	// Offset is master_repl_offset: on a replica, how much of its master's
	// stream it has processed.
	Offset int64
}

// NodeView is what one node reports about the cluster and itself.
type NodeView struct {
	Nodes       []Node
	Info        ClusterInfo
	Keys        int64
	Replication Replication
}

// Myself is the reporting node's own entry, flagged myself.
func (v *NodeView) Myself() (Node, bool) {
	for _, n := range v.Nodes {
		if n.HasFlag(FlagMyself) {
			return n, true
		}
	}
	return Node{}, false
}

// MyID is the reporting node's ID ("" when the view has no myself entry).
func (v *NodeView) MyID() string {
	me, _ := v.Myself()
	return me.ID
}

// Node is the reporting node's entry of node id, past the handshake.
func (v *NodeView) Node(id string) (Node, bool) {
	for _, n := range v.Nodes {
		if n.ID == id && !n.HasFlag(FlagHandshake) {
			return n, true
		}
	}
	return Node{}, false
}

// Knows reports whether the reporting node has id in its table, past the
// handshake.
func (v *NodeView) Knows(id string) bool {
	for _, n := range v.Nodes {
		if n.ID == id && !n.HasFlag(FlagHandshake) {
			return true
		}
	}
	return false
}

// InHandshakeWith reports whether the reporting node is in the middle of a
// handshake (after MEET) with ip:port.
func (v *NodeView) InHandshakeWith(ip string, port int) bool {
	for _, n := range v.Nodes {
		if n.HasFlag(FlagHandshake) && n.IP == ip && n.Port == port {
			return true
		}
	}
	return false
}

// FormatSlots formats slot ranges as a space-separated list.
func FormatSlots(rs []SlotRange) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		parts = append(parts, r.String())
	}
	return strings.Join(parts, " ")
}
