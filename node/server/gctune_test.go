package server

import (
	"runtime/debug"
	"testing"
	"time"
)

func TestGCPercentFor(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		live, rate float64
		want       int
	}{
		{12 * mb, 0, gcPercent},          // idle: the default
		{12 * mb, 3 * mb, gcPercent},     // a cycle a second already
		{12 * mb, 15 * mb, 125},          // 15 MB of headroom
		{12 * mb, 500 * mb, 533},         // the headroom's bound, 64 MB
		{1 * mb, 500 * mb, gcMaxPercent}, // the percent's bound
		{240 * mb, 500 * mb, gcPercent},  // a large heap: 50% is more than the bound
		{0, 500 * mb, gcPercent},
	} {
		if got := gcPercentFor(c.live, c.rate); got != c.want {
			t.Errorf("gcPercentFor(%v MB live, %v MB/s) = %d, want %d", c.live/mb, c.rate/mb, got, c.want)
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
