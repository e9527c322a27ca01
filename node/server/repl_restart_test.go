package server

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestReplicationRestartedReplicaContinues: a replica restarted from its
// snapshot continues its master's stream with a partial resync, as a Redis
// 7 replica does with the repl-id and repl-offset of its RDB: sync_partial_ok
// grows, sync_full does not, and the writes made while it was down (in the
// database the stream had selected, which the master does not select
// again) reach it.
func TestReplicationRestartedReplicaContinues(t *testing.T) {
	m := startNode(t)
	mc := m.client(t)
	mc3 := m.client(t, func(o *redis.Options) { o.DB = 3 })
	ctx := ctxT(t)
	replicaOf := []string{"--replicaof", "127.0.0.1", strconv.Itoa(m.Port)}
	rn := newPersistNode(t)
	rc := rn.start(replicaOf...)
	replFill(t, mc, "a", 5000)
	if err := mc3.Set(ctx, "db3:before", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	replWaitInSync(t, mc, rc)
	full := replInfoInt(t, mc, "stats", "sync_full")
	partial := replInfoInt(t, mc, "stats", "sync_partial_ok")
	if full != 1 {
		t.Fatalf("sync_full %d after the first sync", full)
	}

	rc.Do(ctx, "SHUTDOWN", "SAVE")
	<-rn.exited
	// The master's stream goes on while the replica is down, still in db 3.
	if err := mc3.Set(ctx, "db3:while-down", "2", 0).Err(); err != nil {
		t.Fatal(err)
	}
	replFill(t, mc, "b", 2000)
	if err := mc3.Set(ctx, "db3:after", "3", 0).Err(); err != nil {
		t.Fatal(err)
	}

	rc = rn.start(replicaOf...)
	replWaitInSync(t, mc, rc)
	if got := replInfoInt(t, mc, "stats", "sync_full"); got != full {
		t.Fatalf("sync_full grew from %d to %d: the restarted replica did not continue", full, got)
	}
	if got := replInfoInt(t, mc, "stats", "sync_partial_ok"); got != partial+1 {
		t.Fatalf("sync_partial_ok %d, want %d", got, partial+1)
	}
	replSame(t, mc, rc, "a", 5000)
	replSame(t, mc, rc, "b", 2000)
	rc3 := redis.NewClient(&redis.Options{Addr: rn.Addr, DB: 3})
	defer rc3.Close()
	for k, want := range map[string]string{"db3:before": "1", "db3:while-down": "2", "db3:after": "3"} {
		if v, err := rc3.Get(ctx, k).Result(); err != nil || v != want {
			t.Fatalf("replica db 3 %s = %q, %v; want %q", k, v, err, want)
		}
	}
	if n := rc.DBSize(ctx).Val(); n != 7000 {
		t.Fatalf("replica db 0 holds %d keys, want 7000", n)
	}

	// Restarted as a master, once it takes a write of its own its saved
	// position no longer describes its data: the next sync is a full one.
	rc.Do(ctx, "SHUTDOWN", "SAVE")
	<-rn.exited
	rc = rn.start()
	if err := rc.Set(ctx, "own", "write", 0).Err(); err != nil {
		t.Fatal(err)
	}
	rc.Do(ctx, "SHUTDOWN", "SAVE")
	<-rn.exited
	rc = rn.start(replicaOf...)
	replWaitInSync(t, mc, rc)
	if got := replInfoInt(t, mc, "stats", "sync_full"); got != full+1 {
		t.Fatalf("sync_full %d, want %d: a diverged replica must sync in full", got, full+1)
	}
	if v, err := rc.Exists(ctx, "own").Result(); err != nil || v != 0 {
		t.Fatalf("the replica kept its own write after a full sync (%d, %v)", v, err)
	}
}

// TestClusterReplicaRestartLoadsBeforeSync: a cluster replica restarted
// on its append-only file follows its master only once the file is
// loaded, as Redis (which runs no cron, so no replication, while it
// loads). The link used to start from nodes.conf as the node was created,
// and a quick full resync was installed between two buffers of a long
// AOF replay: the rest of the file was then replayed on top of the
// master's data set, applying its INCRs a second time and putting back
// older values (the day-2 e2e's doubled counters and stale reads after
// the restarted replica was promoted).
func TestClusterReplicaRestartLoadsBeforeSync(t *testing.T) {
	if testing.Short() {
		t.Skip("starts six nodes")
	}
	nodes := startAOFCluster(t)
	sh := clusterShards(t, nodes, nodes[0])[0]
	keys := keysOfNode(t, sh.master, "restart:", 2)
	ctr, key := keys[0], keys[1]
	mc := redis.NewClient(&redis.Options{Addr: sh.master.Addr(), Protocol: 2})
	defer mc.Close()
	ctx := ctxT(t)
	// A long AOF on the replica (the master's stream), a small data set.
	const incrs, batch = 300000, 10000
	for i := 0; i < incrs; i += batch {
		if _, err := mc.Pipelined(ctx, func(p redis.Pipeliner) error {
			for range batch {
				p.Incr(ctx, ctr)
			}
			p.Set(ctx, key, "before-"+strconv.Itoa(i), 0)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	waitInSyncProcs(t, sh.master, sh.replica)
	sh.replica.stop(t)
	// Written while the replica is down: only a resync brings them.
	if err := mc.Set(ctx, key, "while-down", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := mc.IncrBy(ctx, ctr, 7).Err(); err != nil {
		t.Fatal(err)
	}
	sh.replica.start(t)
	waitInSyncProcs(t, sh.master, sh.replica)
	// A restarted node answers CLUSTERDOWN until its own view covers every
	// slot again, which may come a moment after the resync (as in Redis).
	waitUntil(t, failoverWait, sh.replica.Addr()+" cluster_state ok", func() error {
		info, err := sh.replica.do(t, "CLUSTER", "INFO").Text()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return fmt.Errorf("cluster_state is not ok")
		}
		return nil
	})
	rc := redis.NewClient(&redis.Options{Addr: sh.replica.Addr(), Protocol: 2,
		OnConnect: func(ctx context.Context, cn *redis.Conn) error { return cn.ReadOnly(ctx).Err() }})
	defer rc.Close()
	if got, err := rc.Get(ctx, ctr).Int64(); err != nil || got != incrs+7 {
		t.Errorf("restarted replica: %s = %d (%v), want %d", ctr, got, err, incrs+7)
	}
	if got, err := rc.Get(ctx, key).Result(); err != nil || got != "while-down" {
		t.Errorf("restarted replica: %s = %q (%v), want %q", key, got, err, "while-down")
	}
}
