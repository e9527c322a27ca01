package interop

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestAOFDirLoadsIntoRedis: a node's multi-part AOF (an RDB base, as
// Redis 7 writes with aof-use-rdb-preamble, then RESP increments) is
// loaded by redis-server with every key identical, and the base passes
// redis-check-rdb.
func TestAOFDirLoadsIntoRedis(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	np := startNode(t, dir, "--appendonly", "yes")
	db, closeAll := dbClients(np.Addr)
	defer closeAll()
	if err := fillTypes(ctx, db); err != nil {
		t.Fatal(err)
	}
	c := db(0)
	if err := c.Do(ctx, "BGREWRITEAOF").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the rewrite", func() bool {
		return infoField(t, ctx, c, "persistence", "aof_rewrite_in_progress") == "0" &&
			infoField(t, ctx, c, "persistence", "aof_last_bgrewrite_status") == "ok" &&
			infoField(t, ctx, c, "persistence", "aof_rewrite_scheduled") != "1"
	})
	// Writes after the rewrite go to the increment.
	if err := fillSmall(ctx, func(int) *redis.Client { return db(2) }); err != nil {
		t.Fatal(err)
	}
	want := render(t, np.Addr)
	np.Stop(0)
	bases, _ := filepath.Glob(filepath.Join(dir, "appendonlydir", "*.base.rdb"))
	if len(bases) != 1 {
		t.Fatalf("bases %v", bases)
	}
	checkRDB(t, bases[0])
	rdir := t.TempDir()
	if err := os.CopyFS(filepath.Join(rdir, "appendonlydir"), os.DirFS(filepath.Join(dir, "appendonlydir"))); err != nil {
		t.Fatal(err)
	}
	r := startRedis(t, rdir, "--appendonly", "yes")
	diff(t, "redis-server loading the node's AOF", render(t, r.Addr), want)
}
