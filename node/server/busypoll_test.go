package server

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/internal/testenv"
)

func TestBusyPollWorthOnlyWhileMostGapsAreShort(t *testing.T) {
	b := busyPoll{budget: 50 * time.Microsecond}
	if b.worth() {
		t.Fatal("worth with no history")
	}
	for i := 0; i < 15; i++ {
		b.record(10 * time.Microsecond)
	}
	if b.worth() {
		t.Fatal("worth after 15 short gaps of 32")
	}
	b.record(49 * time.Microsecond)
	if !b.worth() {
		t.Fatal("not worth after 16 short gaps of 32")
	}
	// Long gaps push the short ones out: below half, no polling.
	for i := 0; i < 16; i++ {
		b.record(time.Millisecond)
	}
	if !b.worth() {
		t.Fatal("not worth with 16 short gaps still among the last 32")
	}
	b.record(50 * time.Microsecond) // not shorter than the budget
	if b.worth() {
		t.Fatal("worth after the 16 short gaps were half pushed out")
	}

	// A preempted poll clears the history: polling stops until 16 short
	// gaps again.
	for i := 0; i < 32; i++ {
		b.spun(10*time.Microsecond, true)
	}
	if !b.worth() || b.hits.Load() != 32 {
		t.Fatalf("after 32 hits: worth %v, hits %d", b.worth(), b.hits.Load())
	}
	b.spun(b.budget+preemptionSlack+time.Microsecond, true)
	if b.worth() || b.preempted.Load() != 1 {
		t.Fatalf("after a preempted poll: worth %v, preempted %d", b.worth(), b.preempted.Load())
	}
	for i := 0; i < 15; i++ {
		b.spun(10*time.Microsecond, true)
	}
	if b.worth() {
		t.Fatal("worth after a preemption and only 15 short gaps")
	}
	b.spun(b.budget, false) // ran out of budget: a miss, and no gap recorded
	if b.misses.Load() != 1 || b.worth() {
		t.Fatalf("after a miss: misses %d, worth %v", b.misses.Load(), b.worth())
	}

	off := busyPoll{}
	for i := 0; i < 32; i++ {
		off.record(0)
	}
	if off.worth() {
		t.Fatal("a zero budget polls")
	}
}

// A client with a request every few milliseconds never makes the loop
// poll; many clients sending back to back do.
func TestEventLoopBusyPollOnlyUnderLoad(t *testing.T) {
	if runtime.NumCPU() < 2 {
		testenv.Unavailable(t, "busy polling needs two CPUs, this machine has %d", runtime.NumCPU())
	}
	n := startNode(t, "--event-loop-busy-poll", "50")
	ctx := ctxT(t)
	polls := func(c *redis.Client) (hits, misses int64) {
		return replInfoInt(t, c, "stats", "event_loop_busy_poll_hits"), replInfoInt(t, c, "stats", "event_loop_busy_poll_misses")
	}

	slow := n.client(t)
	tick := time.NewTicker(3 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < 100; i++ {
		<-tick.C
		if err := slow.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if h, m := polls(slow); h+m != 0 {
		t.Fatalf("a request every 3ms made the loop poll: %d hits, %d misses", h, m)
	}

	// Rounds of 16 clients x 2000 PINGs until the loop has polled and
	// found work (on a loaded machine one round may see only long gaps).
	deadline := time.Now().Add(60 * time.Second)
	for {
		var wg sync.WaitGroup
		for i := 0; i < 16; i++ {
			c := n.client(t)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 2000; j++ {
					if err := c.Ping(context.Background()).Err(); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		if h, _ := polls(slow); h > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("16 clients sending back to back never made the loop poll and find work")
		}
	}
}

func TestParseCPUMax(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"max 100000\n", 0, false},
		{"150000 100000\n", 1.5, true},
		{"50000 100000", 0.5, true},
		{"-1 100000", 0, false},
		{"100000 0", 0, false},
		{"garbage", 0, false},
		{"", 0, false},
	} {
		got, ok := parseCPUMax(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseCPUMax(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
