package bus

import (
	"encoding/binary"
	"math/bits"
)

// SlotBitmap is a set of the 16384 hash slots, one bit each, bit i of the
// set being bit (i mod 8) of byte i/8 as in Redis.
type SlotBitmap [16384 / 8]byte

// Has reports whether slot is in the set.
func (b *SlotBitmap) Has(slot int) bool { return b[slot>>3]&(1<<(slot&7)) != 0 }

// Set adds slot to the set.
func (b *SlotBitmap) Set(slot int) { b[slot>>3] |= 1 << (slot & 7) }

// Clear removes slot from the set.
func (b *SlotBitmap) Clear(slot int) { b[slot>>3] &^= 1 << (slot & 7) }

// Count is the number of slots in the set.
func (b *SlotBitmap) Count() int {
	n := 0
	for i := range len(b) / 8 {
		n += bits.OnesCount64(b.word(i))
	}
	return n
}

// word is slots 64i to 64i+63, slot 64i+k at bit k.
func (b *SlotBitmap) word(i int) uint64 { return binary.LittleEndian.Uint64(b[8*i:]) }

// EachNotIn calls fn with each slot of b that other lacks, in increasing
// order, until fn returns false: 64 slots at a time, so a set where most
// slots agree (a master's claim against its known slots) costs a few
// hundred word comparisons. Each word of other is read as the iteration
// reaches it: fn may change other at the slot it is called with.
func (b *SlotBitmap) EachNotIn(other *SlotBitmap, fn func(slot int) bool) {
	for i := range len(b) / 8 {
		for w := b.word(i) &^ other.word(i); w != 0; w &= w - 1 {
			if !fn(64*i + bits.TrailingZeros64(w)) {
				return
			}
		}
	}
}
