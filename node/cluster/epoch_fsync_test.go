package cluster

import (
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/bus"
)

// Spec: a higher configEpoch wins a slot. Which of those changes must be
// on disk before anything else is answered: losing a slot of ours that
// still holds keys is (fsync); a slot moving between two other nodes, or
// an empty slot of ours leaving at the end of a migration (what SETSLOT
// NODE also saves without fsync), is saved without fsync.
func TestSlotsLearnedFromGossipFsyncOnlyForOurKeys(t *testing.T) {
	for _, tc := range []struct {
		name   string
		myself string
		slot   int // a slot of A (0-99) claimed by C with a newer configEpoch
		keys   fakeKeys
		fsync  bool
	}{
		{name: "a slot moving between two other nodes", myself: idB, slot: 7, keys: fakeKeys{7: 3}},
		{name: "our slot, emptied by a migration", myself: idA, slot: 7, keys: fakeKeys{8: 1}},
		{name: "our slot, still holding keys", myself: idA, slot: 7, keys: fakeKeys{7: 2}, fsync: true},
		{name: "our master's slot, still holding keys", myself: idRA, slot: 7, keys: fakeKeys{7: 2}, fsync: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := ruleMachine(t, tc.myself, nil)
			m.cfg.Keys = tc.keys
			pong := header(m, idC, bus.TypePong)
			pong.ConfigEpoch = 4
			pong.CurrentEpoch = 4
			m.lookup(idC).configEpoch = 4 // already known: only the slot claim is news
			m.currentEpoch = 4
			pong.Slots.Set(tc.slot)
			rd := inbound(m, ruleNow.Add(4*time.Second), pong)
			if o, _ := m.SlotOwner(tc.slot); o.ID != idC {
				t.Fatalf("slot %d owner %s, want C", tc.slot, o.ID)
			}
			if !rd.SaveConfig || rd.Fsync != tc.fsync {
				t.Fatalf("save %v fsync %v, want save true fsync %v", rd.SaveConfig, rd.Fsync, tc.fsync)
			}
		})
	}
}
