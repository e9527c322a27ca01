package sentinel_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/nodetest"
)

// diffTopology is a master and two replicas of our nodes monitored by one
// of our sentinels and one of Debian's redis-sentinel (each the "other
// sentinel" of the other).
type diffTopology struct {
	nodes       []*nodetest.Proc
	ours, redis *nodetest.Proc
}

func startDiffTopology(t *testing.T, ctx context.Context, sentinelConf ...string) *diffTopology {
	t.Helper()
	m := startNode(t)
	r1 := startNode(t, "--replicaof", "127.0.0.1", strconv.Itoa(m.Port))
	r2 := startNode(t, "--replicaof", "127.0.0.1", strconv.Itoa(m.Port))
	waitInSync(t, ctx, client(t, m.Addr), 2)
	top := &diffTopology{nodes: []*nodetest.Proc{m, r1, r2}}
	top.redis = startSentinel(t, nodetest.RedisServer(t), m.Port, 2, sentinelConf...)
	top.ours = startSentinel(t, "", m.Port, 2, sentinelConf...)
	for _, s := range []*nodetest.Proc{top.ours, top.redis} {
		waitDiscovered(t, ctx, client(t, s.Addr), 2, 1)
	}
	return top
}

func clientProto(t *testing.T, addr string, proto int) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: proto, MaxRetries: -1, ReadTimeout: 5 * time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

func render(v any, err error) string {
	if err != nil {
		return "ERR: " + err.Error()
	}
	return fmt.Sprintf("%#v", v)
}

// A master with requirepass: with auth-pass both sentinels see it and its
// replicas as healthy.
func TestDifferentialAuthPass(t *testing.T) {
	ctx := ctxT(t)
	auth := []string{"--requirepass", "pw", "--masterauth", "pw"}
	m := startNode(t, auth...)
	startNode(t, append([]string{"--replicaof", "127.0.0.1", strconv.Itoa(m.Port)}, auth...)...)
	for _, bin := range []string{"", nodetest.RedisServer(t)} {
		s := startSentinel(t, bin, m.Port, 1, "sentinel auth-pass "+masterName+" pw")
		c := client(t, s.Addr)
		eventually(t, settleTimeout, "the replica discovered through AUTH", func() error {
			f, err := masterFields(ctx, c)
			if err != nil {
				return err
			}
			if f["num-slaves"] != "1" || f["flags"] != "master" || f["runid"] == "" {
				return fmt.Errorf("master %v", f)
			}
			return nil
		})
	}
}

