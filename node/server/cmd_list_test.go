package server

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Deadlines of the blocking tests: generous, the machine is shared.
const (
	blockDeadline = 20 * time.Second
	pollInterval  = 5 * time.Millisecond
)

// listScript exercises every list command's replies and error paths in a
// deterministic order, for comparison with redis-server.
func listScript() []step {
	long := strings.Repeat("x", 300)
	return []step{
		cmd("LPUSH", "l", "a", "b", "c"), cmd("RPUSH", "l", "d", "e"), cmd("LRANGE", "l", "0", "-1"),
		cmd("LPUSHX", "nokey", "a"), cmd("RPUSHX", "nokey", "a"), cmd("EXISTS", "nokey"), cmd("LPUSHX", "l", "x"), cmd("RPUSHX", "l", "y", "z"),
		cmd("LLEN", "l"), cmd("LLEN", "nokey"), cmd("TYPE", "l"), cmd("OBJECT", "ENCODING", "l"),
		cmd("LRANGE", "l", "-3", "-1"), cmd("LRANGE", "l", "-100", "1"), cmd("LRANGE", "l", "5", "2"), cmd("LRANGE", "l", "100", "200"),
		cmd("LRANGE", "nokey", "0", "-1"), cmd("LRANGE", "l", "a", "1"), cmd("LRANGE", "nokey", "a", "b"),
		cmd("LINDEX", "l", "0"), cmd("LINDEX", "l", "-1"), cmd("LINDEX", "l", "100"), cmd("LINDEX", "l", "-100"),
		cmd("LINDEX", "nokey", "abc"), cmd("LINDEX", "l", "abc"), cmd("LINDEX", "nokey", "0"),
		cmd("LSET", "l", "0", "first"), cmd("LSET", "l", "-1", long), cmd("LSET", "l", "100", "x"), cmd("LSET", "nokey", "abc", "x"),
		cmd("LSET", "l", "abc", "x"), cmd("LINDEX", "l", "-1"),
		cmd("LINSERT", "l", "BEFORE", "c", "before-c"), cmd("LINSERT", "l", "after", "c", "after-c"), cmd("LINSERT", "l", "before", "zz", "x"),
		cmd("LINSERT", "l", "middle", "c", "x"), cmd("LINSERT", "nokey", "middle", "c", "x"), cmd("LINSERT", "nokey", "before", "c", "x"),
		cmd("LRANGE", "l", "0", "-1"),
		cmd("RPUSH", "r", "a", "b", "a", "c", "a", "b"), cmd("LREM", "r", "1", "a"), cmd("LREM", "r", "-1", "b"), cmd("LRANGE", "r", "0", "-1"),
		cmd("LREM", "r", "0", "a"), cmd("LREM", "r", "0", "zz"), cmd("LREM", "nokey", "a", "x"), cmd("LREM", "nokey", "1", "x"), cmd("LREM", "r", "x", "a"),
		cmd("LREM", "r", "-9223372036854775808", "c"), cmd("LRANGE", "r", "0", "-1"), cmd("LREM", "r", "0", "b"), cmd("EXISTS", "r"),
		cmd("RPUSH", "t", "1", "2", "3", "4", "5"), cmd("LTRIM", "t", "1", "-2"), cmd("LRANGE", "t", "0", "-1"), cmd("LTRIM", "t", "0", "-1"),
		cmd("LTRIM", "t", "a", "1"), cmd("LTRIM", "nokey", "0", "1"), cmd("LTRIM", "t", "5", "1"), cmd("EXISTS", "t"),
		cmd("RPUSH", "p", "a", "b", "c", "1", "2", "3", "c", "c"),
		cmd("LPOS", "p", "c"), cmd("LPOS", "p", "c", "RANK", "2"), cmd("LPOS", "p", "c", "RANK", "-1"), cmd("LPOS", "p", "c", "COUNT", "0"),
		cmd("LPOS", "p", "c", "COUNT", "2", "RANK", "-1"), cmd("LPOS", "p", "c", "MAXLEN", "2"), cmd("LPOS", "p", "c", "COUNT", "0", "MAXLEN", "3"),
		cmd("LPOS", "p", "zz"), cmd("LPOS", "p", "zz", "COUNT", "1"), cmd("LPOS", "nokey", "a"), cmd("LPOS", "nokey", "a", "COUNT", "1"),
		cmd("LPOS", "p", "c", "RANK", "0"), cmd("LPOS", "p", "c", "RANK", "abc"), cmd("LPOS", "p", "c", "COUNT", "-1"), cmd("LPOS", "p", "c", "COUNT", "abc"),
		cmd("LPOS", "p", "c", "MAXLEN", "-1"), cmd("LPOS", "p", "c", "MAXLEN", "abc"), cmd("LPOS", "p", "c", "FOO"), cmd("LPOS", "p", "c", "RANK"),
		cmd("LPOS", "p", "c", "RANK", "-9223372036854775808"), cmd("LPOS", "p", "c", "RANK", "-9223372036854775808", "COUNT", "1"),
		cmd("LPOP", "p"), cmd("RPOP", "p"), cmd("LPOP", "p", "2"), cmd("RPOP", "p", "2"), cmd("LPOP", "p", "0"), cmd("LPOP", "p", "-1"),
		cmd("LPOP", "p", "abc"), cmd("LPOP", "p", "1", "2"), cmd("LPOP", "nokey"), cmd("LPOP", "nokey", "2"), cmd("LPOP", "nokey", "0"),
		cmd("RPOP", "p", "100"), cmd("EXISTS", "p"),
		cmd("RPUSH", "src", "1", "2", "3"), cmd("LMOVE", "src", "dst", "LEFT", "RIGHT"), cmd("LMOVE", "src", "dst", "right", "left"),
		cmd("LRANGE", "dst", "0", "-1"), cmd("LMOVE", "src", "src", "LEFT", "RIGHT"), cmd("LMOVE", "src", "dst", "UP", "LEFT"),
		cmd("LMOVE", "nokey", "dst", "LEFT", "LEFT"), cmd("RPOPLPUSH", "dst", "dst"), cmd("LRANGE", "dst", "0", "-1"),
		cmd("RPOPLPUSH", "src", "dst"), cmd("EXISTS", "src"), cmd("RPOPLPUSH", "nokey", "dst"),
		cmd("SET", "str", "v"), cmd("LMOVE", "dst", "str", "LEFT", "LEFT"), cmd("LMOVE", "str", "dst", "LEFT", "LEFT"), cmd("LLEN", "dst"),
		cmd("RPUSH", "m1", "a", "b", "c"), cmd("LMPOP", "2", "nokey", "m1", "LEFT"), cmd("LMPOP", "2", "nokey", "m1", "RIGHT", "COUNT", "10"),
		cmd("LMPOP", "1", "m1", "LEFT"), cmd("LMPOP", "0", "m1", "LEFT"), cmd("LMPOP", "abc", "m1", "LEFT"), cmd("LMPOP", "2", "m1", "LEFT"),
		cmd("LMPOP", "1", "m1", "UP"), cmd("LMPOP", "1", "m1", "LEFT", "COUNT", "0"), cmd("LMPOP", "1", "m1", "LEFT", "COUNT", "2", "COUNT", "2"),
		cmd("LMPOP", "1", "m1", "LEFT", "FOO"), cmd("LMPOP", "1", "m1", "LEFT", "COUNT"), cmd("LMPOP", "1", "m1", "LEFT", "COUNT", "abc"),
		cmd("LMPOP", "9223372036854775807", "m1", "LEFT"), cmd("LMPOP", "2", "nokey", "str", "LEFT"),
		cmd("RPUSH", "m2", "x"), cmd("LMPOP", "2", "m2", "str", "LEFT"),
		cmd("LPUSH", "str", "x"), cmd("RPUSH", "str", "x"), cmd("LPOP", "str"), cmd("LRANGE", "str", "0", "-1"), cmd("LINDEX", "str", "0"),
		cmd("LSET", "str", "0", "x"), cmd("LLEN", "str"), cmd("LPOS", "str", "x"), cmd("LREM", "str", "0", "x"), cmd("LTRIM", "str", "0", "1"),
		cmd("LINSERT", "str", "BEFORE", "a", "b"), cmd("RPOPLPUSH", "str", "x"), cmd("LPUSHX", "str", "x"),
		cmd("BLPOP", "str", "0"), cmd("BLMOVE", "str", "x", "LEFT", "LEFT", "0"), cmd("BLMPOP", "0", "1", "str", "LEFT"),
		cmd("RPUSH", "b", "1", "2", "3"), cmd("BLPOP", "nokey", "b", "0"), cmd("BRPOP", "b", "1"), cmd("BLMOVE", "b", "b2", "LEFT", "RIGHT", "0"),
		cmd("BRPOPLPUSH", "b2", "b", "0"), cmd("BLMPOP", "0", "2", "nokey", "b", "RIGHT", "COUNT", "5"), cmd("EXISTS", "b", "b2"),
		cmd("BLPOP", "b", "abc"), cmd("BLPOP", "b", "-1"), cmd("BLPOP", "b", " 1"), cmd("BLPOP", "b", "nan"), cmd("BLPOP", "b", "inf"),
		cmd("BLPOP", "b", "9.3e15"), cmd("BLPOP", "b", ""), cmd("BLMOVE", "b", "x", "LEFT", "UP", "0"), cmd("BLMOVE", "b", "x", "LEFT", "LEFT", "x"),
		cmd("BRPOPLPUSH", "b", "x", "-1"), cmd("BLMPOP", "abc", "1", "b", "LEFT"), cmd("BLMPOP", "0", "0", "b", "LEFT"),
		cmd("BLMPOP", "0", "1", "b", "LEFT", "COUNT", "0"),
		cmd("MULTI"), cmd("BLPOP", "nokey", "0"), cmd("BLMOVE", "nokey", "x", "LEFT", "LEFT", "0"), cmd("BRPOPLPUSH", "nokey", "x", "0"),
		cmd("BLMPOP", "0", "1", "nokey", "LEFT"), cmd("BRPOP", "nokey", "0"), cmd("EXEC"),
		cmd("BLPOP", "nokey", "0.01"), cmd("BLMOVE", "nokey", "x", "LEFT", "LEFT", "0.01"), cmd("BLMPOP", "0.01", "1", "nokey", "LEFT"),
		cmd("RPUSH", "big", "x"), cmd("LPUSH"), cmd("LPUSH", "k"), cmd("LINDEX", "k"),
	}
}

