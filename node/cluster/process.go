package cluster

import (
	"slices"
	"time"

	"github.com/shoal-dev/shoal/node/bus"
)

// Step processes a message received on a link (clusterProcessPacket).
func (m *Machine) Step(now time.Time, in Inbound) Ready {
	m.begin(now)
	if in.Msg != nil && in.Link != 0 {
		m.processPacket(in)
	}
	return m.finish()
}

// linkPeerIP is nodeIp2String: the announced IP if any, else the IP of the
// other side of the link.
func (m *Machine) linkPeerIP(in Inbound) string {
	if in.Msg.IP != "" {
		return in.Msg.IP
	}
	if l := m.outLinks[in.Link]; l != nil {
		return l.ip
	}
	return in.RemoteIP
}

func (m *Machine) processPacket(in Inbound) {
	msg := in.Msg
	t := msg.Type
	if int(t) < bus.TypeCount {
		m.statsReceived[t]++
	}
	var linkNode *node // the node of our outbound link the message came on
	if l := m.outLinks[in.Link]; l != nil {
		linkNode = l.node
	}
	sender := m.lookup(msg.Sender)
	if sender != nil && sender.isMyself() {
		return // a message from ourselves (a MEET to our own address)
	}
	if sender != nil && in.Link.Inbound() {
		m.inLinks[in.Link] = sender.id
	}
	if sender != nil && !sender.inHandshake() {
		sender.dataReceived = m.now
		m.updateEpochsFromHeader(sender, msg)
	}

	switch t {
	case bus.TypePing, bus.TypeMeet:
		m.processPingRequest(in, sender)
	}
	switch t {
	case bus.TypePing, bus.TypePong, bus.TypeMeet:
		m.processPingPongMeet(in, sender, linkNode)
	case bus.TypeFail:
		m.processFail(msg, sender)
	case bus.TypePublish, bus.TypePublishShard:
		m.processPublish(msg, sender)
	case bus.TypeFailoverAuthRequest:
		if sender != nil {
			m.updateReplicaRoleFromAuthRequest(sender, msg)
			m.sendFailoverAuthIfNeeded(sender, msg)
		}
	case bus.TypeFailoverAuthAck:
		m.processFailoverAuthAck(msg, sender)
	case bus.TypeMFStart:
		m.processMFStart(in, sender)
	case bus.TypeUpdate:
		m.processUpdate(msg, sender)
	}
}

// updateEpochsFromHeader: a newer currentEpoch or configEpoch seen in a
// known sender's header is adopted (the epoch propagation rules), and the
// sender's replication offset is recorded.
func (m *Machine) updateEpochsFromHeader(sender *node, msg *bus.Message) {
	if msg.CurrentEpoch > m.currentEpoch {
		m.currentEpoch = msg.CurrentEpoch
		m.todo |= todoSaveConfig | todoFsyncConfig
	}
	if msg.ConfigEpoch > sender.configEpoch {
		sender.configEpoch = msg.ConfigEpoch
		m.todo |= todoSaveConfig | todoFsyncConfig
	}
	sender.replOffset = msg.Offset
	sender.replOffsetTime = m.now
	// A replica in a manual failover learns the offset its master paused at.
	me := m.myself
	if m.mfEnd != 0 && me.isReplica() && me.master == sender && msg.MFlags&bus.MsgFlagPaused != 0 && m.mfMasterOffset == -1 {
		m.mfMasterOffset = sender.replOffset
		m.todo |= todoHandleManualFailover
		m.logf(LogWarning, "Received replication offset for paused master manual failover: %d", m.mfMasterOffset)
	}
}

