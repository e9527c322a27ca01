package server

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// gcTuner widens the collector's headroom while the node allocates fast
// on a small heap, so it collects about once a second instead of several
// times: each cycle's marking takes a core's share for some milliseconds,
// and at hundreds of thousands of requests a second on a 12 MB heap (a
// cache of counters under EVALSHA, say) a GC percent of 50 meant 3-7
// cycles a second, the tail a p99 sees. The extra headroom is bounded
// (gcMaxExtraHeadroom) and taken back, with the memory returned to the
// OS, half a second after the rate falls: an idle node keeps the RSS of
// gcPercent. A large heap (where 50% is more than the bound) is never
// changed; a memory limit from maxmemory still caps the heap, and in a
// container with a memory limit the widened heap stays under 60% of it
// (the pod's own limit is not the node's maxmemory).
//
// The GC percent is the process's: servers sharing a process (tests)
// each set it from the same process-wide rates.
type gcTuner struct {
	ceiling int64 // the largest heap goal it may widen to (0: none)
	sample  []metrics.Sample
	last    time.Time
	allocs  uint64
	percent int // what this tuner set last (gcPercent: the default)
	low     int // consecutive ticks that wanted less than percent
}

const (
	// gcCycleEvery is how often a node allocating fast collects, at most
	// (what the headroom is sized for).
	gcCycleEvery = time.Second
	// gcMaxExtraHeadroom bounds the headroom the tuner adds.
	gcMaxExtraHeadroom = 64 << 20
	// gcMaxPercent bounds the GC percent it sets.
	gcMaxPercent = 1000
	// gcLowTicks is how many cron ticks in a row must want a lower
	// percent before it is lowered (hysteresis).
	gcLowTicks = 5
)

// gcPercentFor is the GC percent that gives a heap of live bytes, which
// allocates rate bytes a second, one cycle per gcCycleEvery: never below
// gcPercent, the headroom at most gcMaxExtraHeadroom and at most what
// keeps the heap under ceiling (when > 0), the percent at most
// gcMaxPercent.
func gcPercentFor(live, rate, ceiling float64) int {
	if live <= 0 {
		return gcPercent
	}
	headroom := min(rate*gcCycleEvery.Seconds(), gcMaxExtraHeadroom)
	if ceiling > 0 {
		headroom = min(headroom, ceiling-live)
	}
	p := int(headroom * 100 / live)
	return min(max(p, gcPercent), gcMaxPercent)
}

// tick is called by serverCron. It returns true when it took the extra
// headroom back (the caller returns the memory to the OS, without the
// lock).
func (t *gcTuner) tick(now time.Time) (released bool) {
	if t.sample == nil {
		t.sample = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/live:bytes"}}
		t.percent = gcPercent
		if limit := cgroupMemoryLimit(os.ReadFile); limit > 0 {
			t.ceiling = limit * 6 / 10
		}
	}
	metrics.Read(t.sample)
	allocs, live := t.sample[0].Value.Uint64(), t.sample[1].Value.Uint64()
	elapsed := now.Sub(t.last)
	prev := t.allocs
	t.last, t.allocs = now, allocs
	if prev == 0 || elapsed <= 0 || allocs < prev {
		return false
	}
	want := gcPercentFor(float64(live), float64(allocs-prev)/elapsed.Seconds(), float64(t.ceiling))
	switch {
	case want > t.percent*5/4:
		t.low = 0
		t.set(want)
	case want < t.percent*2/3 || (want == gcPercent && t.percent != gcPercent):
		t.low++
		if t.low >= gcLowTicks {
			t.low = 0
			released = want == gcPercent
			t.set(want)
		}
	default:
		t.low = 0
	}
	return released
}

func (t *gcTuner) set(p int) {
	if p != t.percent {
		t.percent = p
		debug.SetGCPercent(p)
	}
}

// reset is what setGCForMaxMemory set: the default.
func (t *gcTuner) reset() {
	t.percent, t.low = gcPercent, 0
}

// cgroupMemoryLimit is the memory limit of the node's cgroup in bytes, from
// cgroup v2's memory.max or else v1's memory.limit_in_bytes as a container
// sees them at /sys/fs/cgroup; 0 when there is none or it cannot be read
// ("max", or v1's page-rounded maximum).
func cgroupMemoryLimit(read func(string) ([]byte, error)) int64 {
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := read(path)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || n <= 0 || n >= 1<<62 {
			return 0
		}
		return n
	}
	return 0
}
