package cluster

import (
	"time"

	"github.com/shoal-dev/shoal/node/bus"
)

// cantFailoverReason is why a replica does not fail over its master
// (CLUSTER_CANT_FAILOVER_*), logged when it changes.
type cantFailoverReason int

const (
	cantFailoverNone cantFailoverReason = iota
	cantFailoverDataAge
	cantFailoverWaitingDelay
	cantFailoverExpired
	cantFailoverWaitingVotes
)

func (m *Machine) logCantFailover(reason cantFailoverReason) {
	m.cantFailoverReason = reason
	// Don't repeat the same reason within 10 s, and don't log while the
	// master failed only recently: this is for replicas stalled for long.
	if reason == m.lastCantFailoverLogged && m.now-m.lastCantFailoverLog < 10_000 {
		return
	}
	if master := m.myself.master; master != nil && master.failed() && m.now-master.failTime < m.cfg.nodeTimeout()+5000 {
		return
	}
	var msg string
	switch reason {
	case cantFailoverDataAge:
		msg = "Disconnected from master for longer than allowed. Please check the 'cluster-replica-validity-factor' configuration option."
	case cantFailoverWaitingDelay:
		msg = "Waiting the delay before I can start a new failover."
	case cantFailoverExpired:
		msg = "Failover attempt expired."
	case cantFailoverWaitingVotes:
		msg = "Waiting for votes, but majority still not reached."
	default:
		return
	}
	m.lastCantFailoverLogged, m.lastCantFailoverLog = reason, m.now
	m.logf(LogNotice, "Currently unable to failover: %s", msg)
}

// replicaRank is clusterGetSlaveRank: how many other replicas of our master
// (that may fail over) have a greater replication offset than ours. The
// best replica has rank 0 and starts its election first.
func (m *Machine) replicaRank() int {
	master := m.myself.master
	if master == nil {
		return 0
	}
	rank := 0
	for _, r := range master.replicas {
		if r != m.myself && !r.cantFailover() && r.replOffset > m.repl.Offset {
			rank++
		}
	}
	return rank
}

// dataAge is how long (ms) this replica has been without news from its
// master, as the replica validity check measures it.
func (m *Machine) dataAge() int64 {
	if m.repl.Connected {
		return m.now - m.repl.LastInteraction.UnixMilli()
	}
	if m.repl.DownSince.IsZero() {
		return m.now
	}
	return m.now - m.repl.DownSince.UnixMilli()
}

