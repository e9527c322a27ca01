package server

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// takeAll returns and clears what was propagated, MULTI/EXEC included.
func (r *recorder) takeAll() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.ops
	r.ops = nil
	return out
}

// TestScriptEffectsPropagate checks Redis 7.0's effects replication: a
// script propagates the writes it ran, wrapped in MULTI/EXEC when there
// are several, never itself; set_repl(REPL_NONE) drops them.
func TestScriptEffectsPropagate(t *testing.T) {
	rdb, rec := startWithRecorder(t)
	ctx := ctxT(t)
	expect := func(what string, want ...string) {
		t.Helper()
		if got := rec.takeAll(); !slices.Equal(got, want) {
			t.Fatalf("%s propagated %q, want %q", what, got, want)
		}
	}
	do := func(args ...any) any {
		t.Helper()
		v, err := rdb.Do(ctx, args...).Result()
		if err != nil && err != redis.Nil {
			t.Fatalf("%v: %v", args, err)
		}
		return v
	}
	do("EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", "1", "a", "1")
	expect("one write", "SET a 1")
	do("EVAL", "redis.call('SET', 'a', '5') return redis.call('INCR', 'a')", "0")
	expect("two writes", "MULTI", "SET a 5", "INCR a", "EXEC")
	do("EVAL", "return redis.call('GET', 'a')", "0")
	expect("a read")
	do("EVAL", "redis.call('INCR', 'nokey') redis.set_repl(redis.REPL_NONE) redis.call('INCR', 'a') redis.set_repl(redis.REPL_ALL) return redis.call('INCR', 'a')", "0")
	expect("set_repl", "MULTI", "INCR nokey", "INCR a", "EXEC")
	do("SADD", "s", "m")
	rec.takeAll()
	do("EVAL", "return redis.call('SPOP', 's')", "0")
	expect("SPOP", "SREM s m")
	sha := do("SCRIPT", "LOAD", "return redis.call('INCR', KEYS[1])").(string)
	do("EVALSHA", sha, "1", "c")
	expect("EVALSHA", "INCR c")
	do("HSET", "h", "f", "v")
	rec.takeAll()
	if err := rdb.Do(ctx, "EVAL", "return redis.pcall('INCR', 'h')", "0").Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
		t.Fatalf("pcall of a failing write = %v", err)
	}
	expect("a failed write")
	if v := do("GET", "a"); v != "8" {
		t.Fatalf("a = %v", v)
	}
}

// TestScriptEffectsReachReplicaAndAOF runs scripts on a master with a
// replica and an append-only file: the replica has their effects, and so
// has the master restarted from its AOF.
func TestScriptEffectsReachReplicaAndAOF(t *testing.T) {
	dir := t.TempDir()
	master := startNode(t, "--appendonly", "yes", "--dir", dir)
	replica := startNode(t, "--replicaof", "127.0.0.1", strconv.Itoa(master.Port))
	ctx := ctxT(t)
	m := master.client(t)
	sha, err := m.ScriptLoad(ctx, "redis.call('INCR', KEYS[1]) return redis.call('RPUSH', KEYS[2], math.random())").Result()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if err := m.EvalSha(ctx, sha, []string{"n", "l"}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	want, _ := m.LRange(ctx, "l", 0, -1).Result()
	if v, err := m.Do(ctx, "WAIT", "1", "10000").Int(); err != nil || v != 1 {
		t.Fatalf("WAIT = %d, %v", v, err)
	}
	r := replica.client(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, _ := r.LRange(ctx, "l", 0, -1).Result()
		n, _ := r.Get(ctx, "n").Result()
		if n == "50" && slices.Equal(got, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica n=%s l=%d elements, want 50 and %d", n, len(got), len(want))
		}
		time.Sleep(20 * time.Millisecond)
	}
	master.Stop(10 * time.Second)
	again := startNode(t, "--appendonly", "yes", "--dir", dir)
	a := again.client(t)
	if n, _ := a.Get(ctx, "n").Result(); n != "50" {
		t.Fatalf("after restart n = %q", n)
	}
	if got, _ := a.LRange(ctx, "l", 0, -1).Result(); !slices.Equal(got, want) {
		t.Fatalf("after restart l = %s, want %s", strings.Join(got, ","), strings.Join(want, ","))
	}
}
