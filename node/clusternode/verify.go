package clusternode

import (
	"os"
	"time"

	"github.com/shoal-dev/shoal/node/cluster"
)

// verifyConfigWithData is verifyClusterConfigWithData, run once the data
// is loaded and before clients are served: a master holding keys of a slot
// it does not serve takes the slot when nobody serves it, or marks it
// IMPORTING from its owner otherwise (so that the keys can be moved or
// reached with ASKING instead of being hidden). Called with the lock held.
func (cn *clusterNode) verifyConfigWithData() {
	m := cn.m
	for i := 1; i < cn.s.NumDBs(); i++ {
		if cn.s.DB(i).Len() > 0 {
			cn.s.Logf("You can't have keys in a DB different than DB 0 when in Cluster mode. Exiting.")
			os.Exit(1)
		}
	}
	if m.IsReplica() {
		return // a replica follows its master's data
	}
	now := time.Now()
	me := m.Myself().ID
	changed := false
	for slot := range cluster.Slots {
		if cn.index.CountKeysInSlot(slot) == 0 {
			continue
		}
		if _, importing := m.ImportingFrom(slot); importing {
			continue
		}
		owner, ok := m.SlotOwner(slot)
		if ok && owner.ID == me {
			continue
		}
		if !ok {
			cn.logf(cluster.LogWarning, "I have keys for unassigned slot %d. Taking responsibility for it.", slot)
			rd, err := m.AddSlots(now, []int{slot})
			if err == nil {
				cn.apply(rd)
				changed = true
			}
			continue
		}
		cn.logf(cluster.LogWarning, "I have keys for slot %d, but the slot is assigned to another node. Setting it to importing state.", slot)
		rd, err := m.SetSlot(now, slot, cluster.SetSlotImporting, owner.ID)
		if err == nil {
			cn.apply(rd)
			changed = true
		}
	}
	if changed {
		cn.apply(m.SaveConfig(now))
	}
}
