package cluster

import (
	"time"

	"github.com/shoal-dev/shoal/node/bus"
)

// Tick is clusterCron: call it every CronInterval. It (re)connects links,
// pings nodes on schedule, detects PFAIL, times out handshakes and manual
// failovers, and runs the replica's failover and migration logic.
func (m *Machine) Tick(now time.Time) Ready {
	m.begin(now)
	m.clusterCron()
	return m.finish()
}

func (m *Machine) clusterCron() {
	m.iteration++
	timeout := m.cfg.nodeTimeout()
	handshakeTimeout := max(timeout, 1000)
	m.statsPfailNodes = 0
	updateState := m.flagAllAfterStall()

	// Delete handshakes that timed out, count PFAIL nodes, and connect to
	// the nodes we have no link to.
	for _, n := range append([]*node(nil), m.list...) {
		if n.has(bus.FlagMyself | bus.FlagNoAddr) {
			continue
		}
		if n.has(bus.FlagPFail) {
			m.statsPfailNodes++
		}
		// A handshake node that is not turned into a normal node within
		// the handshake timeout is removed from the table.
		if n.inHandshake() && m.now-n.ctime > handshakeTimeout {
			m.delNode(n)
			continue
		}
		if n.link == 0 {
			m.connect(n)
		}
	}

	// Ping some random node once every 10 iterations, so that we usually
	// ping one random node every second: of 5 random nodes, the one with
	// the oldest PONG.
	if m.iteration%pingEveryTicks == 0 {
		var minPong *node
		var minPongTime int64
		for range gossipSample {
			n := m.randomNode()
			if n.link == 0 || n.pingSent != 0 || n.has(bus.FlagMyself|bus.FlagHandshake) {
				continue
			}
			if minPong == nil || minPongTime > n.pongReceived {
				minPong, minPongTime = n, n.pongReceived
			}
		}
		if minPong != nil {
			m.logf(LogDebug, "Pinging node %s", minPong.id)
			m.sendPing(minPong.link, minPong, bus.TypePing)
		}
	}

	// Iterate the nodes to check if we need to flag something as failing,
	// and find orphaned masters for replica migration.
	orphanedMasters, maxReplicas, thisReplicas := 0, 0, 0
	me := m.myself
	for _, n := range m.list {
		if n.has(bus.FlagMyself | bus.FlagNoAddr | bus.FlagHandshake) {
			continue
		}
		if me.isReplica() && n.isMaster() && !n.failed() {
			ok := n.countNonFailingReplicas()
			if ok == 0 && n.numSlots > 0 && n.has(bus.FlagMigrateTo) {
				orphanedMasters++
			}
			maxReplicas = max(maxReplicas, ok)
			if me.master == n {
				thisReplicas = ok
			}
		}

		// If we are not receiving any data for more than half the node
		// timeout, reconnect the link: maybe there is a connection issue
		// even if the node is alive.
		pingDelay := m.now - n.pingSent
		dataDelay := m.now - n.dataReceived
		if n.link != 0 && m.now-n.linkCTime > timeout && n.pingSent != 0 &&
			pingDelay > timeout/2 && dataDelay > timeout/2 {
			m.freeLink(n)
		}

		// No active ping and the last PONG is older than half the node
		// timeout: ping now, so that every node is pinged often enough.
		if n.link != 0 && n.pingSent == 0 && m.now-n.pongReceived > timeout/2 {
			m.sendPing(n.link, n, bus.TypePing)
			continue
		}

		// A master in a manual failover pings the replica continuously.
		if m.mfEnd != 0 && me.isMaster() && m.mfReplica == n && n.link != 0 {
			m.sendPing(n.link, n, bus.TypePing)
			continue
		}

		if n.pingSent == 0 {
			continue
		}
		// Any data received counts as a sign of life, as the bus link is
		// also used for data: under load PONGs may be late.
		if min(pingDelay, dataDelay) > timeout && !n.has(bus.FlagPFail|bus.FlagFail) {
			m.logf(LogDebug, "*** NODE %s possibly failing", n.id)
			n.flags |= bus.FlagPFail
			updateState = true
		}
	}

	m.manualFailoverCheckTimeout()
	if me.isReplica() {
		m.resendMFStart()
		m.handleManualFailover()
		m.handleReplicaFailover()
		// Replica migration makes sense only if some master has at least
		// two working replicas, and we are a replica of such a master.
		if orphanedMasters > 0 && maxReplicas >= 2 && thisReplicas == maxReplicas && m.cfg.AllowReplicaMigration {
			m.handleReplicaMigration(maxReplicas)
		}
	}
	if updateState || m.state == bus.StateFail {
		m.updateState()
	}
}

