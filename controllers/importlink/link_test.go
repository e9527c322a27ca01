package importlink_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/controllers/importlink"
	"github.com/shoal-dev/shoal/controllers/nodeadmin"
	"github.com/shoal-dev/shoal/node/clusteradmin"
	"github.com/shoal-dev/shoal/node/nodetest"
)

func TestMain(m *testing.M) { os.Exit(nodetest.Run(m)) }

const (
	password = "import-test"
	wait     = 60 * time.Second // generous: a loaded 2-core machine
)

// startTarget starts three cluster-enabled nodes of ours, each the only
// master of a third of the slots (cluster-require-full-coverage no, so a
// node serves its slots without the others): what an import writes to.
func startTarget(t *testing.T) ([]nodeadmin.TargetMaster, []*redis.Client) {
	t.Helper()
	ranges := []clusteradmin.SlotRange{{First: 0, Last: 5460}, {First: 5461, Last: 10922}, {First: 10923, Last: 16383}}
	var masters []nodeadmin.TargetMaster
	var clients []*redis.Client
	for i, r := range ranges {
		p := nodetest.Start(t, nodetest.Options{Args: []string{
			"--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(nodetest.FreePort(t)),
			"--cluster-require-full-coverage", "no", "--requirepass", password,
			"--save", "", "--appendonly", "no",
		}})
		c := redis.NewClient(&redis.Options{Addr: p.Addr, Password: password, Protocol: 2})
		t.Cleanup(func() { _ = c.Close() })
		if err := c.Do(context.Background(), "CLUSTER", "ADDSLOTSRANGE", r.First, r.Last).Err(); err != nil {
			t.Fatal(err)
		}
		masters = append(masters, nodeadmin.TargetMaster{Shard: i, Addr: p.Addr, Slots: []clusteradmin.SlotRange{r}})
		clients = append(clients, c)
	}
	for _, c := range clients {
		poll(t, "cluster_state ok", func() error {
			info, err := c.ClusterInfo(context.Background()).Result()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") {
				return errors.New("cluster_state is not ok")
			}
			return nil
		})
	}
	return masters, clients
}

