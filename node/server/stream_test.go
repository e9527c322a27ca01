package server

import (
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Stream behaviour beyond single replies: blocking reads, go-redis's
// stream API, persistence round trips and replication of group state.

func TestXReadBlockIsServedByXAddInOrder(t *testing.T) {
	n := startNode(t)
	w1, w2, adder := n.client(t), n.client(t), n.client(t)
	ctx := ctxT(t)
	adder.XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: "1-1", Values: []string{"a", "1"}})
	done := make(chan result, 2)
	read := func(c *redis.Client) {
		v, err := c.XRead(ctx, &redis.XReadArgs{Streams: []string{"s", "$"}, Block: 0}).Result()
		var ids []string
		for _, st := range v {
			for _, m := range st.Messages {
				ids = append(ids, st.Stream+":"+m.ID)
			}
		}
		done <- result{ids, err}
	}
	go read(w1)
	waitBlocked(t, adder, 1)
	go read(w2)
	waitBlocked(t, adder, 2)
	adder.XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: "2-1", Values: []string{"b", "2"}})
	for i := 0; i < 2; i++ {
		r := await(t, done, "XREAD BLOCK")
		if r.err != nil || !reflect.DeepEqual(r.vals, []string{"s:2-1"}) {
			t.Fatalf("XREAD BLOCK $ = %q, %v; want [s:2-1]", r.vals, r.err)
		}
	}
	// A timeout answers nil.
	if err := w1.XRead(ctx, &redis.XReadArgs{Streams: []string{"s", "$"}, Block: 20 * time.Millisecond}).Err(); err != redis.Nil {
		t.Fatalf("XREAD BLOCK 20 timed out with %v, want nil", err)
	}
}

func TestXReadGroupBlockServesOneConsumerAndErrorsWhenGroupOrKeyGoes(t *testing.T) {
	n := startNode(t)
	c1, c2, admin := n.client(t), n.client(t), n.client(t)
	ctx := ctxT(t)
	if err := admin.XGroupCreateMkStream(ctx, "s", "g", "$").Err(); err != nil {
		t.Fatal(err)
	}
	done := make(chan result, 2)
	read := func(c *redis.Client, consumer string) {
		v, err := c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: consumer, Streams: []string{"s", ">"}, Block: 0}).Result()
		var ids []string
		for _, st := range v {
			for _, m := range st.Messages {
				ids = append(ids, consumer+":"+m.ID)
			}
		}
		done <- result{ids, err}
	}
	go read(c1, "alice")
	waitBlocked(t, admin, 1)
	go read(c2, "bob")
	waitBlocked(t, admin, 2)
	admin.XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: "5-1", Values: []string{"k", "v"}})
	r := await(t, done, "XREADGROUP BLOCK")
	if r.err != nil || !reflect.DeepEqual(r.vals, []string{"alice:5-1"}) {
		t.Fatalf("first blocked consumer got %q, %v; want [alice:5-1]", r.vals, r.err)
	}
	waitBlocked(t, admin, 1) // bob keeps waiting: the entry went to alice
	if p := admin.XPending(ctx, "s", "g").Val(); p.Count != 1 || p.Consumers["alice"] != 1 {
		t.Fatalf("XPENDING = %+v", p)
	}
	admin.XGroupDestroy(ctx, "s", "g")
	r = await(t, done, "XREADGROUP after XGROUP DESTROY")
	if r.err == nil || r.err.Error() != "NOGROUP the consumer group this client was blocked on no longer exists" {
		t.Fatalf("after XGROUP DESTROY: %v", r.err)
	}
	admin.XGroupCreate(ctx, "s", "g", "$")
	go read(c1, "alice")
	waitBlocked(t, admin, 1)
	admin.Del(ctx, "s")
	r = await(t, done, "XREADGROUP after DEL")
	if r.err == nil || r.err.Error() != "UNBLOCKED the stream key no longer exists" {
		t.Fatalf("after DEL: %v", r.err)
	}
}