// The same commands to our sentinel and to Redis's: the same replies, for
// errors, addresses, quorum checks, roles and the instance replies' fields.
func TestDifferentialReplies(t *testing.T) {
	ctx := ctxT(t)
	top := startDiffTopology(t, ctx)
	m := top.nodes[0]
	same := [][]any{
		{"PING"}, {"PING", "hi"}, {"ROLE"}, {"GET", "foo"}, {"SET", "a", "b", "c"}, {"FLUSHALL"},
		{"SENTINEL"}, {"SENTINEL", "foo"}, {"SENTINEL", "MASTER"}, {"SENTINEL", "MASTER", "nope"},
		{"SENTINEL", "REPLICAS", "nope"}, {"SENTINEL", "SENTINELS", "nope"},
		{"SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName}, {"SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nope"},
		{"SENTINEL", "CKQUORUM", masterName}, {"SENTINEL", "CKQUORUM", "nope"},
		{"SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "1", "0", "*"},
		{"SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", strconv.Itoa(m.Port), "0", "*"},
		{"SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "x", "0", "*"},
		{"SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "1", "0"},
		{"SENTINEL", "MONITOR", "other", "127.0.0.1", "1", "x"},
		{"SENTINEL", "MONITOR", "other", "127.0.0.1", "x", "2"},
		{"SENTINEL", "MONITOR", "other", "127.0.0.1", "1", "0"},
		{"SENTINEL", "MONITOR", "other", "not-an-ip", "1", "2"},
		{"SENTINEL", "MONITOR", masterName, "127.0.0.1", "1", "2"},
		{"SENTINEL", "SET", masterName, "foo", "bar"}, {"SENTINEL", "SET", masterName, "quorum", "x"},
		{"SENTINEL", "SET", masterName, "quorum"}, {"SENTINEL", "SET", "nope", "quorum", "2"},
		{"SENTINEL", "SET", masterName, "down-after-milliseconds", "-5"},
		{"SENTINEL", "REMOVE", "nope"}, {"SENTINEL", "FAILOVER", "nope"}, {"SENTINEL", "RESET", "nomatch*"},
		{"SENTINEL", "CONFIG", "GET", "resolve-hostnames"}, {"SENTINEL", "CONFIG", "GET", "announce-*"},
		{"SENTINEL", "CONFIG", "SET", "foo", "bar"}, {"SENTINEL", "CONFIG", "SET", "resolve-hostnames", "maybe"},
		{"SENTINEL", "CONFIG", "FOO"}, {"SENTINEL", "INFO-CACHE", "nope"}, {"SENTINEL", "PENDING-SCRIPTS"},
		{"PUBLISH", "foo", "bar"}, {"CLIENT", "GETNAME"}, {"CLIENT", "FOO"}, {"AUTH", "x"},
		{"SENTINEL", "SET", masterName, "parallel-syncs", "1"},
		{"SENTINEL", "MONITOR", "other", "127.0.0.1", "1", "2"}, {"SENTINEL", "MONITOR", "other", "127.0.0.1", "1", "2"},
		{"SENTINEL", "SET", "other", "quorum", "3", "down-after-milliseconds", "2000"},
		{"SENTINEL", "GET-MASTER-ADDR-BY-NAME", "other"}, {"SENTINEL", "REMOVE", "other"},
		{"SENTINEL", "GET-MASTER-ADDR-BY-NAME", "other"},
	}
	for _, proto := range []int{2, 3} {
		ours, ref := clientProto(t, top.ours.Addr, proto), clientProto(t, top.redis.Addr, proto)
		for _, cmd := range same {
			got, want := render(ours.Do(ctx, cmd...).Result()), render(ref.Do(ctx, cmd...).Result())
			if got != want {
				t.Errorf("RESP%d %v:\n ours  %s\n redis %s", proto, cmd, got, want)
			}
		}
		// Instance replies: the same fields in the same order, and the same
		// values where they do not depend on which sentinel answers.
		for _, q := range []struct {
			cmd    []any
			values []string
		}{
			{[]any{"SENTINEL", "MASTER", masterName}, []string{"name", "ip", "port", "runid", "flags", "role-reported",
				"config-epoch", "num-slaves", "num-other-sentinels", "quorum", "down-after-milliseconds", "failover-timeout", "parallel-syncs"}},
			{[]any{"SENTINEL", "REPLICAS", masterName}, []string{"name", "ip", "port", "runid", "flags", "role-reported",
				"master-link-status", "master-host", "master-port", "slave-priority", "replica-announced"}},
			{[]any{"SENTINEL", "SENTINELS", masterName}, []string{"flags", "voted-leader", "voted-leader-epoch", "down-after-milliseconds"}},
		} {
			o, err1 := ours.Do(ctx, q.cmd...).Result()
			r, err2 := ref.Do(ctx, q.cmd...).Result()
			if err1 != nil || err2 != nil {
				t.Fatalf("%v: %v / %v", q.cmd, err1, err2)
			}
			oi, ri := instances(o), instances(r)
			if len(oi) != len(ri) {
				t.Fatalf("RESP%d %v: %d instances, redis %d", proto, q.cmd, len(oi), len(ri))
			}
			sortByName(oi)
			sortByName(ri)
			for i := range oi {
				if !reflect.DeepEqual(oi[i].keys, ri[i].keys) {
					t.Errorf("RESP%d %v fields:\n ours  %v\n redis %v", proto, q.cmd, oi[i].keys, ri[i].keys)
				}
				for _, k := range q.values {
					if oi[i].vals[k] != ri[i].vals[k] {
						t.Errorf("RESP%d %v %s: ours %q redis %q", proto, q.cmd, k, oi[i].vals[k], ri[i].vals[k])
					}
				}
			}
		}
		// INFO's sentinel section, but for the run-dependent fields.
		oinfo, _ := ours.Info(ctx, "sentinel").Result()
		rinfo, _ := ref.Info(ctx, "sentinel").Result()
		if oinfo != rinfo {
			t.Errorf("RESP%d INFO sentinel:\n ours  %q\n redis %q", proto, oinfo, rinfo)
		}
	}
}

type inst struct {
	keys []string
	vals map[string]string
}

// instances reads a reply of one instance (MASTER) or a list of them.
func instances(v any) []inst {
	one := func(x any) (inst, bool) {
		in := inst{vals: map[string]string{}}
		switch x := x.(type) {
		case []any:
			if len(x) == 0 {
				return in, false
			}
			if _, ok := x[0].(string); !ok {
				return in, false
			}
			for i := 0; i+1 < len(x); i += 2 {
				k := fmt.Sprint(x[i])
				in.keys = append(in.keys, k)
				in.vals[k] = fmt.Sprint(x[i+1])
			}
		case map[any]any:
			for k, v := range x {
				in.keys = append(in.keys, fmt.Sprint(k))
				in.vals[fmt.Sprint(k)] = fmt.Sprint(v)
			}
			sort.Strings(in.keys) // go-redis loses a map's order
		default:
			return in, false
		}
		return in, true
	}
	if in, ok := one(v); ok {
		return []inst{in}
	}
	var out []inst
	if list, ok := v.([]any); ok {
		for _, x := range list {
			if in, ok := one(x); ok {
				out = append(out, in)
			}
		}
	}
	return out
}

func sortByName(a []inst) {
	sort.Slice(a, func(i, j int) bool { return a[i].vals["name"] < a[j].vals["name"] })
}

// eventLog records the events a sentinel publishes (PSUBSCRIBE *).
type eventLog struct {
	mu     sync.Mutex
	events []string // "type message"
}

func subscribeEvents(t *testing.T, ctx context.Context, addr string) *eventLog {
	t.Helper()
	c := clientProto(t, addr, 2)
	ps := c.PSubscribe(ctx, "*")
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	l := &eventLog{}
	go func() {
		for msg := range ps.Channel() {
			if msg.Channel == "__sentinel__:hello" {
				continue
			}
			l.mu.Lock()
			l.events = append(l.events, msg.Channel+" "+msg.Payload)
			l.mu.Unlock()
		}
	}()
	return l
}

func (l *eventLog) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.events...)
}

// types lists the event types up to and including +switch-master, and
// whether it was seen.
func leaderTypes(events []string) ([]string, bool) {
	var out []string
	for _, e := range events {
		typ, _, _ := strings.Cut(e, " ")
		switch typ {
		case "+role-change", "-role-change", "+sdown", "-sdown":
			// Timing, not the failover's steps: when an INFO shows a
			// role change, and a replica briefly past
			// down-after-milliseconds while its links are killed and
			// reconnected on a busy machine.
			continue
		}
		out = append(out, typ)
		if typ == "+switch-master" {
			return out, true
		}
	}
	return out, false
}

// SENTINEL FAILOVER on our sentinel, then on Redis's (each in a fresh
// topology where both monitor the master): the leader of each publishes
// the same events in the same order, and both sentinels end up with the
// same master. The verbose ±role-change events and a transient ±sdown
// are left out: when a sentinel sees a role change depends on its INFO
// period, and a replica's links are killed and reconnected during the
// failover, which on a busy machine can outlast down-after-milliseconds.
// That would also end the failover without +slave-reconf-inprog/-done (a
// replica seen down counts as reconfigured, in both), so this manual
// failover runs with down-after-milliseconds 5000 (seen at load 30).
func TestDifferentialFailoverEvents(t *testing.T) {
	ctx := ctxT(t)
	var runs [][]string
	for _, leaderIsOurs := range []bool{true, false} {
		top := startDiffTopology(t, ctx, fmt.Sprintf("sentinel down-after-milliseconds %s 5000", masterName))
		leader := top.redis
		if leaderIsOurs {
			leader = top.ours
		}
		events := subscribeEvents(t, ctx, leader.Addr)
		lc := client(t, leader.Addr)
		before, err := masterAddr(ctx, lc)
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, settleTimeout, "SENTINEL FAILOVER accepted", func() error {
			return lc.Do(ctx, "SENTINEL", "FAILOVER", masterName).Err()
		})
		var types []string
		eventually(t, settleTimeout, "+switch-master", func() error {
			var ok bool
			types, ok = leaderTypes(events.snapshot())
			if !ok {
				return fmt.Errorf("events %v", types)
			}
			return nil
		})
		runs = append(runs, types)
		eventually(t, settleTimeout, "both sentinels switched", func() error {
			a1, err1 := masterAddr(ctx, client(t, top.ours.Addr))
			a2, err2 := masterAddr(ctx, client(t, top.redis.Addr))
			if err1 != nil || err2 != nil || a1 != a2 || a1 == before {
				return fmt.Errorf("ours %s %v, redis %s %v (before %s)", a1, err1, a2, err2, before)
			}
			return nil
		})
	}
	if !reflect.DeepEqual(runs[0], runs[1]) {
		t.Errorf("events of the failover leader:\n ours  %v\n redis %v", runs[0], runs[1])
	}
}
