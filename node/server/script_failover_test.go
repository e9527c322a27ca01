package server

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// scriptIncr increments a counter and records the call's id in a list of
// the same hash tag, in one script: the two effects must reach a replica
// together (Redis 7.0 propagates a script's effects wrapped in MULTI/EXEC)
// or not at all.
var scriptIncr = redis.NewScript(`
local v = redis.call('INCR', KEYS[1])
redis.call('RPUSH', KEYS[2], ARGV[1])
return v`)

// TestClusterScriptFailoverKeepsEffects: eight clients INCR counters
// through EVALSHA (go-redis's Script: EVALSHA, EVAL on NOSCRIPT), with no
// retries, while one shard's replica takes over with CLUSTER FAILOVER.
// Afterwards every acknowledged call's id is in its list exactly once, no
// id is there twice (a script whose effects were applied twice), and each
// counter equals the length of its list (both effects or neither).
func TestClusterScriptFailoverKeepsEffects(t *testing.T) {
	if testing.Short() {
		t.Skip("starts six nodes")
	}
	nodes := startReplicatedCluster(t)
	sh := clusterShards(t, nodes, nodes[0])[1]
	waitInSyncProcs(t, sh.master, sh.replica)
	cc := clusterClient(t, nodes, func(o *redis.ClusterOptions) {
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout = 3*time.Second, 5*time.Second, 5*time.Second
		o.MaxRedirects, o.MaxRetries = 8, -1 // a call is sent once: an id applied twice is the server's doing
	})

	var (
		ok, errs atomic.Int64
		mu       sync.Mutex
		acked    = map[int][]int{} // worker -> ids acknowledged
		lastErr  string
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	const workers = 8
	for w := range workers {
		wg.Go(func() {
			keys := []string{fmt.Sprintf("sctr:{w%d}", w), fmt.Sprintf("sids:{w%d}", w)}
			for id := 0; ; id++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := scriptIncr.Run(ctx, cc, keys, id).Err()
				cancel()
				if err != nil {
					errs.Add(1)
					mu.Lock()
					lastErr = err.Error()
					mu.Unlock()
					continue
				}
				ok.Add(1)
				mu.Lock()
				acked[w] = append(acked[w], id)
				mu.Unlock()
			}
		})
	}
	failoverUnderCountedLoad(t, sh, &ok, 2000, "scripts")
	close(stop)
	wg.Wait()

	// Read from the masters and, once in sync, from the promoted shard's
	// new replica too: it must hold exactly the same effects.
	check := clusterClient(t, nodes)
	ctx := ctxT(t)
	for w := range workers {
		ctr, err := check.Get(ctx, fmt.Sprintf("sctr:{w%d}", w)).Int64()
		if err != nil {
			t.Fatalf("GET sctr:{w%d}: %v", w, err)
		}
		ids, err := check.LRange(ctx, fmt.Sprintf("sids:{w%d}", w), 0, -1).Result()
		if err != nil {
			t.Fatalf("LRANGE sids:{w%d}: %v", w, err)
		}
		if int64(len(ids)) != ctr {
			t.Errorf("worker %d: counter %d but %d ids recorded: a script's effects were split", w, ctr, len(ids))
		}
		seen := map[int]bool{}
		for _, s := range ids {
			id, _ := strconv.Atoi(s)
			if seen[id] {
				t.Errorf("worker %d: call %d applied twice", w, id)
			}
			seen[id] = true
		}
		mu.Lock()
		for _, id := range acked[w] {
			if !seen[id] {
				t.Errorf("worker %d: acknowledged call %d lost", w, id)
			}
		}
		mu.Unlock()
	}
	// The old master, now the replica of the shard that failed over, holds
	// exactly the new master's effects once in sync.
	waitInSyncProcs(t, sh.replica, sh.master)
	replica := redis.NewClient(&redis.Options{Addr: sh.master.Addr(), Protocol: 2,
		OnConnect: func(ctx context.Context, c *redis.Conn) error { return c.ReadOnly(ctx).Err() }})
	defer replica.Close()
	compared := 0
	for w := range workers {
		key := fmt.Sprintf("sids:{w%d}", w)
		if owner, err := cc.MasterForKey(ctx, key); err != nil || owner.Options().Addr != sh.replica.Addr() {
			continue // not on the shard that failed over
		}
		want := sh.replica.do(t, "LLEN", key).Val()
		if got, err := replica.LLen(ctx, key).Result(); err != nil || got != want {
			t.Errorf("%s: the old master (now a replica) has %d ids (%v), the new master %v", key, got, err, want)
		}
		compared++
	}
	if compared == 0 {
		t.Error("no worker's keys on the shard that failed over")
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d scripts acknowledged, %d errors (last: %s)", ok.Load(), errs.Load(), lastErr)
}
