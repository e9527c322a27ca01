package server

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestClusterStreamFailoverKeepsEntries: producers XADD to streams of
// every shard and consumers read them in a group (XREADGROUP, XACK of
// every other entry at once, the rest left pending) while one shard's
// replica takes over with CLUSTER FAILOVER. Afterwards every acknowledged
// XADD's entry is in its stream, every entry a consumer was given and did
// not XACK is still pending for it and is delivered again by XREADGROUP
// with ID 0, and an entry XACKed is no longer pending.
func TestClusterStreamFailoverKeepsEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("starts six nodes")
	}
	nodes := startReplicatedCluster(t)
	sh := clusterShards(t, nodes, nodes[0])[1]
	waitInSyncProcs(t, sh.master, sh.replica)
	cc := clusterClient(t, nodes, func(o *redis.ClusterOptions) {
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout = 3*time.Second, 5*time.Second, 5*time.Second
		o.MaxRedirects, o.MaxRetries = 8, -1
	})
	ctx := ctxT(t)
	const streams = 8 // {w0}..{w7}: keys on every shard
	stream := func(i int) string { return fmt.Sprintf("fs:{w%d}", i) }
	for i := range streams {
		if err := cc.XGroupCreateMkStream(ctx, stream(i), "g", "$").Err(); err != nil {
			t.Fatal(err)
		}
	}
	var (
		ok, errs atomic.Int64
		mu       sync.Mutex
		added    = map[string]bool{} // "stream id" acknowledged by XADD
		pending  = map[string]bool{} // delivered, not XACKed
		xacked   = map[string]bool{} // XACK answered 1
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	fail := func(error) { errs.Add(1) }
	for i := range streams {
		s := stream(i)
		wg.Go(func() { // producer
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				id, err := cc.XAdd(context.Background(), &redis.XAddArgs{Stream: s, Values: []any{"n", n}}).Result()
				if err != nil {
					fail(err)
					continue
				}
				ok.Add(1)
				mu.Lock()
				added[s+" "+id] = true
				mu.Unlock()
			}
		})
		wg.Go(func() { // consumer
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				res, err := cc.XReadGroup(context.Background(), &redis.XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{s, ">"}, Count: 10, Block: 100 * time.Millisecond}).Result()
				if err != nil {
					if err != redis.Nil {
						fail(err)
					}
					continue
				}
				for _, m := range res[0].Messages {
					k := s + " " + m.ID
					mu.Lock()
					pending[k] = true
					mu.Unlock()
					if n%2 == 0 {
						continue // left pending
					}
					c, err := cc.XAck(context.Background(), s, "g", m.ID).Result()
					mu.Lock()
					delete(pending, k) // acknowledged, or unknown when the reply was lost
					if err == nil && c == 1 {
						xacked[k] = true
					}
					mu.Unlock()
				}
			}
		})
	}
	failoverUnderCountedLoad(t, sh, &ok, 2000, "XADDs")
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	check := clusterClient(t, nodes)
	present := map[string]bool{}
	stillPending := map[string]bool{}
	for i := range streams {
		s := stream(i)
		entries, err := check.XRange(ctx, s, "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			present[s+" "+e.ID] = true
		}
		// The consumer's own pending entries, delivered again with ID 0.
		res, err := check.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{s, "0"}, Count: 1 << 20}).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range res[0].Messages {
			stillPending[s+" "+m.ID] = true
		}
	}
	lost := 0
	for k := range added {
		if !present[k] {
			if lost < 10 {
				t.Errorf("acknowledged XADD %s lost", k)
			}
			lost++
		}
	}
	for k := range pending {
		if !stillPending[k] {
			t.Errorf("entry %s was delivered and not acknowledged, but is no longer pending", k)
		}
	}
	for k := range xacked {
		if stillPending[k] {
			t.Errorf("entry %s was XACKed but is pending again", k)
		}
	}
	if len(pending) == 0 || len(xacked) == 0 {
		t.Errorf("the consumers left %d entries pending and acknowledged %d: the check saw nothing", len(pending), len(xacked))
	}
	t.Logf("%d entries added, %d pending, %d acknowledged, %d errors", len(added), len(pending), len(xacked), errs.Load())
}