// handleReplicaFailover is clusterHandleSlaveFailover: a replica of a
// failing master (or in a manual failover) schedules an election after
// 500 ms + random(0..500) ms + rank * 1 s, then bumps currentEpoch, asks the
// masters for votes, and takes over when a majority of them granted theirs.
func (m *Machine) handleReplicaFailover() {
	me := m.myself
	timeout := m.cfg.nodeTimeout()
	authAge := m.now - m.failoverAuthTime
	neededQuorum := m.size/2 + 1
	manual := m.mfEnd != 0 && m.mfCanStart
	// The time we have to send requests and collect votes, and the time to
	// wait before a new attempt.
	authTimeout := max(timeout*2, 2000)
	authRetryTime := authTimeout * 2

	// Preconditions, for automatic and manual failovers: we are a replica,
	// our master is failing (or this is manual), failover is allowed, and
	// the master serves slots.
	if me.isMaster() || me.master == nil || (!me.master.failed() && !manual) ||
		(m.cfg.ReplicaNoFailover && !manual) || me.master.numSlots == 0 {
		m.cantFailoverReason = cantFailoverNone
		return
	}

	// The replica validity factor: is our data recent enough? The node
	// timeout is the baseline: we were disconnected at least that long
	// before the master was flagged FAIL. Manual failovers skip this.
	dataAge := m.dataAge()
	if dataAge > timeout {
		dataAge -= timeout
	}
	if m.cfg.ReplicaValidityFactor > 0 &&
		dataAge > m.cfg.ReplPingReplicaPeriod.Milliseconds()+timeout*int64(m.cfg.ReplicaValidityFactor) && !manual {
		m.logCantFailover(cantFailoverDataAge)
		return
	}

	// The previous attempt timed out and the retry time elapsed: schedule
	// a new election.
	if authAge > authRetryTime {
		m.failoverAuthTime = m.now + 500 + int64(m.cfg.Rand.IntN(500))
		m.failoverAuthCount = 0
		m.failoverAuthVoters = map[*node]bool{}
		m.failoverAuthSent = false
		m.failoverAuthRank = m.replicaRank()
		// Replicas with less data wait one more second per better replica.
		m.failoverAuthTime += int64(m.failoverAuthRank) * 1000
		// A manual failover needs no delay.
		if m.mfEnd != 0 {
			m.failoverAuthTime = m.now
			m.failoverAuthRank = 0
			m.todo |= todoHandleFailover
		}
		m.logf(LogNotice, "Start of election delayed for %d milliseconds (rank #%d, offset %d).",
			m.failoverAuthTime-m.now, m.failoverAuthRank, m.repl.Offset)
		// Tell the other replicas of our master our offset, so that they
		// update their rank if ours is better.
		m.broadcastPong(true)
		return
	}

	// Other replicas may have sent better offsets since the election was
	// scheduled: a worse rank adds delay (not in a manual failover).
	if !m.failoverAuthSent && m.mfEnd == 0 {
		if newRank := m.replicaRank(); newRank > m.failoverAuthRank {
			added := int64(newRank-m.failoverAuthRank) * 1000
			m.failoverAuthTime += added
			m.failoverAuthRank = newRank
			m.logf(LogNotice, "Replica rank updated to #%d, added %d milliseconds of delay.", newRank, added)
		}
	}

	if m.now < m.failoverAuthTime {
		m.logCantFailover(cantFailoverWaitingDelay)
		return
	}
	if authAge > authTimeout {
		m.logCantFailover(cantFailoverExpired)
		return
	}

	if !m.failoverAuthSent {
		m.currentEpoch++
		m.failoverAuthEpoch = m.currentEpoch
		m.logf(LogNotice, "Starting a failover election for epoch %d.", m.currentEpoch)
		m.requestFailoverAuth()
		m.failoverAuthSent = true
		m.todo |= todoSaveConfig | todoUpdateState | todoFsyncConfig
		return // wait for the votes
	}

	if m.failoverAuthCount >= neededQuorum {
		m.logf(LogNotice, "Failover election won: I'm the new master.")
		if me.configEpoch < m.failoverAuthEpoch {
			me.configEpoch = m.failoverAuthEpoch
			m.logf(LogNotice, "configEpoch set to %d after successful failover", me.configEpoch)
		}
		m.failoverReplaceYourMaster()
	} else {
		m.logCantFailover(cantFailoverWaitingVotes)
	}
}

// requestFailoverAuth is clusterRequestFailoverAuth: FAILOVER_AUTH_REQUEST
// to every node; in a manual failover flagged FORCEACK so that masters vote
// although our master is up.
func (m *Machine) requestFailoverAuth() {
	msg := m.buildHeader(bus.TypeFailoverAuthRequest)
	if m.mfEnd != 0 {
		msg.MFlags |= bus.MsgFlagForceAck
	}
	m.broadcast(msg)
}

// sendFailoverAuthIfNeeded is clusterSendFailoverAuthIfNeeded: a master
// serving slots votes for the requesting replica at most once per epoch,
// not twice for replicas of the same master within 2 * node timeout, only
// if the replica's master is failing (or FORCEACK), and only if no slot it
// claims is served by a master with a greater configEpoch than the one the
// request carries. lastVoteEpoch is saved and fsynced before the vote goes
// out (Ready.SaveConfig comes before Ready.Messages).
func (m *Machine) sendFailoverAuthIfNeeded(n *node, req *bus.Message) {
	me := m.myself
	master := n.master
	forceAck := req.MFlags&bus.MsgFlagForceAck != 0
	// Only masters serving slots vote: the cluster size, and the quorum,
	// count those.
	if me.isReplica() || me.numSlots == 0 {
		return
	}
	// The request epoch must be >= our currentEpoch (it was adopted from
	// the header if greater).
	if req.CurrentEpoch < m.currentEpoch {
		m.logf(LogWarning, "Failover auth denied to %s: reqEpoch (%d) < curEpoch(%d)", n.id, req.CurrentEpoch, m.currentEpoch)
		return
	}
	if m.lastVoteEpoch == m.currentEpoch {
		m.logf(LogWarning, "Failover auth denied to %s: already voted for epoch %d", n.id, m.currentEpoch)
		return
	}
	// The node must be a replica and its master down, unless FORCEACK.
	if n.isMaster() || master == nil || (!master.failed() && !forceAck) {
		reason := "its master is up"
		if n.isMaster() {
			reason = "it is a master node"
		} else if master == nil {
			reason = "I don't know its master"
		}
		m.logf(LogWarning, "Failover auth denied to %s: %s", n.id, reason)
		return
	}
	// Not twice for the same master within two node timeouts: not needed
	// for correctness, but makes the base case more linear.
	if wait := m.cfg.nodeTimeout()*2 - (m.now - master.votedTime); wait > 0 {
		m.logf(LogWarning, "Failover auth denied to %s: can't vote about this master before %d milliseconds", n.id, wait)
		return
	}
	// The claimed slots must not be served by a master with a greater
	// configEpoch than the request's.
	for j := range Slots {
		if !req.Slots.Has(j) {
			continue
		}
		owner := m.slots[j]
		if owner == nil || owner.configEpoch <= req.ConfigEpoch {
			continue
		}
		m.logf(LogWarning, "Failover auth denied to %s: slot %d epoch (%d) > reqEpoch (%d)", n.id, j, owner.configEpoch, req.ConfigEpoch)
		return
	}
	m.lastVoteEpoch = m.currentEpoch
	master.votedTime = m.now
	m.todo |= todoSaveConfig | todoFsyncConfig
	m.sendTo(n, m.buildHeader(bus.TypeFailoverAuthAck))
	m.logf(LogWarning, "Failover auth granted to %s for epoch %d", n.id, m.currentEpoch)
}

