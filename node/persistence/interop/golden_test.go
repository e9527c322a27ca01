package interop

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/nodetest"
)

func TestMain(m *testing.M) { os.Exit(nodetest.Run(m)) }

var update = flag.Bool("update", false, "regenerate testdata/*.rdb with redis-server")

// A golden data set: the redis-server arguments and the commands that
// fill it. Expiry times are absolute and far away, so the files stay
// valid.
type golden struct {
	name string
	args []string
	fill func(ctx context.Context, c func(db int) *redis.Client) error
}

const farMs = 4102444800000 // 2100-01-01 in unix ms

var goldens = []golden{
	{name: "types", fill: fillTypes},
	{name: "lru", args: []string{"--maxmemory-policy", "allkeys-lru"}, fill: fillSmall},
	{name: "lfu", args: []string{"--maxmemory-policy", "allkeys-lfu"}, fill: fillSmall},
	{name: "uncompressed", args: []string{"--rdbcompression", "no", "--rdbchecksum", "no"}, fill: fillSmall},
	{name: "stream", fill: fillStream},
	{name: "functions", fill: fillFunctions},
}

func do(ctx context.Context, c *redis.Client, args ...any) error {
	return c.Do(ctx, args...).Err()
}

func fillTypes(ctx context.Context, db func(int) *redis.Client) error {
	c := db(0)
	cmds := [][]any{
		{"SET", "str:raw", "hello world"},
		{"SET", "str:int", "12345"},
		{"SET", "str:int8", "-7"},
		{"SET", "str:int32", "2000000000"},
		{"SET", "str:int64", "12345678901"},
		{"SET", "str:notint", "0123"},
		{"SET", "str:lzf", strings.Repeat("abcdefgh", 500)},
		{"SET", "str:binary", "\x00\xff\r\n\x01"},
		{"SET", "str:empty", ""},
		{"SET", "ttl:ms", "v", "PXAT", farMs + 123},
		{"SET", "12345", "an integer key"},
		{"RPUSH", "list:small", "a", "b", "1", "-2", "70000", "5000000000", ""},
		{"SADD", "set:intset", "1", "2", "3", "-100", "70000", "5000000000"},
		{"SADD", "set:str", "a", "b", "c"},
		{"ZADD", "zset:small", "1", "a", "2.5", "b", "-inf", "c", "inf", "d", "0", "e", "-3.25", "f", "1e300", "g"},
		{"HSET", "hash:small", "f1", "v1", "f2", "2", "f3", ""},
		{"HSET", "hash:longval", "f", strings.Repeat("x", 100)},
		{"PEXPIREAT", "hash:small", farMs},
	}
	var bigList, bigSet, bigZ, bigH []any
	bigList = append(bigList, "RPUSH", "list:big")
	bigSet = append(bigSet, "SADD", "set:big")
	bigZ = append(bigZ, "ZADD", "zset:big")
	bigH = append(bigH, "HSET", "hash:big")
	for i := range 2000 {
		bigList = append(bigList, fmt.Sprintf("element-%06d-%s", i, strings.Repeat("y", i%50)))
	}
	for i := range 600 {
		bigSet = append(bigSet, strconv.Itoa(i*7-1000))
		bigZ = append(bigZ, strconv.FormatFloat(float64(i)/3, 'g', -1, 64), fmt.Sprintf("m%d", i))
		bigH = append(bigH, fmt.Sprintf("field%d", i), fmt.Sprintf("value%d", i*i))
	}
	cmds = append(cmds, bigList, bigSet, bigZ, bigH,
		[]any{"RPUSH", "list:hugeelem", "small", strings.Repeat("z", 20000), "after"},
		[]any{"PEXPIREAT", "zset:big", farMs + 7})
	for _, a := range cmds {
		if err := do(ctx, c, a...); err != nil {
			return fmt.Errorf("%v: %w", a[:2], err)
		}
	}
	c3 := db(3)
	for _, a := range [][]any{
		{"SET", "other", "db3"},
		{"HSET", "h3", "a", "1"},
		{"EXPIREAT", "h3", farMs / 1000},
		{"SADD", "s3", "x"},
	} {
		if err := do(ctx, c3, a...); err != nil {
			return err
		}
	}
	return nil
}

func fillSmall(ctx context.Context, db func(int) *redis.Client) error {
	c := db(0)
	for _, a := range [][]any{
		{"SET", "a", "1"},
		{"SET", "b", strings.Repeat("compress me ", 20)},
		{"RPUSH", "l", "x", "y"},
		{"HSET", "h", "f", "v"},
		{"ZADD", "z", "1.5", "m"},
		{"SADD", "s", "m"},
		{"SET", "t", "v", "PXAT", farMs},
		{"GET", "a"}, {"GET", "a"}, {"GET", "a"},
	} {
		if err := do(ctx, c, a...); err != nil {
			return err
		}
	}
	return nil
}

