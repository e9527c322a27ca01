package sentinel_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/nodetest"
)

func TestMain(m *testing.M) { os.Exit(nodetest.Run(m)) }

// Test timing: down-after-milliseconds 1000 as the brief of the tests
// says, deadlines generous for a slow, busy machine.
const (
	downAfterMs   = 1000
	failoverTOms  = 5000
	settleTimeout = 60 * time.Second
	masterName    = "mymaster"
)

func startNode(t *testing.T, args ...string) *nodetest.Proc {
	t.Helper()
	return nodetest.Start(t, nodetest.Options{Args: args})
}

// startSentinel runs a sentinel (ours when binary is "", else Debian's
// redis-server) monitoring masterPort with the given quorum, started as
// the operator starts it: `<binary> sentinel.conf --sentinel`.
func startSentinel(t *testing.T, binary string, masterPort, quorum int, extra ...string) *nodetest.Proc {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	lines := []string{
		fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d %d", masterName, masterPort, quorum),
		fmt.Sprintf("sentinel down-after-milliseconds %s %d", masterName, downAfterMs),
		fmt.Sprintf("sentinel failover-timeout %s %d", masterName, failoverTOms),
	}
	lines = append(lines, extra...)
	if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if binary == "" {
		binary = nodetest.Binary(t)
	}
	return nodetest.Start(t, nodetest.Options{Binary: binary, Dir: dir, Config: conf, Args: []string{"--sentinel"}})
}

func client(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls f until it returns nil or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := f()
		if err == nil {
			t.Logf("%s: after %v", what, time.Until(deadline.Add(-within)).Abs().Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// masterFields reads SENTINEL MASTER as a map.
func masterFields(ctx context.Context, c *redis.Client) (map[string]string, error) {
	v, err := c.Do(ctx, "SENTINEL", "MASTER", masterName).Result()
	if err != nil {
		return nil, err
	}
	return toMap(v), nil
}

// toMap reads an instance reply: a map in RESP3, a flat array in RESP2.
func toMap(v any) map[string]string {
	m := map[string]string{}
	switch v := v.(type) {
	case map[any]any:
		for k, x := range v {
			m[fmt.Sprint(k)] = fmt.Sprint(x)
		}
	case []any:
		for i := 0; i+1 < len(v); i += 2 {
			m[fmt.Sprint(v[i])] = fmt.Sprint(v[i+1])
		}
	}
	return m
}

func pairs(v []string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(v); i += 2 {
		m[v[i]] = v[i+1]
	}
	return m
}

// waitDiscovered waits until the sentinel knows replicas replicas and
// others other sentinels of the master.
func waitDiscovered(t *testing.T, ctx context.Context, c *redis.Client, replicas, others int) {
	t.Helper()
	eventually(t, settleTimeout, "discovery", func() error {
		f, err := masterFields(ctx, c)
		if err != nil {
			return err
		}
		if f["num-slaves"] != strconv.Itoa(replicas) || f["num-other-sentinels"] != strconv.Itoa(others) {
			return fmt.Errorf("num-slaves %s num-other-sentinels %s", f["num-slaves"], f["num-other-sentinels"])
		}
		// Discovered is not yet connected: a sentinel learnt from a hello
		// is "disconnected" until its link is up (ours and Redis's alike).
		for _, sub := range []string{"REPLICAS", "SENTINELS"} {
			v, err := c.Do(ctx, "SENTINEL", sub, masterName).Result()
			if err != nil {
				return err
			}
			for _, in := range instances(v) {
				if strings.Contains(in.vals["flags"], "disconnected") {
					return fmt.Errorf("%s %s: flags %s", sub, in.vals["name"], in.vals["flags"])
				}
			}
		}
		return nil
	})
}

// waitInSync waits until the master reports n replicas online.
func waitInSync(t *testing.T, ctx context.Context, master *redis.Client, n int) {
	t.Helper()
	eventually(t, settleTimeout, "replicas online", func() error {
		info, err := master.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if got := strings.Count(info, "state=online"); got != n {
			return fmt.Errorf("%d online replicas", got)
		}
		return nil
	})
}

func masterAddr(ctx context.Context, c *redis.Client) (string, error) {
	v, err := c.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName).StringSlice()
	if err != nil {
		return "", err
	}
	if len(v) != 2 {
		return "", fmt.Errorf("reply %q", v)
	}
	return v[0] + ":" + v[1], nil
}