func TestDifferentialListsRESP2(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	runDifferential(t, ours, ref, listScript())
}

func TestDifferentialListsRESP3(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	runDifferentialRESP3(t, ours, ref, listScript())
}

// runDifferentialRESP3 is runDifferential after HELLO 3 on both
// connections (whose replies name different servers and are not compared).
func runDifferentialRESP3(t *testing.T, ours, ref *testNode, script []step) {
	t.Helper()
	a, b := ours.raw(t), ref.raw(t)
	a.do("HELLO", "3")
	b.do("HELLO", "3")
	for _, s := range script {
		got, want := a.do(s.args...), b.do(s.args...)
		if s.sorted {
			got, want = normalizeSorted(got), normalizeSorted(want)
		}
		if got != want {
			t.Errorf("RESP3 %q:\n ours  %q\n redis %q", s.args, got, want)
		}
	}
}

// TestDifferentialListBigAndMixed pushes enough elements, of sizes that
// cross node boundaries, for the quicklist to have many nodes, then
// compares ranges, indexes, inserts and removals with redis-server.
func TestDifferentialListBigAndMixed(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	var script []step
	for i := 0; i < 300; i++ {
		v := strconv.Itoa(i) + strings.Repeat("v", (i*37)%200)
		if i%2 == 0 {
			script = append(script, cmd("RPUSH", "big", v, "m"))
		} else {
			script = append(script, cmd("LPUSH", "big", v, "m"))
		}
	}
	for _, i := range []string{"0", "1", "150", "299", "599", "-1", "-300", "-600", "600"} {
		script = append(script, cmd("LINDEX", "big", i))
	}
	script = append(script,
		cmd("LRANGE", "big", "100", "130"), cmd("LRANGE", "big", "-50", "-40"),
		cmd("LINSERT", "big", "BEFORE", "150"+strings.Repeat("v", (150*37)%200), strings.Repeat("n", 1000)),
		cmd("LSET", "big", "300", strings.Repeat("s", 5000)), cmd("LRANGE", "big", "295", "305"),
		cmd("LREM", "big", "50", "m"), cmd("LREM", "big", "-50", "m"), cmd("LLEN", "big"), cmd("LRANGE", "big", "0", "20"),
		cmd("LPOS", "big", "m", "RANK", "-3", "COUNT", "5"), cmd("LTRIM", "big", "10", "-10"), cmd("LLEN", "big"),
		cmd("LRANGE", "big", "0", "-1"), cmd("LREM", "big", "0", "m"), cmd("LRANGE", "big", "0", "-1"),
	)
	runDifferential(t, ours, ref, script)
}

