package cluster

import "github.com/shoal-dev/shoal/node/bus"

// sendMFStart asks our master to start a manual failover (CLUSTER
// FAILOVER, replica side) and remembers the link it went out on.
func (m *Machine) sendMFStart() {
	me := m.myself
	m.sendTo(me.master, m.buildHeader(bus.TypeMFStart))
	m.mfStartLink = me.master.link
}

// resendMFStart sends MFSTART again, once per new link, while a manual
// failover waits for the paused master's offset and the link MFSTART went
// out on has been replaced: a message queued on a link whose connection
// then failed (or never came up) is lost, and the manual failover would
// only time out after cluster-mf-timeout. A master that did get the first
// one restarts its side of the failover, which is harmless: it pauses
// again and announces its offset again.
func (m *Machine) resendMFStart() {
	me := m.myself
	if m.mfEnd == 0 || m.mfCanStart || m.mfMasterOffset != -1 || me.master == nil || m.mfStartLink == 0 {
		return
	}
	if l := me.master.link; l != 0 && l != m.mfStartLink {
		m.logf(LogNotice, "Sending MFSTART again to my master on its new link.")
		m.sendMFStart()
	}
}
