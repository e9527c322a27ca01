package sort

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/shoal-dev/shoal/node/keyspace/zset"
)

// BenchmarkSortVector1M: the numeric sort of 1M elements, weights parsed.
func BenchmarkSortVector1M(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([][]byte, 1<<20)
	for i := range src {
		src[i] = []byte(strconv.Itoa(rng.IntN(2e9) - 1e9))
	}
	vec := make([]elem, len(src))
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i, s := range src {
			f, _, _ := zset.Strtod(s)
			vec[i] = elem{obj: s, score: f}
		}
		sortVector(vec, &options{})
	}
}
