package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shoal-dev/shoal/node/nodetest"
)

// TestClusterLifecycle drives a cluster of six nodes through what an
// operator does with redis-cli --cluster, with real clients on it:
// create, check, redis-cli -c, go-redis ClusterClient for every data type,
// reshard and rebalance under a writing and reading ClusterClient, and a
// restart of every node on other client ports that re-forms the cluster
// from nodes.conf alone.
func TestClusterLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts six nodes")
	}
	start := time.Now()
	nodes := make([]*clusterProc, 6)
	for i := range nodes {
		nodes[i] = startClusterProc(t, "", 0)
	}
	addrs := make([]string, len(nodes))
	for i, p := range nodes {
		addrs[i] = p.Addr()
	}

	// redis-cli --cluster create on six masters.
	out, err := runCLI(t, 2*time.Minute, "", append(append([]string{"--cluster", "create"}, addrs...), "--cluster-yes")...)
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	if !strings.Contains(out, "[OK] All 16384 slots covered.") {
		t.Fatalf("create did not cover the slots:\n%s", out)
	}
	view := waitAgreement(t, nodes)
	check := checkClean(t, nodes[0])
	if !strings.Contains(check, "[OK] All nodes agree about slots configuration.") {
		t.Fatalf("check: %s", check)
	}
	t.Logf("created and checked in %v", time.Since(start))

	t.Run("RedisCLIFollowsMOVED", func(t *testing.T) { testCLIFollowsMoved(t, nodes) })
	t.Run("ClusterClientDataTypes", func(t *testing.T) { testClusterClientTypes(t, nodes) })
	t.Run("ReshardAndRebalanceUnderLoad", func(t *testing.T) { testReshardUnderLoad(t, nodes) })
	if t.Failed() {
		return
	}
	view = waitAgreement(t, nodes)

	// Every key written so far, to find after the restart.
	cc := clusterClient(t, nodes)
	ctx := ctxT(t)
	want := map[string]string{}
	var mu sync.Mutex // ForEachMaster runs the masters concurrently
	err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, "load:*", 1000).Result()
			if err != nil {
				return err
			}
			for _, k := range keys {
				v, err := c.Get(ctx, k).Result()
				if err != nil {
					return err
				}
				mu.Lock()
				want[k] = v
				mu.Unlock()
			}
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 1000 {
		t.Fatalf("only %d string keys before the restart", len(want))
	}

	t.Run("RestartOnOtherPorts", func(t *testing.T) { testRestartOnOtherPorts(t, nodes, view, want) })
	t.Logf("whole lifecycle in %v", time.Since(start))
}

// testCLIFollowsMOVED: redis-cli -c connected to one node reaches keys of
// every node through MOVED.
func testCLIFollowsMoved(t *testing.T, nodes []*clusterProc) {
	var script strings.Builder
	for i := range 20 {
		fmt.Fprintf(&script, "SET cli:%d v%d\n", i, i)
	}
	for i := range 20 {
		fmt.Fprintf(&script, "GET cli:%d\n", i)
	}
	out, err := runCLI(t, time.Minute, script.String(), "-c", "-h", "127.0.0.1", "-p", strconv.Itoa(nodes[0].Port))
	if err != nil {
		t.Fatalf("redis-cli -c: %v\n%s", err, out)
	}
	for i := range 20 {
		if !strings.Contains(out, fmt.Sprintf("v%d\n", i)) {
			t.Errorf("GET cli:%d did not return v%d:\n%s", i, i, out)
		}
	}
	if strings.Contains(out, "MOVED") || strings.Contains(out, "ERR") {
		t.Errorf("redis-cli -c showed an error:\n%s", out)
	}
	// Without -c the same command is redirected.
	moved := 0
	for i := range 20 {
		out, _ := runCLI(t, time.Minute, "", "-h", "127.0.0.1", "-p", strconv.Itoa(nodes[0].Port), "GET", fmt.Sprintf("cli:%d", i))
		if strings.HasPrefix(out, "MOVED ") {
			moved++
		}
	}
	if moved == 0 {
		t.Errorf("no key of 20 was redirected from one node of six")
	}
}

