package cluster

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/shoal-dev/shoal/node/bus"
)

// slotRangesBitByBit is the definition appendSlotRanges must match: every
// maximal run of set slots as " a-b", or " a" for a run of one.
func slotRangesBitByBit(slots *bus.SlotBitmap) string {
	var b []byte
	for j := 0; j < Slots; j++ {
		if !slots.Has(j) {
			continue
		}
		start := j
		for j+1 < Slots && slots.Has(j+1) {
			j++
		}
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(start), 10)
		if j != start {
			b = append(b, '-')
			b = strconv.AppendInt(b, int64(j), 10)
		}
	}
	return string(b)
}

// CLUSTER NODES and nodes.conf list a node's slots as maximal ranges,
// whatever the runs of set and clear slots look like around byte
// boundaries of the bitmap.
func TestSlotRangesAreMaximalRuns(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	full := bus.SlotBitmap{}
	for j := range Slots {
		full.Set(j)
	}
	cases := []bus.SlotBitmap{{}, full}
	for _, ranges := range [][][2]int{{{0, 0}}, {{16383, 16383}}, {{0, 5460}}, {{5461, 10922}}, {{7, 8}, {15, 16}, {23, 40}}, {{1, 6}, {9, 14}, {16, 16383}}} {
		var bm bus.SlotBitmap
		for _, r := range ranges {
			for j := r[0]; j <= r[1]; j++ {
				bm.Set(j)
			}
		}
		cases = append(cases, bm)
	}
	for range 200 {
		var bm bus.SlotBitmap
		// Runs of random lengths, so that they start and end anywhere
		// in a byte and cover whole bytes too.
		set := rnd.IntN(2) == 0
		for j := 0; j < Slots; {
			n := 1 + rnd.IntN(40)
			for k := j; k < min(j+n, Slots); k++ {
				if set {
					bm.Set(k)
				}
			}
			j += n
			set = !set
		}
		cases = append(cases, bm)
	}
	for i, bm := range cases {
		if got, want := string(appendSlotRanges(nil, &bm)), slotRangesBitByBit(&bm); got != want {
			t.Fatalf("case %d: %q, want %q", i, got, want)
		}
	}
}
