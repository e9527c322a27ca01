package cluster

import "github.com/shoal-dev/shoal/node/bus"

// handleConfigEpochCollision: two masters with the same configEpoch. The
// one with the lexicographically smaller node ID takes a new epoch
// (currentEpoch+1), so that eventually every master has a distinct one.
func (m *Machine) handleConfigEpochCollision(sender *node) {
	me := m.myself
	if sender.configEpoch != me.configEpoch || !sender.isMaster() || !me.isMaster() {
		return
	}
	// Don't act if the colliding node has a smaller node ID.
	if sender.id <= me.id {
		return
	}
	m.currentEpoch++
	me.configEpoch = m.currentEpoch
	m.todo |= todoSaveConfig | todoFsyncConfig
	m.logf(LogVerbose, "WARNING: configEpoch collision with node %s. configEpoch set to %d", sender.id, me.configEpoch)
}

// bumpConfigEpochWithoutConsensus gives myself a new configEpoch without
// an election (CLUSTER BUMPEPOCH, FAILOVER TAKEOVER, SETSLOT NODE after an
// import) unless it already has the greatest epoch of the cluster.
func (m *Machine) bumpConfigEpochWithoutConsensus() bool {
	maxEpoch := m.maxEpoch()
	if m.myself.configEpoch == 0 || m.myself.configEpoch != maxEpoch {
		m.currentEpoch++
		m.myself.configEpoch = m.currentEpoch
		m.todo |= todoSaveConfig | todoFsyncConfig
		m.logf(LogWarning, "New configEpoch set to %d", m.myself.configEpoch)
		return true
	}
	m.logf(LogVerbose, "Still the greatest configEpoch: %d", m.myself.configEpoch)
	return false
}

// updateSlotsConfigWith is clusterUpdateSlotsConfigWith: sender claims the
// slots in the bitmap with configEpoch senderEpoch. Every slot that is
// unassigned or owned with a smaller configEpoch is rebound to the sender
// (slots we are importing are left alone). If that leaves myself, or my
// master, without slots, myself becomes a replica of the sender.
func (m *Machine) updateSlotsConfigWith(sender *node, senderEpoch uint64, slots *bus.SlotBitmap) {
	me := m.myself
	if sender == me {
		m.logf(LogWarning, "Discarding UPDATE message about myself.")
		return
	}
	curMaster := me
	if !me.isMaster() {
		curMaster = me.master
	}
	var newMaster *node
	var dirty []int
	senderSlots, migratedOurSlots := slots.Count(), 0
	// Only the claimed slots the sender does not own already can change:
	// a pong of a master whose claim we know costs no slot-by-slot walk.
	slots.EachNotIn(&sender.slots, func(j int) bool {
		owner := m.slots[j]
		if owner == sender {
			return true
		}
		// A slot we import is changed only by hand (the migration closes
		// it with SETSLOT NODE), unless the claim comes from the node we
		// import from (it was promoted in place of the old source).
		if from := m.importingSlotsFrom[j]; from != nil && from != sender {
			return true
		}
		if owner != nil && owner.configEpoch >= senderEpoch {
			return true
		}
		keys := 0
		if owner != nil && owner == curMaster {
			keys = m.keysInSlot(j)
			newMaster = sender
			migratedOurSlots++
		}
		// Our slot, that still has keys: they must go.
		if owner == me && keys > 0 {
			dirty = append(dirty, j)
		}
		m.delSlot(j)
		m.addSlot(sender, j)
		m.todo |= todoSaveConfig | todoUpdateState
		// Losing a slot of ours (or our master's) that holds keys is
		// fsynced before we reply, as Redis does. An empty slot of ours
		// (the end of a migration, which SETSLOT NODE saves without fsync
		// in Redis too) or a slot moving between two other nodes (only our
		// view of the routing, taught again by the owner's pings after a
		// restart: the greater configEpoch wins) is saved without:
		// otherwise every slot a reshard moves holds the lock of the
		// source and of every bystander master for an fsync.
		if keys > 0 {
			m.todo |= todoFsyncConfig
		}
		return true
	})
	switch {
	case newMaster != nil && curMaster.numSlots == 0 && (m.cfg.AllowReplicaMigration || senderSlots == migratedOurSlots):
		// We (or our master) lost the last slot to the sender: we were
		// failed over, follow the new master.
		m.logf(LogWarning, "Configuration change detected. Reconfiguring myself as a replica of %s", sender.id)
		m.setMyMaster(sender)
		m.todo |= todoSaveConfig | todoUpdateState | todoFsyncConfig
	case me.master != nil && me.master.master != nil && me.master.master != me:
		// Safeguard against sub-replicas: our master became a replica.
		m.logf(LogWarning, "I'm a sub-replica! Reconfiguring myself as a replica of %s", me.master.master.id)
		m.setMyMaster(me.master.master)
		m.todo |= todoSaveConfig | todoUpdateState | todoFsyncConfig
	case len(dirty) > 0:
		// We lost slots we have keys in but still serve others: delete the
		// keys of the lost slots to stay consistent.
		m.out.DelKeysInSlots = append(m.out.DelKeysInSlots, dirty...)
	}
}
