package geo

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// pqsort puts the smallest n elements, in order, at the front, whatever
// the ties and sizes (insertion sort under 7, median of 3 or of 9).
func TestPqsortSortsTheRequestedRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cmp := distOrder{}
	for iter := 0; iter < 2000; iter++ {
		n := 1 + rng.IntN(120)
		pts := make([]point, n)
		for i := range pts {
			pts[i].dist = float64(rng.IntN(1 + n/3))
		}
		want := make([]float64, n)
		for i := range pts {
			want[i] = pts[i].dist
		}
		slices.Sort(want)
		k := 1 + rng.IntN(n)
		pqsort(pts, cmp, 0, k-1)
		for i := 0; i < k; i++ {
			if pts[i].dist != want[i] {
				t.Fatalf("n=%d k=%d: position %d is %v, want %v", n, k, i, pts[i].dist, want[i])
			}
		}
	}
}
