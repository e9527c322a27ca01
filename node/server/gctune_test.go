package server

import (
	"os"
	"runtime/debug"
	"testing"
	"time"
)

func TestGCPercentFor(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		live, rate, ceiling float64
		want                int
	}{
		{12 * mb, 0, 0, gcPercent},          // idle: the default
		{12 * mb, 3 * mb, 0, gcPercent},     // a cycle a second already
		{12 * mb, 15 * mb, 0, 125},          // 15 MB of headroom
		{12 * mb, 500 * mb, 0, 533},         // the headroom's bound, 64 MB
		{1 * mb, 500 * mb, 0, gcMaxPercent}, // the percent's bound
		{240 * mb, 500 * mb, 0, gcPercent},  // a large heap: 50% is more than the bound
		{0, 500 * mb, 0, gcPercent},
		{12 * mb, 500 * mb, 36 * mb, 200},  // a container's limit: 24 MB of headroom
		{60 * mb, 500 * mb, 76 * mb, 50},   // no more than the default under it
		{12 * mb, 15 * mb, 1024 * mb, 125}, // a far limit changes nothing
	} {
		if got := gcPercentFor(c.live, c.rate, c.ceiling); got != c.want {
			t.Errorf("gcPercentFor(%v MB live, %v MB/s, ceiling %v MB) = %d, want %d", c.live/mb, c.rate/mb, c.ceiling/mb, got, c.want)
		}
	}
}

func TestCgroupMemoryLimit(t *testing.T) {
	files := func(m map[string]string) func(string) ([]byte, error) {
		return func(p string) ([]byte, error) {
			if v, ok := m[p]; ok {
				return []byte(v), nil
			}
			return nil, os.ErrNotExist
		}
	}
	for _, c := range []struct {
		name  string
		files map[string]string
		want  int64
	}{
		{"v2 limit", map[string]string{"/sys/fs/cgroup/memory.max": "268435456\n"}, 256 << 20},
		{"v2 none", map[string]string{"/sys/fs/cgroup/memory.max": "max\n"}, 0},
		{"v1 limit", map[string]string{"/sys/fs/cgroup/memory/memory.limit_in_bytes": "536870912\n"}, 512 << 20},
		{"v1 none", map[string]string{"/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n"}, 0},
		{"no cgroup", nil, 0},
	} {
		if got := cgroupMemoryLimit(files(c.files)); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

var gcTuneSink []byte

// The tuner raises the percent while the process allocates fast and takes
// it back, once, gcLowTicks ticks after it stopped.
func TestGCTunerRaisesAndReleases(t *testing.T) {
	defer debug.SetGCPercent(gcPercent)
	var tu gcTuner
	now := time.Now()
	tu.tick(now)
	for range 64 << 10 {
		gcTuneSink = make([]byte, 1024) // 64 MB in 100ms of the tuner's clock: 640 MB/s
	}
	now = now.Add(100 * time.Millisecond)
	if tu.tick(now) {
		t.Fatal("released while allocating")
	}
	raised := tu.percent
	if raised <= gcPercent {
		t.Fatalf("percent %d after 640 MB/s, want more than %d", raised, gcPercent)
	}
	if got := debug.SetGCPercent(raised); got != raised {
		t.Fatalf("the runtime's GC percent is %d, the tuner's %d", got, raised)
	}
	released := 0
	for i := 1; i <= gcLowTicks+3; i++ {
		now = now.Add(100 * time.Millisecond) // idle: a few KB of the test's own
		if tu.tick(now) {
			released++
			if i != gcLowTicks {
				t.Errorf("released at idle tick %d, want %d", i, gcLowTicks)
			}
		}
		if i < gcLowTicks && tu.percent != raised {
			t.Errorf("percent %d at idle tick %d, want %d kept until tick %d", tu.percent, i, raised, gcLowTicks)
		}
	}
	if released != 1 || tu.percent != gcPercent {
		t.Fatalf("released %d times, percent %d; want once, back to %d", released, tu.percent, gcPercent)
	}
}
