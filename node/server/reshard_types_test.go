package server

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/nodetest"
)

// TestClusterReshardMovesStreamsAndHLL: `redis-cli --cluster reshard` of
// 2000 slots (MIGRATE of every key) while clients XADD to streams with a
// consumer group and PFADD to HyperLogLogs spread over every slot range.
// Each acknowledged command is repeated on a reference redis-server (the
// XADD with the ID our cluster chose), so at the end each stream's
// entries, its group's state and each HLL's bytes and count must equal the
// reference's: a stream or an HLL moved by MIGRATE arrives whole.
func TestClusterReshardMovesStreamsAndHLL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three nodes")
	}
	nodes := make([]*clusterProc, 3)
	addrs := make([]string, len(nodes))
	for i := range nodes {
		nodes[i] = startClusterProc(t, "", 0)
		addrs[i] = nodes[i].Addr()
	}
	out, err := runCLI(t, 2*time.Minute, "", append(append([]string{"--cluster", "create"}, addrs...), "--cluster-yes")...)
	if err != nil || !strings.Contains(out, "[OK] All 16384 slots covered.") {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	waitAgreement(t, nodes)
	cc := clusterClient(t, nodes)
	ref := redis.NewClient(&redis.Options{Addr: startRedis(t).Addr, Protocol: 2})
	defer ref.Close()
	ctx := ctxT(t)

	const workers, keysPerWorker = 4, 40
	var keys []string // the stream and HLL keys, spread over the slots
	for w := range workers {
		for k := range keysPerWorker {
			keys = append(keys, fmt.Sprintf("w%d:k%d", w, k))
		}
	}
	for _, k := range keys {
		for _, c := range []redis.Cmdable{cc, ref} {
			if err := c.XGroupCreateMkStream(ctx, "st:"+k, "g", "0").Err(); err != nil {
				t.Fatalf("XGROUP CREATE st:%s: %v", k, err)
			}
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([][]string, workers)
	ops := make([]atomic.Int64, workers)
	for w := range workers {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if len(errs[w]) > 10 {
					return
				}
				k := keys[w*keysPerWorker+n%keysPerWorker]
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				err := mirror(ctx, cc, ref, k, n)
				cancel()
				if err != nil {
					errs[w] = append(errs[w], err.Error())
				}
				ops[w].Add(1)
			}
		})
	}
	defer func() { close(stop); wg.Wait() }()
	waitUntil(t, time.Minute, "the load to write every key", func() error {
		for w := range workers {
			if n := ops[w].Load(); n < 3*keysPerWorker {
				return fmt.Errorf("worker %d at %d operations", w, n)
			}
		}
		return nil
	})

	from, to := nodes[0].myID(t), nodes[1].myID(t)
	out, err = runCLI(t, 3*time.Minute, "", "--cluster", "reshard", nodes[0].Addr(),
		"--cluster-from", from, "--cluster-to", to, "--cluster-slots", "2000", "--cluster-yes")
	if err != nil || strings.Contains(out, "[ERR]") {
		t.Fatalf("reshard: %v\n%s", err, nodetest.Tail(out, 40))
	}
	checkClean(t, nodes[0])
	close(stop)
	wg.Wait()
	stop = make(chan struct{}) // for the deferred close

	for w, e := range errs {
		for _, msg := range e {
			t.Errorf("worker %d: %s", w, msg)
		}
	}
	moved := 0
	for _, k := range keys {
		want, got := typesState(ctx, t, ref, k), typesState(ctx, t, cc, k)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s after the reshard:\n got %+v\nwant %+v", k, got, want)
		}
		if n, _ := nodes[1].do(t, "CLUSTER", "COUNTKEYSINSLOT", cc.ClusterKeySlot(ctx, "st:"+k).Val()).Int64(); n > 0 {
			moved++
		}
	}
	if moved == 0 {
		t.Error("no key of the load is on the reshard's target")
	}
	t.Logf("%d operations during the reshard, %d streams and %d HLLs compared with redis-server", sum(ops), len(keys), len(keys))
}

func sum(v []atomic.Int64) (n int64) {
	for i := range v {
		n += v[i].Load()
	}
	return n
}

// mirror runs the n-th operation of the load on key k in the cluster and,
// when it was acknowledged, the same on the reference: an XADD (the
// reference gets the cluster's ID), an XREADGROUP of one entry with an
// XACK of every other one, or a PFADD.
func mirror(ctx context.Context, cc *redis.ClusterClient, ref *redis.Client, k string, n int) error {
	st, hll := "st:"+k, "hll:"+k
	switch n % 3 {
	case 0:
		id, err := cc.XAdd(ctx, &redis.XAddArgs{Stream: st, Values: []any{"n", n, "f", "v"}}).Result()
		if err != nil {
			return fmt.Errorf("XADD %s: %w", st, err)
		}
		return ref.XAdd(ctx, &redis.XAddArgs{Stream: st, ID: id, Values: []any{"n", n, "f", "v"}}).Err()
	case 1:
		read := func(c redis.Cmdable) ([]string, error) {
			res, err := c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{st, ">"}, Count: 1, Block: -1}).Result()
			if err == redis.Nil {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			var ids []string
			for _, m := range res[0].Messages {
				ids = append(ids, m.ID)
				if n%2 == 0 {
					if err := c.XAck(ctx, st, "g", m.ID).Err(); err != nil {
						return nil, err
					}
				}
			}
			return ids, nil
		}
		got, err := read(cc)
		if err != nil {
			return fmt.Errorf("XREADGROUP %s: %w", st, err)
		}
		want, err := read(ref)
		if err == nil && !reflect.DeepEqual(got, want) {
			err = fmt.Errorf("XREADGROUP %s gave %v, the reference %v", st, got, want)
		}
		return err
	default:
		if err := cc.PFAdd(ctx, hll, fmt.Sprintf("e%d", n)).Err(); err != nil {
			return fmt.Errorf("PFADD %s: %w", hll, err)
		}
		return ref.PFAdd(ctx, hll, fmt.Sprintf("e%d", n)).Err()
	}
}

// typesState is what is compared of key k: its stream's entries and
// group, its HLL's bytes and count.
func typesState(ctx context.Context, t *testing.T, c redis.Cmdable, k string) []any {
	t.Helper()
	entries, err := c.XRange(ctx, "st:"+k, "-", "+").Result()
	if err != nil {
		t.Fatalf("XRANGE st:%s: %v", k, err)
	}
	groups, err := c.XInfoGroups(ctx, "st:"+k).Result()
	if err != nil {
		t.Fatalf("XINFO GROUPS st:%s: %v", k, err)
	}
	pending, err := c.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: "st:" + k, Group: "g", Start: "-", End: "+", Count: 1 << 20}).Result()
	if err != nil {
		t.Fatalf("XPENDING st:%s: %v", k, err)
	}
	var pel []string
	for _, p := range pending {
		pel = append(pel, fmt.Sprintf("%s %s %d", p.ID, p.Consumer, p.RetryCount))
	}
	raw, err := c.Get(ctx, "hll:"+k).Result()
	if err != nil && err != redis.Nil {
		t.Fatalf("GET hll:%s: %v", k, err)
	}
	count, err := c.PFCount(ctx, "hll:"+k).Result()
	if err != nil {
		t.Fatalf("PFCOUNT hll:%s: %v", k, err)
	}
	return []any{entries, groups, pel, raw, count}
}
