package server

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// DUMP and RESTORE: every type round-trips, the options behave as Redis's,
// and bad input gets Redis's exact error words.

func TestPersistDumpRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	n := newPersistNode(t, "--appendonly", "yes")
	c := n.start()
	requirePersistence(t, c)
	check := dataset(t, c)
	keys := []string{"str", "counter", "bin", "list", "hash", "set", "zset"}
	// Big values take the big encodings.
	for i := range 300 {
		c.RPush(ctx, "biglist", fmt.Sprintf("element-%d", i))
		c.HSet(ctx, "bighash", fmt.Sprintf("field-%d", i), i)
	}
	keys = append(keys, "biglist", "bighash")
	for _, k := range keys {
		payload, err := c.Dump(ctx, k).Result()
		if err != nil {
			t.Fatalf("DUMP %s: %v", k, err)
		}
		if err := c.Restore(ctx, k+":copy", 0, payload).Err(); err != nil {
			t.Fatalf("RESTORE %s: %v", k, err)
		}
		// Same type and content: the copy dumps to the same payload.
		if c.Type(ctx, k+":copy").Val() != c.Type(ctx, k).Val() {
			t.Fatalf("%s restored as %s", k, c.Type(ctx, k+":copy").Val())
		}
		if again := c.Dump(ctx, k+":copy").Val(); again != payload {
			t.Fatalf("%s: the restored copy dumps differently", k)
		}
		// RESTORE ... REPLACE over the original leaves it as it was.
		if err := c.RestoreReplace(ctx, k, 0, payload).Err(); err != nil {
			t.Fatalf("RESTORE REPLACE %s: %v", k, err)
		}
	}
	check(t, c)
	if got := c.LLen(ctx, "biglist:copy").Val(); got != 300 {
		t.Fatalf("biglist copy has %d elements", got)
	}
	// Restored keys survive a restart (RESTORE is propagated to the AOF).
	n.stop()
	c = n.start("--appendonly", "yes")
	for _, k := range keys {
		if c.Exists(ctx, k+":copy").Val() != 1 {
			t.Fatalf("%s:copy lost across a restart", k)
		}
	}
}

func TestPersistRestoreOptions(t *testing.T) {
	ctx := context.Background()
	n := newPersistNode(t, "--appendonly", "yes")
	c := n.start()
	requirePersistence(t, c)
	c.Set(ctx, "src", "value", 0)
	payload := c.Dump(ctx, "src").Val()

	// A relative TTL; propagated as an absolute one (ABSTTL), so the key
	// expires at the same time after a restart.
	if err := c.Restore(ctx, "rel", 100*time.Second, payload).Err(); err != nil {
		t.Fatal(err)
	}
	if ttl := c.PTTL(ctx, "rel").Val(); ttl <= 90*time.Second || ttl > 100*time.Second {
		t.Fatalf("PTTL after RESTORE rel 100000 = %v", ttl)
	}
	// ABSTTL in the past: OK, but the key is not created.
	past := strconv.FormatInt(time.Now().Add(-time.Hour).UnixMilli(), 10)
	if err := c.Do(ctx, "RESTORE", "gone", past, payload, "ABSTTL").Err(); err != nil {
		t.Fatal(err)
	}
	if c.Exists(ctx, "gone").Val() != 0 {
		t.Fatal("a key restored with a past ABSTTL exists")
	}
	// ABSTTL in the future.
	at := time.Now().Add(time.Hour).UnixMilli()
	if err := c.Do(ctx, "RESTORE", "abs", strconv.FormatInt(at, 10), payload, "ABSTTL").Err(); err != nil {
		t.Fatal(err)
	}
	if got := c.PExpireTime(ctx, "abs").Val(); got != time.Duration(at)*time.Millisecond {
		t.Fatalf("PEXPIRETIME = %v, want %d ms", got, at)
	}
	// IDLETIME sets the LRU clock.
	if err := c.Do(ctx, "RESTORE", "idle", "0", payload, "IDLETIME", "1000").Err(); err != nil {
		t.Fatal(err)
	}
	if idle := c.ObjectIdleTime(ctx, "idle").Val(); idle < 999*time.Second || idle > 1010*time.Second {
		t.Fatalf("OBJECT IDLETIME after RESTORE IDLETIME 1000 = %v", idle)
	}
	// REPLACE with a past ABSTTL deletes the old key.
	c.Set(ctx, "old", "x", 0)
	if err := c.Do(ctx, "RESTORE", "old", past, payload, "ABSTTL", "REPLACE").Err(); err != nil {
		t.Fatal(err)
	}
	if c.Exists(ctx, "old").Val() != 0 {
		t.Fatal("RESTORE REPLACE with a past ABSTTL kept the old key")
	}
	n.stop()
	c = n.start("--appendonly", "yes")
	if ttl := c.PTTL(ctx, "rel").Val(); ttl <= 80*time.Second || ttl > 100*time.Second {
		t.Fatalf("PTTL of rel after a restart = %v", ttl)
	}
	if c.Exists(ctx, "old").Val() != 0 || c.Get(ctx, "abs").Val() != "value" {
		t.Fatal("RESTORE effects not replayed from the AOF")
	}
	// FREQ under an LFU policy.
	c.ConfigSet(ctx, "maxmemory-policy", "allkeys-lfu")
	if err := c.Do(ctx, "RESTORE", "freq", "0", payload, "FREQ", "100").Err(); err != nil {
		t.Fatal(err)
	}
	if f := c.ObjectFreq(ctx, "freq").Val(); f != 100 {
		t.Fatalf("OBJECT FREQ after RESTORE FREQ 100 = %d", f)
	}
}