// processPingRequest handles what is specific to PING and MEET: learn our
// own IP, add a node that MEETs us, and reply with a PONG on the same link.
func (m *Machine) processPingRequest(in Inbound, sender *node) {
	msg := in.Msg
	// Only other cluster nodes send us MEET, using our official address: a
	// simple way to learn our IP, unless cluster-announce-ip is set.
	if (msg.Type == bus.TypeMeet || m.myself.ip == "") && m.cfg.AnnounceIP == "" && in.LocalIP != "" && bus.ValidIP(in.LocalIP) {
		if m.myself.ip != in.LocalIP {
			m.myself.ip = in.LocalIP
			m.logf(LogWarning, "IP address for this node updated to %s", in.LocalIP)
			m.todo |= todoSaveConfig
		}
	}
	// Add the node if it is new for us and this is a MEET: the right flags,
	// master and so forth are learned from the PONGs that follow.
	if sender == nil && msg.Type == bus.TypeMeet {
		n := m.createNode("", bus.FlagHandshake)
		n.ip = m.linkPeerIP(in)
		n.port, n.cport = int(msg.Port), int(msg.CPort)
		m.addNode(n)
		m.todo |= todoSaveConfig
		// A MEET from an unknown node: trust its gossip as well.
		m.processGossipSection(msg, nil)
	}
	m.sendPing(in.Link, nil, bus.TypePong)
}

func (m *Machine) processPingPongMeet(in Inbound, sender, linkNode *node) {
	msg := in.Msg
	if linkNode != nil {
		if linkNode.inHandshake() {
			// We already know this node: update its address if needed and
			// drop the handshake node (and its link).
			if sender != nil {
				m.logf(LogVerbose, "Handshake: we already know node %s, updating the address if needed.", sender.id)
				if m.updateAddressIfNeeded(sender, in) {
					m.todo |= todoSaveConfig | todoUpdateState
				}
				m.delNode(linkNode)
				return
			}
			// Replace the random name with the real one.
			m.renameNode(linkNode, msg.Sender)
			m.logf(LogDebug, "Handshake with node %s completed.", linkNode.id)
			linkNode.flags &^= bus.FlagHandshake
			linkNode.flags |= msg.Flags & (bus.FlagMaster | bus.FlagSlave)
			m.todo |= todoSaveConfig
		} else if linkNode.id != msg.Sender {
			// The node at this address is not the node we expected: forget
			// its address (the node will be found again through gossip).
			m.logf(LogDebug, "PONG contains mismatching sender ID. About node %s added %d ms ago, having flags %d",
				linkNode.id, m.now-linkNode.ctime, linkNode.flags)
			linkNode.flags |= bus.FlagNoAddr
			linkNode.ip, linkNode.port, linkNode.cport = "", 0, 0
			m.freeLink(linkNode)
			m.todo |= todoSaveConfig
			return
		}
	}

	// Copy the NOFAILOVER flag from what the sender announces about itself.
	if sender != nil {
		sender.flags = sender.flags&^bus.FlagNoFailover | msg.Flags&bus.FlagNoFailover
	}

	// Update the node address if it changed.
	if sender != nil && msg.Type == bus.TypePing && !sender.inHandshake() && m.updateAddressIfNeeded(sender, in) {
		m.todo |= todoSaveConfig | todoUpdateState
	}

	// A PONG on our outbound link: the node is alive.
	if linkNode != nil && msg.Type == bus.TypePong {
		linkNode.pongReceived = m.now
		linkNode.pingSent = 0
		// PFAIL is reversed by a PONG; FAIL only under the conditions of
		// clearNodeFailureIfNeeded.
		if linkNode.timedOut() {
			linkNode.flags &^= bus.FlagPFail
			m.todo |= todoSaveConfig | todoUpdateState
		} else if linkNode.failed() {
			m.clearNodeFailureIfNeeded(linkNode)
		}
	}

	if sender == nil {
		return
	}
	m.updateRoleFromHeader(sender, msg)
	m.updateSlotsFromHeader(sender, msg)

	// If our config epoch collides with the sender's, try to fix it.
	if m.myself.isMaster() && sender.isMaster() && msg.ConfigEpoch == m.myself.configEpoch {
		m.handleConfigEpochCollision(sender)
	}
	m.processGossipSection(msg, sender)
	if sender.isMaster() {
		sender.openSlots = slices.Clone(msg.OpenSlots)
	}
	if msg.Hostname != sender.hostname {
		sender.hostname = msg.Hostname
		m.todo |= todoSaveConfig
	}
	if msg.Type == bus.TypePing || msg.Type == bus.TypePong || msg.Type == bus.TypeMeet {
		sender.clientPort = int(msg.ClientPort)
	}
	if msg.ShardID != "" && msg.ShardID != sender.shardID {
		sender.shardID = msg.ShardID
		m.todo |= todoSaveConfig
	}
}