// testClusterClientTypes runs commands of every data type through a
// go-redis ClusterClient.
func testClusterClientTypes(t *testing.T, nodes []*clusterProc) {
	cc := clusterClient(t, nodes)
	ctx := ctxT(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 50 {
		k := fmt.Sprintf("type:%d", i)
		must(cc.Set(ctx, "s:"+k, i, 0).Err())
		must(cc.Incr(ctx, "s:"+k).Err())
		must(cc.HSet(ctx, "h:"+k, "f1", i, "f2", "x").Err())
		must(cc.RPush(ctx, "l:"+k, "a", "b", i).Err())
		must(cc.SAdd(ctx, "set:"+k, "a", "b", i).Err())
		must(cc.ZAdd(ctx, "z:"+k, redis.Z{Score: float64(i), Member: "m"}, redis.Z{Score: -1, Member: "n"}).Err())
		must(cc.Expire(ctx, "s:"+k, time.Hour).Err())
	}
	for i := range 50 {
		k := fmt.Sprintf("type:%d", i)
		if v, err := cc.Get(ctx, "s:"+k).Int(); err != nil || v != i+1 {
			t.Fatalf("GET s:%s = %d, %v", k, v, err)
		}
		if v, err := cc.HGet(ctx, "h:"+k, "f1").Int(); err != nil || v != i {
			t.Fatalf("HGET h:%s = %d, %v", k, v, err)
		}
		if v, err := cc.LRange(ctx, "l:"+k, 0, -1).Result(); err != nil || strings.Join(v, ",") != "a,b,"+strconv.Itoa(i) {
			t.Fatalf("LRANGE l:%s = %v, %v", k, v, err)
		}
		if v, err := cc.SCard(ctx, "set:"+k).Result(); err != nil || v != 3 {
			t.Fatalf("SCARD set:%s = %d, %v", k, v, err)
		}
		if v, err := cc.ZRange(ctx, "z:"+k, 0, -1).Result(); err != nil || strings.Join(v, ",") != "n,m" {
			t.Fatalf("ZRANGE z:%s = %v, %v", k, v, err)
		}
		if ttl, err := cc.TTL(ctx, "s:"+k).Result(); err != nil || ttl <= 0 {
			t.Fatalf("TTL s:%s = %v, %v", k, ttl, err)
		}
	}
	// Multi-key commands within one slot (hash tags), and their refusal
	// across slots.
	must(cc.MSet(ctx, "{tag}a", 1, "{tag}b", 2).Err())
	if v, err := cc.MGet(ctx, "{tag}a", "{tag}b").Result(); err != nil || fmt.Sprint(v) != "[1 2]" {
		t.Fatalf("MGET = %v, %v", v, err)
	}
	must(cc.SAdd(ctx, "{tag}s1", "a", "b").Err())
	must(cc.SAdd(ctx, "{tag}s2", "b", "c").Err())
	if v, err := cc.SInter(ctx, "{tag}s1", "{tag}s2").Result(); err != nil || fmt.Sprint(v) != "[b]" {
		t.Fatalf("SINTER = %v, %v", v, err)
	}
	if err := nodes[0].do(t, "MSET", "a", "1", "b", "2").Err(); err == nil || err.Error() != ErrCrossSlot {
		t.Fatalf("MSET across slots: %v", err)
	}
	// A transaction on one slot.
	_, err := cc.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, "{tx}n")
		p.Incr(ctx, "{tx}n")
		return nil
	})
	must(err)
	if v, err := cc.Get(ctx, "{tx}n").Int(); err != nil || v != 2 {
		t.Fatalf("{tx}n = %d, %v", v, err)
	}
}

// loadResult is what the load of testReshardUnderLoad saw.
type loadResult struct {
	errs  []string
	last  map[string]string // key -> last acknowledged value
	ops   int64
	reads int64
}

// runLoad writes and reads keys through a ClusterClient until stop is
// closed. Each worker owns its keys, so a read must return the value the
// worker last wrote.
func runLoad(t *testing.T, cc *redis.ClusterClient, workers, keysPerWorker int, primed *sync.WaitGroup, stop chan struct{}) (results []*loadResult, wait func()) {
	results = make([]*loadResult, workers)
	var wg sync.WaitGroup
	for w := range workers {
		res := &loadResult{last: map[string]string{}}
		results[w] = res
		wg.Add(1)
		primed.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			seq := 0
			write := func(i int) {
				key := fmt.Sprintf("load:%d:%d", w, i)
				seq++
				val := fmt.Sprintf("%d:%d", seq, rng.Uint32())
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := cc.Set(ctx, key, val, 0).Err(); err != nil {
					res.errs = append(res.errs, fmt.Sprintf("SET %s: %v", key, err))
					return
				}
				res.last[key] = val
				res.ops++
				if seq%3 == 0 {
					got, err := cc.Get(ctx, key).Result()
					res.reads++
					if err != nil || got != val {
						res.errs = append(res.errs, fmt.Sprintf("GET %s = %q, %v; want %q", key, got, err, val))
					}
				}
			}
			for i := range keysPerWorker {
				write(i)
			}
			primed.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				write(rng.IntN(keysPerWorker))
				if len(res.errs) > 20 {
					return
				}
			}
		}()
	}
	t.Cleanup(wg.Wait)
	return results, wg.Wait
}

