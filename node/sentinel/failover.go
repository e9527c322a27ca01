package sentinel

import (
	"sort"
	"strings"
	"time"
)

// voteLeader is sentinelVoteLeader: this sentinel's vote for the
// failover leader of epoch reqEpoch, one vote per epoch. It returns the
// leader voted for (or "") and its epoch.
func (s *Sentinel) voteLeader(m *instance, reqEpoch uint64, reqRunID string, now time.Time) (string, uint64) {
	if reqEpoch > s.currentEpoch {
		s.currentEpoch = reqEpoch
		s.dirty = true
		s.flushConfig()
		s.event('#', "+new-epoch", m, "%d", s.currentEpoch)
	}
	if m.leaderEpoch < reqEpoch && s.currentEpoch <= reqEpoch {
		m.leader = reqRunID
		m.leaderEpoch = s.currentEpoch
		s.dirty = true
		s.flushConfig()
		s.event('#', "+vote-for-leader", m, "%s %d", m.leader, m.leaderEpoch)
		// Voting for another delays our own failover of this master.
		if !strings.EqualFold(m.leader, s.myID) {
			m.failoverStartTime = now.Add(time.Duration(s.rand.Intn(maxDesync)) * time.Millisecond)
		}
	}
	return m.leader, m.leaderEpoch
}

