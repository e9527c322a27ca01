package nodeadmin

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

func TestPacerBatchFollowsTheObservedDurations(t *testing.T) {
	p := NewPacer(4*time.Millisecond, 1000)
	if got := p.Batch(); got != pacerFirstBatch {
		t.Fatalf("first batch %d, want %d", got, pacerFirstBatch)
	}
	p.Observe(50, 500*time.Microsecond) // under a quarter of 4 ms: grow by a quarter
	if got := p.Batch(); got != 63 {
		t.Fatalf("batch after a fast MIGRATE: %d, want 63", got)
	}
	p.Observe(20, 100*time.Microsecond) // a slot's last, short batch: no news
	if got := p.Batch(); got != 63 {
		t.Fatalf("batch after a short last batch: %d, want 63", got)
	}
	p.Observe(63, 1500*time.Microsecond) // between a quarter and a half: keep
	if got := p.Batch(); got != 63 {
		t.Fatalf("batch after a MIGRATE on target: %d, want 63", got)
	}
	p.Observe(63, 3*time.Millisecond) // over half: halve
	if got := p.Batch(); got != 31 {
		t.Fatalf("batch after a slow MIGRATE: %d, want 31", got)
	}
	for range 10 {
		p.Observe(p.Batch(), 50*time.Millisecond) // a busy node: never below redis-cli's 10
	}
	if got := p.Batch(); got != pacerMinBatch {
		t.Fatalf("batch on a node too busy for the target: %d, want %d", got, pacerMinBatch)
	}
	for range 60 {
		p.Observe(p.Batch(), 100*time.Microsecond)
	}
	if got := p.Batch(); got != 1000 {
		t.Fatalf("batch after many fast MIGRATEs: %d, want the maximum 1000", got)
	}
	p.Observe(0, time.Second) // nothing moved: no measure
	if got := p.Batch(); got != 1000 {
		t.Fatalf("an empty MIGRATE changed the batch to %d", got)
	}
	small := NewPacer(time.Millisecond, 5)
	if got := small.Batch(); got != 5 {
		t.Fatalf("first batch with keysPerBatch 5: %d", got)
	}
	small.Observe(5, time.Second)
	if got := small.Batch(); got != 5 {
		t.Fatalf("batch with keysPerBatch 5 after a slow MIGRATE: %d, want 5 (keysPerBatch under the floor wins)", got)
	}
}

// Hold lets one holder at a time touch a node, and moves that share no
// node run side by side; opposite orders of the same two nodes never wait
// for each other forever.
func TestPacerHoldIsExclusivePerNodeWithoutDeadlock(t *testing.T) {
	p := NewPacer(time.Millisecond, 100)
	var inA, maxA atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 200 {
				nodes := []string{"a:1", "b:2"}
				if i%2 == 1 {
					nodes = []string{"b:2", "a:1", "a:1"}
				}
				release := p.Hold(nodes...)
				n := inA.Add(1)
				for {
					m := maxA.Load()
					if n <= m || maxA.CompareAndSwap(m, n) {
						break
					}
				}
				inA.Add(-1)
				release()
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("holders of the same nodes in opposite orders deadlocked")
	}
	if maxA.Load() != 1 {
		t.Fatalf("%d holders of node a at once, want 1", maxA.Load())
	}
	// Disjoint nodes: a holder of c does not wait for a holder of a.
	release := p.Hold("a:1")
	got := make(chan struct{})
	go func() { r := p.Hold("c:3"); r(); close(got) }()
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("a move on node c waited for a move on node a")
	}
	release()
}

// slowLinkClient is a source whose every round trip takes rtt, and whose
// MIGRATE takes work more: a mover far from its nodes, or one waiting for
// a CPU to run on.
type slowLinkClient struct {
	clusteradmin.Client
	rtt, work time.Duration
	keys      []string
}

func (c *slowLinkClient) GetKeysInSlot(_ context.Context, _, count int) ([]string, error) {
	time.Sleep(c.rtt)
	n := min(count, len(c.keys))
	return c.keys[:n], nil
}

func (c *slowLinkClient) MigrateKeys(_ context.Context, _ string, _ int, keys []string, _ time.Duration, _ clusteradmin.Auth, _ bool) error {
	time.Sleep(c.rtt + c.work)
	c.keys = c.keys[len(keys):]
	return nil
}

func (c *slowLinkClient) Close() error { return nil }

// The pacer is told what a MIGRATE took beyond a round trip to its
// source: a slow link (or a busy mover's wake-up) is not time the nodes
// spent, and must not shrink the batches. Here every round trip takes
// 30 ms and each MIGRATE 1 ms more, against a 40 ms target (a quarter of
// it is 10 ms: sleeps may overshoot by a few): the batch grows, where
// counting the round trip would halve it.
func TestPacerIsNotToldTheRoundTrip(t *testing.T) {
	source := &slowLinkClient{rtt: 30 * time.Millisecond, work: time.Millisecond}
	for i := range 2 * pacerFirstBatch {
		source.keys = append(source.keys, fmt.Sprintf("k%d", i))
	}
	pacer := NewPacer(40*time.Millisecond, 1000)
	m := &SlotMover{
		Dial:           func(string, clusteradmin.Auth) clusteradmin.Client { return source },
		Addr:           func(string) (string, int, bool) { return "127.0.0.1", 7000, true },
		KeysPerBatch:   1000,
		CommandTimeout: time.Minute,
		Pacer:          pacer,
	}
	job := []topology.SlotOp{{Type: topology.OpMoveKeys, Slot: 1, Node: "source", Arg: "target"}}
	if n, err := m.Run(context.Background(), [][]topology.SlotOp{job}, 1, time.Now().Add(time.Minute)); n != 1 || err != nil {
		t.Fatalf("move: %d jobs, %v", n, err)
	}
	if len(source.keys) != 0 {
		t.Fatalf("%d keys left on the source", len(source.keys))
	}
	if got := pacer.Batch(); got <= pacerFirstBatch {
		t.Fatalf("batch %d after MIGRATEs of 1 ms beyond a 30 ms round trip, want more than %d", got, pacerFirstBatch)
	}
}
