package server

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Tests under concurrent load: a SIGKILL with appendfsync always loses no
// acknowledged write, and BGSAVE does not stall clients.

// writerAcks is what one load client got acknowledged.
type writerAcks struct {
	lastSet  int64 // SET w:<id>:<i> acknowledged for every i <= lastSet
	lastIncr int64 // the value the last acknowledged INCR c:<id> returned
}

// runWriters runs n clients, each with its own connection and no retries
// (a retried write would be ambiguous), alternating SET of a new key and
// INCR of its counter until a write fails (the node was killed). total
// counts acknowledged writes as they happen.
func runWriters(addr string, n int, total *atomic.Int64) []writerAcks {
	acks := make([]writerAcks, n)
	var wg sync.WaitGroup
	for id := range n {
		acks[id].lastSet = -1
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 1, MaxRetries: -1, DialTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second})
			defer c.Close()
			ctx := context.Background()
			for i := int64(0); ; i++ {
				if err := c.Set(ctx, fmt.Sprintf("w:%d:%d", id, i), strconv.FormatInt(i, 10), 0).Err(); err != nil {
					return // the node is gone: this write is not acknowledged
				}
				acks[id].lastSet = i
				v, err := c.Incr(ctx, fmt.Sprintf("c:%d", id)).Result()
				if err != nil {
					return
				}
				acks[id].lastIncr = v
				total.Add(2)
			}
		}()
	}
	wg.Wait()
	return acks
}

// checkAcks verifies that every acknowledged write is on the node.
func checkAcks(t *testing.T, c *redis.Client, acks []writerAcks) {
	t.Helper()
	ctx := context.Background()
	for id, a := range acks {
		pipe := c.Pipeline()
		gets := make([]*redis.StringCmd, a.lastSet+1)
		for i := range gets {
			gets[i] = pipe.Get(ctx, fmt.Sprintf("w:%d:%d", id, i))
		}
		counter := pipe.Get(ctx, fmt.Sprintf("c:%d", id))
		_, _ = pipe.Exec(ctx)
		for i, g := range gets {
			if g.Val() != strconv.Itoa(i) {
				t.Fatalf("acknowledged SET w:%d:%d is %q after the crash (%v)", id, i, g.Val(), g.Err())
			}
		}
		if got, _ := counter.Int64(); got < a.lastIncr {
			t.Fatalf("counter c:%d is %d after the crash, %d was acknowledged", id, got, a.lastIncr)
		}
	}
}