// waitBlocked polls INFO clients until n clients are blocked.
func waitBlocked(t *testing.T, rdb *redis.Client, n int) {
	t.Helper()
	want := fmt.Sprintf("blocked_clients:%d\r", n)
	deadline := time.Now().Add(blockDeadline)
	for {
		info, err := rdb.Info(ctxT(t), "clients").Result()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(info, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("never saw %d blocked clients:\n%s", n, info)
		}
		time.Sleep(pollInterval)
	}
}

// result is what a blocking command in a goroutine got.
type result struct {
	vals []string
	err  error
}

// await receives a blocking command's result, failing the test when none
// comes before the deadline.
func await(t *testing.T, ch <-chan result, what string) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(blockDeadline):
		t.Fatalf("%s: no reply within %v", what, blockDeadline)
		return result{}
	}
}

func TestBLPOPIsServedByAPushFromAnotherClient(t *testing.T) {
	n := startNode(t)
	waiter, pusher := n.client(t), n.client(t)
	done := make(chan result, 1)
	go func() {
		v, err := waiter.BLPop(ctxT(t), 0, "q1", "q2").Result()
		done <- result{v, err}
	}()
	waitBlocked(t, pusher, 1)
	if err := pusher.RPush(ctxT(t), "q2", "x", "y").Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil || !slices.Equal(r.vals, []string{"q2", "x"}) {
			t.Fatalf("BLPOP q1 q2 0 = %q, %v; want [q2 x]", r.vals, r.err)
		}
	case <-time.After(blockDeadline):
		t.Fatal("BLPOP was not served")
	}
	if got := pusher.LRange(ctxT(t), "q2", 0, -1).Val(); !slices.Equal(got, []string{"y"}) {
		t.Fatalf("after serving, q2 = %q", got)
	}
	waitBlocked(t, pusher, 0)
}