// updateReplicaRoleFromAuthRequest: a FAILOVER_AUTH_REQUEST's header is
// the sender's own word that it is a replica and of whom. When a master
// just became a replica (it followed its promoted replica) and is asked to
// fail over back right away, its request can come before the PING that
// tells us of its new role: we would deny the vote ("it is a master node")
// and the manual failover would time out, as in Redis. The role is taken
// from the header, as that PING would do.
func (m *Machine) updateReplicaRoleFromAuthRequest(sender *node, msg *bus.Message) {
	if msg.MasterID == "" || sender.inHandshake() {
		return
	}
	if sender.isReplica() && sender.master != nil && sender.master.id == msg.MasterID {
		return
	}
	if m.lookup(msg.MasterID) == nil {
		return // a master we don't know: the gossip will tell
	}
	m.updateRoleFromHeader(sender, msg)
}

// processFailoverAuthAck counts a vote: from a master serving slots, for
// the epoch of our election (or later).
func (m *Machine) processFailoverAuthAck(msg *bus.Message, sender *node) {
	if sender == nil {
		return
	}
	if sender.isMaster() && sender.numSlots > 0 && msg.CurrentEpoch >= m.failoverAuthEpoch && !m.failoverAuthVoters[sender] {
		if m.failoverAuthVoters == nil {
			m.failoverAuthVoters = map[*node]bool{}
		}
		m.failoverAuthVoters[sender] = true
		m.failoverAuthCount++
		// Maybe we reached the quorum: check at the end of this call.
		m.todo |= todoHandleFailover
	}
}

// failoverReplaceYourMaster is clusterFailoverReplaceYourMaster: myself
// becomes a master, takes all the slots of its old master (and the slots it
// had open), and tells everybody.
func (m *Machine) failoverReplaceYourMaster() {
	me := m.myself
	old := me.master
	if me.isMaster() || old == nil {
		return
	}
	m.setNodeAsMaster(me)
	for j := range Slots {
		if old.slots.Has(j) {
			m.delSlot(j)
			m.addSlot(me, j)
		}
	}
	// Keep the migrations our master had in progress (Redis forgets them,
	// leaving keys unreachable).
	for _, o := range old.openSlots {
		other := m.lookup(o.NodeID)
		if other == nil || other == me {
			continue
		}
		slot := int(o.Slot)
		if o.Importing && m.slots[slot] != me {
			m.setImporting(slot, other)
		} else if !o.Importing && m.slots[slot] == me {
			m.setMigrating(slot, other)
		}
	}
	m.updateState()
	m.todo |= todoSaveConfig | todoFsyncConfig
	m.broadcastPong(false)
	m.resetManualFailover()
}

