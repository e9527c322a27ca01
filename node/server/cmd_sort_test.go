package server

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/nodetest"
)

// SORT and SORT_RO against Redis: lists, sets and sorted sets, numeric and
// ALPHA, BY (weights, hash fields, no sort), LIMIT (huge and negative),
// GET (#, keys, hash fields), STORE (replacing, deleting), every error.
func TestDifferentialSort(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	script := []step{
		cmd("RPUSH", "l", "3", "1", "2", "10", "-5", "1.5", "1e2", "0x10", " 7"),
		cmd("SORT", "l"), cmd("SORT", "l", "DESC"), cmd("SORT", "l", "ALPHA"), cmd("SORT", "l", "ALPHA", "DESC"),
		cmd("SORT", "l", "LIMIT", "0", "3"), cmd("SORT", "l", "LIMIT", "2", "3", "DESC"), cmd("SORT", "l", "LIMIT", "-5", "2"),
		cmd("SORT", "l", "LIMIT", "5", "-1"), cmd("SORT", "l", "LIMIT", "100", "5"), cmd("SORT", "l", "LIMIT", "0", "0"),
		cmd("SORT", "l", "LIMIT", "9223372036854775807", "9223372036854775807"), cmd("SORT", "l", "LIMIT", "3", "9223372036854775807"),
		cmd("SORT", "l", "LIMIT", "-9223372036854775808", "-9223372036854775808"), cmd("SORT", "l", "LIMIT", "8", "9223372036854775807"),
		cmd("SORT", "l", "asc", "desc"), cmd("SORT", "l", "desc", "asc"),
		cmd("SORT_RO", "l"), cmd("SORT_RO", "l", "ALPHA", "LIMIT", "1", "2"),
		// No sort: a list keeps its order, reversed by DESC, cut by LIMIT.
		cmd("SORT", "l", "BY", "nosort"), cmd("SORT", "l", "BY", "nosort", "DESC"), cmd("SORT", "l", "BY", "nosort", "LIMIT", "2", "3"),
		cmd("SORT", "l", "BY", "nosort", "LIMIT", "2", "3", "DESC"), cmd("SORT", "l", "BY", "nosort", "LIMIT", "7", "10", "DESC"),
		cmd("SORT", "l", "BY", "nosort", "LIMIT", "50", "10"), cmd("SORT", "l", "BY", "nosort", "LIMIT", "0", "0", "DESC"),
		// Weights by pattern, missing weights weigh 0, hash fields.
		cmd("MSET", "w_3", "30", "w_1", "100", "w_2", "-1", "w_10", "5", "w_-5", "2.5", "w_1.5", "x", "w_1e2", "1e2"),
		cmd("SORT", "l", "BY", "w_*"),
		cmd("SET", "w_1.5", "7"), cmd("SORT", "l", "BY", "w_*"), cmd("SORT", "l", "BY", "w_*", "DESC", "LIMIT", "1", "4"),
		cmd("SORT", "l", "BY", "w_*", "ALPHA"), cmd("SORT", "l", "BY", "w_*", "ALPHA", "DESC"), cmd("SORT", "l", "BY", "w_*", "ALPHA", "LIMIT", "2", "3"),
		cmd("HSET", "h_3", "f", "3", "name", "three"), cmd("HSET", "h_1", "f", "1", "name", "one"), cmd("HSET", "h_2", "f", "-2"), cmd("SET", "h_10", "str"),
		cmd("SORT", "l", "BY", "h_*->f"), cmd("SORT", "l", "BY", "h_*->f", "GET", "h_*->name", "GET", "#", "GET", "w_*", "GET", "h_*"),
		cmd("SORT", "l", "BY", "h_*->", "LIMIT", "0", "2"), cmd("SORT", "l", "BY", "h_*->nofield", "ALPHA"), cmd("SORT", "l", "BY", "h->*", "ALPHA"),
		cmd("SORT", "l", "BY", "nosort", "GET", "#", "GET", "w_*"), cmd("SORT", "l", "GET", "nostar"), cmd("SORT", "l", "GET", "#x"),
		cmd("SORT", "l", "BY", "w_*", "GET", "w_*", "GET", "w_*"), cmd("SORT", "l", "BY", "*", "ALPHA"), cmd("SORT", "l", "BY", "#"),
		cmd("SET", "pre3post", "a"), cmd("SET", "pre1post", "b"), cmd("SORT", "l", "GET", "pre*post", "LIMIT", "0", "3"),
		cmd("SORT", "l", "GET", "pre*post*", "LIMIT", "0", "3"),
		// Numeric errors: a weight or an element that is not a double.
		cmd("RPUSH", "bad", "1", "abc", "2"), cmd("SORT", "bad"), cmd("SORT", "bad", "ALPHA"), cmd("SORT", "bad", "BY", "nosort"),
		cmd("SORT", "bad", "LIMIT", "0", "1"), cmd("SORT", "bad", "STORE", "dst"), cmd("EXISTS", "dst"),
		cmd("RPUSH", "nums", "1", "", "inf", "-inf", "3"), cmd("SORT", "nums"),
		cmd("RPUSH", "nums2", "nan"), cmd("SORT", "nums2"),
		cmd("RPUSH", "nums3", "1", "", "inf", "-inf", "-0", "0", "+3", "3 ", "\t4"), cmd("SORT", "nums3"), cmd("LREM", "nums3", "0", "3 "), cmd("SORT", "nums3"),
		cmd("SET", "wbad_1", "zz"), cmd("RPUSH", "one", "1"), cmd("SORT", "one", "BY", "wbad_*"), cmd("SORT", "one", "BY", "wbad_*", "ALPHA"),
		// Sets: sorted output is deterministic (ties by the element).
		cmd("SADD", "s", "5", "3", "9", "1", "30", "-2"), cmd("SORT", "s"), cmd("SORT", "s", "DESC", "LIMIT", "1", "2"),
		cmd("SORT", "s", "ALPHA"), cmd("SORT", "s", "BY", "nosort"), cmd("SORT", "s", "BY", "nosort", "STORE", "sdst"), cmd("LRANGE", "sdst", "0", "-1"),
		cmd("SADD", "ss", "banana", "apple", "cherry", "date"), cmd("SORT", "ss"), cmd("SORT", "ss", "ALPHA"), cmd("SORT", "ss", "ALPHA", "DESC"),
		unordered("SORT", "ss", "BY", "nosort"), cmd("SORT", "ss", "BY", "nosort", "STORE", "ssdst"), cmd("LRANGE", "ssdst", "0", "-1"),
		cmd("SORT", "ss", "BY", "nosort", "DESC", "STORE", "ssdst"), cmd("LRANGE", "ssdst", "0", "-1"),
		cmd("MSET", "ww_apple", "3", "ww_banana", "1", "ww_cherry", "2", "ww_date", "0"), cmd("SORT", "ss", "BY", "ww_*"),
		cmd("SORT", "ss", "BY", "ww_*", "GET", "#", "GET", "ww_*", "LIMIT", "1", "2"),
		// Sorted sets: no sort keeps the score order (LIMIT applied).
		cmd("ZADD", "z", "1", "c", "2", "b", "3", "a", "4", "d"), cmd("OBJECT", "ENCODING", "z"),
		cmd("SORT", "z", "ALPHA"), cmd("OBJECT", "ENCODING", "z"), cmd("SORT", "z", "BY", "nosort"), cmd("SORT", "z", "BY", "nosort", "DESC"),
		cmd("SORT", "z", "BY", "nosort", "LIMIT", "1", "2"), cmd("SORT", "z", "BY", "nosort", "LIMIT", "1", "2", "DESC"),
		cmd("SORT", "z", "BY", "nosort", "LIMIT", "3", "10", "DESC"), cmd("SORT", "z", "BY", "nosort", "LIMIT", "-1", "1", "DESC"),
		cmd("SORT", "z"), cmd("SORT_RO", "z", "BY", "nosort", "GET", "#"),
		cmd("ZADD", "zz", "1", "x"), cmd("SORT_RO", "zz", "ALPHA"), cmd("OBJECT", "ENCODING", "zz"),
		// STORE: a list, replacing any type and TTL; empty deletes.
		cmd("SET", "dst", "str", "EX", "100"), cmd("SORT", "l", "BY", "w_*", "STORE", "dst"), cmd("TYPE", "dst"), cmd("TTL", "dst"),
		cmd("LRANGE", "dst", "0", "-1"), cmd("OBJECT", "ENCODING", "dst"),
		cmd("SORT", "l", "BY", "nosort", "GET", "w_*", "GET", "h_*->name", "STORE", "dst"), cmd("LRANGE", "dst", "0", "-1"),
		cmd("SORT", "l", "LIMIT", "0", "0", "STORE", "dst"), cmd("EXISTS", "dst"), cmd("SORT", "nokey", "STORE", "dst"), cmd("EXISTS", "dst"),
		cmd("SORT", "l", "STORE", "l"), cmd("LRANGE", "l", "0", "-1"),
		cmd("SORT", "l", "STORE", "d1", "STORE", "d2"), cmd("EXISTS", "d1", "d2"),
		cmd("SORT_RO", "l", "STORE", "d3"), cmd("EXISTS", "d3"),
		// Missing keys, wrong types, syntax.
		cmd("SORT", "nokey"), cmd("SORT", "nokey", "BY", "nosort", "DESC", "LIMIT", "1", "2"), cmd("SORT_RO", "nokey", "GET", "#"),
		cmd("SET", "str", "v"), cmd("SORT", "str"), cmd("SORT", "str", "BOGUS"), cmd("SORT_RO", "str"), cmd("HSET", "hh", "a", "1"), cmd("SORT", "hh"),
		cmd("SORT", "l", "BOGUS"), cmd("SORT", "l", "LIMIT", "1"), cmd("SORT", "l", "LIMIT", "x", "1"), cmd("SORT", "l", "LIMIT", "1", "x"),
		cmd("SORT", "l", "LIMIT", "1.5", "1"), cmd("SORT", "l", "BY"), cmd("SORT", "l", "GET"), cmd("SORT", "l", "STORE"),
		cmd("SORT", "nokey", "LIMIT", "x", "1"), cmd("SORT", "str", "LIMIT", "x", "1"), cmd("SORT", "l", "ALPHA", "BOGUS", "LIMIT", "x", "1"),
		cmd("SORT"), cmd("SORT_RO"),
		// GETKEYS: the key and the last STORE's destination.
		cmd("COMMAND", "GETKEYS", "SORT", "k", "STORE", "d"), cmd("COMMAND", "GETKEYS", "SORT", "k", "LIMIT", "0", "1", "GET", "store", "BY", "x", "STORE", "a", "STORE", "b"),
		cmd("COMMAND", "GETKEYS", "SORT", "k"), cmd("COMMAND", "GETKEYS", "SORT_RO", "k", "GET", "x"), cmd("COMMAND", "GETKEYS", "SORT", "k", "STORE"),
		// Embedded zero bytes in patterns and values.
		cmd("RPUSH", "zb", "b\x00a", "b\x00b", "a"), cmd("SORT", "zb", "ALPHA", "STORE", "zbd"), cmd("LRANGE", "zbd", "0", "-1"),
		cmd("SORT", "l", "BY", "no\x00*"), cmd("SORT", "l", "GET", "#\x00x", "LIMIT", "0", "2"),
	}
	// Random lists: numeric and ALPHA, by weights, with LIMIT and GET.
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 40; i++ {
		key := "rl" + strconv.Itoa(i)
		args := []string{"RPUSH", key}
		for k := 0; k < 1+rng.IntN(20); k++ {
			args = append(args, strconv.Itoa(rng.IntN(50)-10))
		}
		script = append(script, cmd(args...))
		for k := 0; k < 5; k++ {
			script = append(script, cmd("SET", "rw_"+strconv.Itoa(rng.IntN(50)-10), strconv.Itoa(rng.IntN(1000))))
		}
		lim := []string{"LIMIT", strconv.Itoa(rng.IntN(8) - 2), strconv.Itoa(rng.IntN(10) - 2)}
		script = append(script,
			cmd("SORT", key), cmd("SORT", key, "ALPHA", "DESC"),
			cmd(append([]string{"SORT", key, "BY", "rw_*", "GET", "#", "GET", "rw_*"}, lim...)...),
			cmd(append([]string{"SORT", key, "DESC"}, lim...)...),
			cmd(append([]string{"SORT", key, "BY", "nosort"}, lim...)...),
		)
	}
	// BY and GET patterns read keys named by the data: only for a user who
	// may read every key (these run last: AUTH changes the user).
	script = append(script,
		cmd("ACL", "SETUSER", "lim", "on", "nopass", "~l*", "~w_*", "+@all"), cmd("ACL", "SETUSER", "rd", "on", "nopass", "%R~*", "~l*", "+@all"),
		cmd("AUTH", "lim", "x"), cmd("SORT", "l", "LIMIT", "0", "3"), cmd("SORT", "l", "BY", "w_*"), cmd("SORT", "l", "GET", "#"),
		cmd("SORT", "l", "BY", "nosort", "LIMIT", "0", "2"), cmd("SORT", "l", "BOGUS", "GET", "#"), cmd("SORT_RO", "l", "GET", "w_*"),
		cmd("SORT", "l", "GET", "#", "STORE", "other"),
		cmd("AUTH", "rd", "x"), cmd("SORT", "l", "BY", "w_*", "GET", "#", "GET", "h_*->name", "LIMIT", "0", "3"),
		// The key is read, the destination written (sortGetKeys's flags).
		cmd("AUTH", "default", "x"), cmd("ACL", "SETUSER", "ro", "on", "nopass", "%R~*", "%W~dst*", "+@all"), cmd("ACL", "SETUSER", "sel", "on", "nopass", "~l*", "+@all", "(%R~* +sort)"),
		cmd("AUTH", "ro", "x"), cmd("SORT", "l", "BY", "w_*", "LIMIT", "0", "2"), cmd("SORT", "l", "STORE", "dst1"), cmd("SORT", "l", "STORE", "l2"),
		cmd("SORT_RO", "w_1", "GET", "#"), cmd("AUTH", "sel", "x"), cmd("SORT", "l", "BY", "w_*", "LIMIT", "0", "2"), cmd("SORT", "zz", "BY", "w_*"),
	)
	runDifferential(t, ours, ref, script)

	// RESP3: a missing GET value is the RESP3 null.
	a, b := ours.raw(t), ref.raw(t)
	a.do("HELLO", "3")
	b.do("HELLO", "3")
	s := []string{"SORT", "l", "GET", "#", "GET", "h_*->name"}
	if got, want := a.do(s...), b.do(s...); got != want {
		t.Errorf("RESP3 %q:\n ours  %q\n redis %q", s, got, want)
	}
}