// flagAllAfterStall: when the cron did not run for longer than the node
// timeout, this process was stopped (SIGSTOP) or starved, and what it
// knows of the others is that old: meanwhile they may have failed it over.
// Every other node is flagged PFAIL until it answers a PING again, so that
// a master counts itself in a minority (cluster state fail, then the rejoin
// delay) and takes no write before it heard the cluster's news, as a
// master cut off from the majority for node timeout would. Without this, a
// master woken from SIGSTOP serves the writes its clients queued while it
// was stopped (Redis does) although a replica took over its slots, and
// those writes are lost when it learns it. It reports whether any flag
// changed.
func (m *Machine) flagAllAfterStall() bool {
	last := m.lastCronTime
	m.lastCronTime = m.now
	stall := m.now - last
	if last == 0 || stall <= m.cfg.nodeTimeout() {
		return false
	}
	flagged := 0
	for _, n := range m.list {
		if n.has(bus.FlagMyself | bus.FlagNoAddr | bus.FlagHandshake | bus.FlagPFail | bus.FlagFail) {
			continue
		}
		n.flags |= bus.FlagPFail
		flagged++
	}
	if flagged > 0 {
		m.logf(LogWarning, "Cluster cron stalled for %d milliseconds (process stopped or starved): %d nodes flagged as possibly failing until they answer again.", stall, flagged)
	}
	return flagged > 0
}

// connect creates the outbound link to n (clusterNodeCronHandleReconnect)
// and queues the first PING, or MEET for a node we were asked to meet.
func (m *Machine) connect(n *node) {
	m.nextLink++
	link := m.nextLink
	n.link, n.linkCTime = link, m.now
	m.outLinks[link] = &outLink{node: n, ip: n.ip}
	m.out.Dials = append(m.out.Dials, Dial{Link: link, NodeID: n.id, IP: n.ip, Port: n.cport, Hostname: n.hostname})
	// Queue a PING in the new connection ASAP: this is crucial to avoid
	// false positives in failure detection. If there was an active ping
	// before the link was disconnected, keep its time.
	oldPingSent := n.pingSent
	t := bus.TypePing
	if n.has(bus.FlagMeet) {
		t = bus.TypeMeet
	}
	m.sendPing(link, n, t)
	if oldPingSent != 0 {
		n.pingSent = oldPingSent
	}
	// The MEET flag is cleared after the first packet: once the PONG comes
	// and the handshake is over, normal PINGs follow.
	n.flags &^= bus.FlagMeet
}

// LinkDown reports that a link closed or failed to connect: outbound links
// of Ready.Dials and inbound (accepted) links alike.
func (m *Machine) LinkDown(now time.Time, link LinkID) Ready {
	m.begin(now)
	delete(m.inLinks, link)
	if l := m.outLinks[link]; l != nil {
		delete(m.outLinks, link)
		if l.node.link == link {
			l.node.link = 0
		}
	}
	return m.finish()
}

// LinkNode is the node on the other side of a link, for CLUSTER LINKS: the
// node an outbound link was opened to, or the node that last spoke on an
// inbound link. ok is false when it is not known (yet).
func (m *Machine) LinkNode(link LinkID) (id string, ok bool) {
	if l := m.outLinks[link]; l != nil {
		return l.node.id, true
	}
	id, ok = m.inLinks[link]
	if ok && m.lookup(id) == nil {
		return "", false
	}
	return id, ok
}
