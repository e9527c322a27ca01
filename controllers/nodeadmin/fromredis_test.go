package nodeadmin_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/controllers/nodeadmin"
	"github.com/shoal-dev/shoal/controllers/topology"
)

// TestImportFromRedisCluster copies a Redis Cluster (three redis-server
// masters) into another (three more) with the import I/O: SourceMasters
// finds the source's masters, CopyBatch moves every key to the master of
// its slot with its value and TTL, and a batch copied twice changes
// nothing. A write on the source held by PauseWrites waits until
// UnpauseWrites, while reads go on.
func TestImportFromRedisCluster(t *testing.T) {
	ctx := context.Background()
	d := topology.Desired{Masters: 3}
	srcNodes, dstNodes := startRedisNodes(t, 3), startRedisNodes(t, 3)
	form(t, srcNodes, dial(t, srcNodes), d)
	dstClients := dial(t, dstNodes)
	form(t, dstNodes, dstClients, d)

	src := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{srcNodes[0].addr()}, Password: password})
	defer src.Close() //nolint:errcheck // test client
	const keys = 2000
	for i := range keys {
		var err error
		switch i % 3 {
		case 0:
			err = src.Set(ctx, fmt.Sprintf("s:%d", i), i, 0).Err()
		case 1:
			err = src.Set(ctx, fmt.Sprintf("t:%d", i), i, time.Hour).Err()
		case 2:
			err = src.SAdd(ctx, fmt.Sprintf("set:{x}%d", i), "a", i).Err()
		}
		if err != nil {
			t.Fatal(err)
		}
	}

	auth := nodeadmin.SourceAuth{Password: password, Timeout: 10 * time.Second}
	sources, err := nodeadmin.SourceMasters(ctx, true, []string{"127.0.0.1:1", srcNodes[1].addr()}, auth)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{srcNodes[0].addr(), srcNodes[1].addr(), srcNodes[2].addr()}
	slices.Sort(sources)
	slices.Sort(want)
	if !slices.Equal(sources, want) {
		t.Fatalf("source masters %v, want %v (the first address does not answer)", sources, want)
	}

	var masters []nodeadmin.TargetMaster
	for i, m := range members(ctx, dstNodes, dstClients, d) {
		me, _ := m.View.Myself()
		masters = append(masters, nodeadmin.TargetMaster{Shard: i, Addr: m.Addr(), Slots: me.Slots})
	}
	target, err := nodeadmin.NewImportTarget(masters, nodeadmin.SourceAuth{Password: password, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	copyAll := func() int64 {
		var n int64
		for _, a := range sources {
			c := nodeadmin.DialSource(a, auth)
			for cursor := uint64(0); ; {
				next, copied, err := nodeadmin.CopyBatch(ctx, c, cursor, 100, target)
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range copied {
					n += k
				}
				if cursor = next; cursor == 0 {
					break
				}
			}
			_ = c.Close()
		}
		return n
	}
	if n := copyAll(); n != keys {
		t.Fatalf("copied %d keys, want %d", n, keys)
	}
	copyAll() // a second pass restores the same values

	dst := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{dstNodes[0].addr()}, Password: password})
	defer dst.Close() //nolint:errcheck // test client
	var total int64
	if err := dst.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		n, err := m.DBSize(ctx).Result()
		total += n
		return err
	}); err != nil || total != keys {
		t.Fatalf("the target holds %d keys (%v), want %d", total, err, keys)
	}
	for i := range keys {
		switch i % 3 {
		case 0:
			if v, err := dst.Get(ctx, fmt.Sprintf("s:%d", i)).Int(); err != nil || v != i {
				t.Fatalf("s:%d = %d, %v", i, v, err)
			}
		case 1:
			if ttl := dst.TTL(ctx, fmt.Sprintf("t:%d", i)).Val(); ttl < 50*time.Minute || ttl > time.Hour {
				t.Fatalf("t:%d TTL %v, want about an hour", i, ttl)
			}
		case 2:
			if m := dst.SMembers(ctx, fmt.Sprintf("set:{x}%d", i)).Val(); len(m) != 2 {
				t.Fatalf("set:{x}%d = %v", i, m)
			}
		}
	}

	// The hold of the cut-over: writes wait, reads do not.
	owner, err := src.MasterForKey(ctx, "{held}")
	if err != nil {
		t.Fatal(err)
	}
	heldAddr := owner.Options().Addr
	c := nodeadmin.DialSource(heldAddr, auth)
	defer c.Close() //nolint:errcheck // test client
	if err := nodeadmin.PauseWrites(ctx, c, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	writer := redis.NewClient(&redis.Options{Addr: heldAddr, Password: password})
	defer writer.Close() //nolint:errcheck // test client
	if err := writer.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	written := make(chan error, 1)
	start := time.Now()
	go func() { written <- writer.Do(ctx, "SET", "{held}", "1").Err() }()
	if err := writer.Conn().Ping(ctx).Err(); err != nil { // a read on another connection goes on
		t.Fatal(err)
	}
	select {
	case err := <-written:
		t.Fatalf("a write went through the hold after %v: %v", time.Since(start), err)
	case <-time.After(500 * time.Millisecond):
	}
	if err := nodeadmin.UnpauseWrites(ctx, c); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-written:
		if err != nil {
			t.Fatalf("the held write after the release: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the held write was not released")
	}
}
