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
