package interop

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/persistence"
)

// copyByDump copies every key of db 0 from src to dst with DUMP and
// RESTORE ... ABSTTL, as copy tools do.
func copyByDump(t *testing.T, ctx context.Context, src, dst *redis.Client) int {
	t.Helper()
	keys := src.Keys(ctx, "*").Val()
	for _, k := range keys {
		payload, err := src.Dump(ctx, k).Result()
		if err != nil {
			t.Fatalf("DUMP %s: %v", k, err)
		}
		at := src.Do(ctx, "PEXPIRETIME", k).Val().(int64)
		err = dst.Do(ctx, "RESTORE", k, strconv.FormatInt(max(at, 0), 10), payload, "ABSTTL").Err()
		if err != nil {
			t.Fatalf("RESTORE %s: %v", k, err)
		}
	}
	return len(keys)
}

// TestDumpRestoreBothWays: every type and encoding DUMPed by redis-server
// RESTOREs into a node identical, and the other way round.
func TestDumpRestoreBothWays(t *testing.T) {
	ctx := context.Background()
	r := startRedis(t, t.TempDir())
	n := startNode(t, t.TempDir())
	for _, dir := range []struct {
		name     string
		src, dst string
	}{{"redis to node", r.Addr, n.Addr}, {"node to redis", n.Addr, r.Addr}} {
		t.Run(dir.name, func(t *testing.T) {
			src := redis.NewClient(&redis.Options{Addr: dir.src, Protocol: 2})
			dst := redis.NewClient(&redis.Options{Addr: dir.dst, Protocol: 2})
			defer src.Close()
			defer dst.Close()
			for _, c := range []*redis.Client{src, dst} {
				c.FlushAll(ctx)
			}
			if err := fillTypes(ctx, func(int) *redis.Client { return src }); err != nil {
				t.Fatal(err)
			}
			if copyByDump(t, ctx, src, dst) < 20 {
				t.Fatal("too few keys")
			}
			diff(t, dir.name, render(t, dir.dst), render(t, dir.src))
		})
	}
}

// TestRestoreRefusesAsRedis: corrupt payloads get Redis's words from both.
func TestRestoreRefusesAsRedis(t *testing.T) {
	ctx := context.Background()
	r := redis.NewClient(&redis.Options{Addr: startRedis(t, t.TempDir()).Addr, Protocol: 2})
	n := redis.NewClient(&redis.Options{Addr: startNode(t, t.TempDir()).Addr, Protocol: 2})
	defer r.Close()
	defer n.Close()
	r.RPush(ctx, "l", "a", "b", "c")
	good := []byte(r.Dump(ctx, "l").Val())
	// withCRC completes a payload body (object, version) with its CRC.
	withCRC := func(body ...byte) string {
		return string(binary.LittleEndian.AppendUint64(body, persistence.CRC64(body)))
	}
	flip := func(i int) string { b := append([]byte(nil), good...); b[i] ^= 0x20; return string(b) }
	cases := map[string]string{
		"flipped value byte":     flip(5),
		"flipped version byte":   flip(len(good) - 10),
		"flipped checksum byte":  flip(len(good) - 1),
		"truncated":              string(good[:len(good)-3]),
		"empty":                  "",
		"garbage":                "garbage!!!!!",
		"bad listpack, good CRC": withCRC(0x12, 0x01, 0x02, 0x03, 'a', 'b', 'c', 0x0a, 0x00),
		"unknown type, good CRC": withCRC(0x30, 0x01, 'a', 0x0a, 0x00),
		"module type, good CRC":  withCRC(0x07, 0x01, 'a', 0x0a, 0x00),
		"version 11, good CRC":   withCRC(0x00, 0x01, 'a', 0x0b, 0x00),
		"empty set, good CRC":    withCRC(0x02, 0x00, 0x0a, 0x00),
		"string, version 9":      withCRC(0x00, 0x01, 'a', 0x09, 0x00),
	}
	for name, p := range cases {
		want := fmt.Sprint(r.Do(ctx, "RESTORE", "x", "0", p).Err())
		got := fmt.Sprint(n.Do(ctx, "RESTORE", "x", "0", p).Err())
		if got != want {
			t.Errorf("%s: node %q, redis-server %q", name, got, want)
		}
	}
}

// migrateAll moves every key of db 0 of src to dst with one MIGRATE.
func migrateAll(t *testing.T, ctx context.Context, src *redis.Client, dstPort int) {
	t.Helper()
	keys := src.Keys(ctx, "*").Val()
	args := []any{"MIGRATE", "127.0.0.1", dstPort, "", 0, 10000, "KEYS"}
	for _, k := range keys {
		args = append(args, k)
	}
	if err := src.Do(ctx, args...).Err(); err != nil {
		t.Fatalf("MIGRATE: %v", err)
	}
	if left := src.DBSize(ctx).Val(); left != 0 {
		t.Fatalf("%d keys left on the source", left)
	}
}

// TestMigrateBothWays: MIGRATE from redis-server to a node and back, every
// type and encoding, values and TTLs identical.
func TestMigrateBothWays(t *testing.T) {
	ctx := context.Background()
	rp, np := startRedis(t, t.TempDir()), startNode(t, t.TempDir())
	r := redis.NewClient(&redis.Options{Addr: rp.Addr, Protocol: 2})
	n := redis.NewClient(&redis.Options{Addr: np.Addr, Protocol: 2})
	defer r.Close()
	defer n.Close()
	// Every key in db 0: MIGRATE moves one database.
	if err := fillTypes(ctx, func(int) *redis.Client { return r }); err != nil {
		t.Fatal(err)
	}
	want := render(t, rp.Addr)
	migrateAll(t, ctx, r, np.Port)
	diff(t, "redis-server to node", withinTTL(render(t, np.Addr), want, 5000), want)
	migrateAll(t, ctx, n, rp.Port)
	diff(t, "node to redis-server", withinTTL(render(t, rp.Addr), want, 5000), want)
}
