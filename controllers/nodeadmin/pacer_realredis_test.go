package nodeadmin_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/controllers/nodeadmin"
	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// migrateRecorder counts the keys of each MIGRATE and how many run on a
// node (source or target) at once.
type migrateRecorder struct {
	clusteradmin.Client
	addr string
	rec  *migrateLog
}

type migrateLog struct {
	mu      sync.Mutex
	batches []int
	running map[string]int
	most    int
}

func (c *migrateRecorder) MigrateKeys(ctx context.Context, ip string, port int, keys []string, timeout time.Duration, auth clusteradmin.Auth, replace bool) error {
	target := fmt.Sprintf("%s:%d", ip, port)
	l := c.rec
	l.mu.Lock()
	l.batches = append(l.batches, len(keys))
	for _, n := range []string{c.addr, target} {
		l.running[n]++
		l.most = max(l.most, l.running[n])
	}
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.running[c.addr]--
		l.running[target]--
		l.mu.Unlock()
	}()
	return c.Client.MigrateKeys(ctx, ip, port, keys, timeout, auth, replace)
}

// A paced move against real Redis nodes: every key arrives once, batches
// start at pacerFirstBatch and stay within KeysPerBatch, and with four
// slots in flight no node ever runs two MIGRATEs at once.
func TestPacedSlotMoverAgainstRealRedis(t *testing.T) {
	d := topology.Desired{Masters: 3}
	nodes, clients, cc := formedCluster(t, d)
	ctx := context.Background()
	want := map[string]string{}
	for s := range 4 {
		for i := range 400 {
			want[fmt.Sprintf("{t%d}:%d", s, i)] = fmt.Sprint(i)
		}
	}
	for k, v := range want {
		if err := cc.Set(ctx, k, v, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	ms := members(ctx, nodes, clients, d)
	byID := map[string]topology.Member{}
	var ids []string
	for _, m := range ms {
		byID[m.ID()] = m
		ids = append(ids, m.ID())
	}
	owners := topology.Owners(topology.Shards(ms, 3))
	var jobs [][]topology.SlotOp
	var slots []int
	for s := range 4 {
		slot := int(cc.ClusterKeySlot(ctx, fmt.Sprintf("{t%d}", s)).Val())
		from := owners[slot]
		slots = append(slots, slot)
		jobs = append(jobs, topology.MoveSlotOps(slot, ids[from], ids[(from+1)%3]))
	}
	log := &migrateLog{running: map[string]int{}}
	mover := &nodeadmin.SlotMover{
		Dial: func(addr string, auth clusteradmin.Auth) clusteradmin.Client {
			c := clusteradmin.New(addr, clusteradmin.Options{Password: auth.Password, Timeout: 10 * time.Second})
			return &migrateRecorder{Client: c, addr: addr, rec: log}
		},
		Auth: clusteradmin.Auth{Password: password}, KeysPerBatch: 300, CommandTimeout: 10 * time.Second, MigrateTimeout: 5 * time.Second,
		Addr:  func(id string) (string, int, bool) { m, ok := byID[id]; return m.IP, m.Port, ok },
		Pacer: nodeadmin.NewPacer(2*time.Millisecond, 300),
	}
	if done, err := mover.Run(ctx, jobs, 4, time.Now().Add(time.Minute)); err != nil || done != len(jobs) {
		t.Fatalf("moved %d of %d slots: %v", done, len(jobs), err)
	}
	if len(log.batches) < 4 || log.batches[0] != 50 {
		t.Fatalf("MIGRATE batches %v: want the first of 50 keys", log.batches)
	}
	total := 0
	for _, n := range log.batches {
		if n > 300 {
			t.Fatalf("a MIGRATE of %d keys, more than keysPerBatch 300 (batches %v)", n, log.batches)
		}
		total += n
	}
	if total != len(want) {
		t.Fatalf("MIGRATEs moved %d keys, want %d (batches %v)", total, len(want), log.batches)
	}
	if log.most != 1 {
		t.Fatalf("%d MIGRATEs ran on one node at once, want 1", log.most)
	}
	eventually(t, 30*time.Second, func() error {
		ms := members(ctx, nodes, clients, d)
		now := topology.Owners(topology.Shards(ms, 3))
		for i, s := range slots {
			if now[s] == owners[s] {
				return fmt.Errorf("slot %d (job %d) still on shard %d", s, i, now[s])
			}
		}
		return nil
	})
	// A bystander may still send a client to the old owner (MOVED back
	// and forth) until the new owner's epoch has reached it by gossip.
	eventually(t, 30*time.Second, func() error {
		for k, v := range want {
			if got, err := cc.Get(ctx, k).Result(); got != v {
				return fmt.Errorf("%s = %q (%v), want %q", k, got, err, v)
			}
		}
		return nil
	})
}