// A weight out of a double's range (strtod's ERANGE: overflow, underflow,
// a subnormal) is an error. Redis 7.0 does not clear errno before strtod,
// so after one such SORT its later numeric SORTs of non-integer strings
// may fail too, until some other call resets errno: these cases run last,
// on servers of their own.
func TestDifferentialSortERANGE(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	runDifferential(t, ours, ref, []step{
		cmd("RPUSH", "ok", "1.5", "0.5"), cmd("SORT", "ok"),
		cmd("RPUSH", "sub", "1.5", "1e-310"), cmd("SORT", "sub"),
		cmd("RPUSH", "big", "1", "1e400"), cmd("SORT", "big"), cmd("SORT", "big", "ALPHA"),
		cmd("SET", "wbig", "-1e309"), cmd("SORT", "ok", "BY", "wbig"), cmd("SORT", "ok", "BY", "wbi*"),
	})
}

// In cluster mode SORT refuses BY with a pattern and any GET, as Redis
// 7.0 (the keys they name may live on another node); BY without a '*'
// and STORE to a key of the same slot still work.
func TestDifferentialSortClusterMode(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	ours := startNode(t, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(nodetest.FreePort(t)), "--cluster-config-file", dirA+"/nodes.conf")
	ref := startRedis(t, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(nodetest.FreePort(t)), "--cluster-config-file", dirB+"/nodes.conf")
	for _, n := range []*testNode{ours, ref} {
		r := n.raw(t)
		if got := r.do("CLUSTER", "ADDSLOTSRANGE", "0", "16383"); got != "+OK\r\n" {
			t.Fatalf("ADDSLOTSRANGE: %q", got)
		}
		eventually(t, 30*time.Second, "cluster state ok", func() bool {
			return strings.HasPrefix(r.do("SORT", "l", "BY", "nosort"), "*0")
		})
	}
	runDifferential(t, ours, ref, []step{
		cmd("RPUSH", "l", "2", "1"),
		cmd("SORT", "l", "BY", "w_*"), cmd("SORT", "l", "GET", "#"), cmd("SORT", "l", "GET", "x_*"), cmd("SORT_RO", "l", "BY", "w_*->f"),
		cmd("SORT", "l", "BY", "nosort", "GET", "#"), cmd("SORT", "l", "BOGUS", "BY", "w_*"), cmd("SORT", "l", "BY", "w_*", "BOGUS"),
		cmd("SORT", "l", "LIMIT", "x", "1", "GET", "#"), cmd("SORT", "l", "BY", "{l}w_*"), cmd("SORT", "nokey", "GET", "#"),
		cmd("SORT", "l", "BY", "nosort"), cmd("SORT", "l"), cmd("SORT", "l", "ALPHA", "DESC"),
		cmd("SORT", "l", "STORE", "{l}d"), cmd("LRANGE", "{l}d", "0", "-1"), cmd("SORT", "l", "STORE", "other"),
	})
}

