package keyspace

// SlotIndex is the per-slot key index of cluster mode (COUNTKEYSINSLOT,
// GETKEYSINSLOT, and the keys a slot migration moves). Install it with
// DB.SetIndex; a DB without it pays one nil check per insert/delete. The
// slot function is injected (CRC16 with hash tags lives in node/cluster).
type SlotIndex struct {
	slotOf func(key string) int
	slots  []map[string]struct{}
	counts []int
}

// NewSlotIndex returns an index over n slots (16384) using slotOf.
func NewSlotIndex(n int, slotOf func(key string) int) *SlotIndex {
	return &SlotIndex{slotOf: slotOf, slots: make([]map[string]struct{}, n), counts: make([]int, n)}
}

// KeyAdded implements KeyIndex.
func (ix *SlotIndex) KeyAdded(key string) {
	s := ix.slotOf(key)
	m := ix.slots[s]
	if m == nil {
		m = map[string]struct{}{}
		ix.slots[s] = m
	}
	m[key] = struct{}{}
	ix.counts[s] = len(m)
}

// KeyRemoved implements KeyIndex.
func (ix *SlotIndex) KeyRemoved(key string) {
	s := ix.slotOf(key)
	m := ix.slots[s]
	delete(m, key)
	ix.counts[s] = len(m)
	if len(m) == 0 {
		ix.slots[s] = nil
	}
}

// Flushed implements KeyIndex.
func (ix *SlotIndex) Flushed() {
	for i := range ix.slots {
		ix.slots[i] = nil
		ix.counts[i] = 0
	}
}

// CountKeysInSlot is COUNTKEYSINSLOT.
func (ix *SlotIndex) CountKeysInSlot(slot int) int { return ix.counts[slot] }

// KeysInSlot appends up to count keys of slot to dst (GETKEYSINSLOT).
func (ix *SlotIndex) KeysInSlot(slot, count int, dst []string) []string {
	for k := range ix.slots[slot] {
		if count <= 0 {
			break
		}
		dst = append(dst, k)
		count--
	}
	return dst
}