// updateRoleFromHeader handles a role switch announced by the sender:
// replica -> master, master -> replica, or a replica changing master.
func (m *Machine) updateRoleFromHeader(sender *node, msg *bus.Message) {
	if msg.MasterID == "" {
		m.setNodeAsMaster(sender)
		return
	}
	master := m.lookup(msg.MasterID)
	if sender.isMaster() {
		// Master turned into a replica: reconfigure the node.
		m.delNodeSlots(sender)
		sender.flags &^= bus.FlagMaster | bus.FlagMigrateTo
		sender.flags |= bus.FlagSlave
		m.todo |= todoSaveConfig | todoUpdateState
	}
	if master != nil && sender.master != master && master != sender {
		if sender.master != nil {
			sender.master.removeReplica(sender)
		}
		master.addReplica(sender)
		sender.master = master
		m.todo |= todoSaveConfig
	}
}

// updateSlotsFromHeader compares the slots the sender claims (for itself or
// its master) with our view, and applies or corrects them.
func (m *Machine) updateSlotsFromHeader(sender *node, msg *bus.Message) {
	senderMaster := sender
	if !sender.isMaster() {
		senderMaster = sender.master
	}
	if senderMaster == nil || senderMaster.slots == msg.Slots {
		return
	}
	// 1) The sender is a master whose claimed slots changed: maybe update
	// our configuration.
	if sender.isMaster() {
		m.updateSlotsConfigWith(sender, msg.ConfigEpoch, &msg.Slots)
	}
	// 2) The sender claims slots that we know are served by a master with
	// a greater configEpoch: tell it with an UPDATE. This is how a master
	// that comes back after a failover learns it lost its slots.
	msg.Slots.EachNotIn(&sender.slots, func(j int) bool {
		owner := m.slots[j]
		if owner == sender || owner == nil || owner.configEpoch <= msg.ConfigEpoch {
			return true
		}
		m.logf(LogVerbose, "Node %s has old slots configuration, sending an UPDATE message about %s", sender.id, owner.id)
		m.sendUpdate(sender, owner)
		return false
	})
}

// updateAddressIfNeeded is nodeUpdateAddressIfNeeded: a node we know that
// talks to us from a new address (a pod restarted with a new IP) gets its
// address updated, and its old link is dropped.
func (m *Machine) updateAddressIfNeeded(n *node, in Inbound) bool {
	if n == m.myself || in.Link == n.link {
		return false
	}
	ip := m.linkPeerIP(in)
	port, cport := int(in.Msg.Port), int(in.Msg.CPort)
	if ip == "" || (n.ip == ip && n.port == port && n.cport == cport) {
		return false
	}
	n.ip, n.port, n.cport = ip, port, cport
	m.freeLink(n)
	n.flags &^= bus.FlagNoAddr
	m.logf(LogWarning, "Address updated for node %s (%s), now %s:%d", n.id, n.hostname, ip, port)
	return true
}

