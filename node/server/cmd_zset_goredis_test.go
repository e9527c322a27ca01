package server

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestBZPOPMINIsServedByAZADDFromAnotherClient(t *testing.T) {
	n := startNode(t)
	waiter, writer := n.client(t), n.client(t)
	done := make(chan result, 1)
	go func() {
		v, err := waiter.BZPopMin(ctxT(t), 0, "z1", "z2").Result()
		if err != nil {
			done <- result{err: err}
			return
		}
		done <- result{vals: []string{v.Key, v.Member.(string), strconv.FormatFloat(v.Score, 'g', -1, 64)}}
	}()
	waitBlocked(t, writer, 1)
	if err := writer.ZAdd(ctxT(t), "z2", redis.Z{Score: 2, Member: "b"}, redis.Z{Score: 1, Member: "a"}).Err(); err != nil {
		t.Fatal(err)
	}
	r := await(t, done, "BZPOPMIN")
	if r.err != nil || !slices.Equal(r.vals, []string{"z2", "a", "1"}) {
		t.Fatalf("BZPOPMIN = %v, %v; want [z2 a 1]", r.vals, r.err)
	}
	if left := writer.ZRange(ctxT(t), "z2", 0, -1).Val(); !slices.Equal(left, []string{"b"}) {
		t.Fatalf("left in z2: %v", left)
	}
}

func TestBZMPOPIsServedByAStoreIntoTheKey(t *testing.T) {
	n := startNode(t)
	waiter, writer := n.client(t), n.client(t)
	done := make(chan result, 1)
	go func() {
		key, zs, err := waiter.BZMPop(ctxT(t), 0, "max", 5, "dst").Result()
		var vals []string
		for _, z := range zs {
			vals = append(vals, z.Member.(string))
		}
		done <- result{vals: append([]string{key}, vals...), err: err}
	}()
	waitBlocked(t, writer, 1)
	writer.ZAdd(ctxT(t), "src", redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2, Member: "b"}, redis.Z{Score: 3, Member: "c"})
	if err := writer.ZUnionStore(ctxT(t), "dst", &redis.ZStore{Keys: []string{"src"}}).Err(); err != nil {
		t.Fatal(err)
	}
	r := await(t, done, "BZMPOP")
	if r.err != nil || !slices.Equal(r.vals, []string{"dst", "c", "b", "a"}) {
		t.Fatalf("BZMPOP = %v, %v; want [dst c b a]", r.vals, r.err)
	}
	if writer.Exists(ctxT(t), "dst").Val() != 0 {
		t.Fatal("dst should be deleted once popped empty")
	}
}

func TestBZPOPMAXTimesOutWithNil(t *testing.T) {
	n := startNode(t)
	c := n.client(t)
	start := time.Now()
	_, err := c.BZPopMax(ctxT(t), 100*time.Millisecond, "nothing").Result()
	if err != redis.Nil {
		t.Fatalf("BZPOPMAX on a missing key: %v, want nil reply", err)
	}
	if el := time.Since(start); el < 100*time.Millisecond {
		t.Fatalf("returned after %v, before the timeout", el)
	}
	if got := n.raw(t).do("BZPOPMAX", "nothing", "0.05"); got != "*-1\r\n" {
		t.Fatalf("RESP2 timeout reply %q", got)
	}
}

// TestSortedSetAndSetWritesPropagateAsTheirEffect checks what the AOF and
// replicas receive for the commands whose argv would not replay the same.
func TestSortedSetAndSetWritesPropagateAsTheirEffect(t *testing.T) {
	rdb, rec := startWithRecorder(t)
	ctx := ctxT(t)
	do := func(args ...any) any {
		t.Helper()
		v, err := rdb.Do(ctx, args...).Result()
		if err != nil && err != redis.Nil {
			t.Fatalf("%v: %v", args, err)
		}
		return v
	}
	expect := func(what string, want ...string) {
		t.Helper()
		if got := rec.take(); !slices.Equal(got, want) {
			t.Fatalf("%s propagated %q, want %q", what, got, want)
		}
	}
	do("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d")
	expect("ZADD", "ZADD z 1 a 2 b 3 c 4 d")
	do("ZADD", "z", "GT", "0", "a")
	expect("ZADD GT that changes nothing")
	do("ZADD", "z", "NX", "5", "a")
	expect("ZADD NX on an existing member")
	do("ZREM", "z", "nope")
	expect("ZREM of a missing member")
	do("ZREMRANGEBYSCORE", "z", "100", "200")
	expect("ZREMRANGEBYSCORE of nothing")
	do("ZRANGESTORE", "out", "nokey", "0", "-1")
	expect("ZRANGESTORE of nothing into nothing")
	do("ZPOPMIN", "z")
	expect("ZPOPMIN", "ZPOPMIN z")
	do("BZPOPMAX", "nokey", "z", "0")
	expect("BZPOPMAX with data", "ZPOPMAX z")
	do("ZMPOP", "1", "z", "MIN", "COUNT", "10")
	expect("ZMPOP", "ZPOPMIN z 10")
	do("ZADD", "z", "1", "a", "2", "b")
	rec.take()
	do("BZMPOP", "0", "1", "z", "MAX", "COUNT", "10")
	expect("BZMPOP with data", "ZPOPMAX z 2")

	do("SADD", "s", "a", "b", "c", "d", "e")
	expect("SADD", "SADD s a b c d e")
	popped := do("SPOP", "s").(string)
	expect("SPOP", "SREM s "+popped)
	var members []string
	for _, m := range do("SPOP", "s", "2").([]any) {
		members = append(members, m.(string))
	}
	expect("SPOP with a count", "SREM s "+strings.Join(members, " "))
	do("SPOP", "s", "10")
	expect("SPOP of the whole set", "DEL s")
	do("SADD", "s", "a")
	rec.take()
	do("SMOVE", "s", "t", "a")
	expect("SMOVE", "SMOVE s t a")
	do("SMOVE", "s", "t", "a")
	expect("SMOVE of a missing member")
	do("SINTERSTORE", "u", "nokey", "t")
	expect("SINTERSTORE of nothing into nothing")
}

