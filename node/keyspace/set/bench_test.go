package set

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
)

// cpuClock reports process CPU time per operation next to wall time: on a
// shared, loaded machine wall-clock ns/op mostly measures the neighbours.
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

type benchCase struct {
	name    string
	members [][]byte
}

func benchCases() []benchCase {
	gen := func(n int, f string) [][]byte {
		out := make([][]byte, n)
		for i := range out {
			out[i] = []byte(fmt.Sprintf(f, i))
		}
		return out
	}
	return []benchCase{
		{"intset512", gen(512, "%d")},
		{"listpack128", gen(128, "element:%d")},
		{"hashtable1M", gen(1_000_000, "element:%d")},
	}
}

func fill(members [][]byte) *Set {
	lim := DefaultLimits()
	s := New(lim, members[0], 1)
	for _, m := range members {
		s.Add(lim, m)
	}
	return s
}

// BenchmarkSAdd re-adds random existing members (the steady state of an
// SADD load), plus redis-benchmark's case: one member, re-added.
func BenchmarkSAdd(b *testing.B) {
	lim := DefaultLimits()
	for _, c := range benchCases() {
		s := fill(c.members)
		rnd := rand.New(rand.NewPCG(1, 2))
		b.Run("existing/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			defer cpuClock(b)()
			for b.Loop() {
				s.Add(lim, c.members[rnd.IntN(len(c.members))])
			}
		})
	}
	b.Run("redis-benchmark-sadd", func(b *testing.B) {
		m := []byte("element:__rand_int__")
		s := New(lim, m, 1)
		b.ReportAllocs()
		defer cpuClock(b)()
		for b.Loop() {
			s.Add(lim, m)
		}
	})
	b.Run("insert-new/hashtable", func(b *testing.B) {
		ms := benchCases()[2].members
		s := New(Limits{}, ms[0], 1)
		b.ReportAllocs()
		defer cpuClock(b)()
		for i := 0; b.Loop(); i++ {
			if i == len(ms) {
				b.StopTimer()
				s, i = New(Limits{}, ms[0], 1), 0
				b.StartTimer()
			}
			s.Add(lim, ms[i])
		}
	})
}

func BenchmarkSIsMember(b *testing.B) {
	for _, c := range benchCases() {
		s := fill(c.members)
		rnd := rand.New(rand.NewPCG(3, 4))
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			defer cpuClock(b)()
			for b.Loop() {
				if !s.IsMember(c.members[rnd.IntN(len(c.members))]) {
					b.Fatal("missing")
				}
			}
		})
	}
}

// TestReportMemoryPerMember logs the real heap cost per member of a big
// hashtable set (go test -v -run ReportMemory), for comparison with Redis.
func TestReportMemoryPerMember(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates a million members")
	}
	ms := benchCases()[2].members
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := fill(ms)
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / float64(len(ms))
	est := float64(s.MemoryUsage()) / float64(len(ms))
	t.Logf("hashtable set, %d members like %q: %.1f heap bytes/member, MemoryUsage says %.1f", len(ms), ms[len(ms)-1], per, est)
	if est < per*0.7 || est > per*1.3 {
		t.Errorf("MemoryUsage %.1f bytes/member is more than 30%% off the heap's %.1f", est, per)
	}
	runtime.KeepAlive(s)
}