func TestBlockedClientsAreServedInTheOrderTheyBlocked(t *testing.T) {
	n := startNode(t)
	pusher := n.client(t)
	const waiters = 3
	results := make([]chan result, waiters)
	for i := range waiters {
		results[i] = make(chan result, 1)
		c := n.client(t)
		go func(i int) {
			v, err := c.BRPop(ctxT(t), 0, "fifo").Result()
			results[i] <- result{v, err}
		}(i)
		// Wait for each client to block before starting the next, so the
		// blocking order is known.
		waitBlocked(t, pusher, i+1)
	}
	if err := pusher.LPush(ctxT(t), "fifo", "a", "b", "c").Err(); err != nil {
		t.Fatal(err)
	}
	// The list is c b a; BRPOP pops a, then b, then c.
	for i, want := range []string{"a", "b", "c"} {
		select {
		case r := <-results[i]:
			if r.err != nil || !slices.Equal(r.vals, []string{"fifo", want}) {
				t.Fatalf("waiter %d got %q, %v; want [fifo %s]", i, r.vals, r.err, want)
			}
		case <-time.After(blockDeadline):
			t.Fatalf("waiter %d was not served", i)
		}
	}
}

func TestBLPOPTimesOutWithNil(t *testing.T) {
	n := startNode(t)
	rdb := n.client(t)
	start := time.Now()
	_, err := rdb.BLPop(ctxT(t), 200*time.Millisecond, "empty").Result()
	if !errors.Is(err, redis.Nil) {
		t.Fatalf("BLPOP on a missing key with a timeout = %v, want nil reply", err)
	}
	if el := time.Since(start); el < 190*time.Millisecond {
		t.Fatalf("BLPOP with 0.2s timeout returned after %v", el)
	}
	// Redis rounds a timeout up to whole milliseconds (ceill): 0.0001 s
	// is 1 ms, not forever (the fuzzer's HANG 1), while -0.0001 s rounds
	// up to 0: forever. Check that it blocks, then serve it.
	if _, err := rdb.Do(ctxT(t), "BLPOP", "tiny", "0.0001").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("BLPOP tiny 0.0001 = %v, want a nil reply after 1 ms", err)
	}
	done := make(chan result, 1)
	waiter := n.client(t)
	go func() {
		v, err := waiter.Do(ctxT(t), "BLPOP", "tiny", "-0.0001").StringSlice()
		done <- result{v, err}
	}()
	waitBlocked(t, rdb, 1)
	rdb.RPush(ctxT(t), "tiny", "v")
	if r := await(t, done, "BLPOP tiny"); r.err != nil || !slices.Equal(r.vals, []string{"tiny", "v"}) {
		t.Fatalf("BLPOP tiny -0.0001 = %q %v", r.vals, r.err)
	}
}

