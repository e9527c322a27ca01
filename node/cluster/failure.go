package cluster

import "github.com/shoal-dev/shoal/node/bus"

// markNodeAsFailingIfNeeded turns PFAIL into FAIL when a majority of the
// masters (counting myself when I am a master) reported the node as failing
// within the failure report validity window, and broadcasts the FAIL.
func (m *Machine) markNodeAsFailingIfNeeded(n *node) {
	neededQuorum := m.size/2 + 1
	if !n.timedOut() {
		return // we can reach it
	}
	if n.failed() {
		return // already failing
	}
	failures := n.failureReportsCount(m.now, m.cfg.nodeTimeout()*failReportValidityMult)
	if m.myself.isMaster() {
		failures++ // also count myself as a voter
	}
	if failures < neededQuorum {
		return // no weak agreement from masters
	}
	m.logf(LogNotice, "Marking node %s as failing (quorum reached).", n.id)
	n.flags &^= bus.FlagPFail
	n.flags |= bus.FlagFail
	n.failTime = m.now
	// Broadcast the FAIL, forcing every reachable node to flag it too. A
	// replica does this as well: it only propagates what masters decided.
	m.sendFail(n.id)
	m.todo |= todoUpdateState | todoSaveConfig
}

// clearNodeFailureIfNeeded is called when a FAIL node is reachable again:
// replicas and masters without slots are cleared right away; a master with
// slots only when nobody took its slots over within node timeout *
// CLUSTER_FAIL_UNDO_TIME_MULT.
func (m *Machine) clearNodeFailureIfNeeded(n *node) {
	if n.isReplica() || n.numSlots == 0 {
		what := "master without slots"
		if n.isReplica() {
			what = "replica"
		}
		m.logf(LogNotice, "Clear FAIL state for node %s: %s is reachable again.", n.id, what)
		n.flags &^= bus.FlagFail
		m.todo |= todoUpdateState | todoSaveConfig
	}
	if n.isMaster() && n.numSlots > 0 && m.now-n.failTime > m.cfg.nodeTimeout()*failUndoTimeMult {
		m.logf(LogNotice, "Clear FAIL state for node %s: is reachable again and nobody is serving its slots after some time.", n.id)
		n.flags &^= bus.FlagFail
		m.todo |= todoUpdateState | todoSaveConfig
	}
}