func fillStream(ctx context.Context, db func(int) *redis.Client) error {
	c := db(0)
	for _, a := range [][]any{
		{"XADD", "s", "1-1", "f", "v", "n", "1"},
		{"XADD", "s", "1-2", "f", "w", "n", "2"},
		{"XADD", "s", "2-0", "other", "x"},
		{"XADD", "s", "3-5", "f", "z", "n", "3"},
		{"XADD", "s", "4-0", "f", "gone", "n", "4"},
		{"XDEL", "s", "4-0"},
		{"XGROUP", "CREATE", "s", "g1", "0"},
		{"XREADGROUP", "GROUP", "g1", "alice", "COUNT", "2", "STREAMS", "s", ">"},
		{"XREADGROUP", "GROUP", "g1", "bob", "COUNT", "1", "STREAMS", "s", ">"},
		{"XACK", "s", "g1", "1-2"},
		{"XGROUP", "CREATECONSUMER", "s", "g1", "carol"},
		{"XGROUP", "CREATE", "s", "g2", "$"},
		{"XADD", "empty", "5-5", "a", "b"},
		{"XDEL", "empty", "5-5"},
		{"SET", "plain", "v"},
	} {
		if err := do(ctx, c, a...); err != nil {
			return fmt.Errorf("%v: %w", a, err)
		}
	}
	return nil
}

// libraryCode is the function library of the "functions" file.
const libraryCode = "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return 1 end)"

func fillFunctions(ctx context.Context, db func(int) *redis.Client) error {
	c := db(0)
	if err := do(ctx, c, "FUNCTION", "LOAD", libraryCode); err != nil {
		return err
	}
	return do(ctx, c, "SET", "k", "v")
}

// startRedis runs Debian's redis-server (saving only when told).
func startRedis(t testing.TB, dir string, args ...string) *nodetest.Proc {
	t.Helper()
	return nodetest.Start(t, nodetest.Options{Binary: nodetest.RedisServer(t), Dir: dir, Args: append([]string{"--save", ""}, args...)})
}

// startNode runs our node, loading dir/dump.rdb when there is one.
func startNode(t testing.TB, dir string, args ...string) *nodetest.Proc {
	t.Helper()
	return nodetest.Start(t, nodetest.Options{Dir: dir, Args: args})
}

func dbClients(addr string) (func(int) *redis.Client, func()) {
	var all []*redis.Client
	return func(db int) *redis.Client {
			c := redis.NewClient(&redis.Options{Addr: addr, DB: db, Protocol: 2})
			all = append(all, c)
			return c
		}, func() {
			for _, c := range all {
				c.Close()
			}
		}
}

func writeRendering(path string, r map[string]string) error {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(r)) {
		fmt.Fprintf(&b, "%s\t%s\n", k, r[k])
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func readRendering(t testing.TB, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("%s: bad line %q", path, sc.Text())
		}
		out[k] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGoldenRegenerate writes testdata/<name>.rdb with redis-server and
// testdata/<name>.txt with what redis-server holds (render), when run
// with -update.
func TestGoldenRegenerate(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate the golden files")
	}
	ctx := context.Background()
	for _, g := range goldens {
		dir := t.TempDir()
		r := startRedis(t, dir, g.args...)
		db, closeAll := dbClients(r.Addr)
		if err := g.fill(ctx, db); err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		if err := do(ctx, db(0), "SAVE"); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dir, "dump.rdb"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", g.name+".rdb"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := writeRendering(filepath.Join("testdata", g.name+".txt"), render(t, r.Addr)); err != nil {
			t.Fatal(err)
		}
		closeAll()
		r.Stop(0)
	}
}

// copyFile copies src to dst.
func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestGoldenLoadsIntoNode: every RDB file redis-server wrote (streams and
// functions aside: see TestGoldenStream, TestGoldenFunctions) loads into
// a node with every key, value, type and expiry identical.
func TestGoldenLoadsIntoNode(t *testing.T) {
	for _, name := range []string{"types", "lru", "lfu", "uncompressed"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			copyFile(t, filepath.Join("testdata", name+".rdb"), filepath.Join(dir, "dump.rdb"))
			n := startNode(t, dir)
			diff(t, name, render(t, n.Addr), readRendering(t, filepath.Join("testdata", name+".txt")))
		})
	}
}
