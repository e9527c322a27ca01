package server

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestClusterReplication: `redis-cli --cluster create --cluster-replicas 1`
// on six nodes gives three replicas that sync from their masters; a
// replica serves reads after READONLY and redirects writes with MOVED;
// CLUSTER FAILOVER promotes it with every key, and the old master follows
// it with a partial resync.
func TestClusterReplication(t *testing.T) {
	if testing.Short() {
		t.Skip("starts six nodes")
	}
	nodes := make([]*clusterProc, 6)
	addrs := make([]string, len(nodes))
	for i := range nodes {
		nodes[i] = startClusterProc(t, "", 0)
		addrs[i] = nodes[i].Addr()
	}
	out, err := runCLI(t, 2*time.Minute, "", append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "1", "--cluster-yes")...)
	if err != nil || !strings.Contains(out, "[OK] All 16384 slots covered.") {
		t.Fatalf("redis-cli --cluster create --cluster-replicas 1: %v\n%s", err, out)
	}
	waitAgreement(t, nodes)
	cc := clusterClient(t, nodes)
	ctx := ctxT(t)
	const n = 3000
	for i := 0; i < n; i++ {
		if err := cc.Set(ctx, "key:"+strconv.Itoa(i), i, 0).Err(); err != nil {
			t.Fatalf("SET: %v", err)
		}
	}
	if out := checkClean(t, nodes[0]); !strings.Contains(out, "[OK] All nodes agree about slots configuration.") {
		t.Fatalf("check: %s", out)
	}

	// Find a replica and its master; wait until it processed everything.
	byPort := map[int]*clusterProc{}
	for _, p := range nodes {
		byPort[p.Port] = p
	}
	var replica, master *clusterProc
	replicas := 0
	for _, p := range nodes {
		c := redis.NewClient(&redis.Options{Addr: p.Addr()})
		defer c.Close()
		if replInfo(t, c, "replication", "role") != "slave" {
			continue
		}
		replicas++
		mp, _ := strconv.Atoi(replInfo(t, c, "replication", "master_port"))
		mc := redis.NewClient(&redis.Options{Addr: byPort[mp].Addr()})
		defer mc.Close()
		replWaitInSync(t, mc, c)
		replica, master = p, byPort[mp]
	}
	if replicas != 3 || replica == nil {
		t.Fatalf("%d replicas", replicas)
	}
	rc := redis.NewClient(&redis.Options{Addr: replica.Addr(), PoolSize: 1})
	defer rc.Close()
	mc := redis.NewClient(&redis.Options{Addr: master.Addr()})
	defer mc.Close()
	if err := rc.Do(ctx, "READONLY").Err(); err != nil {
		t.Fatal(err)
	}
	keys := keysServedBy(t, ctx, mc, n)
	if len(keys) == 0 {
		t.Fatalf("master %s serves none of the keys", master.Addr())
	}
	for _, k := range keys {
		if got, want := rc.Get(ctx, k).Val(), mc.Get(ctx, k).Val(); got != want || got == "" {
			t.Fatalf("replica %s = %q, master %q", k, got, want)
		}
	}
	if err := rc.Set(ctx, keys[0], "x", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "MOVED ") {
		t.Fatalf("write to a replica: %v", err)
	}

	// Manual failover: the replica takes over with every key.
	// A manual failover that times out (5 s, e.g. when the bus link to the
	// master was not up yet) is asked for again, as an operator would.
	var asked time.Time
	waitUntil(t, clusterWait, "the replica to be promoted", func() error {
		r := replInfo(t, rc, "replication", "role")
		// Asked again only while it is still a replica (see manualFailover).
		if r == "slave" && time.Since(asked) > 7*time.Second {
			if err := rc.Do(ctx, "CLUSTER", "FAILOVER").Err(); err != nil && !isNotReplicaErr(err) {
				t.Fatalf("CLUSTER FAILOVER: %v", err)
			}
			asked = time.Now()
		}
		if r != "master" {
			return fmt.Errorf("role %s", r)
		}
		if r := replInfo(t, mc, "replication", "role"); r != "slave" {
			return fmt.Errorf("old master role %s", r)
		}
		return nil
	})
	replWaitInSync(t, rc, mc)
	for _, k := range keys {
		if got := rc.Get(ctx, k).Val(); got == "" {
			t.Fatalf("promoted replica lost %s", k)
		}
	}
	if full := replInfoInt(t, rc, "stats", "sync_full"); full != 0 {
		t.Fatalf("the old master needed a full resync from the new one (sync_full %d)", full)
	}
	if err := cc.Set(ctx, keys[0], "after", 0).Err(); err != nil {
		t.Fatalf("write after failover: %v", err)
	}
	if n, err := rc.Do(ctx, "WAIT", 1, 10000).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT 1 on the new master = %d, %v", n, err)
	}

	// kill -9 of the new master: its replica (the old master) is elected
	// by the other masters and serves every key, the acknowledged write
	// included.
	_ = replica.cmd.Process.Kill()
	<-replica.exited
	replica.cmd = nil
	waitUntil(t, clusterWait, "the automatic failover", func() error {
		if r := replInfo(t, mc, "replication", "role"); r != "master" {
			return fmt.Errorf("role %s", r)
		}
		return nil
	})
	if v := mc.Get(ctx, keys[0]).Val(); v != "after" {
		t.Fatalf("acknowledged write lost in the automatic failover: %q", v)
	}
	for _, k := range keys[1:] {
		if mc.Get(ctx, k).Val() == "" {
			t.Fatalf("automatic failover lost %s", k)
		}
	}
}

// keysServedBy returns the keys key:0..n-1 that the node mc holds.
func keysServedBy(t testing.TB, ctx context.Context, mc *redis.Client, n int) []string {
	t.Helper()
	var keys []string
	for i := 0; i < n; i++ {
		k := "key:" + strconv.Itoa(i)
		if v, err := mc.Get(ctx, k).Result(); err == nil && v != "" {
			keys = append(keys, k)
		}
	}
	return keys
}
