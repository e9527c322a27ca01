package cluster

import (
	"time"

	"github.com/shoal-dev/shoal/node/bus"
)

// LinkID names a cluster bus connection. The machine allocates positive IDs
// for the outbound links it asks the I/O layer to Dial; the I/O layer gives
// every inbound (accepted) connection a negative ID of its own.
type LinkID int64

// Inbound reports whether the link was accepted by the I/O layer.
func (l LinkID) Inbound() bool { return l < 0 }

// Inbound is a message received on a link.
type Inbound struct {
	Link LinkID
	// RemoteIP is the peer's IP as seen on the socket (no port). It is
	// needed for inbound links; for outbound links the machine knows it.
	RemoteIP string
	// LocalIP is this node's IP on the socket (getsockname): a node without
	// cluster-announce-ip learns its own IP from the first MEET it receives.
	LocalIP string
	Msg     *bus.Message
}

// Envelope is a message to send on a link. Msg may be shared between
// envelopes and must be treated as read-only.
type Envelope struct {
	Link LinkID
	// To is the ID of the node on the other side when known (for logs and
	// tests; the link is what matters).
	To  string
	Msg *bus.Message
}

// Dial asks the I/O layer to open outbound link Link to the cluster bus at
// IP:Port, queueing the messages sent on it until it is connected. When the
// connection fails or breaks, report it with Machine.LinkDown.
//
// Hostname is the node's announced hostname, if any. When every node of a
// cluster restarted with new IPs (pods of a StatefulSet), no saved IP
// answers anymore; an I/O layer that dials Hostname:Port when IP:Port
// fails lets the cluster find itself again without a MEET (the addresses
// are then corrected by the PINGs that follow).
type Dial struct {
	Link     LinkID
	NodeID   string
	IP       string
	Port     int
	Hostname string
}

// ReplicationTarget is who myself must replicate from: MasterID "" means
// "be a master" (REPLICAOF NO ONE).
type ReplicationTarget struct {
	MasterID string
	IP       string
	Port     int
}

// Publication is a PUBLISH or SPUBLISH received over the bus, to deliver to
// local subscribers.
type Publication struct {
	Sharded          bool
	Channel, Message []byte
}

// LogLevel is the level of a log line, as Redis's.
type LogLevel int

// Log levels.
const (
	LogDebug LogLevel = iota
	LogVerbose
	LogNotice
	LogWarning
)

// LogEntry is a line the node should log; the texts follow Redis's.
type LogEntry struct {
	Level LogLevel
	Msg   string
}

// Ready is everything the I/O layer must do after a call into the machine,
// in this order:
//
//  1. if SaveConfig, write NodesConf to nodes.conf atomically. When Fsync
//     is set, write and fsync it (WriteNodesConf) before anything below and
//     before replying to the client whose command produced this Ready (votes
//     and epochs must be durable before anyone hears of them). Without
//     Fsync the write may be deferred and coalesced with later ones, as
//     Redis's CLUSTER_TODO_SAVE_CONFIG is saved once in beforeSleep: only
//     the latest NodesConf needs writing, and a later Fsync save includes
//     it; a pending one must be written before a clean exit;
//  2. close the Closes links, open the Dials links, send the Messages;
//  3. apply Replication, PauseWritesUntil/UnpauseWrites, DelKeysInSlots,
//     deliver Published, log Logs.
type Ready struct {
	Messages []Envelope
	Dials    []Dial
	Closes   []LinkID

	SaveConfig bool
	Fsync      bool
	// NodesConf is what to write; nil for a save without Fsync once the
	// I/O layer asked for DeferNodesConf (it calls NodesConf itself).
	NodesConf []byte

	// Replication is set when myself's replication target changed.
	Replication *ReplicationTarget
	// PauseWritesUntil, when not zero, asks to pause writes of clients until
	// then (a master in a manual failover). Once writes are paused the I/O
	// layer must call Machine.WritesPaused with the replication offset.
	PauseWritesUntil time.Time
	// UnpauseWrites ends such a pause. With PauseWritesUntil also set (a
	// manual failover restarted by a new MFSTART) the old pause ends first
	// and the new one starts: writes stay paused.
	UnpauseWrites bool
	// FlushData: myself was a replica and was reset: delete all keys.
	FlushData bool
	// DelKeysInSlots are slots this master lost to a newer configuration
	// while it still served others: their keys must be deleted.
	DelKeysInSlots []int
	// Published are PUBLISH/SPUBLISH messages received from the bus.
	Published []Publication
	// StateChanged: cluster_state changed (see Machine.StateOK).
	StateChanged bool
	Logs         []LogEntry
}

// Empty reports whether there is nothing to do.
func (rd *Ready) Empty() bool {
	return len(rd.Messages) == 0 && len(rd.Dials) == 0 && len(rd.Closes) == 0 && !rd.SaveConfig &&
		rd.Replication == nil && rd.PauseWritesUntil.IsZero() && !rd.UnpauseWrites &&
		!rd.FlushData && len(rd.DelKeysInSlots) == 0 && len(rd.Published) == 0 && !rd.StateChanged && len(rd.Logs) == 0
}

// ReplicationState is what the replication layer tells the machine about
// myself, before each Tick (SetReplicationState).
type ReplicationState struct {
	// Offset is master_repl_offset on a master, the processed offset on a
	// replica.
	Offset int64
	// Connected: a replica's link to its master is up.
	Connected bool
	// LastInteraction is when a connected replica last heard from its master.
	LastInteraction time.Time
	// DownSince is when a replica's link to its master went down (zero if it
	// never was up: the data is then as old as it gets).
	DownSince time.Time
}
