package interop

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/nodetest"
)

// startClusterNodes starts n nodes in cluster mode and joins them with
// `redis-cli --cluster create` (masters only); it returns their addresses
// once every node reports cluster_state:ok.
func startClusterNodes(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	for range n {
		p := nodetest.Start(t, nodetest.Options{Args: []string{"--cluster-enabled", "yes",
			"--cluster-port", strconv.Itoa(nodetest.FreePort(t)), "--cluster-node-timeout", "5000"}})
		addrs = append(addrs, p.Addr)
	}
	out, err := redisCLI(t, 2*time.Minute, append(append([]string{"--cluster", "create"}, addrs...), "--cluster-yes")...)
	if err != nil || !strings.Contains(out, "[OK] All 16384 slots covered.") {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	ctx := context.Background()
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a, Protocol: 2})
		waitFor(t, a+" cluster_state:ok", func() bool {
			info, err := c.ClusterInfo(ctx).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok")
		})
		c.Close()
	}
	// --cluster import first checks that every node agrees on the slots.
	waitFor(t, "redis-cli --cluster check to be clean", func() bool {
		out, err := redisCLI(t, 30*time.Second, "--cluster", "check", addrs[0])
		return err == nil && strings.Contains(out, "[OK] All nodes agree about slots configuration.") &&
			!strings.Contains(out, "[WARNING]") && !strings.Contains(out, "[ERR]")
	})
	return addrs
}

func redisCLI(t *testing.T, timeout time.Duration, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput()
	return string(out), err
}

// renderCluster renders every key of the cluster (db 0 of each master).
func renderCluster(t *testing.T, addrs []string) map[string]string {
	t.Helper()
	all := map[string]string{}
	for _, a := range addrs {
		for k, v := range renderDBs(t, a, 1) {
			if _, dup := all[k]; dup {
				t.Errorf("key %s on two masters", k)
			}
			all[k] = v
		}
	}
	return all
}

// TestRedisCLIClusterImport: `redis-cli --cluster import --cluster-copy
// --cluster-replace` from a plain redis-server into a 3-master cluster of
// our nodes, while a client keeps writing to the source. Every key the
// source acknowledged before the import started is in the cluster
// afterwards, on the master of its slot, with its value and TTL. (The
// import runs MIGRATE host port key 0 timeout COPY REPLACE on the source
// for every key SCAN returns; our nodes answer its RESTOREs.)
func TestRedisCLIClusterImport(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a redis-server and three nodes")
	}
	ctx := context.Background()
	src := startRedis(t, t.TempDir())
	sc := redis.NewClient(&redis.Options{Addr: src.Addr, Protocol: 2})
	defer sc.Close()
	if err := fillTypes(ctx, func(int) *redis.Client { return sc }); err != nil {
		t.Fatal(err)
	}
	pipe := sc.Pipeline()
	for i := range 3000 {
		k := fmt.Sprintf("imp:%d", i)
		switch i % 4 {
		case 0:
			pipe.Set(ctx, k, strings.Repeat("v", i%200), 0)
		case 1:
			pipe.Set(ctx, k, i, time.Duration(1000+i)*time.Second)
		case 2:
			pipe.HSet(ctx, k, "a", i, "b", "x")
		case 3:
			pipe.ZAdd(ctx, k, redis.Z{Score: float64(i), Member: "m"})
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	want := render(t, src.Addr)
	addrs := startClusterNodes(t, 3)

	// The write load: new keys, acknowledged or not, during the import.
	stop := make(chan struct{})
	var acked atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		lc := redis.NewClient(&redis.Options{Addr: src.Addr, Protocol: 2})
		defer lc.Close()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if lc.Set(ctx, fmt.Sprintf("during:%d", i), i, 0).Err() == nil {
				acked.Add(1)
			}
		}
	}()
	waitFor(t, "the write load to start", func() bool { return acked.Load() > 100 })
	out, err := redisCLI(t, 5*time.Minute, "--cluster", "import", addrs[0], "--cluster-from", src.Addr,
		"--cluster-copy", "--cluster-replace")
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("redis-cli --cluster import: %v\n%s", err, nodetest.Tail(out, 30))
	}
	if n := strings.Count(out, "OK\n"); n < len(want) {
		t.Errorf("import reported OK for %d keys, %d were there before it:\n%s", n, len(want), nodetest.Tail(out, 20))
	}
	got := renderCluster(t, addrs)
	for k := range got {
		if _, ok := want[k]; !ok {
			delete(got, k) // written during the import
		}
	}
	diff(t, "the cluster after the import", withinTTL(got, want, 5000), want)
	t.Logf("%d keys imported under %d writes to the source", len(want), acked.Load())
}