// getLeader is sentinelGetLeader: the sentinel with the most votes of
// this epoch if it has a majority of all the sentinels and at least the
// quorum; our own vote goes to the most voted one, or to ourselves.
func (s *Sentinel) getLeader(m *instance, epoch uint64, now time.Time) string {
	counters := map[string]int{}
	voters := len(m.sentinels) + 1
	for _, ri := range m.sentinels {
		if ri.leader != "" && ri.leaderEpoch == s.currentEpoch {
			counters[ri.leader]++
		}
	}
	winner, maxVotes := "", 0
	for _, id := range sortedKeys(counters) {
		if counters[id] > maxVotes {
			winner, maxVotes = id, counters[id]
		}
	}
	var myVote string
	var leaderEpoch uint64
	if winner != "" {
		myVote, leaderEpoch = s.voteLeader(m, epoch, winner, now)
	} else {
		myVote, leaderEpoch = s.voteLeader(m, epoch, s.myID, now)
	}
	if myVote != "" && leaderEpoch == epoch {
		counters[myVote]++
		if counters[myVote] > maxVotes {
			winner, maxVotes = myVote, counters[myVote]
		}
	}
	if winner != "" && (maxVotes < voters/2+1 || maxVotes < m.quorum) {
		winner = ""
	}
	return winner
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// startFailoverIfNeeded is sentinelStartFailoverIfNeeded: ODOWN, no
// failover running, and none tried in the last 2*failover-timeout.
func (s *Sentinel) startFailoverIfNeeded(m *instance, now time.Time) bool {
	if m.flags&flagODown == 0 || m.flags&flagFailoverInProgress != 0 {
		return false
	}
	if now.Sub(m.failoverStartTime) < m.failoverTO*2 {
		return false
	}
	s.startFailover(m, now)
	return true
}

// startFailover is sentinelStartFailover: a new epoch and the wait for
// the election.
func (s *Sentinel) startFailover(m *instance, now time.Time) {
	m.failoverState = failoverWaitStart
	m.flags |= flagFailoverInProgress
	s.currentEpoch++
	m.failoverEpoch = s.currentEpoch
	s.dirty = true
	s.event('#', "+new-epoch", m, "%d", s.currentEpoch)
	s.event('#', "+try-failover", m, "@")
	m.failoversStarted++
	m.failoverStartTime = now.Add(time.Duration(s.rand.Intn(maxDesync)) * time.Millisecond)
	m.failoverStateChange = now
}

// abortFailover is sentinelAbortFailover.
func (s *Sentinel) abortFailover(m *instance, now time.Time) {
	m.flags &^= flagFailoverInProgress | flagForceFailover
	m.failoverState = failoverNone
	m.failoverStateChange = now
	if m.promoted != nil {
		m.promoted.flags &^= flagPromoted
		m.promoted = nil
	}
}

// failoverStateMachine is sentinelFailoverStateMachine.
func (s *Sentinel) failoverStateMachine(m *instance, now time.Time) {
	if m.flags&flagFailoverInProgress == 0 {
		return
	}
	switch m.failoverState {
	case failoverWaitStart:
		s.failoverWaitStart(m, now)
	case failoverSelectReplica:
		s.failoverSelectReplica(m, now)
	case failoverSendReplicaofNoOne:
		s.failoverSendReplicaOfNoOne(m, now)
	case failoverWaitPromotion:
		if now.Sub(m.failoverStateChange) > m.failoverTO {
			s.event('#', "-failover-abort-slave-timeout", m, "@")
			s.abortFailover(m, now)
		}
	case failoverReconfReplicas:
		s.failoverReconfNextReplica(m, now)
	}
}

func (s *Sentinel) failoverWaitStart(m *instance, now time.Time) {
	leader := s.getLeader(m, m.failoverEpoch, now)
	isLeader := leader != "" && strings.EqualFold(leader, s.myID)
	if !isLeader && m.flags&flagForceFailover == 0 {
		timeout := electionTimeout
		if timeout > m.failoverTO {
			timeout = m.failoverTO
		}
		if now.Sub(m.failoverStartTime) > timeout {
			s.event('#', "-failover-abort-not-elected", m, "@")
			s.abortFailover(m, now)
		}
		return
	}
	s.event('#', "+elected-leader", m, "@")
	m.failoverState = failoverSelectReplica
	m.failoverStateChange = now
	s.event('#', "+failover-state-select-slave", m, "@")
}

// selectReplica is sentinelSelectSlave: the replica to promote, or nil.
func (s *Sentinel) selectReplica(m *instance, now time.Time) *instance {
	maxDownTime := m.downAfter * 10
	if m.flags&flagSDown != 0 {
		maxDownTime += now.Sub(m.sDownSince)
	}
	var cands []*instance
	for _, ri := range m.replicas {
		if ri.flags&(flagSDown|flagODown) != 0 || ri.link.disconnected {
			continue
		}
		if now.Sub(ri.link.lastAvailTime) > pingPeriod*5 || ri.replicaPriority == 0 {
			continue
		}
		validity := infoPeriod * 3
		if m.flags&flagSDown != 0 {
			validity = pingPeriod * 5
		}
		if now.Sub(ri.infoRefresh) > validity || ri.masterLinkDownTime > maxDownTime {
			continue
		}
		cands = append(cands, ri)
	}
	if len(cands) == 0 {
		return nil
	}
	sort.Slice(cands, func(i, j int) bool { return betterReplica(cands[i], cands[j]) })
	return cands[0]
}

// betterReplica is compareSlavesForPromotion: lower priority, then larger
// offset, then the smaller run ID (an unknown run ID last).
func betterReplica(a, b *instance) bool {
	if a.replicaPriority != b.replicaPriority {
		return a.replicaPriority < b.replicaPriority
	}
	if a.replOffset != b.replOffset {
		return a.replOffset > b.replOffset
	}
	if a.runID == "" || b.runID == "" {
		return a.runID != "" && b.runID == ""
	}
	return strings.ToLower(a.runID) < strings.ToLower(b.runID)
}

func (s *Sentinel) failoverSelectReplica(m *instance, now time.Time) {
	r := s.selectReplica(m, now)
	if r == nil {
		s.event('#', "-failover-abort-no-good-slave", m, "@")
		s.abortFailover(m, now)
		return
	}
	s.event('#', "+selected-slave", r, "@")
	r.flags |= flagPromoted
	m.promoted = r
	m.failoverState = failoverSendReplicaofNoOne
	m.failoverStateChange = now
	s.event('*', "+failover-state-send-slaveof-noone", r, "@")
}

func (s *Sentinel) failoverSendReplicaOfNoOne(m *instance, now time.Time) {
	r := m.promoted
	if r.link.disconnected {
		if now.Sub(m.failoverStateChange) > m.failoverTO {
			s.event('#', "-failover-abort-slave-timeout", m, "@")
			s.abortFailover(m, now)
		}
		return
	}
	if !s.sendReplicaOf(r, nil) {
		return
	}
	s.event('*', "+failover-state-wait-promotion", r, "@")
	m.failoverState = failoverWaitPromotion
	m.failoverStateChange = now
}

// failoverReconfNextReplica is sentinelFailoverReconfNextSlave: point up
// to parallel-syncs replicas at a time at the promoted one.
func (s *Sentinel) failoverReconfNextReplica(m *instance, now time.Time) {
	inProgress := 0
	replicas := sortedInstances(m.replicas)
	for _, ri := range replicas {
		if ri.flags&(flagReconfSent|flagReconfInprog) != 0 {
			inProgress++
		}
	}
	for _, ri := range replicas {
		if inProgress >= m.parallelSyncs {
			break
		}
		if ri.flags&(flagPromoted|flagReconfDone) != 0 {
			continue
		}
		if ri.flags&flagReconfSent != 0 && now.Sub(ri.reconfSentTime) > replicaReconfTimout {
			s.event('*', "-slave-reconf-sent-timeout", ri, "@")
			ri.flags &^= flagReconfSent
			ri.flags |= flagReconfDone
		}
		if ri.flags&(flagReconfSent|flagReconfInprog) != 0 || ri.link.disconnected {
			continue
		}
		if s.sendReplicaOf(ri, &m.promoted.addr) {
			ri.flags |= flagReconfSent
			ri.reconfSentTime = now
			s.event('*', "+slave-reconf-sent", ri, "@")
			inProgress++
		}
	}
	s.failoverDetectEnd(m, now)
}

// failoverDetectEnd is sentinelFailoverDetectEnd.
func (s *Sentinel) failoverDetectEnd(m *instance, now time.Time) {
	if m.promoted == nil || m.promoted.flags&flagSDown != 0 {
		return
	}
	notReconfigured, timeout := 0, false
	for _, ri := range m.replicas {
		if ri.flags&(flagPromoted|flagReconfDone) != 0 || ri.flags&flagSDown != 0 {
			continue
		}
		notReconfigured++
	}
	if now.Sub(m.failoverStateChange) > m.failoverTO {
		notReconfigured, timeout = 0, true
		s.event('#', "+failover-end-for-timeout", m, "@")
	}
	if notReconfigured == 0 {
		s.event('#', "+failover-end", m, "@")
		m.failoversEnded++
		m.failoverState = failoverUpdateConfig
		m.failoverStateChange = now
	}
	if timeout {
		for _, ri := range sortedInstances(m.replicas) {
			if ri.flags&(flagPromoted|flagReconfDone|flagReconfSent) != 0 || ri.link.disconnected {
				continue
			}
			if s.sendReplicaOf(ri, &m.promoted.addr) {
				s.event('*', "+slave-reconf-sent-be", ri, "@")
				ri.flags |= flagReconfSent
			}
		}
	}
}

// switchToPromoted is sentinelFailoverSwitchToPromotedSlave.
func (s *Sentinel) switchToPromoted(m *instance) {
	ref := m
	if m.promoted != nil {
		ref = m.promoted
	}
	s.event('#', "+switch-master", m, "%s %s %d %s %d", m.name, m.addr.Host, m.addr.Port, ref.addr.Host, ref.addr.Port)
	m.switches++
	s.resetMasterAndChangeAddress(m, ref.addr)
}

// resetMaster is sentinelResetMaster: forget replicas (and sentinels
// unless keepSentinels), the failover and the links.
func (s *Sentinel) resetMaster(m *instance, keepSentinels, generateEvent bool) {
	now := time.Now()
	for _, ri := range m.replicas {
		s.closeLink(ri.link)
		ri.link.dead = true
	}
	m.replicas = map[string]*instance{}
	if !keepSentinels {
		for _, ri := range m.sentinels {
			s.closeLink(ri.link)
			ri.link.dead = true
		}
		m.sentinels = map[string]*instance{}
	}
	// A new link: a connection still being dialled to the old address
	// must not become the link of the new one.
	s.closeLink(m.link)
	m.link.dead = true
	m.link = &link{disconnected: true}
	m.flags &= flagMaster
	m.leader = ""
	m.failoverState = failoverNone
	m.failoverStateChange = time.Time{}
	m.failoverStartTime = time.Time{}
	m.promoted = nil
	m.runID = ""
	m.replMasterHost = ""
	m.link.actPingTime = now
	m.link.lastPingTime = time.Time{}
	m.link.lastAvailTime = now
	m.link.lastPongTime = now
	m.roleReportedTime = now
	m.roleReported = flagMaster
	if generateEvent {
		s.event('#', "+reset-master", m, "@")
	}
}

// resetMasterAndChangeAddress is sentinelResetMasterAndChangeAddress: the
// master moves to addr; its replicas (but the one at addr) and the old
// master become the replicas of the new one.
func (s *Sentinel) resetMasterAndChangeAddress(m *instance, addr Addr) {
	var replicas []Addr
	for _, ri := range sortedInstances(m.replicas) {
		if !ri.addr.equal(addr) {
			replicas = append(replicas, ri.addr)
		}
	}
	if !m.addr.equal(addr) {
		replicas = append(replicas, m.addr)
	}
	s.resetMaster(m, true, false)
	// What the other sentinels said about the old address is not about
	// the new one.
	for _, ri := range m.sentinels {
		ri.flags &^= flagMasterDown
		ri.lastMasterDownReplyTime = time.Time{}
	}
	m.addr = addr
	m.oDownSince = time.Time{}
	m.sDownSince = time.Time{}
	for _, a := range replicas {
		r := s.addReplica(m, a)
		s.event('*', "+slave", r, "@")
	}
	s.dirty = true
	s.flushConfig()
}
