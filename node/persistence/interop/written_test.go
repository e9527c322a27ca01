package interop

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/node/nodetest"
)

// checkRDB runs redis-check-rdb on path.
func checkRDB(t testing.TB, path string) {
	t.Helper()
	tool, err := exec.LookPath("redis-check-rdb")
	if err != nil {
		nodetest.RedisServer(t) // skips or fails as the harness decides
		t.Fatalf("redis-check-rdb: %v", err)
	}
	out, err := exec.Command(tool, path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "RDB looks OK!") {
		t.Fatalf("redis-check-rdb %s: %v\n%s", path, err, out)
	}
}

// TestNodeFileLoadsIntoRedis: a node filled with every type and encoding
// saves a dump.rdb that redis-check-rdb accepts and redis-server loads
// with every key identical; BGSAVE (the capture path) too.
func TestNodeFileLoadsIntoRedis(t *testing.T) {
	ctx := context.Background()
	for _, save := range []string{"SAVE", "BGSAVE"} {
		t.Run(save, func(t *testing.T) {
			dir := t.TempDir()
			n := startNode(t, dir)
			db, closeAll := dbClients(n.Addr)
			defer closeAll()
			if err := fillTypes(ctx, db); err != nil {
				t.Fatal(err)
			}
			if err := fillSmall(ctx, func(int) *redisClient { return db(5) }); err != nil {
				t.Fatal(err)
			}
			want := render(t, n.Addr)
			if save == "SAVE" {
				if err := do(ctx, db(0), "SAVE"); err != nil {
					t.Fatal(err)
				}
			} else {
				saveInBackground(t, ctx, db(0))
			}
			path := filepath.Join(dir, "dump.rdb")
			checkRDB(t, path)
			rdir := t.TempDir()
			copyFile(t, path, filepath.Join(rdir, "dump.rdb"))
			r := startRedis(t, rdir)
			diff(t, "redis-server loading the node's file", render(t, r.Addr), want)
		})
	}
}

func TestGoldenFilesPassRedisCheckRDB(t *testing.T) {
	names, _ := filepath.Glob(filepath.Join("testdata", "*.rdb"))
	if len(names) == 0 {
		t.Fatal("no golden files")
	}
	for _, name := range names {
		if _, err := os.Stat(name); err != nil {
			t.Fatal(err)
		}
		checkRDB(t, name)
	}
}