func testReshardUnderLoad(t *testing.T, nodes []*clusterProc) {
	cc := clusterClient(t, nodes)
	stop := make(chan struct{})
	var primed sync.WaitGroup
	results, wait := runLoad(t, cc, 2, 2000, &primed, stop)
	stopped := false
	stopLoad := func() {
		if !stopped {
			stopped = true
			close(stop)
			wait()
		}
	}
	defer stopLoad()
	primed.Wait()

	from, to := nodes[0].myID(t), nodes[1].myID(t)
	began := time.Now()
	out, err := runCLI(t, 3*time.Minute, "", "--cluster", "reshard", nodes[0].Addr(),
		"--cluster-from", from, "--cluster-to", to, "--cluster-slots", "1000", "--cluster-yes")
	if err != nil || strings.Contains(out, "[ERR]") {
		stopLoad()
		t.Fatalf("reshard: %v\n%s", err, nodetest.Tail(out, 40))
	}
	t.Logf("reshard of 1000 slots in %v", time.Since(began))
	checkClean(t, nodes[0])
	if n := countSlots(t, nodes[1], to); n < 3730 {
		t.Errorf("the target serves %d slots after receiving 1000", n)
	}

	began = time.Now()
	out, err = runCLI(t, 3*time.Minute, "", "--cluster", "rebalance", nodes[0].Addr())
	if err != nil || strings.Contains(out, "[ERR]") {
		stopLoad()
		t.Fatalf("rebalance: %v\n%s", err, nodetest.Tail(out, 40))
	}
	if !strings.Contains(out, "Moving") {
		t.Errorf("rebalance moved nothing:\n%s", nodetest.Tail(out, 20))
	}
	t.Logf("rebalance in %v", time.Since(began))
	checkClean(t, nodes[0])
	stopLoad()
	ctx := ctxT(t)
	total := int64(0)
	for w, res := range results {
		for _, e := range res.errs {
			t.Errorf("worker %d: %s", w, e)
		}
		total += res.ops
		for k, v := range res.last {
			got, err := cc.Get(ctx, k).Result()
			if err != nil || got != v {
				t.Errorf("after the moves %s = %q, %v; last acknowledged %q", k, got, err, v)
			}
		}
	}
	t.Logf("%d acknowledged writes during the moves, every key checked", total)
}

// countSlots is the number of slots node id serves in p's view.
func countSlots(t testing.TB, p *clusterProc, id string) int {
	n := 0
	for _, l := range parseClusterNodes(p.text(t, "CLUSTER", "NODES")) {
		if l.ID != id {
			continue
		}
		for _, r := range l.Slots {
			if strings.HasPrefix(r, "[") {
				continue
			}
			a, b, found := strings.Cut(r, "-")
			lo, _ := strconv.Atoi(a)
			hi := lo
			if found {
				hi, _ = strconv.Atoi(b)
			}
			n += hi - lo + 1
		}
	}
	return n
}

// testRestartOnOtherPorts stops every node and starts it again on its data
// directory and bus port with another client port: the nodes find each
// other through the bus ports in nodes.conf, learn the new client ports
// from the bus headers, and serve the same slots and data.
func testRestartOnOtherPorts(t *testing.T, nodes []*clusterProc, before map[string]string, want map[string]string) {
	ids := map[*clusterProc]string{}
	for _, p := range nodes {
		ids[p] = p.myID(t)
	}
	began := time.Now()
	stopAll(t, nodes)
	for _, p := range nodes {
		p.Port = nodetest.FreePort(t)
		p.start(t)
	}
	after := waitAgreement(t, nodes)
	t.Logf("cluster re-formed in %v", time.Since(began))
	for _, p := range nodes {
		if id := p.myID(t); id != ids[p] {
			t.Errorf("node on %s came back as %s, was %s", p.Dir, id, ids[p])
		}
		// Same slots, new client port.
		b, a := strings.Fields(before[ids[p]]), strings.Fields(after[ids[p]])
		if a[0] != p.Addr() {
			t.Errorf("node %s is known at %s, listens on %s", ids[p], a[0], p.Addr())
		}
		if strings.Join(b[1:], " ") != strings.Join(a[1:], " ") {
			t.Errorf("node %s served %v, now %v", ids[p], b[1:], a[1:])
		}
	}
	checkClean(t, nodes[0])
	cc := clusterClient(t, nodes)
	ctx := ctxT(t)
	for k, v := range want {
		got, err := cc.Get(ctx, k).Result()
		if err != nil || got != v {
			t.Fatalf("after the restart %s = %q, %v; want %q", k, got, err, v)
		}
	}
	t.Logf("%d keys found after the restart", len(want))
}