func startSource(t *testing.T, diskless bool) *redis.Client {
	t.Helper()
	yes := map[bool]string{true: "yes", false: "no"}
	p := nodetest.Start(t, nodetest.Options{Binary: nodetest.RedisServer(t), Args: []string{
		"--save", "", "--appendonly", "no", "--requirepass", password,
		"--repl-diskless-sync", yes[diskless], "--repl-diskless-sync-delay", "0",
		"--daemonize", "no",
	}})
	c := redis.NewClient(&redis.Options{Addr: p.Addr, Password: password, Protocol: 2})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func poll(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fill writes every type, with and without TTLs, in database 0, and a
// few keys in database 1 (which a cluster does not have).
func fill(t *testing.T, ctx context.Context, src *redis.Client, prefix string, n int) {
	t.Helper()
	_, err := src.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range n {
			k := fmt.Sprintf("%s:%d", prefix, i)
			switch i % 7 {
			case 0:
				p.Set(ctx, k+":s", strconv.Itoa(i), 0)
			case 1:
				p.Set(ctx, k+":ttl", "v", time.Hour)
			case 2:
				p.HSet(ctx, k+":h", "f", i, "g", "x")
			case 3:
				p.RPush(ctx, k+":l", "a", "b", i)
			case 4:
				p.SAdd(ctx, k+":set", "m", i)
			case 5:
				p.ZAdd(ctx, k+":z", redis.Z{Score: float64(i) / 3, Member: "m"})
			case 6:
				p.XAdd(ctx, &redis.XAddArgs{Stream: k + ":x", Values: []any{"f", i}})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// same checks that the cluster holds exactly the source's database 0:
// every key with the same DUMP and an expiry within a second.
func same(ctx context.Context, src *redis.Client, dst []*redis.Client, owner func([]byte) int) error {
	keys, err := src.Keys(ctx, "*").Result()
	if err != nil {
		return err
	}
	var total int64
	for _, c := range dst {
		n, err := c.DBSize(ctx).Result()
		if err != nil {
			return err
		}
		total += n
	}
	if total != int64(len(keys)) {
		return fmt.Errorf("the cluster holds %d keys, the source %d", total, len(keys))
	}
	for _, k := range keys {
		c := dst[owner([]byte(k))]
		w, werr := render(ctx, src, k)
		g, gerr := render(ctx, c, k)
		if werr != nil || gerr != nil || w != g {
			return fmt.Errorf("%s: %s (%v) on the source, %s (%v) on the cluster", k, w, werr, g, gerr)
		}
		wt, gt := src.PTTL(ctx, k).Val(), c.PTTL(ctx, k).Val()
		if (wt < 0) != (gt < 0) || (wt-gt).Abs() > 2*time.Second {
			return fmt.Errorf("%s: PTTL %v on the source, %v on the cluster", k, wt, gt)
		}
	}
	return nil
}

// render is a key's type and value as text (encodings differ: a node
// writes its own listpacks, so DUMP payloads are not compared).
func render(ctx context.Context, c *redis.Client, k string) (string, error) {
	typ, err := c.Type(ctx, k).Result()
	if err != nil {
		return "", err
	}
	var v any
	switch typ {
	case "string":
		v, err = c.Get(ctx, k).Result()
	case "hash":
		v, err = c.HGetAll(ctx, k).Result()
	case "list":
		v, err = c.LRange(ctx, k, 0, -1).Result()
	case "set":
		var m []string
		m, err = c.SMembers(ctx, k).Result()
		slices.Sort(m)
		v = m
	case "zset":
		v, err = c.ZRangeWithScores(ctx, k, 0, -1).Result()
	case "stream":
		v, err = c.XRange(ctx, k, "-", "+").Result()
	default:
		return "", fmt.Errorf("type %s", typ)
	}
	return typ + " " + fmt.Sprint(v), err
}

func sourceOffset(ctx context.Context, src *redis.Client) (int64, error) {
	info, err := src.Info(ctx, "replication").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "master_repl_offset:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, errors.New("no master_repl_offset")
}

// caughtUp waits until the link holds the source's whole stream.
func caughtUp(t *testing.T, ctx context.Context, src *redis.Client, l *importlink.Link) {
	t.Helper()
	poll(t, "the link catches up", func() error {
		off, err := sourceOffset(ctx, src)
		if err != nil {
			return err
		}
		p := l.Progress()
		if p.Phase != importlink.PhaseStreaming || p.Offset != off {
			return fmt.Errorf("link %+v, source offset %d", p, off)
		}
		return nil
	})
}

// writeLoad writes what applications write: counters, cross-slot MSET
// and DEL (split by master), transactions on one slot and over several,
// scripts (their effects come as MULTI/EXEC), expiries.
func writeLoad(ctx context.Context, src *redis.Client, round int) error {
	r := strconv.Itoa(round)
	cmds := [][]any{
		{"INCR", "counter"},
		{"MSET", "m:a" + r, "1", "m:b" + r, "2", "m:c" + r, "3"},
		{"DEL", "m:a" + r, "m:b" + r},
		{"SET", "px:" + r, "v", "PX", "600000"},
		{"EXPIRE", "counter", "3600"},
		{"EVAL", "redis.call('INCR', KEYS[1]); redis.call('RPUSH', KEYS[2], ARGV[1]); return 1", "2", "{tag}n", "{tag}l", r},
		{"HINCRBY", "hash", "f" + r, "1"},
		{"ZINCRBY", "zs", "1", "m" + strconv.Itoa(round%5)},
	}
	for _, c := range cmds {
		if err := src.Do(ctx, c...).Err(); err != nil {
			return fmt.Errorf("%v: %w", c, err)
		}
	}
	_, err := src.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, "{tx}a")
		p.Incr(ctx, "{tx}b")
		return nil
	})
	if err != nil {
		return err
	}
	_, err = src.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, "txa:"+r)
		p.Incr(ctx, "txb:"+r)
		return nil
	})
	return err
}

