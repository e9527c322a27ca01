package server

import (
	"strconv"
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
