package sentinel_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/nodetest"
)

// What Sentinel relies on from the data node, checked on our node and on
// Debian's redis-server alike: replica chains, replica-priority and the
// announced address in INFO, replica-serve-stale-data no, and
// min-replicas-to-write/max-lag bounding what an isolated master accepts.
func TestDataNodeSideAsRedis(t *testing.T) {
	for _, kind := range []string{"ours", "redis"} {
		t.Run(kind, func(t *testing.T) {
			start := func(args ...string) *nodetest.Proc {
				o := nodetest.Options{Args: args}
				if kind == "redis" {
					o.Binary = nodetest.RedisServer(t)
					o.Args = append([]string{"--save", ""}, args...)
				}
				return nodetest.Start(t, o)
			}
			testDataNodeSide(t, start)
		})
	}
}

func infoField(ctx context.Context, c *redis.Client, field string) (string, error) {
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("no %s in INFO", field)
}

func testDataNodeSide(t *testing.T, start func(args ...string) *nodetest.Proc) {
	ctx := ctxT(t)
	a := start("--min-replicas-to-write", "1", "--min-replicas-max-lag", "2")
	b := start("--replicaof", "127.0.0.1", strconv.Itoa(a.Port), "--replica-priority", "7",
		"--replica-announce-ip", "127.0.0.1", "--replica-announce-port", strconv.Itoa(a.Port+0), "--replica-serve-stale-data", "no")
	c := start("--replicaof", "127.0.0.1", strconv.Itoa(b.Port))
	ac, bc, cc := client(t, a.Addr), client(t, b.Addr), client(t, c.Addr)

	// Replica chain: a write on A reaches C through B.
	eventually(t, settleTimeout, "a write reaches the end of the chain", func() error {
		if err := ac.Set(ctx, "chain", "v", 0).Err(); err != nil {
			return err
		}
		v, err := cc.Get(ctx, "chain").Result()
		if err != nil || v != "v" {
			return fmt.Errorf("%q %v", v, err)
		}
		return nil
	})
	if v, err := infoField(ctx, cc, "master_port"); err != nil || v != strconv.Itoa(b.Port) {
		t.Errorf("C's master_port %q %v, want B's %d", v, err, b.Port)
	}
	if v, err := infoField(ctx, bc, "connected_slaves"); err != nil || v != "1" {
		t.Errorf("B's connected_slaves %q %v", v, err)
	}
	// replica-priority in the replica's INFO, the announced address in the
	// master's.
	if v, err := infoField(ctx, bc, "slave_priority"); err != nil || v != "7" {
		t.Errorf("slave_priority %q %v", v, err)
	}
	eventually(t, settleTimeout, "the announced replica address", func() error {
		v, err := infoField(ctx, ac, "slave0")
		if err != nil {
			return err
		}
		if !strings.HasPrefix(v, fmt.Sprintf("ip=127.0.0.1,port=%d,", a.Port)) {
			return fmt.Errorf("slave0:%s", v)
		}
		return nil
	})

	// min-replicas-to-write: B stopped (a partition), A refuses writes
	// once B's last ack is older than max-lag, and accepts them again when
	// B is back.
	if err := b.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	eventually(t, settleTimeout, "NOREPLICAS on the isolated master", func() error {
		err := ac.Set(ctx, "k", "v", 0).Err()
		if err == nil || err.Error() != "NOREPLICAS Not enough good replicas to write." {
			return fmt.Errorf("SET: %v", err)
		}
		return nil
	})
	if err := b.Cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	eventually(t, settleTimeout, "writes accepted again", func() error { return ac.Set(ctx, "k", "v", 0).Err() })

	// replica-serve-stale-data no: B refuses reads once its master is gone.
	a.Kill()
	eventually(t, settleTimeout, "MASTERDOWN on the stale replica", func() error {
		err := bc.Get(ctx, "chain").Err()
		if err == nil || err.Error() != "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'." {
			return fmt.Errorf("GET: %v", err)
		}
		return nil
	})
	// C (serve-stale-data yes by default) still serves the chain's data.
	if v, err := cc.Get(ctx, "chain").Result(); err != nil || v != "v" {
		t.Errorf("C's stale read: %q %v", v, err)
	}
}
