package server

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// hashScript exercises every hash command's replies and error paths, in
// an order whose replies are deterministic (small hashes are listpacks,
// kept in insertion order by both servers).
func hashScript() []step {
	long := strings.Repeat("v", 65)
	return []step{
		cmd("HSET", "h", "a", "1", "b", "2"), cmd("HSET", "h", "a", "x", "c", "3"), cmd("HSET", "h", "a"), cmd("HSET", "h", "a", "1", "b"),
		cmd("HGETALL", "h"), cmd("HKEYS", "h"), cmd("HVALS", "h"), cmd("HLEN", "h"), cmd("OBJECT", "ENCODING", "h"), cmd("TYPE", "h"),
		cmd("HGET", "h", "a"), cmd("HGET", "h", "zz"), cmd("HGET", "nokey", "a"), cmd("HMGET", "h", "a", "zz", "c"), cmd("HMGET", "nokey", "a", "b"),
		cmd("HMSET", "h", "d", "4", "e", "5"), cmd("HMSET", "h", "d"), cmd("HSETNX", "h", "a", "no"), cmd("HSETNX", "h", "f", "6"),
		cmd("HSETNX", "h", "a", long), cmd("OBJECT", "ENCODING", "h"), cmd("HSETNX", "new", "f", "v"),
		cmd("HEXISTS", "h", "a"), cmd("HEXISTS", "h", "zz"), cmd("HEXISTS", "nokey", "a"),
		cmd("HSTRLEN", "h", "a"), cmd("HSTRLEN", "h", "zz"), cmd("HSTRLEN", "nokey", "a"), cmd("HLEN", "nokey"),
		cmd("HDEL", "h", "a", "zz", "b"), cmd("HDEL", "h", "a"), cmd("HDEL", "nokey", "a"), cmd("HGETALL", "h"),
		cmd("HDEL", "new", "f"), cmd("EXISTS", "new"), cmd("HGETALL", "nokey"), cmd("HKEYS", "nokey"), cmd("HVALS", "nokey"),
		cmd("HINCRBY", "n", "f", "5"), cmd("HINCRBY", "n", "f", "-10"), cmd("HINCRBY", "n", "f", "abc"), cmd("HINCRBY", "nokey2", "f", "x"),
		cmd("EXISTS", "nokey2"), cmd("HSET", "n", "s", "abc", "big", "9223372036854775807", "sp", " 1", "fl", "1.5"),
		cmd("HINCRBY", "n", "s", "1"), cmd("HINCRBY", "n", "big", "1"), cmd("HINCRBY", "n", "sp", "1"), cmd("HINCRBY", "n", "fl", "1"),
		cmd("HINCRBY", "n", "f", "-9223372036854775808"), cmd("HINCRBY", "n", "f", "9223372036854775808"),
		cmd("HINCRBYFLOAT", "n", "x", "10.5"), cmd("HINCRBYFLOAT", "n", "x", "0.1"), cmd("HINCRBYFLOAT", "n", "y", "1000.1"),
		cmd("HINCRBYFLOAT", "n", "x", "5.0e3"), cmd("HINCRBYFLOAT", "n", "x", "abc"), cmd("HINCRBYFLOAT", "n", "x", "inf"),
		cmd("HINCRBYFLOAT", "n", "x", "nan"), cmd("HINCRBYFLOAT", "n", "s", "1"), cmd("HINCRBYFLOAT", "n", "sp", "1"), cmd("HINCRBYFLOAT", "n", "f", "0x10"),
		cmd("HINCRBYFLOAT", "n", "z", "1e300"), cmd("OBJECT", "ENCODING", "n"), cmd("HGET", "n", "z"), cmd("HINCRBYFLOAT", "nokey3", "f", "abc"),
		cmd("EXISTS", "nokey3"),
		cmd("SET", "str", "v"), cmd("HSET", "str", "a", "1"), cmd("HGET", "str", "a"), cmd("HMGET", "str", "a"), cmd("HDEL", "str", "a"),
		cmd("HLEN", "str"), cmd("HGETALL", "str"), cmd("HINCRBY", "str", "a", "1"), cmd("HINCRBYFLOAT", "str", "a", "1"),
		cmd("HINCRBY", "str", "a", "x"), cmd("HSETNX", "str", "a", "1"), cmd("HEXISTS", "str", "a"), cmd("HSTRLEN", "str", "a"),
		cmd("HRANDFIELD", "str"), cmd("HRANDFIELD", "str", "1"), cmd("HSCAN", "str", "0"),
		cmd("HSET", "one", "only", "v"), cmd("HRANDFIELD", "one"), cmd("HRANDFIELD", "one", "1"), cmd("HRANDFIELD", "one", "-3"),
		cmd("HRANDFIELD", "one", "-2", "WITHVALUES"), cmd("HRANDFIELD", "one", "5", "withvalues"), cmd("HRANDFIELD", "h", "100"),
		cmd("HRANDFIELD", "h", "100", "WITHVALUES"), cmd("HRANDFIELD", "h", "0"), cmd("HRANDFIELD", "nokey"), cmd("HRANDFIELD", "nokey", "5"),
		cmd("HRANDFIELD", "h", "abc"), cmd("HRANDFIELD", "h", "1", "FOO"), cmd("HRANDFIELD", "h", "1", "WITHVALUES", "x"),
		cmd("HRANDFIELD", "h", "-9223372036854775808"), cmd("HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"),
		cmd("HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"), cmd("HRANDFIELD", "nokey", "abc"),
		cmd("HSCAN", "h", "0"), cmd("HSCAN", "h", "0", "MATCH", "d*"), cmd("HSCAN", "h", "0", "COUNT", "1"), cmd("HSCAN", "h", "123"),
		cmd("HSCAN", "h", "x"), cmd("HSCAN", "h", "0", "COUNT", "0"), cmd("HSCAN", "h", "0", "FOO"), cmd("HSCAN", "h", "0", "COUNT", "x"),
		cmd("HSCAN", "nokey", "0"), cmd("HSCAN", "nokey", "0", "COUNT", "0"), cmd("HSCAN", "nokey", "x"), cmd("HSCAN", "h", "-1"),
		cmd("HSCAN", "h", ""), cmd("HSCAN", "h", "+3"), cmd("HSCAN", "h", "-"), cmd("HSCAN", "h", " 1"), cmd("HSCAN", "h", "1 "),
		cmd("HSCAN", "h", "18446744073709551615"), cmd("HSCAN", "h", "18446744073709551616"), cmd("HSCAN", "h", "-18446744073709551615"),
		cmd("HSCAN", "h", "0x10"),
		cmd("HSET", "e", "", ""), cmd("HGET", "e", ""), cmd("HSTRLEN", "e", ""), cmd("HGETALL", "e"),
		cmd("HGET", "h"), cmd("HSET", "h"), cmd("HSCAN", "h"),
	}
}