func TestBlockingTimeoutErrors(t *testing.T) {
	n := startNode(t)
	rdb := n.client(t)
	cases := map[string]string{
		"abc": "ERR timeout is not a float or out of range",
		"nan": "ERR timeout is not a float or out of range",
		"-1":  "ERR timeout is negative",
		"inf": "ERR timeout is negative",
	}
	for arg, want := range cases {
		for _, args := range [][]any{{"BLPOP", "k", arg}, {"BRPOP", "k", arg}, {"BLMOVE", "k", "d", "LEFT", "LEFT", arg},
			{"BRPOPLPUSH", "k", "d", arg}, {"BLMPOP", arg, "1", "k", "LEFT"}} {
			err := rdb.Do(ctxT(t), args...).Err()
			if err == nil || err.Error() != want {
				t.Errorf("%v: %v, want %q", args, err, want)
			}
		}
	}
}

func TestBLMOVEAndBLMPOPAreServedByPushes(t *testing.T) {
	n := startNode(t)
	pusher := n.client(t)
	moved := make(chan result, 1)
	w1 := n.client(t)
	go func() {
		v, err := w1.BLMove(ctxT(t), "src", "dst", "LEFT", "RIGHT", 0).Result()
		moved <- result{[]string{v}, err}
	}()
	waitBlocked(t, pusher, 1)
	popped := make(chan result, 1)
	w2 := n.client(t)
	go func() {
		key, vals, err := w2.BLMPop(ctxT(t), 0, "right", 2, "none", "multi").Result()
		popped <- result{append([]string{key}, vals...), err}
	}()
	waitBlocked(t, pusher, 2)

	pusher.RPush(ctxT(t), "src", "s1", "s2")
	if r := await(t, moved, "BLMOVE"); r.err != nil || r.vals[0] != "s1" {
		t.Fatalf("BLMOVE = %q %v", r.vals, r.err)
	}
	if got := pusher.LRange(ctxT(t), "dst", 0, -1).Val(); !slices.Equal(got, []string{"s1"}) {
		t.Fatalf("BLMOVE destination %q", got)
	}
	pusher.RPush(ctxT(t), "multi", "m1", "m2", "m3")
	if r := await(t, popped, "BLMPOP"); r.err != nil || !slices.Equal(r.vals, []string{"multi", "m3", "m2"}) {
		t.Fatalf("BLMPOP RIGHT COUNT 2 = %q %v", r.vals, r.err)
	}
}

// TestBLMOVEChainServesAClientBlockedOnItsDestination checks that an
// element moved by a served BLMOVE wakes a client blocked on the
// destination, in the same round.
func TestBLMOVEChainServesAClientBlockedOnItsDestination(t *testing.T) {
	n := startNode(t)
	pusher := n.client(t)
	first, second := make(chan result, 1), make(chan result, 1)
	w1, w2 := n.client(t), n.client(t)
	go func() {
		v, err := w1.BLMove(ctxT(t), "a", "b", "LEFT", "LEFT", 0).Result()
		first <- result{[]string{v}, err}
	}()
	waitBlocked(t, pusher, 1)
	go func() {
		v, err := w2.BLPop(ctxT(t), 0, "b").Result()
		second <- result{v, err}
	}()
	waitBlocked(t, pusher, 2)
	pusher.LPush(ctxT(t), "a", "x")
	if r := await(t, first, "BLMOVE a b"); r.err != nil || r.vals[0] != "x" {
		t.Fatalf("BLMOVE a b = %q %v", r.vals, r.err)
	}
	if r := await(t, second, "BLPOP b"); r.err != nil || !slices.Equal(r.vals, []string{"b", "x"}) {
		t.Fatalf("BLPOP b = %q %v", r.vals, r.err)
	}
	if n := pusher.Exists(ctxT(t), "a", "b").Val(); n != 0 {
		t.Fatalf("%d of a, b still exist", n)
	}
}