// TestSortedSetsAndSetsWithGoRedis drives the commands through go-redis
// (RESP3, the client's default) over sets big enough for the skiplist and
// hashtable encodings.
func TestSortedSetsAndSetsWithGoRedis(t *testing.T) {
	n := startNode(t)
	c := n.client(t)
	ctx := ctxT(t)
	const size = 1000
	var zs []redis.Z
	var members []any
	for i := 0; i < size; i++ {
		zs = append(zs, redis.Z{Score: float64(i) / 4, Member: fmt.Sprintf("m%04d", i)})
		members = append(members, fmt.Sprintf("m%04d", i))
	}
	if got := c.ZAdd(ctx, "z", zs...).Val(); got != size {
		t.Fatalf("ZADD added %d", got)
	}
	if got := c.SAdd(ctx, "s", members...).Val(); got != size {
		t.Fatalf("SADD added %d", got)
	}
	if enc := c.ObjectEncoding(ctx, "z").Val(); enc != "skiplist" {
		t.Fatalf("zset encoding %q", enc)
	}
	if enc := c.ObjectEncoding(ctx, "s").Val(); enc != "hashtable" {
		t.Fatalf("set encoding %q", enc)
	}
	// Ranks and scores.
	if r, err := c.ZRankWithScore(ctx, "z", "m0500").Result(); err != nil || r.Rank != 500 || r.Score != 125 {
		t.Fatalf("ZRANK WITHSCORE = %+v, %v", r, err)
	}
	if r := c.ZRevRank(ctx, "z", "m0500").Val(); r != size-1-500 {
		t.Fatalf("ZREVRANK = %d", r)
	}
	if got := c.ZMScore(ctx, "z", "m0002", "nope").Val(); len(got) != 2 || got[0] != 0.5 || got[1] != 0 {
		t.Fatalf("ZMSCORE = %v", got)
	}
	if got := c.ZRangeByScore(ctx, "z", &redis.ZRangeBy{Min: "(10", Max: "11", Offset: 1, Count: 2}).Val(); !slices.Equal(got, []string{"m0042", "m0043"}) {
		t.Fatalf("ZRANGEBYSCORE = %v", got)
	}
	if got := c.ZCount(ctx, "z", "10", "(20").Val(); got != 40 {
		t.Fatalf("ZCOUNT = %d", got)
	}
	// Full scans return every member exactly as stored.
	seen := map[string]string{}
	var cursor uint64
	for {
		keys, next, err := c.ZScan(ctx, "z", cursor, "m0*", 50).Result()
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(keys); i += 2 {
			seen[keys[i]] = keys[i+1]
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	if len(seen) != size || seen["m0001"] != "0.25" {
		t.Fatalf("ZSCAN saw %d members, m0001=%q", len(seen), seen["m0001"])
	}
	sseen := map[string]bool{}
	for cursor = 0; ; {
		keys, next, err := c.SScan(ctx, "s", cursor, "", 100).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			sseen[k] = true
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	if len(sseen) != size {
		t.Fatalf("SSCAN saw %d members", len(sseen))
	}
	// Random members are members, distinct when asked.
	rz := c.ZRandMemberWithScores(ctx, "z", 20).Val()
	distinct := map[string]bool{}
	for _, z := range rz {
		m := z.Member.(string)
		if distinct[m] || c.ZScore(ctx, "z", m).Val() != z.Score {
			t.Fatalf("ZRANDMEMBER gave %v", z)
		}
		distinct[m] = true
	}
	if len(rz) != 20 {
		t.Fatalf("ZRANDMEMBER 20 gave %d", len(rz))
	}
	if got := c.SRandMemberN(ctx, "s", -50).Val(); len(got) != 50 {
		t.Fatalf("SRANDMEMBER -50 gave %d", len(got))
	}
	popped := c.SPopN(ctx, "s", 10).Val()
	for _, m := range popped {
		if c.SIsMember(ctx, "s", m).Val() {
			t.Fatalf("SPOP left %s in the set", m)
		}
	}
	if got := c.SCard(ctx, "s").Val(); got != size-10 {
		t.Fatalf("SCARD after SPOP 10 = %d", got)
	}
	// Set algebra across types.
	c.SAdd(ctx, "plain", "m0001", "m0002", "x")
	if got := c.ZInterWithScores(ctx, &redis.ZStore{Keys: []string{"z", "plain"}, Weights: []float64{2, 10}}).Val(); len(got) != 2 || got[0].Score != 10.5 || got[1].Score != 11 {
		t.Fatalf("ZINTER with a set = %v", got)
	}
	if got := c.ZInterCard(ctx, 1, "z", "plain").Val(); got != 1 {
		t.Fatalf("ZINTERCARD LIMIT 1 = %d", got)
	}
	if got := c.SInterCard(ctx, 0, "s", "plain").Val(); got < 0 || got > 2 {
		t.Fatalf("SINTERCARD = %d", got)
	}
	key, popz, err := c.ZMPop(ctx, "min", 3, "nokey", "z").Result()
	if err != nil || key != "z" || len(popz) != 3 || popz[0].Member != "m0000" {
		t.Fatalf("ZMPOP = %s %v %v", key, popz, err)
	}
	// The framework's generic commands see the values.
	if err := c.Copy(ctx, "z", "zcopy", 0, false).Err(); err != nil {
		t.Fatal(err)
	}
	if c.ZCard(ctx, "zcopy").Val() != size-3 || c.ObjectEncoding(ctx, "zcopy").Val() != "skiplist" {
		t.Fatal("COPY of a sorted set differs")
	}
	c.ZAdd(ctx, "zcopy", redis.Z{Score: -1, Member: "only-in-copy"})
	if c.ZScore(ctx, "z", "only-in-copy").Err() != redis.Nil {
		t.Fatal("COPY shares storage with the original")
	}
	if err := c.Copy(ctx, "s", "scopy", 0, false).Err(); err != nil || c.SCard(ctx, "scopy").Val() != size-10 {
		t.Fatalf("COPY of a set: %v", err)
	}
	if mem := c.MemoryUsage(ctx, "z").Val(); mem < size*50 || mem > size*400 {
		t.Fatalf("MEMORY USAGE of a %d-member sorted set: %d", size, mem)
	}
	if mem := c.MemoryUsage(ctx, "s").Val(); mem < size*20 || mem > size*200 {
		t.Fatalf("MEMORY USAGE of a %d-member set: %d", size, mem)
	}
	// Members come back sorted by score, then bytes.
	c.ZAdd(ctx, "ties", redis.Z{Score: 1, Member: "b"}, redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 0, Member: "z"})
	if got := c.ZRange(ctx, "ties", 0, -1).Val(); !slices.Equal(got, []string{"z", "a", "b"}) {
		t.Fatalf("ZRANGE with ties = %v", got)
	}
}

// TestRedisCLIReadsSortedSetsAndSets drives redis-cli against our node and
// redis-server and compares its output, which depends on the reply types
// (RESP2 bulk scores, RESP3 doubles and sets), for typed and raw output and
// for commands piped in as text lines.
func TestRedisCLIReadsSortedSetsAndSets(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	for _, args := range [][]string{
		{"ZADD", "z", "1.5", "a", "2", "b", "0.1", "c"},
		{"--no-raw", "ZRANGE", "z", "0", "-1", "WITHSCORES"},
		{"-3", "--no-raw", "ZRANGE", "z", "0", "-1", "WITHSCORES"},
		{"-3", "--no-raw", "ZSCORE", "z", "a"},
		{"-3", "--no-raw", "ZPOPMIN", "z"},
		{"-3", "--no-raw", "ZPOPMIN", "z", "1"},
		{"--no-raw", "ZRANK", "z", "b"},
		{"SADD", "s", "3", "1", "2"},
		{"-3", "--no-raw", "SMEMBERS", "s"},
		{"-3", "--no-raw", "SMISMEMBER", "s", "1", "9"},
		{"-3", "--no-raw", "SPOP", "nokey", "3"},
		{"-3", "--no-raw", "ZRANDMEMBER", "nokey"},
	} {
		if got, want := ours.redisCLI(t, "", args...), ref.redisCLI(t, "", args...); got != want {
			t.Errorf("redis-cli %v:\n ours  %q\n redis %q", args, got, want)
		}
	}
	piped := "ZADD piped 1 x\nZINCRBY piped 0.5 x\nSADD ps a\nSCARD ps\nZRANGE piped 0 -1 WITHSCORES\n"
	if got, want := ours.redisCLI(t, piped), ref.redisCLI(t, piped); got != want {
		t.Errorf("piped commands:\n ours  %q\n redis %q", got, want)
	}
}
