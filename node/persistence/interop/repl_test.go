package interop

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// writeLoad writes to c until stop is closed: strings, counters, lists,
// hashes, sets, sorted sets, expiries and deletes over a small key space.
func writeLoad(ctx context.Context, c *redis.Client, stop <-chan struct{}, n *atomic.Int64) (done func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			k := strconv.Itoa(i % 97)
			var err error
			switch i % 8 {
			case 0:
				err = c.Set(ctx, "s:"+k, i, 0).Err()
			case 1:
				err = c.Incr(ctx, "n:"+k).Err()
			case 2:
				err = c.RPush(ctx, "l:"+k, i).Err()
			case 3:
				err = c.HSet(ctx, "h:"+k, fmt.Sprint("f", i%13), i).Err()
			case 4:
				err = c.SAdd(ctx, "t:"+k, i%31).Err()
			case 5:
				err = c.ZAdd(ctx, "z:"+k, redis.Z{Score: float64(i) / 7, Member: i % 17}).Err()
			case 6:
				err = c.PExpireAt(ctx, "s:"+k, time.UnixMilli(farMs)).Err()
			case 7:
				err = c.Del(ctx, "t:"+strconv.Itoa((i/8)%97)).Err()
			}
			if err == nil {
				n.Add(1)
			}
		}
	}()
	return wg.Wait
}

// waitWrites waits until the load has made k more writes.
func waitWrites(t *testing.T, n *atomic.Int64, k int64) {
	t.Helper()
	target := n.Load() + k
	waitFor(t, fmt.Sprintf("%d writes", k), func() bool { return n.Load() >= target })
}

// fillSome gives a master data before the replica attaches, so the full
// sync carries every type.
func fillSome(t *testing.T, ctx context.Context, c *redis.Client) {
	t.Helper()
	if err := fillTypes(ctx, func(db int) *redis.Client {
		if db == 0 {
			return c
		}
		return redis.NewClient(&redis.Options{Addr: c.Options().Addr, DB: db, Protocol: 2})
	}); err != nil {
		t.Fatal(err)
	}
}

// replicate makes replica follow master under a write load, and checks
// that both hold the same keys at the end.
func replicate(t *testing.T, masterAddr string, masterPort int, replicaAddr string) {
	ctx := context.Background()
	m := redis.NewClient(&redis.Options{Addr: masterAddr, Protocol: 2})
	r := redis.NewClient(&redis.Options{Addr: replicaAddr, Protocol: 2})
	defer m.Close()
	defer r.Close()
	fillSome(t, ctx, m)
	stop := make(chan struct{})
	var writes atomic.Int64
	done := writeLoad(ctx, m, stop, &writes)
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		done()
	}()
	if err := r.Do(ctx, "REPLICAOF", "127.0.0.1", masterPort).Err(); err != nil {
		t.Fatal(err)
	}
	linkUp := func() {
		waitFor(t, "the link to come up", func() bool {
			return infoField(t, ctx, r, "replication", "master_link_status") == "up"
		})
	}
	linkUp()
	waitWrites(t, &writes, 300) // writes flow over the link
	// A link kill (from the master's side) resumes by a partial resync.
	if err := m.Do(ctx, "CLIENT", "KILL", "TYPE", "replica").Err(); err != nil {
		t.Fatal(err)
	}
	waitWrites(t, &writes, 100)
	linkUp()
	waitWrites(t, &writes, 300)
	close(stop)
	done()
	waitFor(t, "the replica to catch up", func() bool {
		mo := infoField(t, ctx, m, "replication", "master_repl_offset")
		return mo != "" && infoField(t, ctx, r, "replication", "master_repl_offset") == mo
	})
	if full, partial := infoField(t, ctx, m, "stats", "sync_full"), infoField(t, ctx, m, "stats", "sync_partial_ok"); full != "1" || partial != "1" {
		t.Errorf("master counted %s full and %s partial syncs, want 1 and 1", full, partial)
	}
	diff(t, "replica vs master", render(t, replicaAddr), render(t, masterAddr))
}

// TestNodeReplicatesRedis: a node as the replica of redis-server, with
// its diskless ($EOF: framing) and disk-based full syncs.
func TestNodeReplicatesRedis(t *testing.T) {
	for _, diskless := range []string{"yes", "no"} {
		t.Run("diskless="+diskless, func(t *testing.T) {
			m := startRedis(t, t.TempDir(), "--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0")
			n := startNode(t, t.TempDir())
			replicate(t, m.Addr, m.Port, n.Addr)
		})
	}
}

// TestRedisReplicatesNode: redis-server as the replica of a node.
func TestRedisReplicatesNode(t *testing.T) {
	n := startNode(t, t.TempDir())
	r := startRedis(t, t.TempDir(), "--repl-diskless-sync-delay", "0")
	replicate(t, n.Addr, n.Port, r.Addr)
}

// TestReplicaBacksOffOnSnapshotItCannotLoad: a master whose snapshot the
// node can never load (a key in database 20 of a master with 32
// databases, the node having 16) is not made to produce snapshots in a
// loop: the node waits 1s, 2s, 4s... between attempts.
func TestReplicaBacksOffOnSnapshotItCannotLoad(t *testing.T) {
	ctx := context.Background()
	mp := startRedis(t, t.TempDir(), "--repl-diskless-sync-delay", "0", "--databases", "32")
	m := redis.NewClient(&redis.Options{Addr: mp.Addr, Protocol: 2, DB: 20})
	defer m.Close()
	if err := m.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	np := startNode(t, t.TempDir())
	n := redis.NewClient(&redis.Options{Addr: np.Addr, Protocol: 2})
	defer n.Close()
	start := time.Now()
	if err := n.Do(ctx, "REPLICAOF", "127.0.0.1", mp.Port).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "three full syncs", func() bool {
		v, _ := strconv.Atoi(infoField(t, ctx, m, "stats", "sync_full"))
		return v >= 3
	})
	// Attempts at 0, 1s and 3s: without the back-off (500ms) the third
	// would come after about a second.
	if took := time.Since(start); took < 2500*time.Millisecond {
		t.Fatalf("three full syncs in %v: no back-off", took)
	}
	if !strings.Contains(np.Log(), "but this server has 16 databases") {
		t.Fatalf("the node's log does not say why:\n%s", np.Log())
	}
	n.Do(ctx, "REPLICAOF", "NO", "ONE")
}