// TestLinkImportsAndStreams: a source redis-server with every type, some
// keys in database 1 and a function library is imported by a link into
// three masters of ours while a load writes to it; the cluster then holds
// exactly the source's database 0 (DUMP and TTL of every key), WAIT on
// the source counts the link, and a killed link continues with a partial
// resynchronisation. Both snapshot transfers (disk and diskless).
func TestLinkImportsAndStreams(t *testing.T) {
	for _, diskless := range []bool{false, true} {
		t.Run(fmt.Sprintf("diskless=%v", diskless), func(t *testing.T) {
			ctx := context.Background()
			src := startSource(t, diskless)
			fill(t, ctx, src, "k", 3000)
			db1 := redis.NewClient(&redis.Options{Addr: src.Options().Addr, Password: password, DB: 1, Protocol: 2})
			defer db1.Close()
			if err := db1.Set(ctx, "elsewhere", "1", 0).Err(); err != nil {
				t.Fatal(err)
			}
			lib := "#!lua name=importlib\nredis.register_function('hello', function() return 'hi' end)"
			if err := src.FunctionLoad(ctx, lib).Err(); err != nil {
				t.Fatal(err)
			}

			masters, dst := startTarget(t)
			target, err := nodeadmin.NewImportTarget(masters, nodeadmin.SourceAuth{Password: password, Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer target.Close()
			l, err := importlink.New(importlink.Options{Addr: src.Options().Addr, Auth: nodeadmin.SourceAuth{Password: password}, Target: target, Logf: t.Logf})
			if err != nil {
				t.Fatal(err)
			}
			lctx, cancel := context.WithCancel(ctx)
			var wg sync.WaitGroup
			wg.Add(1)
			var runErr error
			go func() { defer wg.Done(); runErr = l.Run(lctx) }()
			defer func() {
				cancel()
				wg.Wait()
				if !errors.Is(runErr, context.Canceled) {
					t.Errorf("Run ended with %v", runErr)
				}
			}()

			// Writes while the snapshot is taken and loaded, and after.
			for round := range 200 {
				if err := writeLoad(ctx, src, round); err != nil {
					t.Fatal(err)
				}
			}
			caughtUp(t, ctx, src, l)
			if err := same(ctx, src, dst, target.Owner); err != nil {
				t.Fatal(err)
			}
			p := l.Progress()
			if p.FullSyncs != 1 || p.Skipped < 1 || p.KeysLoaded < 3000 {
				t.Fatalf("progress %+v: want one full sync, the db 1 key skipped, >= 3000 keys loaded", p)
			}
			for _, c := range dst {
				if got, err := c.Do(ctx, "FCALL", "hello", "0").Text(); err != nil || got != "hi" {
					t.Fatalf("FCALL hello on a master: %q, %v", got, err)
				}
			}
			// The link acknowledges what the cluster holds: WAIT counts it.
			if err := src.Set(ctx, "waited", "1", 0).Err(); err != nil {
				t.Fatal(err)
			}
			if n, err := src.Wait(ctx, 1, wait).Result(); err != nil || n != 1 { // returns at the ack: a long bound costs nothing
				t.Fatalf("WAIT 1 on the source: %d, %v", n, err)
			}

			// A broken link continues where the cluster is.
			if err := src.Do(ctx, "CLIENT", "KILL", "TYPE", "replica").Err(); err != nil {
				t.Fatal(err)
			}
			for round := 200; round < 300; round++ {
				if err := writeLoad(ctx, src, round); err != nil {
					t.Fatal(err)
				}
			}
			caughtUp(t, ctx, src, l)
			if err := same(ctx, src, dst, target.Owner); err != nil {
				t.Fatal(err)
			}
			if p := l.Progress(); p.FullSyncs != 1 || p.PartialSyncs < 1 {
				t.Fatalf("progress %+v: want one full sync and a partial one", p)
			}
		})
	}
}

// TestLinkStopsOnUnroutable: a command the cluster cannot apply (RENAME
// between slots of two masters) stops the link with an error naming it.
func TestLinkStopsOnUnroutable(t *testing.T) {
	ctx := context.Background()
	src := startSource(t, true)
	masters, _ := startTarget(t)
	target, err := nodeadmin.NewImportTarget(masters, nodeadmin.SourceAuth{Password: password, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	a, b := "a", "b"
	for i := 0; target.Owner([]byte(a)) == target.Owner([]byte(b)); i++ {
		b = "b" + strconv.Itoa(i)
	}
	if err := src.Set(ctx, a, "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	l, err := importlink.New(importlink.Options{Addr: src.Options().Addr, Auth: nodeadmin.SourceAuth{Password: password}, Target: target})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	lctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	go func() { done <- l.Run(lctx) }()
	caughtUp(t, ctx, src, l)
	if err := src.Rename(ctx, a, b).Err(); err != nil {
		t.Fatal(err)
	}
	err = <-done
	var ue *importlink.UnroutableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "RENAME") {
		t.Fatalf("Run ended with %v, want an UnroutableError naming RENAME", err)
	}
	if p := l.Progress(); !strings.Contains(p.LastError, "RENAME") {
		t.Fatalf("LastError %q", p.LastError)
	}
}
