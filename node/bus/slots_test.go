package bus

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// EachNotIn and Count agree with the slot-by-slot definitions on random
// sets, dense and sparse, including the first and last slot.
func TestEachNotInAgreesWithHas(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var a, b SlotBitmap
		density := []int{1, 50, 99}[round%3]
		for j := range 16384 {
			if rng.IntN(100) < density {
				a.Set(j)
			}
			if rng.IntN(100) < density {
				b.Set(j)
			}
		}
		if round%2 == 0 {
			a.Set(0)
			a.Set(16383)
		}
		var want []int
		count := 0
		for j := range 16384 {
			if a.Has(j) {
				count++
				if !b.Has(j) {
					want = append(want, j)
				}
			}
		}
		var got []int
		a.EachNotIn(&b, func(j int) bool { got = append(got, j); return true })
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: EachNotIn gave %d slots, want %d (first %v vs %v)", round, len(got), len(want), got[:min(5, len(got))], want[:min(5, len(want))])
		}
		if a.Count() != count {
			t.Fatalf("round %d: Count %d, want %d", round, a.Count(), count)
		}
		// Stopping early, and fn changing other at its own slot.
		if len(want) > 2 {
			var seen []int
			a.EachNotIn(&b, func(j int) bool { seen = append(seen, j); b.Set(j); return len(seen) < 2 })
			if !slices.Equal(seen, want[:2]) || !b.Has(want[0]) || b.Has(want[2]) {
				t.Fatalf("round %d: stopped iteration saw %v, want %v", round, seen, want[:2])
			}
		}
	}
}
