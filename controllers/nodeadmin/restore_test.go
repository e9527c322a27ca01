package nodeadmin_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/controllers/nodeadmin"
	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/node/cluster"
	"github.com/shoal-dev/shoal/node/clusteradmin"
	"github.com/shoal-dev/shoal/node/nodetest"
)

// TestRestoreKeysToEachMaster restores keys into three nodes standing for
// the masters of three slot ranges (the masters are written at the same
// time): each node holds exactly the keys of its slots, with their values
// and absolute expiries, and the counts by shard are right. A master that
// does not answer fails the call, naming its shard.
func TestRestoreKeysToEachMaster(t *testing.T) {
	ctx := context.Background()
	ranges := topology.EvenSlotRanges(3)
	var masters []nodeadmin.TargetMaster
	var clients []*redis.Client
	for i, r := range ranges {
		p := nodetest.Start(t, nodetest.Options{Binary: nodetest.Binary(t)})
		masters = append(masters, nodeadmin.TargetMaster{Shard: 10 + i, Addr: p.Addr, Slots: []clusteradmin.SlotRange{r}})
		c := redis.NewClient(&redis.Options{Addr: p.Addr, Protocol: 2, DisableIdentity: true})
		t.Cleanup(func() { c.Close() })
		clients = append(clients, c)
	}
	target, err := nodeadmin.NewImportTarget(masters, nodeadmin.SourceAuth{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()

	// DUMP payloads made by a node, so the test needs no knowledge of
	// the format.
	const n = 3000
	expireAt := time.Now().Add(time.Hour).UnixMilli()
	var keys []nodeadmin.RestoreKey
	for i := range n {
		k := fmt.Sprintf("k:%d", i)
		if err := clients[0].Set(ctx, "tmp", "value of "+k, 0).Err(); err != nil {
			t.Fatal(err)
		}
		payload, err := clients[0].Dump(ctx, "tmp").Result()
		if err != nil {
			t.Fatal(err)
		}
		rk := nodeadmin.RestoreKey{Key: k, Payload: payload}
		if i%2 == 0 {
			rk.ExpireAt = expireAt + int64(i)
		}
		keys = append(keys, rk)
	}
	if err := clients[0].Del(ctx, "tmp").Err(); err != nil {
		t.Fatal(err)
	}
	restored, err := target.RestoreKeys(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]int64{}
	for _, k := range keys {
		slot := cluster.KeyHashSlot([]byte(k.Key))
		for i, r := range ranges {
			if slot >= r.First && slot <= r.Last {
				want[10+i]++
				c := clients[i]
				v, err := c.Get(ctx, k.Key).Result()
				at, err2 := c.Do(ctx, "PEXPIRETIME", k.Key).Int64()
				wantAt := k.ExpireAt
				if wantAt == 0 {
					wantAt = -1
				}
				if err != nil || err2 != nil || v != "value of "+k.Key || at != wantAt {
					t.Fatalf("%s on shard %d: %q expiring at %d (%v, %v), want %q at %d", k.Key, 10+i, v, at, err, err2, "value of "+k.Key, wantAt)
				}
			}
		}
	}
	for i, c := range clients {
		if got := c.DBSize(ctx).Val(); got != want[10+i] || restored[10+i] != want[10+i] {
			t.Errorf("shard %d: %d keys, RestoreKeys says %d, want %d", 10+i, got, restored[10+i], want[10+i])
		}
	}

	masters[1].Addr = "127.0.0.1:1"
	broken, err := nodeadmin.NewImportTarget(masters, nodeadmin.SourceAuth{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer broken.Close()
	if _, err := broken.RestoreKeys(ctx, keys); err == nil || !strings.Contains(err.Error(), "shard 11") {
		t.Errorf("a master that does not answer: %v, want an error naming shard 11", err)
	}
}
