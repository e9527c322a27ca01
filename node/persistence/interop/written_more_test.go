package interop

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// saveFile fills a node started with args by fill, SAVEs, and returns
// the file and the node's rendering.
func saveFile(t *testing.T, fill func(context.Context, func(int) *redis.Client) error, args ...string) (string, map[string]string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	n := startNode(t, dir, args...)
	fillAndSave(t, ctx, n.Addr, fill)
	return filepath.Join(dir, "dump.rdb"), render(t, n.Addr)
}

// fillAndSave fills the server at addr (ours or redis-server) by fill and
// SAVEs.
func fillAndSave(t *testing.T, ctx context.Context, addr string, fill func(context.Context, func(int) *redis.Client) error) {
	t.Helper()
	db, closeAll := dbClients(addr)
	defer closeAll()
	if err := fill(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := do(ctx, db(0), "SAVE"); err != nil {
		t.Fatal(err)
	}
}

// TestNodeFileCompression: with rdbcompression yes (the default) the
// node's file holds LZF strings and is smaller than with no; both pass
// redis-check-rdb and load into redis-server identical.
func TestNodeFileCompression(t *testing.T) {
	sizes := map[string]int64{}
	for _, comp := range []string{"yes", "no"} {
		path, want := saveFile(t, fillTypes, "--rdbcompression", comp)
		checkRDB(t, path)
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		sizes[comp] = st.Size()
		rdir := t.TempDir()
		copyFile(t, path, filepath.Join(rdir, "dump.rdb"))
		r := startRedis(t, rdir)
		diff(t, "redis-server loading the node's file (rdbcompression "+comp+")", render(t, r.Addr), want)
	}
	// fillTypes has a 4000-byte repetitive string, a 20000-byte list
	// element and 2000 list elements with repeated letters.
	if sizes["yes"] >= sizes["no"]-20000 {
		t.Fatalf("compressed file %d bytes, uncompressed %d", sizes["yes"], sizes["no"])
	}
}

// TestNodeFunctionsLoadIntoRedis: a library loaded on our node is in its
// dump.rdb as an RDB_OPCODE_FUNCTION2 record (no aux field of our own),
// so redis-server started on the file runs it with FCALL.
func TestNodeFunctionsLoadIntoRedis(t *testing.T) {
	ctx := context.Background()
	path, _ := saveFile(t, fillFunctions)
	checkRDB(t, path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("shoal-functions")) {
		t.Fatal("the file still carries the libraries in the shoal-functions aux field")
	}
	rdir := t.TempDir()
	copyFile(t, path, filepath.Join(rdir, "dump.rdb"))
	r := startRedis(t, rdir)
	c := redis.NewClient(&redis.Options{Addr: r.Addr, Protocol: 2})
	defer c.Close()
	if got, err := c.FCall(ctx, "myfunc", nil).Int(); err != nil || got != 1 {
		t.Fatalf("FCALL myfunc on redis-server loading the node's file = %v, %v", got, err)
	}
	// And back: our node restarted on its own file has the library.
	ndir := t.TempDir()
	copyFile(t, path, filepath.Join(ndir, "dump.rdb"))
	n := startNode(t, ndir)
	nc := redis.NewClient(&redis.Options{Addr: n.Addr, Protocol: 2})
	defer nc.Close()
	if got, err := nc.FCall(ctx, "myfunc", nil).Int(); err != nil || got != 1 {
		t.Fatalf("FCALL myfunc on the node restarted from its file = %v, %v", got, err)
	}
}

// accessFill restores keys with an idle time and an LFU counter (RESTORE
// IDLETIME/FREQ: which one applies depends on the policy).
func accessFill(ctx context.Context, c *redis.Client, lfu bool) error {
	payload, err := c.Dump(ctx, "seed").Result()
	if err != nil {
		return err
	}
	opt := []any{"IDLETIME", 1000}
	if lfu {
		opt = []any{"FREQ", 77}
	}
	return do(ctx, c, append([]any{"RESTORE", "hinted", 0, payload}, opt...)...)
}

// TestAccessHintsBothWays: under an LRU (LFU) maxmemory-policy, a file
// carries each key's idle time (LFU counter) and the other side, under
// the same policy, gives the key that idle time (counter): node to
// redis-server and redis-server to node.
func TestAccessHintsBothWays(t *testing.T) {
	ctx := context.Background()
	for _, policy := range []string{"allkeys-lru", "allkeys-lfu"} {
		lfu := strings.HasSuffix(policy, "lfu")
		check := func(t *testing.T, what, addr string) {
			c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2})
			defer c.Close()
			if lfu {
				// The counter decays by one per minute (lfu-decay-time 1).
				if f, err := c.ObjectFreq(ctx, "hinted").Result(); err != nil || f < 75 || f > 77 {
					t.Fatalf("%s: OBJECT FREQ = %d, %v; want 77", what, f, err)
				}
				return
			}
			if d, err := c.ObjectIdleTime(ctx, "hinted").Result(); err != nil || d.Seconds() < 1000 || d.Seconds() > 1100 {
				t.Fatalf("%s: OBJECT IDLETIME = %v, %v; want about 1000s", what, d, err)
			}
		}
		t.Run(policy, func(t *testing.T) {
			for _, fromNode := range []bool{true, false} {
				sdir := t.TempDir()
				var src string
				if fromNode {
					src = startNode(t, sdir, "--maxmemory-policy", policy).Addr
				} else {
					src = startRedis(t, sdir, "--maxmemory-policy", policy).Addr
				}
				c := redis.NewClient(&redis.Options{Addr: src, Protocol: 2})
				if err := c.Set(ctx, "seed", "v", 0).Err(); err != nil {
					t.Fatal(err)
				}
				if err := accessFill(ctx, c, lfu); err != nil {
					t.Fatal(err)
				}
				check(t, "source", src)
				if err := c.Save(ctx).Err(); err != nil {
					t.Fatal(err)
				}
				c.Close()
				ddir := t.TempDir()
				copyFile(t, filepath.Join(sdir, "dump.rdb"), filepath.Join(ddir, "dump.rdb"))
				if fromNode {
					check(t, "redis-server loading the node's file", startRedis(t, ddir, "--maxmemory-policy", policy).Addr)
				} else {
					check(t, "the node loading redis-server's file", startNode(t, ddir, "--maxmemory-policy", policy).Addr)
				}
			}
		})
	}
}
