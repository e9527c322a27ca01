package bus

// Type is the type of a cluster bus message (CLUSTERMSG_TYPE_*).
type Type uint16

// Message types, numbered as Redis numbers them.
const (
	TypePing                Type = 0
	TypePong                Type = 1
	TypeMeet                Type = 2
	TypeFail                Type = 3
	TypePublish             Type = 4
	TypeFailoverAuthRequest Type = 5
	TypeFailoverAuthAck     Type = 6
	TypeUpdate              Type = 7
	TypeMFStart             Type = 8
	typeModule              Type = 9 // reserved by Redis for modules; never sent by shoal
	TypePublishShard        Type = 10
	// TypeCount is the number of message types, for per-type statistics.
	TypeCount = 11
)

// String is the name CLUSTER INFO uses in cluster_stats_messages_<name>_sent.
func (t Type) String() string {
	switch t {
	case TypePing:
		return "ping"
	case TypePong:
		return "pong"
	case TypeMeet:
		return "meet"
	case TypeFail:
		return "fail"
	case TypePublish:
		return "publish"
	case TypeFailoverAuthRequest:
		return "auth-req"
	case TypeFailoverAuthAck:
		return "auth-ack"
	case TypeUpdate:
		return "update"
	case TypeMFStart:
		return "mfstart"
	case typeModule:
		return "module"
	case TypePublishShard:
		return "publishshard"
	}
	return "unknown"
}

// NodeFlags are the flags of a node (CLUSTER_NODE_*), with Redis's bit values.
type NodeFlags uint16

// Node flags.
const (
	FlagMaster     NodeFlags = 1 << 0 // the node is a master
	FlagSlave      NodeFlags = 1 << 1 // the node is a replica
	FlagPFail      NodeFlags = 1 << 2 // failure? Needs acknowledgment
	FlagFail       NodeFlags = 1 << 3 // the node is believed to be malfunctioning
	FlagMyself     NodeFlags = 1 << 4 // this node is myself
	FlagHandshake  NodeFlags = 1 << 5 // first handshake with the node not done yet
	FlagNoAddr     NodeFlags = 1 << 6 // we don't know the address of the node
	FlagMeet       NodeFlags = 1 << 7 // send a MEET message to this node
	FlagMigrateTo  NodeFlags = 1 << 8 // master eligible for replica migration
	FlagNoFailover NodeFlags = 1 << 9 // replica will not try to failover
	flagsKnown               = 1<<10 - 1
)

// MsgFlags are the per-message flags (CLUSTERMSG_FLAG0_*).
type MsgFlags uint8

// Message flags.
const (
	// MsgFlagPaused: the sender is a master with clients paused for a manual
	// failover; the header's Offset is its replication offset at the pause.
	MsgFlagPaused MsgFlags = 1 << 0
	// MsgFlagForceAck: a FAILOVER_AUTH_REQUEST of a manual failover, to be
	// granted even though the master is not failing.
	MsgFlagForceAck MsgFlags = 1 << 1
	msgFlagsKnown            = 1<<2 - 1
)

// ClusterState is the cluster state a sender announces (CLUSTER_OK/FAIL).
type ClusterState uint8

// Cluster states.
const (
	StateOK   ClusterState = 0
	StateFail ClusterState = 1
)

// Header is the part every message has: who the sender is and its view of
// its own configuration (clusterMsg in Redis).
type Header struct {
	Type Type
	// Port is the sender's client port, CPort its cluster bus port.
	Port, CPort uint16
	// CurrentEpoch is the sender's currentEpoch. ConfigEpoch is the
	// configEpoch of the sender, or of its master when it is a replica.
	CurrentEpoch, ConfigEpoch uint64
	// Offset is the sender's replication offset.
	Offset int64
	// Sender is the sender's node ID (40 lowercase hex characters).
	Sender string
	// Slots are the slots served by the sender, or by its master when the
	// sender is a replica.
	Slots SlotBitmap
	// MasterID is the node ID of the sender's master, "" for a master.
	MasterID string
	// ShardID is the sender's shard ID, "" if unknown.
	ShardID string
	// IP is the sender's announced IP, "" to use the connection's address.
	IP string
	// Hostname is the sender's announced hostname, "" for none.
	Hostname string
	// ClientPort is the port the sender tells clients to use
	// (cluster-announce-client-port, or -client-tls-port with TLS), 0 for
	// Port. Carried in extension 2 of PING, PONG and MEET.
	ClientPort uint16
	Flags      NodeFlags
	State      ClusterState
	MFlags     MsgFlags
}

// Gossip is what the sender knows about one other node (clusterMsgDataGossip),
// carried by PING, PONG and MEET.
type Gossip struct {
	NodeID string
	// PingSent and PongReceived are Unix times in milliseconds, 0 for none.
	PingSent, PongReceived int64
	IP                     string
	Port, CPort            uint16
	Flags                  NodeFlags
}

// OpenSlot is a slot a master has in MIGRATING or IMPORTING state. Masters
// send theirs in PING/PONG/MEET so that their replicas keep the open slots
// across a failover (a shoal extension; Redis loses this state).
type OpenSlot struct {
	Slot      uint16
	Importing bool   // true: IMPORTING from NodeID; false: MIGRATING to NodeID
	NodeID    string // the other side of the migration
}

// Fail is the body of a FAIL message: the node that is now failing.
type Fail struct {
	NodeID string
}

// Update is the body of an UPDATE message: a node's newer slot configuration.
type Update struct {
	ConfigEpoch uint64
	NodeID      string
	Slots       SlotBitmap
}

// Publish is the body of PUBLISH and PUBLISHSHARD messages.
type Publish struct {
	Channel, Message []byte
}

// Message is a decoded cluster bus message. Which body is set depends on
// Type: Gossip and OpenSlots for PING/PONG/MEET, Fail for FAIL, Update for
// UPDATE, Publish for PUBLISH/PUBLISHSHARD; the failover auth messages and
// MFSTART have no body.
type Message struct {
	Header
	Gossip    []Gossip
	OpenSlots []OpenSlot
	Fail      *Fail
	Update    *Update
	Publish   *Publish
}
