package zset

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
)

// cpuClock reports process CPU time per operation next to wall time: on a
// shared, loaded machine wall-clock ns/op mostly measures the neighbours.
// Call it right before the b.Loop loop and defer the result.
func cpuClock(b *testing.B) func() {
	start := cpuNanos()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuNanos()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

func cpuNanos() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func benchMembers(n int) [][]byte {
	ms := make([][]byte, n)
	for i := range ms {
		ms[i] = []byte(fmt.Sprintf("element:%d", i))
	}
	return ms
}

// filled returns a set of n members in the encoding the limits give.
func filled(n int, lim Limits) (*ZSet, [][]byte) {
	ms := benchMembers(n)
	z := New(lim, 0)
	for i, m := range ms {
		z.Add(lim, m, float64(i%1000), 0)
	}
	return z, ms
}

var benchSizes = []struct {
	name string
	n    int
}{{"listpack128", 128}, {"skiplist1M", 1_000_000}}

// BenchmarkZAdd updates random existing members with new scores (what a
// steady ZADD load does), plus redis-benchmark's case: one member, re-added.
func BenchmarkZAdd(b *testing.B) {
	lim := DefaultLimits()
	for _, sz := range benchSizes {
		z, ms := filled(sz.n, lim)
		rnd := rand.New(rand.NewPCG(1, 2))
		b.Run("update/"+sz.name, func(b *testing.B) {
			b.ReportAllocs()
			defer cpuClock(b)()
			for i := 0; b.Loop(); i++ {
				z.Add(lim, ms[rnd.IntN(len(ms))], float64(rnd.IntN(1000)), 0)
			}
		})
	}
	b.Run("redis-benchmark-zadd", func(b *testing.B) {
		z := New(lim, 0)
		m := []byte("element:__rand_int__")
		b.ReportAllocs()
		defer cpuClock(b)()
		for b.Loop() {
			z.Add(lim, m, 0, 0)
		}
	})
	b.Run("insert-new/skiplist", func(b *testing.B) {
		ms := benchMembers(1 << 20)
		z := New(Limits{}, 0)
		b.ReportAllocs()
		defer cpuClock(b)()
		for i := 0; b.Loop(); i++ {
			if i == len(ms) {
				b.StopTimer()
				z, i = New(Limits{}, 0), 0
				b.StartTimer()
			}
			z.Add(lim, ms[i], float64(i%1000), 0)
		}
	})
}

func BenchmarkZScore(b *testing.B) {
	for _, sz := range benchSizes {
		z, ms := filled(sz.n, DefaultLimits())
		rnd := rand.New(rand.NewPCG(3, 4))
		b.Run(sz.name, func(b *testing.B) {
			b.ReportAllocs()
			defer cpuClock(b)()
			for b.Loop() {
				if _, ok := z.Score(ms[rnd.IntN(len(ms))]); !ok {
					b.Fatal("missing")
				}
			}
		})
	}
}

// BenchmarkZRangeByRank is ZRANGE key start start+9 at random offsets.
func BenchmarkZRangeByRank(b *testing.B) {
	for _, sz := range benchSizes {
		z, _ := filled(sz.n, DefaultLimits())
		rnd := rand.New(rand.NewPCG(5, 6))
		dst := make([]Entry, 0, 16)
		b.Run(sz.name, func(b *testing.B) {
			b.ReportAllocs()
			defer cpuClock(b)()
			for b.Loop() {
				s := rnd.IntN(sz.n - 10)
				dst = z.AppendRangeByRank(dst[:0], s, s+9, false)
			}
		})
	}
}

func BenchmarkZRank(b *testing.B) {
	z, ms := filled(1_000_000, DefaultLimits())
	rnd := rand.New(rand.NewPCG(7, 8))
	b.ReportAllocs()
	defer cpuClock(b)()
	for b.Loop() {
		z.Rank(ms[rnd.IntN(len(ms))], false)
	}
}

// TestReportMemoryPerMember logs the real heap cost per member of a big
// sorted set (go test -v -run ReportMemory), for comparison with Redis.
func TestReportMemoryPerMember(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates a million members")
	}
	const n = 1_000_000
	ms := benchMembers(n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	z := New(Limits{}, 0)
	for i, m := range ms {
		z.Add(DefaultLimits(), m, float64(i), 0)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	est := float64(z.MemoryUsage()) / n
	t.Logf("skiplist zset, %d members like %q: %.1f heap bytes/member, MemoryUsage says %.1f", n, ms[n-1], per, est)
	if est < per*0.7 || est > per*1.3 {
		t.Errorf("MemoryUsage %.1f bytes/member is more than 30%% off the heap's %.1f", est, per)
	}
	runtime.KeepAlive(z)
}