func TestStreamsWithGoRedis(t *testing.T) {
	n := startNode(t)
	c := n.client(t)
	ctx := ctxT(t)
	var ids []string
	for i := 0; i < 5; i++ {
		id, err := c.XAdd(ctx, &redis.XAddArgs{Stream: "jobs", Values: map[string]any{"n": i}}).Result()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := c.XGroupCreate(ctx, "jobs", "workers", "0").Err(); err != nil {
		t.Fatal(err)
	}
	got, err := c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "workers", Consumer: "w1", Streams: []string{"jobs", ">"}, Count: 3}).Result()
	if err != nil || len(got) != 1 || len(got[0].Messages) != 3 || got[0].Messages[0].Values["n"] != "0" {
		t.Fatalf("XREADGROUP = %+v, %v", got, err)
	}
	if n, err := c.XAck(ctx, "jobs", "workers", ids[0]).Result(); err != nil || n != 1 {
		t.Fatalf("XACK = %d, %v", n, err)
	}
	pend, err := c.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: "jobs", Group: "workers", Start: "-", End: "+", Count: 10}).Result()
	if err != nil || len(pend) != 2 || pend[0].ID != ids[1] || pend[0].Consumer != "w1" || pend[0].RetryCount != 1 {
		t.Fatalf("XPENDING = %+v, %v", pend, err)
	}
	claimed, err := c.XClaim(ctx, &redis.XClaimArgs{Stream: "jobs", Group: "workers", Consumer: "w2", MinIdle: 0, Messages: []string{ids[1]}}).Result()
	if err != nil || len(claimed) != 1 || claimed[0].ID != ids[1] {
		t.Fatalf("XCLAIM = %+v, %v", claimed, err)
	}
	msgs, start, err := c.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: "jobs", Group: "workers", Consumer: "w3", Start: "0", Count: 10}).Result()
	if err != nil || len(msgs) != 2 || start != "0-0" {
		t.Fatalf("XAUTOCLAIM = %+v %q, %v", msgs, start, err)
	}
	groups, err := c.XInfoGroups(ctx, "jobs").Result()
	if err != nil || len(groups) != 1 || groups[0].Pending != 2 || groups[0].EntriesRead != 3 || groups[0].Lag != 2 {
		t.Fatalf("XINFO GROUPS = %+v, %v", groups, err)
	}
	cons, err := c.XInfoConsumers(ctx, "jobs", "workers").Result()
	if err != nil || len(cons) != 3 || cons[2].Name != "w3" || cons[2].Pending != 2 {
		t.Fatalf("XINFO CONSUMERS = %+v, %v", cons, err)
	}
	if n, err := c.XTrimMaxLen(ctx, "jobs", 2).Result(); err != nil || n != 3 {
		t.Fatalf("XTRIM = %d, %v", n, err)
	}
}

// streamState is what must survive a restart, a DUMP/RESTORE or reach a
// replica: entries, counters, groups, PEL with delivery counts.
func streamState(t *testing.T, c *redis.Client, key string) string {
	t.Helper()
	ctx := ctxT(t)
	s := fmt.Sprint(c.XRange(ctx, key, "-", "+").Val())
	// radix-tree-keys and -nodes depend on how entries were packed, which
	// a reload (as Redis's AOF replay) does afresh.
	info, _ := c.Do(ctx, "XINFO", "STREAM", key).Result()
	if m, ok := info.(map[any]any); ok {
		delete(m, "radix-tree-keys")
		delete(m, "radix-tree-nodes")
	}
	groups := c.Do(ctx, "XINFO", "GROUPS", key).Val()
	s += fmt.Sprint(info, groups)
	for _, g := range c.XInfoGroups(ctx, key).Val() {
		p := c.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: key, Group: g.Name, Start: "-", End: "+", Count: 1000}).Val()
		for _, e := range p {
			s += fmt.Sprintf(" %s/%s/%d", e.ID, e.Consumer, e.RetryCount)
		}
		for _, cs := range c.XInfoConsumers(ctx, key, g.Name).Val() {
			s += fmt.Sprintf(" %s:%d", cs.Name, cs.Pending)
		}
	}
	return s
}

