package interop

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/redis/go-redis/v9"
)

// lzfStrings are values that take each of LZF's limits: literal runs of
// exactly 32 bytes, back references of the longest length (264 bytes)
// and of the largest offset (8191), a match ending in the last 3 bytes,
// overlapping repeats, incompressible bytes, and strings just above and
// below the 21 bytes from which Redis compresses.
func lzfStrings() map[string][]byte {
	rng := rand.New(rand.NewPCG(7, 8))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	far := random(8192 + 100)
	copy(far[8191:], far[:50])
	copy(far[8192+40:], far[:50])
	populate := append([]byte("value:12345"), make([]byte, 21)...)
	return map[string][]byte{
		"lzf:populate":   populate,
		"lzf:20":         bytes.Repeat([]byte("a"), 20),
		"lzf:21":         bytes.Repeat([]byte("a"), 21),
		"lzf:run265":     append(bytes.Repeat([]byte{7}, 265), 8),
		"lzf:long":       bytes.Repeat([]byte("a"), 100000),
		"lzf:period2":    append(random(100), bytes.Repeat([]byte("ab"), 1000)...),
		"lzf:lit32":      append(random(32), random(32)...),
		"lzf:tail":       append(random(64), []byte("xyzxyz")...),
		"lzf:far":        far,
		"lzf:random":     random(5000),
		"lzf:repeat-rnd": append(bytes.Repeat(random(100), 100), random(300)...),
	}
}

// fillLZF sets the lzfStrings as strings, hash fields and list elements
// (the plain and packed forms hold them), and 700 small keys with TTLs
// that span several of SAVE's write batches.
func fillLZF(ctx context.Context, db func(int) *redis.Client) error {
	c := db(0)
	for k, v := range lzfStrings() {
		if err := do(ctx, c, "SET", k, v); err != nil {
			return err
		}
		if err := do(ctx, c, "HSET", "h:"+k, "f", v, v[:min(len(v), 40)], "x"); err != nil {
			return err
		}
		if err := do(ctx, c, "RPUSH", "l:"+k, v, "x", v); err != nil {
			return err
		}
	}
	for i := range 700 {
		v := fmt.Sprintf("value:%d%s", i, bytes.Repeat([]byte{0}, i%40))
		if err := do(ctx, c, "SET", fmt.Sprintf("key:%d", i), v, "PXAT", farMs+int64(i)); err != nil {
			return err
		}
	}
	return nil
}

// TestLZFBothWays: what our node writes with rdbcompression yes passes
// redis-check-rdb and loads into redis-server identical, and what
// redis-server writes of the same data loads into our node identical.
func TestLZFBothWays(t *testing.T) {
	ctx := context.Background()
	path, want := saveFile(t, fillLZF, "--rdbcompression", "yes")
	checkRDB(t, path)
	rdir := t.TempDir()
	copyFile(t, path, filepath.Join(rdir, "dump.rdb"))
	r := startRedis(t, rdir)
	diff(t, "redis-server loading the node's LZF strings", render(t, r.Addr), want)

	rdir2 := t.TempDir()
	r2 := startRedis(t, rdir2)
	fillAndSave(t, ctx, r2.Addr, fillLZF)
	ndir := t.TempDir()
	copyFile(t, filepath.Join(rdir2, "dump.rdb"), filepath.Join(ndir, "dump.rdb"))
	n := startNode(t, ndir)
	diff(t, "our node loading redis-server's LZF strings", render(t, n.Addr), render(t, r2.Addr))
}