func TestDifferentialHashesRESP2(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	runDifferential(t, ours, ref, hashScript())
}

func TestDifferentialHashesRESP3(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	runDifferentialRESP3(t, ours, ref, hashScript())
}

// TestDifferentialHashtableEncoding crosses hash-max-listpack-entries
// (512) and compares what does not depend on the table's order.
func TestDifferentialHashtableEncoding(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	var script []step
	for i := 0; i < 600; i += 50 {
		args := []string{"HSET", "big"}
		for j := i; j < i+50; j++ {
			args = append(args, "field:"+strconv.Itoa(j), strconv.Itoa(j*j))
		}
		script = append(script, cmd(args...), cmd("OBJECT", "ENCODING", "big"))
	}
	script = append(script,
		cmd("HLEN", "big"), cmd("HGET", "big", "field:599"), cmd("HMGET", "big", "field:0", "field:300", "nope"),
		unordered("HKEYS", "big"), unordered("HVALS", "big"), cmd("HINCRBY", "big", "field:10", "5"),
		cmd("HINCRBYFLOAT", "big", "field:11", "0.25"), cmd("HDEL", "big", "field:1", "field:2", "nope"), cmd("HLEN", "big"),
		cmd("HEXISTS", "big", "field:1"), cmd("HSTRLEN", "big", "field:599"), cmd("HRANDFIELD", "big", "0"),
		cmd("HSET", "tall", "f", strings.Repeat("x", 64)), cmd("OBJECT", "ENCODING", "tall"),
		cmd("HSET", "tall", "g", strings.Repeat("x", 65)), cmd("OBJECT", "ENCODING", "tall"),
		cmd("HSET", "wide", strings.Repeat("k", 65), "v"), cmd("OBJECT", "ENCODING", "wide"),
	)
	runDifferential(t, ours, ref, script)
}

// TestHSCANOnAHashtableVisitsEveryField iterates a big hash with go-redis
// until the cursor returns to 0.
func TestHSCANOnAHashtableVisitsEveryField(t *testing.T) {
	n := startNode(t)
	rdb := n.client(t)
	ctx := ctxT(t)
	want := map[string]string{}
	args := []any{}
	for i := range 2000 {
		f, v := fmt.Sprintf("f%d", i), fmt.Sprintf("v%d", i)
		want[f] = v
		args = append(args, f, v)
	}
	if err := rdb.HSet(ctx, "big", args...).Err(); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	cursor, calls := uint64(0), 0
	for {
		kv, next, err := rdb.HScan(ctx, "big", cursor, "", 50).Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(kv)%2 != 0 {
			t.Fatalf("odd HSCAN reply %q", kv)
		}
		for i := 0; i < len(kv); i += 2 {
			got[kv[i]] = kv[i+1]
		}
		calls++
		if cursor = next; cursor == 0 {
			break
		}
		if calls > 10000 {
			t.Fatal("HSCAN does not finish")
		}
	}
	if !maps.Equal(got, want) {
		t.Fatalf("HSCAN returned %d fields, want %d", len(got), len(want))
	}
	if calls < 10 {
		t.Fatalf("a 2000-field hashtable came back in %d calls of COUNT 50", calls)
	}
	kv, _, err := rdb.HScan(ctx, "big", 0, "f1?", 100000).Result()
	if err != nil || len(kv) != 20 {
		t.Fatalf("HSCAN MATCH f1? = %d items, %v; want 10 fields with values", len(kv), err)
	}
}

