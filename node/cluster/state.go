package cluster

import "github.com/shoal-dev/shoal/node/bus"

// updateState is clusterUpdateState: the cluster is "ok" when every slot
// is served by a non-failing master (if cluster-require-full-coverage) and
// we can reach a majority of the masters serving slots. A master that
// rejoins from a minority partition waits the rejoin delay before turning
// ok, so it can learn it was failed over before it accepts writes.
func (m *Machine) updateState() {
	me := m.myself
	// After a restart, a master waits a little before going ok: the cluster
	// may reconfigure it first.
	if m.firstCallTime == 0 {
		m.firstCallTime = m.now
	}
	if me.isMaster() && m.state == bus.StateFail && m.now-m.firstCallTime < writableDelay {
		return
	}
	newState := bus.StateOK
	if m.cfg.RequireFullCoverage && !m.allSlotsServed() {
		newState = bus.StateFail
	}
	// The cluster size is the number of masters serving at least one slot.
	reachableMasters := 0
	m.size = 0
	for _, n := range m.list {
		if n.isMaster() && n.numSlots > 0 {
			m.size++
			if !n.has(bus.FlagFail | bus.FlagPFail) {
				reachableMasters++
			}
		}
	}
	// In a minority partition, the cluster is down for us.
	if reachableMasters < m.size/2+1 {
		newState = bus.StateFail
		m.amongMinorityTime = m.now
	}
	if newState == m.state {
		return
	}
	rejoinDelay := min(max(m.cfg.nodeTimeout(), minRejoinDelay), maxRejoinDelay)
	if newState == bus.StateOK && me.isMaster() && m.now-m.amongMinorityTime < rejoinDelay {
		return
	}
	if newState == bus.StateOK {
		m.logf(LogWarning, "Cluster state changed: ok")
	} else {
		m.logf(LogWarning, "Cluster state changed: fail")
	}
	m.state = newState
	m.out.StateChanged = true
}

// allSlotsServed is whether every slot has an owner and none is failed,
// counted by owner (every owner is in the table with numSlots of its
// slots) rather than slot by slot: updateState runs after every change.
func (m *Machine) allSlotsServed() bool {
	served := 0
	for _, n := range m.list {
		if n.numSlots == 0 {
			continue
		}
		if n.failed() {
			return false
		}
		served += n.numSlots
	}
	return served == Slots
}