// processMFStart: a replica of ours asks for a manual failover. Pause
// writes; once the I/O layer confirms (WritesPaused), our PINGs carry the
// offset the replica must reach. The sender's header is its own word on
// whom it replicates: a replica attached a moment ago (CLUSTER REPLICATE,
// or an old master that just followed its promoted replica) may ask before
// a PING told us, and is taken as ours then, as that PING would (Redis
// drops such a request, and the manual failover times out).
func (m *Machine) processMFStart(in Inbound, sender *node) {
	if sender == nil {
		return
	}
	if sender.master != m.myself && in.Msg.MasterID == m.myself.id && m.myself.isMaster() {
		m.updateRoleFromHeader(sender, in.Msg)
	}
	if sender.master != m.myself {
		return
	}
	m.resetManualFailover()
	m.mfEnd = m.now + mfTimeout
	m.mfReplica = sender
	m.out.PauseWritesUntil = timeFromMillis(m.now + mfTimeout*mfPauseMult)
	m.logf(LogWarning, "Manual failover requested by replica %s.", sender.id)
}

// resetManualFailover ends a manual failover, unpausing writes on a master.
func (m *Machine) resetManualFailover() {
	if m.mfReplica != nil {
		m.out.UnpauseWrites = true
	}
	m.mfEnd = 0
	m.mfCanStart = false
	m.mfReplica = nil
	m.mfMasterOffset = -1
	m.mfPaused = false
	m.mfPausedOffset = 0
}

// manualFailoverCheckTimeout aborts a manual failover that took too long.
func (m *Machine) manualFailoverCheckTimeout() {
	if m.mfEnd != 0 && m.mfEnd < m.now {
		m.logf(LogWarning, "Manual failover timed out.")
		m.resetManualFailover()
	}
}

// handleManualFailover is clusterHandleManualFailover (replica side): once
// our replication offset reached the one the paused master announced, the
// election can start.
func (m *Machine) handleManualFailover() {
	if m.mfEnd == 0 || m.mfCanStart || m.mfMasterOffset == -1 {
		return
	}
	if m.repl.Offset >= m.mfMasterOffset {
		m.mfCanStart = true
		m.logf(LogWarning, "All master replication stream processed, manual failover can start.")
		m.todo |= todoHandleFailover
		return
	}
	m.logCantFailover(cantFailoverWaitingDelay)
}

// handleReplicaMigration is clusterHandleSlaveMigration: when some master
// is orphaned (no working replica although it had some) and our master has
// more working replicas than the migration barrier, the replica with the
// smallest node ID among the masters with the most replicas migrates to it,
// after the master stayed orphaned for a few seconds.
func (m *Machine) handleReplicaMigration(maxReplicas int) {
	me := m.myself
	myMaster := me.master
	if m.state != bus.StateOK || myMaster == nil {
		return
	}
	okReplicas := 0
	for _, r := range myMaster.replicas {
		if !r.failed() && !r.timedOut() {
			okReplicas++
		}
	}
	if okReplicas <= m.cfg.MigrationBarrier {
		return
	}
	candidate := me
	var target *node
	for _, n := range m.list {
		ok, orphaned := 0, true
		if n.isReplica() || n.failed() || !n.has(bus.FlagMigrateTo) {
			orphaned = false
		}
		if n.isMaster() {
			ok = n.countNonFailingReplicas()
		}
		if ok > 0 {
			orphaned = false
		}
		if orphaned {
			if target == nil && n.numSlots > 0 {
				target = n
			}
			if n.orphanedTime == 0 {
				n.orphanedTime = m.now
			}
		} else {
			n.orphanedTime = 0
		}
		if ok == maxReplicas {
			for _, r := range n.replicas {
				if r.id < candidate.id {
					candidate = r
				}
			}
		}
	}
	if target != nil && candidate == me && m.now-target.orphanedTime > replicaMigrationDelay {
		m.logf(LogNotice, "Migrating to orphaned master %s", target.id)
		m.setMyMaster(target)
		m.todo |= todoSaveConfig | todoUpdateState
	}
}

// WritesPaused confirms that the writes paused as Ready.PauseWritesUntil
// asked, at replication offset offset: the replica that requested the
// manual failover is told the offset to reach.
func (m *Machine) WritesPaused(now time.Time, offset int64) Ready {
	m.begin(now)
	if m.mfEnd != 0 && m.myself.isMaster() && m.mfReplica != nil && !m.mfPaused {
		m.mfPaused, m.mfPausedOffset = true, offset
		m.sendPing(m.mfReplica.link, m.mfReplica, bus.TypePing)
	}
	return m.finish()
}

func timeFromMillis(ms int64) time.Time { return time.UnixMilli(ms) }