func TestHRANDFIELDWithGoRedis(t *testing.T) {
	n := startNode(t)
	ctx := ctxT(t)
	for _, proto := range []int{2, 3} {
		rdb := n.client(t, func(o *redis.Options) { o.Protocol = proto })
		rdb.Del(ctx, "h")
		rdb.HSet(ctx, "h", "a", "1", "b", "2", "c", "3")
		fields := rdb.HRandField(ctx, "h", 2).Val()
		if len(fields) != 2 || fields[0] == fields[1] {
			t.Fatalf("RESP%d HRANDFIELD h 2 = %q", proto, fields)
		}
		if v := rdb.HRandField(ctx, "h", -10).Val(); len(v) != 10 {
			t.Fatalf("RESP%d HRANDFIELD h -10 gave %d fields", proto, len(v))
		}
		pairs, err := rdb.HRandFieldWithValues(ctx, "h", -5).Result()
		if err != nil || len(pairs) != 5 {
			t.Fatalf("RESP%d HRANDFIELD h -5 WITHVALUES = %v, %v", proto, pairs, err)
		}
		for _, p := range pairs {
			if p.Value != map[string]string{"a": "1", "b": "2", "c": "3"}[p.Key] {
				t.Fatalf("RESP%d pair %v", proto, p)
			}
		}
	}
}

func TestHashesWithGoRedis(t *testing.T) {
	n := startNode(t)
	rdb := n.client(t)
	ctx := ctxT(t)
	if v := rdb.HSet(ctx, "user:1", "name", "ada", "age", "36").Val(); v != 2 {
		t.Fatalf("HSET = %d", v)
	}
	if v := rdb.HGetAll(ctx, "user:1").Val(); !maps.Equal(v, map[string]string{"name": "ada", "age": "36"}) {
		t.Fatalf("HGETALL = %v", v)
	}
	if v := rdb.HIncrBy(ctx, "user:1", "age", 1).Val(); v != 37 {
		t.Fatalf("HINCRBY = %d", v)
	}
	if v := rdb.HIncrByFloat(ctx, "user:1", "score", 0.1).Val(); v != 0.1 {
		t.Fatalf("HINCRBYFLOAT = %v", v)
	}
	if _, err := rdb.HGet(ctx, "user:1", "nope").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("HGET missing field = %v", err)
	}
	if err := rdb.HIncrBy(ctx, "user:1", "name", 1).Err(); err == nil || err.Error() != "ERR hash value is not an integer" {
		t.Fatalf("HINCRBY on a word = %v", err)
	}
	if v := rdb.HMGet(ctx, "user:1", "name", "nope").Val(); len(v) != 2 || v[0] != "ada" || v[1] != nil {
		t.Fatalf("HMGET = %v", v)
	}
	if v := rdb.HKeys(ctx, "user:1").Val(); !slices.Equal(v, []string{"name", "age", "score"}) {
		t.Fatalf("HKEYS = %q", v)
	}
	if v := rdb.HDel(ctx, "user:1", "name", "age", "score").Val(); v != 3 {
		t.Fatalf("HDEL = %d", v)
	}
	if v := rdb.Exists(ctx, "user:1").Val(); v != 0 {
		t.Fatal("an emptied hash still exists")
	}
	if v := rdb.HSetNX(ctx, "user:2", "name", "bob").Val(); !v {
		t.Fatal("HSETNX on a new key failed")
	}
	if v := rdb.HSetNX(ctx, "user:2", "name", "eve").Val(); v {
		t.Fatal("HSETNX overwrote a field")
	}
}

func TestHashWritesPropagateAsTheirEffect(t *testing.T) {
	rdb, rec := startWithRecorder(t)
	ctx := ctxT(t)
	rdb.HIncrByFloat(ctx, "h", "f", 10.5)
	rdb.HIncrByFloat(ctx, "h", "f", 0.1)
	rdb.HDel(ctx, "h", "nope")
	rdb.HSetNX(ctx, "h", "f", "x")
	rdb.HSet(ctx, "h", "g", "1")
	want := []string{"HSET h f 10.5", "HSET h f 10.6", "hset h g 1"}
	if got := rec.take(); !slices.Equal(got, want) {
		t.Fatalf("propagated %q, want %q", got, want)
	}
}