// go-redis's Sort, SortRO, SortStore and SortInterfaces against a node.
func TestSortGoRedis(t *testing.T) {
	ctx := context.Background()
	c := startNode(t).client(t)
	c.RPush(ctx, "gl", "3", "1", "2")
	c.MSet(ctx, "gw_1", "30", "gw_2", "20", "gw_3", "10", "gv_1", "one", "gv_2", "two", "gv_3", "three")
	if got, err := c.Sort(ctx, "gl", &redis.Sort{Order: "DESC"}).Result(); err != nil || strings.Join(got, ",") != "3,2,1" {
		t.Fatalf("Sort DESC = %v, %v", got, err)
	}
	if got, err := c.SortRO(ctx, "gl", &redis.Sort{By: "gw_*", Get: []string{"gv_*"}, Offset: 1, Count: 2}).Result(); err != nil || strings.Join(got, ",") != "two,one" {
		t.Fatalf("SortRO = %v, %v", got, err)
	}
	if n, err := c.SortStore(ctx, "gl", "gdst", &redis.Sort{Alpha: true}).Result(); err != nil || n != 3 {
		t.Fatalf("SortStore = %v, %v", n, err)
	}
	if got := c.LRange(ctx, "gdst", 0, -1).Val(); strings.Join(got, ",") != "1,2,3" {
		t.Fatalf("stored %v", got)
	}
	got, err := c.SortInterfaces(ctx, "gl", &redis.Sort{Get: []string{"#", "gnone_*"}}).Result()
	if err != nil || len(got) != 6 || got[0] != "1" || got[1] != nil {
		t.Fatalf("SortInterfaces = %#v, %v", got, err)
	}
}