func TestBlockedClientThatDisconnectsIsNotServed(t *testing.T) {
	n := startNode(t)
	pusher := n.client(t)
	r := n.raw(t)
	r.send(encodeCommand("BLPOP", "gone", "0"))
	waitBlocked(t, pusher, 1)
	r.c.Close()
	waitBlocked(t, pusher, 0)
	pusher.RPush(ctxT(t), "gone", "kept")
	if got := pusher.LRange(ctxT(t), "gone", 0, -1).Val(); !slices.Equal(got, []string{"kept"}) {
		t.Fatalf("element went to a closed client: %q", got)
	}
}

// TestListsWithGoRedis runs the everyday list calls through go-redis
// (RESP3), the client applications use.
func TestListsWithGoRedis(t *testing.T) {
	n := startNode(t)
	rdb := n.client(t)
	ctx := ctxT(t)
	if v := rdb.RPush(ctx, "l", "a", "b", "c", "d").Val(); v != 4 {
		t.Fatalf("RPUSH = %d", v)
	}
	if v := rdb.LPop(ctx, "l").Val(); v != "a" {
		t.Fatalf("LPOP = %q", v)
	}
	if v := rdb.RPopCount(ctx, "l", 2).Val(); !slices.Equal(v, []string{"d", "c"}) {
		t.Fatalf("RPOP 2 = %q", v)
	}
	if v := rdb.LPos(ctx, "l", "b", redis.LPosArgs{}).Val(); v != 0 {
		t.Fatalf("LPOS = %d", v)
	}
	if _, err := rdb.LIndex(ctx, "l", 5).Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("LINDEX out of range = %v", err)
	}
	if err := rdb.LSet(ctx, "l", 5, "x").Err(); err == nil || err.Error() != "ERR index out of range" {
		t.Fatalf("LSET out of range = %v", err)
	}
	key, vals, err := rdb.LMPop(ctx, "left", 10, "nokey", "l").Result()
	if err != nil || key != "l" || !slices.Equal(vals, []string{"b"}) {
		t.Fatalf("LMPOP = %q %q %v", key, vals, err)
	}
	if v := rdb.Exists(ctx, "l").Val(); v != 0 {
		t.Fatal("an emptied list still exists")
	}
	rdb.RPush(ctx, "w", "v")
	rdb.Set(ctx, "s", "x", 0)
	if err := rdb.LPush(ctx, "s", "v").Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
		t.Fatalf("LPUSH on a string = %v", err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := n.client(t)
			for j := range 200 {
				if err := c.RPush(ctx, "many", fmt.Sprintf("%d-%d", i, j)).Err(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if v := rdb.LLen(ctx, "many").Val(); v != 1600 {
		t.Fatalf("LLEN after concurrent pushes = %d", v)
	}
}

// TestDifferentialListAndHashCommandInfo compares COMMAND INFO and
// COMMAND GETKEYS of the list and hash commands with redis-server: cluster
// clients route with them. HKEYS, HVALS, HGETALL, HRANDFIELD and HSCAN are
// left out while COMMAND INFO prints request tips as simple strings
// (Redis: bulk strings), a framework matter.
func TestDifferentialListAndHashCommandInfo(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	var script []step
	for _, name := range []string{"lpush", "rpush", "lpushx", "rpushx", "lpop", "rpop", "llen", "lrange", "lindex", "lset",
		"linsert", "lrem", "ltrim", "lpos", "lmove", "rpoplpush", "lmpop", "blpop", "brpop", "blmove", "brpoplpush", "blmpop",
		"hset", "hsetnx", "hget", "hmset", "hmget", "hdel", "hlen", "hstrlen", "hexists", "hincrby", "hincrbyfloat"} {
		script = append(script, cmd("COMMAND", "INFO", name))
	}
	script = append(script,
		cmd("COMMAND", "GETKEYS", "LMPOP", "2", "a", "b", "LEFT"), cmd("COMMAND", "GETKEYS", "BLMPOP", "0", "3", "a", "b", "c", "RIGHT", "COUNT", "2"),
		cmd("COMMAND", "GETKEYS", "BLPOP", "a", "b", "0"), cmd("COMMAND", "GETKEYS", "BLMOVE", "a", "b", "LEFT", "LEFT", "0"),
		cmd("COMMAND", "GETKEYS", "HSET", "h", "f", "v"),
	)
	runDifferential(t, ours, ref, script)
}