// The error replies of DUMP/RESTORE are Redis's, byte for byte, and a
// payload of one server is refused by the other.
func TestPersistRestoreErrorsMatchRedis(t *testing.T) {
	ctx := context.Background()
	ref := startRedis(t)
	rc := redis.NewClient(&redis.Options{Addr: ref.Addr})
	t.Cleanup(func() { rc.Close() })
	n := newPersistNode(t)
	c := n.start()
	requirePersistence(t, c)
	for _, cl := range []*redis.Client{rc, c} {
		cl.Set(ctx, "src", "value", 0)
		cl.Set(ctx, "busy", "x", 0)
	}
	ours, theirs := c.Dump(ctx, "src").Val(), rc.Dump(ctx, "src").Val()
	cases := []func(payload string) []any{
		func(p string) []any { return []any{"RESTORE", "busy", "0", p} },
		func(p string) []any { return []any{"RESTORE", "k", "-1", p} },
		func(p string) []any { return []any{"RESTORE", "k", "abc", p} },
		func(p string) []any { return []any{"RESTORE", "k", "0", "garbage"} },
		func(p string) []any { return []any{"RESTORE", "k", "0", ""} },
		func(p string) []any { return []any{"RESTORE", "k", "0", p, "IDLETIME", "-1"} },
		func(p string) []any { return []any{"RESTORE", "k", "0", p, "IDLETIME", "x"} },
		func(p string) []any { return []any{"RESTORE", "k", "0", p, "FREQ", "256"} },
		func(p string) []any { return []any{"RESTORE", "k", "0", p, "IDLETIME", "1", "FREQ", "1"} },
		func(p string) []any { return []any{"RESTORE", "k", "0", p, "IDLETIME"} },
		func(p string) []any { return []any{"RESTORE", "k", "0", p, "NOPE"} },
		func(p string) []any { return []any{"RESTORE", "k", "0"} },
		func(p string) []any { return []any{"DUMP"} },
		func(p string) []any { return []any{"DUMP", "missing"} },
		func(p string) []any { return []any{"RESTORE", "busy", "0", "garbage", "REPLACE"} },
		func(p string) []any { return []any{"RESTORE", "busy", "x", p, "BAD"} },
	}
	for i, mk := range cases {
		want := fmt.Sprint(rc.Do(ctx, mk(theirs)...).Result())
		got := fmt.Sprint(c.Do(ctx, mk(ours)...).Result())
		if got != want {
			t.Errorf("case %d %q: got %s, Redis %s", i, mk("<payload>"), got, want)
		}
	}
	// Cross payloads: the formats are the same (RDB), each restores the
	// other's.
	if ours != theirs {
		t.Errorf("DUMP payloads differ: ours %q, Redis %q", ours, theirs)
	}
	errOurs := c.Restore(ctx, "x", 0, theirs).Err()
	errRedis := rc.Restore(ctx, "x", 0, ours).Err()
	if errOurs != nil || errRedis != nil || c.Get(ctx, "x").Val() != "value" || rc.Get(ctx, "x").Val() != "value" {
		t.Fatalf("cross RESTORE: ours %v, Redis %v", errOurs, errRedis)
	}
}
