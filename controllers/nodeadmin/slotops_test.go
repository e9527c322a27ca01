package nodeadmin_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/controllers/nodeadmin"
	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// TestSlotMoverAgainstRealRedis moves slots between Debian's redis-server
// nodes (the reference implementation) with the operator's engine: once
// straight through, and once stopped at the mid-keys failpoint and then
// closed by the open-slot planner from what the nodes report. Every key
// keeps its value and redis-cli finds no open slot.
func TestSlotMoverAgainstRealRedis(t *testing.T) {
	d := topology.Desired{Masters: 3}
	nodes, clients, cc := formedCluster(t, d)
	ctx := context.Background()
	want := map[string]string{}
	for i := range 2000 {
		want[fmt.Sprintf("k%d", i)] = fmt.Sprint(i)
	}
	for i := range 250 { // one slot with many keys: several MIGRATE batches
		want[fmt.Sprintf("{tag}:%d", i)] = fmt.Sprint(i)
	}
	for k, v := range want {
		if err := cc.Set(ctx, k, v, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	tagSlot := int(cc.ClusterKeySlot(ctx, "{tag}").Val())

	observe := func() ([]topology.Member, map[string]topology.Member) {
		ms := members(ctx, nodes, clients, d)
		byID := map[string]topology.Member{}
		for _, m := range ms {
			byID[m.ID()] = m
		}
		return ms, byID
	}
	mover := func(byID map[string]topology.Member, failpoint func(string) bool) *nodeadmin.SlotMover {
		return &nodeadmin.SlotMover{
			Dial: func(addr string, auth clusteradmin.Auth) clusteradmin.Client {
				return clusteradmin.New(addr, clusteradmin.Options{Password: auth.Password, Timeout: 10 * time.Second})
			},
			Auth: clusteradmin.Auth{Password: password}, KeysPerBatch: 30, CommandTimeout: 10 * time.Second, MigrateTimeout: 5 * time.Second,
			Addr:      func(id string) (string, int, bool) { m, ok := byID[id]; return m.IP, m.Port, ok },
			Failpoint: failpoint,
		}
	}
	ownerShard := func(slot int) int {
		ms, _ := observe()
		return topology.Owners(topology.Shards(ms, 3))[slot]
	}
	from := ownerShard(tagSlot)
	to := (from + 1) % 3

	// 1. Straight through: the tagged slot and 99 others of its shard.
	ms, byID := observe()
	ids := []string{ms[0].ID(), ms[1].ID(), ms[2].ID()}
	me, _ := ms[from].View.Myself()
	slots := []int{tagSlot}
	for s := me.Slots[0].First; len(slots) < 100; s++ {
		if s != tagSlot {
			slots = append(slots, s)
		}
	}
	var jobs [][]topology.SlotOp
	for _, s := range slots {
		jobs = append(jobs, topology.MoveSlotOps(s, ids[from], ids[to]))
	}
	done, err := mover(byID, nil).Run(ctx, jobs, 4, time.Now().Add(time.Minute))
	if err != nil || done != len(jobs) {
		t.Fatalf("moved %d of %d slots: %v", done, len(jobs), err)
	}
	eventually(t, 30*time.Second, func() error {
		for _, s := range slots {
			if o := ownerShard(s); o != to {
				return fmt.Errorf("slot %d owned by shard %d", s, o)
			}
		}
		return nil
	})
	if n, _ := clients[to].CountKeysInSlots(ctx, []int{tagSlot}); n[0] != 250 {
		t.Errorf("the target holds %d keys of the tagged slot, want 250", n[0])
	}

	// 2. Stopped after the first batch of the tagged slot's keys, moving it
	// back: both sides are open, keys on both.
	ms, byID = observe()
	stopped := mover(byID, func(p string) bool { return p == topology.FailpointMidKeys })
	_, err = stopped.Run(ctx, [][]topology.SlotOp{topology.MoveSlotOps(tagSlot, ids[to], ids[from])}, 1, time.Now().Add(time.Minute))
	if !errors.Is(err, nodeadmin.ErrStopped) {
		t.Fatalf("Run = %v, want ErrStopped", err)
	}
	ms, byID = observe()
	open := topology.OpenSlots(ms)
	if len(open) != 1 || open[0].Slot != tagSlot {
		t.Fatalf("open slots %+v", open)
	}
	keys := map[string]int64{}
	for i, c := range clients {
		n, err := c.CountKeysInSlots(ctx, []int{tagSlot})
		if err != nil {
			t.Fatal(err)
		}
		keys[ms[i].ID()] = n[0]
	}
	if keys[ids[to]] != 220 || keys[ids[from]] != 30 {
		t.Errorf("keys after one batch: %v", keys)
	}
	// A stale copy of a key the source still serves, on the importing
	// target (as a MIGRATE that failed after the target restored it
	// leaves one): the fix must move the source's value over it.
	staleKey := busyCopy(t, nodes[to].addr(), nodes[from].addr(), tagSlot) // moving back: to -> from
	fix := topology.PlanOpenSlot(open[0], keys, ids)
	if fix.Blocked != "" || fix.Wait != "" {
		t.Fatalf("fix %+v", fix)
	}
	if _, err := mover(byID, nil).Run(ctx, [][]topology.SlotOp{fix.Ops}, 1, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() error {
		if o := ownerShard(tagSlot); o != from {
			return fmt.Errorf("tagged slot owned by shard %d", o)
		}
		if ms, _ := observe(); len(topology.OpenSlots(ms)) > 0 {
			return errors.New("slots still open")
		}
		return nil
	})

	for k, v := range want {
		if got, err := cc.Get(ctx, k).Result(); got != v {
			t.Fatalf("%s = %q (%v), want %q (the stale copy was %s)", k, got, err, v, staleKey)
		}
	}
	waitClusterCheck(t, nodes[0].addr(), password, false)
}

// TestSlotMoverSetSlotNodeOnSourceTurnedReplica: a source that gave its last
// slot away may become a replica of the new owner before its own SETSLOT
// NODE arrives (found by the Day-2 e2e during a scale in). Redis then
// answers "ERR Please use SETSLOT only with masters."; the move is done, as
// redis-cli --cluster takes it. The same reply from the target still fails
// the move.
func TestSlotMoverSetSlotNodeOnSourceTurnedReplica(t *testing.T) {
	d := topology.Desired{Masters: 3, ReplicasPerMaster: 1}
	nodes := startRedisNodes(t, 6)
	clients := dial(t, nodes)
	form(t, nodes, clients, d)
	ctx := context.Background()
	ms := members(ctx, nodes, clients, d)
	byID := map[string]topology.Member{}
	for _, m := range ms {
		byID[m.ID()] = m
	}
	master, replica := ms[0].ID(), ms[1].ID() // shard 0: ordinal 0 and 1
	if me, _ := ms[1].View.Myself(); me.MasterID != master {
		t.Fatalf("node-1 is not a replica of node-0: %+v", me)
	}
	mover := &nodeadmin.SlotMover{
		Dial: func(addr string, auth clusteradmin.Auth) clusteradmin.Client {
			return clusteradmin.New(addr, clusteradmin.Options{Password: auth.Password, Timeout: 10 * time.Second})
		},
		Auth: clusteradmin.Auth{Password: password}, KeysPerBatch: 10, CommandTimeout: 10 * time.Second, MigrateTimeout: 5 * time.Second,
		Addr: func(id string) (string, int, bool) { m, ok := byID[id]; return m.IP, m.Port, ok },
	}
	onSource := topology.SlotOp{Type: topology.OpSetSlot, Slot: 0, Node: replica, State: topology.SlotNode, Arg: master}
	if done, err := mover.Run(ctx, [][]topology.SlotOp{{onSource}}, 1, time.Now().Add(time.Minute)); err != nil || done != 1 {
		t.Errorf("SETSLOT NODE on a source that is a replica now: done %d, %v; want done", done, err)
	}
	onTarget := topology.SlotOp{Type: topology.OpSetSlot, Slot: 0, Node: replica, State: topology.SlotNode, Arg: replica}
	if _, err := mover.Run(ctx, [][]topology.SlotOp{{onTarget}}, 1, time.Now().Add(time.Minute)); err == nil {
		t.Error("SETSLOT NODE on a target that is a replica succeeded")
	}
}

// busyCopy writes, on the importing target, a stale value of a key of slot
// that the migrating source still holds (ASKING lets the target take it),
// and returns the key.
func busyCopy(t *testing.T, source, target string, slot int) string {
	t.Helper()
	ctx := context.Background()
	src := redis.NewClient(&redis.Options{Addr: source, Password: password})
	defer src.Close()
	keys, err := src.ClusterGetKeysInSlot(ctx, slot, 1).Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("CLUSTER GETKEYSINSLOT %d on the source: %v %v", slot, keys, err)
	}
	dst := redis.NewClient(&redis.Options{Addr: target, Password: password})
	defer dst.Close()
	pipe := dst.Pipeline()
	pipe.Do(ctx, "ASKING")
	set := pipe.Set(ctx, keys[0], "stale copy", 0)
	if _, err := pipe.Exec(ctx); err != nil || set.Err() != nil {
		t.Fatalf("ASKING + SET %s on the target: %v %v", keys[0], err, set.Err())
	}
	return keys[0]
}
