package bus

import "math/bits"

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
	for _, c := range b {
		n += bits.OnesCount8(c)
	}
	return n
}