// With appendfsync always, SIGKILL under write load from many clients
// loses no acknowledged write, also across an AOF rewrite started under
// load. It reports the acknowledged writes per second (group commit).
func TestPersistCrashLosesNoAcknowledgedWrite(t *testing.T) {
	const clients = 32
	n := newPersistNode(t, "--appendonly", "yes", "--appendfsync", "always")
	c := n.start()
	requirePersistence(t, c)
	ctx := context.Background()

	// Round 1: a rewrite in the middle of the load, then SIGKILL.
	// Round 2: SIGKILL again, on the rewritten AOF plus a FLUSHALL.
	for round := range 2 {
		var total atomic.Int64
		result := make(chan []writerAcks)
		start := time.Now()
		go func() { result <- runWriters(n.Addr, clients, &total) }()
		waitAcked := func(min int64) {
			t.Helper()
			deadline := time.Now().Add(60 * time.Second)
			for total.Load() < min {
				if time.Now().After(deadline) {
					t.Fatalf("the load makes no progress (%d acknowledged)", total.Load())
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		waitAcked(500)
		if round == 0 {
			if err := c.BgRewriteAOF(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			waitInfo(t, c, "aof_rewrite_in_progress", "0")
			if infoField(t, c, "aof_last_bgrewrite_status") != "ok" {
				t.Fatal("rewrite under load failed")
			}
		}
		// At least two seconds and 2000 more writes of load before the kill.
		waitAcked(total.Load() + 2000)
		for time.Since(start) < 2*time.Second {
			time.Sleep(10 * time.Millisecond)
		}
		fsyncs := infoField(t, c, "shoal_aof_fsyncs")
		acked := total.Load()
		n.kill()
		elapsed := time.Since(start)
		acks := <-result
		t.Logf("round %d: %d acknowledged writes from %d clients in %v: %.0f writes/s with appendfsync always (%d writes had needed %s fsyncs)",
			round, total.Load(), clients, elapsed.Round(time.Millisecond), float64(total.Load())/elapsed.Seconds(), acked, fsyncs)
		c = n.start("--appendonly", "yes", "--appendfsync", "always")
		checkAcks(t, c, acks)
		if err := c.FlushAll(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// BGSAVE of a large data set does not stall clients: the longest client
// round trip during the save stays close to the one without it, because
// the capture holds the server lock for one chunk of keys at a time.
func TestPersistBGSaveDoesNotStallClients(t *testing.T) {
	const keys = 500_000
	n := newPersistNode(t, "--enable-debug-command", "yes")
	c := n.start()
	requirePersistence(t, c)
	ctx := context.Background()
	if err := c.Do(ctx, "DEBUG", "POPULATE", keys, "key", 32).Err(); err != nil {
		t.Fatal(err)
	}
	measure := func(during func() bool) (maxLat, p99 time.Duration, ops int) {
		var mu sync.Mutex
		var lats []time.Duration
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cl := redis.NewClient(&redis.Options{Addr: n.Addr, PoolSize: 1, ReadTimeout: 30 * time.Second})
				defer cl.Close()
				var mine []time.Duration
				for i := 0; ; i++ {
					select {
					case <-stop:
						mu.Lock()
						lats = append(lats, mine...)
						mu.Unlock()
						return
					default:
					}
					t0 := time.Now()
					if i%2 == 0 {
						cl.Get(ctx, fmt.Sprintf("key:%d", (i*7919+g)%keys))
					} else {
						cl.Set(ctx, fmt.Sprintf("key:%d", (i*104729+g)%keys), "changed", 0)
					}
					mine = append(mine, time.Since(t0))
				}
			}()
		}
		for during() {
			time.Sleep(10 * time.Millisecond)
		}
		close(stop)
		wg.Wait()
		slices.Sort(lats)
		return lats[len(lats)-1], lats[len(lats)*99/100], len(lats)
	}
	deadline := time.Now().Add(2 * time.Second)
	baseMax, baseP99, baseOps := measure(func() bool { return time.Now().Before(deadline) })

	if err := c.BgSave(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	saveMax, saveP99, saveOps := measure(func() bool {
		if time.Since(start) > 120*time.Second {
			t.Error("BGSAVE did not finish in 120s")
			return false
		}
		return infoField(t, c, "rdb_bgsave_in_progress") == "1"
	})
	saveTime := time.Since(start)
	if infoField(t, c, "rdb_last_bgsave_status") != "ok" {
		t.Fatal("BGSAVE failed")
	}
	lockMax, _ := strconv.Atoi(infoField(t, c, "shoal_last_capture_max_lock_hold_usec"))
	captured, _ := strconv.Atoi(infoField(t, c, "shoal_last_capture_keys"))
	preserved := infoField(t, c, "shoal_last_capture_preserved")
	holds := infoField(t, c, "shoal_last_capture_lock_holds")
	holdTotal := infoField(t, c, "shoal_last_capture_total_lock_hold_usec")
	t.Logf("without BGSAVE: %d ops, p99 %v, max %v", baseOps, baseP99, baseMax)
	t.Logf("during BGSAVE of %d keys (%v): %d ops, p99 %v, max %v; server lock held %s times for %sus in all, longest %dus; %s keys preserved before a write",
		keys, saveTime.Round(time.Millisecond), saveOps, saveP99, saveMax, holds, holdTotal, lockMax, preserved)
	if captured != keys {
		t.Fatalf("the snapshot has %d keys, want %d", captured, keys)
	}
	// Generous bounds for a loaded 2-core machine; a save that held the
	// lock for the whole data set takes far longer than these.
	// A single hold can stretch when the machine preempts the holder
	// (127ms of 476ms in all seen on one busy CPU), so it fails only when
	// it is also half of all the holds (one hold for the whole data set is
	// all of them); and the capture must take the lock many times, for a
	// chunk of keys each, however fast the machine.
	holdSum, _ := strconv.Atoi(holdTotal)
	if lockMax > 50_000 && lockMax > holdSum/2 {
		t.Errorf("the capture held the server lock for %dus at once (%dus in all)", lockMax, holdSum)
	}
	if nHolds, _ := strconv.Atoi(holds); nHolds < 100 {
		t.Errorf("the capture took the server lock %d times for %d keys: chunks of %d keys", nHolds, keys, keys/max(nHolds, 1))
	}
	// One slow reply can be the machine (581ms seen with the lock never
	// held over 5ms); the lock check above catches a capture that stalls
	// everyone, this one a stall of seconds, and p99 a general slowdown.
	if saveP99 > 50*time.Millisecond && saveP99 > 20*baseP99 {
		t.Errorf("p99 latency %v during BGSAVE (%v without)", saveP99, baseP99)
	}
	if saveMax > 2*time.Second && saveMax > 10*baseMax {
		t.Errorf("a client waited %v during BGSAVE (%v without)", saveMax, baseMax)
	}
	// The saved file is the data set as of the start: every key, with
	// the old value for those the clients changed later, loads back.
	n.stop()
	c = n.start()
	if got := c.DBSize(ctx).Val(); got != keys {
		t.Fatalf("%d keys after loading the BGSAVE file, want %d", got, keys)
	}
}

// The BGSAVE file is the data set as of the BGSAVE, whatever happens
// while it is written: SWAPDB, FLUSHALL and new writes do not leak in and
// take nothing out, whether they come before the first chunk (the flushed
// tables are written whole) or in the middle of the walk (changed keys are
// preserved, and db 0 is still read from the table it had).
func TestPersistBGSaveIsPointInTime(t *testing.T) {
	const keys = 200_000
	cases := []struct {
		name      string
		midway    bool // wait until the capture is under way
		afterSave []func(ctx context.Context, p redis.Pipeliner)
	}{
		{"swapdb and flushall at once", false, []func(context.Context, redis.Pipeliner){
			func(ctx context.Context, p redis.Pipeliner) { p.SwapDB(ctx, 0, 1) },
			func(ctx context.Context, p redis.Pipeliner) { p.Set(ctx, "key:1", "changed", 0) },
			func(ctx context.Context, p redis.Pipeliner) { p.FlushAll(ctx) },
			func(ctx context.Context, p redis.Pipeliner) { p.Set(ctx, "new", "after", 0) },
		}},
		{"swapdb and writes in the middle of the walk", true, []func(context.Context, redis.Pipeliner){
			func(ctx context.Context, p redis.Pipeliner) { p.SwapDB(ctx, 0, 1) },
			func(ctx context.Context, p redis.Pipeliner) { p.Select(ctx, 1) },
			func(ctx context.Context, p redis.Pipeliner) { p.Set(ctx, "key:1", "changed", 0) },
			func(ctx context.Context, p redis.Pipeliner) { p.Del(ctx, "key:2") },
			func(ctx context.Context, p redis.Pipeliner) { p.Set(ctx, "new", "after", 0) },
			func(ctx context.Context, p redis.Pipeliner) { p.Select(ctx, 0) },
			func(ctx context.Context, p redis.Pipeliner) { p.Del(ctx, "db1key") },
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := newPersistNode(t, "--enable-debug-command", "yes")
			c := n.start()
			requirePersistence(t, c)
			ctx := context.Background()
			if err := c.Do(ctx, "DEBUG", "POPULATE", keys, "key", 10).Err(); err != nil {
				t.Fatal(err)
			}
			pipe := c.Pipeline()
			pipe.Select(ctx, 1)
			pipe.Set(ctx, "db1key", "one", 0)
			pipe.Select(ctx, 0)
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatal(err)
			}
			before := c.Get(ctx, "key:1").Val()
			// One connection, so the commands follow in order.
			pipe = c.Pipeline()
			pipe.BgSave(ctx)
			if tc.midway {
				if _, err := pipe.Exec(ctx); err != nil {
					t.Fatal(err)
				}
				deadline := time.Now().Add(60 * time.Second)
				for p, _ := strconv.Atoi(infoField(t, c, "current_save_keys_processed")); p < 1000; p, _ = strconv.Atoi(infoField(t, c, "current_save_keys_processed")) {
					if time.Now().After(deadline) || infoField(t, c, "rdb_bgsave_in_progress") == "0" {
						break
					}
					time.Sleep(time.Millisecond)
				}
				pipe = c.Pipeline()
			}
			for _, f := range tc.afterSave {
				f(ctx, pipe)
			}
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatal(err)
			}
			waitInfo(t, c, "rdb_bgsave_in_progress", "0")
			if infoField(t, c, "rdb_last_bgsave_status") != "ok" {
				t.Fatal("BGSAVE failed")
			}
			t.Logf("capture: %s keys, %s preserved, %s from flushed tables",
				infoField(t, c, "shoal_last_capture_keys"), infoField(t, c, "shoal_last_capture_preserved"), infoField(t, c, "shoal_last_capture_detached"))
			n.kill()
			c = n.start()
			if got := c.DBSize(ctx).Val(); got != keys {
				t.Fatalf("db 0 has %d keys, want %d", got, keys)
			}
			if got := c.Get(ctx, "key:1").Val(); got != before {
				t.Fatalf("key:1 = %q, want the value before the BGSAVE", got)
			}
			if c.Exists(ctx, "key:2").Val() != 1 || c.Exists(ctx, "new").Val() != 0 {
				t.Fatal("a change made after the BGSAVE is in the file")
			}
			pipe = c.Pipeline()
			pipe.Select(ctx, 1)
			size := pipe.DBSize(ctx)
			v := pipe.Get(ctx, "db1key")
			pipe.Select(ctx, 0)
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatal(err)
			}
			if size.Val() != 1 || v.Val() != "one" {
				t.Fatalf("db 1: %d keys, db1key=%q", size.Val(), v.Val())
			}
		})
	}
}

// A BGSAVE of big values (a fuzzer's 512 MB SETRANGE) copies at most about
// a megabyte of values per hold of the server lock: with 2 MB strings each
// hold takes one, so there are at least as many holds as values, and the
// snapshot still has them all.
func TestPersistBGSaveSplitsBigValues(t *testing.T) {
	const values, size = 24, 2 << 20
	n := newPersistNode(t)
	c := n.start()
	requirePersistence(t, c)
	ctx := context.Background()
	for i := range values {
		if err := c.SetRange(ctx, fmt.Sprint("big:", i), size-1, "x").Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.BgSave(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for infoField(t, c, "rdb_bgsave_in_progress") == "1" {
		if time.Now().After(deadline) {
			t.Fatal("BGSAVE did not finish in 60s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if infoField(t, c, "rdb_last_bgsave_status") != "ok" {
		t.Fatal("BGSAVE failed")
	}
	holds, _ := strconv.Atoi(infoField(t, c, "shoal_last_capture_lock_holds"))
	captured, _ := strconv.Atoi(infoField(t, c, "shoal_last_capture_keys"))
	if captured != values || holds < values {
		t.Errorf("captured %d keys in %d lock holds, want %d keys in at least %d holds", captured, holds, values, values)
	}
	c = n.start() // restarts from the snapshot
	for i := range values {
		if l, err := c.StrLen(ctx, fmt.Sprint("big:", i)).Result(); err != nil || l != size {
			t.Fatalf("big:%d after restart: length %d, %v", i, l, err)
		}
	}
}