// fillStream builds a stream with deletions, trimming and two groups.
func fillStream(t *testing.T, c *redis.Client, key string) {
	t.Helper()
	ctx := ctxT(t)
	for i := 1; i <= 300; i++ {
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: key, ID: strconv.Itoa(i) + "-1", Values: []string{"f", strconv.Itoa(i), "g", "x"}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	c.XAdd(ctx, &redis.XAddArgs{Stream: key, ID: "301-1", Values: []string{"other", "fields"}})
	c.XDel(ctx, key, "150-1", "151-1")
	c.XTrimMaxLenApprox(ctx, key, 250, 0)
	c.XGroupCreate(ctx, key, "g1", "0")
	c.XGroupCreate(ctx, key, "g2", "$")
	c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g1", Consumer: "a", Streams: []string{key, ">"}, Count: 20})
	c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g1", Consumer: "b", Streams: []string{key, ">"}, Count: 5})
	c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g1", Consumer: "c", Streams: []string{key, ">"}, Count: 5, NoAck: true})
	c.XAck(ctx, key, "g1", "110-1")
	c.Do(ctx, "XCLAIM", key, "g1", "b", "0", "102-1", "RETRYCOUNT", "7")
	c.XGroupCreateConsumer(ctx, key, "g2", "idle")
}

func TestStreamSurvivesSnapshotAOFAndDumpRestore(t *testing.T) {
	for _, mode := range []string{"snapshot", "aof"} {
		t.Run(mode, func(t *testing.T) {
			args := []string{}
			if mode == "aof" {
				args = []string{"--appendonly", "yes"}
			}
			n := newPersistNode(t, args...)
			c := n.start()
			requirePersistence(t, c)
			fillStream(t, c, "s")
			want := streamState(t, c, "s")
			if mode == "snapshot" {
				if err := c.Save(ctxT(t)).Err(); err != nil {
					t.Fatal(err)
				}
			} else if err := c.Do(ctxT(t), "BGREWRITEAOF").Err(); err != nil {
				t.Fatal(err)
			} else {
				// Writes after the rewrite go to the incremental file.
				c.XAdd(ctxT(t), &redis.XAddArgs{Stream: "s", ID: "400-1", Values: []string{"late", "1"}})
				c.XReadGroup(ctxT(t), &redis.XReadGroupArgs{Group: "g2", Consumer: "z", Streams: []string{"s", ">"}})
				want = streamState(t, c, "s")
			}
			n.stop()
			c = n.start()
			if got := streamState(t, c, "s"); got != want {
				t.Fatalf("after restart: %s", firstDifference(got, want))
			}
			dump, err := c.Dump(ctxT(t), "s").Result()
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Restore(ctxT(t), "copy", 0, dump).Err(); err != nil {
				t.Fatal(err)
			}
			if got := streamState(t, c, "copy"); got != want {
				t.Fatalf("after DUMP/RESTORE: %s", firstDifference(got, want))
			}
		})
	}
}

func TestStreamGroupStateReachesReplica(t *testing.T) {
	m := startNode(t)
	mc := m.client(t)
	r := startNode(t, "--replicaof", "127.0.0.1", strconv.Itoa(m.Port))
	rc := r.client(t)
	replWaitInSync(t, mc, rc)
	ctx := ctxT(t)
	fillStream(t, mc, "s")
	for i := 0; i < 3; i++ {
		mc.XAdd(ctx, &redis.XAddArgs{Stream: "s", Values: []string{"auto", "id"}}) // "*": the ID propagates
	}
	mc.XAdd(ctx, &redis.XAddArgs{Stream: "s", MaxLen: 200, Approx: true, ID: "*", Values: []string{"t", "1"}})
	mc.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: "s", Group: "g1", Consumer: "d", Start: "0", Count: 3})
	mc.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g2", Consumer: "e", Streams: []string{"s", ">"}, Count: 2})
	replWaitInSync(t, mc, rc)
	if got, want := streamState(t, rc, "s"), streamState(t, mc, "s"); got != want {
		t.Fatalf("replica: %s", firstDifference(got, want))
	}
}

// firstDifference shows where two long states part.
func firstDifference(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(i-80, 0)
	return fmt.Sprintf("at byte %d:\n got ...%s\nwant ...%s", i, got[from:min(i+200, len(got))], want[from:min(i+200, len(want))])
}
