package cluster

import (
	"github.com/shoal-dev/shoal/node/bus"
	"math/bits"
)

// buildHeader is clusterBuildMessageHdr: myself's view of its own
// configuration, carried by every message.
func (m *Machine) buildHeader(t bus.Type) *bus.Message {
	me := m.myself
	master := me
	if me.isReplica() && me.master != nil {
		master = me.master
	}
	msg := &bus.Message{Header: bus.Header{
		Type:         t,
		Port:         uint16(me.port),
		CPort:        uint16(me.cport),
		CurrentEpoch: m.currentEpoch,
		ConfigEpoch:  master.configEpoch,
		Offset:       m.repl.Offset,
		Sender:       me.id,
		Slots:        master.slots,
		ShardID:      me.shardID,
		IP:           m.cfg.AnnounceIP,
		Hostname:     me.hostname,
		Flags:        me.flags,
		State:        m.state,
	}}
	if me.master != nil {
		msg.MasterID = me.master.id
	}
	if t == bus.TypePing || t == bus.TypePong || t == bus.TypeMeet {
		msg.ClientPort = uint16(me.clientPort)
	}
	if me.isMaster() && m.mfEnd != 0 && m.mfPaused {
		msg.MFlags |= bus.MsgFlagPaused
		msg.Offset = m.mfPausedOffset
	}
	return msg
}

// send queues msg on link; to is the node on the other side, if known.
func (m *Machine) send(link LinkID, to string, msg *bus.Message) {
	if link == 0 {
		return
	}
	m.statsSent[msg.Type]++
	m.out.Messages = append(m.out.Messages, Envelope{Link: link, To: to, Msg: msg})
}

// sendTo queues msg on our outbound link to n (nothing when there is none,
// as Redis does when node->link is NULL).
func (m *Machine) sendTo(n *node, msg *bus.Message) { m.send(n.link, n.id, msg) }

// broadcast is clusterBroadcastMessage: msg to every node we have a link
// to, except myself and nodes in handshake.
func (m *Machine) broadcast(msg *bus.Message) {
	for _, n := range m.list {
		if n.isMyself() || n.inHandshake() || n.link == 0 {
			continue
		}
		m.sendTo(n, msg)
	}
}

// gossipEntry is clusterSetGossipEntry.
func gossipEntry(n *node) bus.Gossip {
	return bus.Gossip{
		NodeID: n.id, PingSent: n.pingSent, PongReceived: n.pongReceived,
		IP: n.ip, Port: uint16(n.port), CPort: uint16(n.cport), Flags: n.flags,
	}
}

// openSlots lists myself's MIGRATING/IMPORTING slots, announced by masters
// so that their replicas keep them across a failover.
func (m *Machine) openSlots() []bus.OpenSlot {
	if !m.myself.isMaster() {
		return nil
	}
	var open []bus.OpenSlot
	m.eachOpenSlot(func(j int) {
		if n := m.migratingSlotsTo[j]; n != nil {
			open = append(open, bus.OpenSlot{Slot: uint16(j), NodeID: n.id})
		} else if n := m.importingSlotsFrom[j]; n != nil {
			open = append(open, bus.OpenSlot{Slot: uint16(j), Importing: true, NodeID: n.id})
		}
	})
	return open
}

// eachOpenSlot calls fn with each MIGRATING or IMPORTING slot, in order,
// from openBits (a reshard has a few open slots among 16384).
func (m *Machine) eachOpenSlot(fn func(slot int)) {
	for w, word := range m.openBits {
		for ; word != 0; word &= word - 1 {
			fn(w*64 + bits.TrailingZeros64(word))
		}
	}
}

// sendPing is clusterSendPing: a PING, PONG or MEET with a gossip section
// about some random nodes (about 1/10 of the table, at least 3) plus every
// node in PFAIL state, on link. to is the node we send to when the link is
// our outbound link to it (its ping_sent is set for a PING), nil otherwise.
func (m *Machine) sendPing(link LinkID, to *node, t bus.Type) {
	if link == 0 {
		return
	}
	freshNodes := len(m.list) - 2
	wanted := len(m.list) / 10
	if wanted < 3 {
		wanted = 3
	}
	if wanted > freshNodes {
		wanted = freshNodes
	}
	pfailWanted := m.statsPfailNodes
	if to != nil && t == bus.TypePing {
		to.pingSent = m.now
	}
	msg := m.buildHeader(t)
	in := map[*node]bool{}
	for maxIterations := wanted * 3; freshNodes > 0 && len(msg.Gossip) < wanted && maxIterations > 0; maxIterations-- {
		this := m.randomNode()
		// Don't include this node: the whole packet header is about us.
		if this == m.myself {
			continue
		}
		// PFAIL nodes will be added at the end.
		if this.has(bus.FlagPFail) {
			continue
		}
		// In the gossip section don't include nodes in handshake or without
		// an address, nor nodes we have no link to and that serve no slots:
		// they are probably leaving the cluster.
		if this.has(bus.FlagHandshake|bus.FlagNoAddr) || (this.link == 0 && this.numSlots == 0) {
			freshNodes--
			continue
		}
		if in[this] {
			continue
		}
		in[this] = true
		msg.Gossip = append(msg.Gossip, gossipEntry(this))
		freshNodes--
	}
	for _, n := range m.list {
		if pfailWanted == 0 {
			break
		}
		if n.has(bus.FlagHandshake|bus.FlagNoAddr) || !n.has(bus.FlagPFail) || in[n] {
			continue
		}
		in[n] = true
		msg.Gossip = append(msg.Gossip, gossipEntry(n))
		pfailWanted--
	}
	msg.OpenSlots = m.openSlots()
	id := ""
	if to != nil {
		id = to.id
	}
	m.send(link, id, msg)
}

// broadcastPong is clusterBroadcastPong: tell everybody (or only the other
// replicas of our master) about our new configuration.
func (m *Machine) broadcastPong(localReplicasOnly bool) {
	me := m.myself
	for _, n := range m.list {
		if n.link == 0 || n == me || n.inHandshake() {
			continue
		}
		if localReplicasOnly {
			sameMaster := n.isReplica() && n.master != nil && (n.master == me.master || n.master == me)
			if !sameMaster {
				continue
			}
		}
		m.sendPing(n.link, n, bus.TypePong)
	}
}

// sendFail is clusterSendFail: broadcast that nodeID is failing.
func (m *Machine) sendFail(nodeID string) {
	msg := m.buildHeader(bus.TypeFail)
	msg.Fail = &bus.Fail{NodeID: nodeID}
	m.broadcast(msg)
}

// sendUpdate is clusterSendUpdate: tell the node on link the newer slot
// configuration of n.
func (m *Machine) sendUpdate(to *node, n *node) {
	if to == nil || to.link == 0 {
		return
	}
	msg := m.buildHeader(bus.TypeUpdate)
	msg.Update = &bus.Update{ConfigEpoch: n.configEpoch, NodeID: n.id, Slots: n.slots}
	m.sendTo(to, msg)
}