// processGossipSection is clusterProcessGossipSection.
func (m *Machine) processGossipSection(msg *bus.Message, sender *node) {
	validity := m.cfg.nodeTimeout() * failReportValidityMult
	for i := range msg.Gossip {
		g := &msg.Gossip[i]
		n := m.lookup(g.NodeID)
		if n == nil {
			// A node we don't know: add it with its exact ID and flags, if
			// the sender is a known node of our cluster (otherwise we risk
			// joining another cluster) and it has an address. We don't
			// start a handshake with the address: it may be reused already.
			if sender != nil && g.Flags&bus.FlagNoAddr == 0 && !m.blacklistExists(g.NodeID) && g.IP != "" {
				n = m.createNode(g.NodeID, g.Flags&(bus.FlagMaster|bus.FlagSlave|bus.FlagPFail|bus.FlagFail|bus.FlagNoFailover))
				n.ip, n.port, n.cport = g.IP, int(g.Port), int(g.CPort)
				if n.failed() {
					n.failTime = m.now
				}
				m.addNode(n)
				m.todo |= todoSaveConfig
			}
			continue
		}
		// Failure reports count only when they come from masters.
		if sender != nil && sender.isMaster() && n != m.myself {
			if g.Flags&(bus.FlagFail|bus.FlagPFail) != 0 {
				if n.addFailureReport(sender, m.now) {
					m.logf(LogVerbose, "Node %s reported node %s as not reachable.", sender.id, n.id)
				}
				m.markNodeAsFailingIfNeeded(n)
			} else if n.delFailureReport(sender, m.now, validity) {
				m.logf(LogVerbose, "Node %s reported node %s is back online.", sender.id, n.id)
			}
		}
		// If the node is up from our point of view, we have no pending ping
		// and no failure reports, take the newer PONG time others saw (not
		// in the future, with 500 ms of tolerance).
		if g.Flags&(bus.FlagFail|bus.FlagPFail) == 0 && n.pingSent == 0 && n.failureReportsCount(m.now, validity) == 0 {
			if g.PongReceived <= m.now+500 && g.PongReceived > n.pongReceived {
				n.pongReceived = g.PongReceived
			}
		}
		// A node we cannot reach, that another node reaches at a different
		// address: take that address and reconnect.
		if n.has(bus.FlagFail|bus.FlagPFail) && g.Flags&(bus.FlagNoAddr|bus.FlagFail|bus.FlagPFail) == 0 && n != m.myself &&
			g.IP != "" && (n.ip != g.IP || n.port != int(g.Port) || n.cport != int(g.CPort)) {
			m.freeLink(n)
			n.ip, n.port, n.cport = g.IP, int(g.Port), int(g.CPort)
			n.flags &^= bus.FlagNoAddr
			m.logf(LogNotice, "Address updated for node %s from gossip, now %s:%d", n.id, n.ip, n.port)
			m.todo |= todoSaveConfig
		}
	}
}

// processFail handles a FAIL message: the named node is failing, by the
// majority of masters someone else counted.
func (m *Machine) processFail(msg *bus.Message, sender *node) {
	if sender == nil {
		m.logf(LogNotice, "Ignoring FAIL message from unknown node %s about %s", msg.Sender, msg.Fail.NodeID)
		return
	}
	failing := m.lookup(msg.Fail.NodeID)
	if failing == nil || failing.has(bus.FlagFail|bus.FlagMyself) {
		return
	}
	m.logf(LogNotice, "FAIL message received from %s about %s", sender.id, failing.id)
	failing.flags |= bus.FlagFail
	failing.failTime = m.now
	failing.flags &^= bus.FlagPFail
	m.todo |= todoSaveConfig | todoUpdateState
}

// processPublish delivers a PUBLISH/SPUBLISH from another node locally.
func (m *Machine) processPublish(msg *bus.Message, sender *node) {
	if sender == nil {
		return // we don't know that node
	}
	m.out.Published = append(m.out.Published, Publication{
		Sharded: msg.Type == bus.TypePublishShard, Channel: msg.Publish.Channel, Message: msg.Publish.Message,
	})
}

// processUpdate handles an UPDATE: a newer configuration of a node's slots.
func (m *Machine) processUpdate(msg *bus.Message, sender *node) {
	if sender == nil {
		return
	}
	n := m.lookup(msg.Update.NodeID)
	if n == nil || n.configEpoch >= msg.Update.ConfigEpoch {
		return // we don't know the node, or nothing new
	}
	// If in our current config the node is a replica, make it a master.
	if n.isReplica() {
		m.setNodeAsMaster(n)
	}
	n.configEpoch = msg.Update.ConfigEpoch
	m.todo |= todoSaveConfig | todoFsyncConfig
	m.updateSlotsConfigWith(n, msg.Update.ConfigEpoch, &msg.Update.Slots)
}
