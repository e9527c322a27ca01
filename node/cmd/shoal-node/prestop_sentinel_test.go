package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/nodetest"
)

func TestReplicaOffsetsAndCaughtUp(t *testing.T) {
	info := parseInfo("role:master\r\nconnected_slaves:3\r\n" +
		"slave0:ip=10.0.0.1,port=6379,state=online,offset=90,lag=0\r\n" +
		"slave1:ip=10.0.0.2,port=6379,state=wait_bgsave,offset=0,lag=0\r\n" +
		"slave2:ip=10.0.0.3,port=6379,state=online,offset=100,lag=1\r\n" +
		"master_repl_offset:100\r\n")
	if got := replicaOffsets(info); len(got) != 2 || got[0] != 90 || got[1] != 100 {
		t.Errorf("replicaOffsets = %v, want the two online replicas' [90 100]", got)
	}
	if !caughtUp(info) {
		t.Error("a replica at the master's offset is not caught up")
	}
	info["slave2"] = "ip=10.0.0.3,port=6379,state=online,offset=99,lag=1"
	if caughtUp(info) {
		t.Error("caught up with every online replica behind the master")
	}
	if caughtUp(parseInfo("role:master\r\nmaster_repl_offset:0\r\n")) {
		t.Error("caught up without a replica")
	}
}

// TestPrestopSentinelHandsTheMasterRoleOver: a master watched by a sentinel,
// under a write load, runs `prestop --sentinel`: the replica becomes the
// master the sentinel names, every write the old master acknowledged is on
// it, and the old master takes no write after it acknowledged the last
// one the new master has. A replica's hook returns at once.
func TestPrestopSentinelHandsTheMasterRoleOver(t *testing.T) {
	master, replica, mc, rc := startMasterAndReplica(t)
	ctx := t.Context()

	// down-after-milliseconds is long: the failover must come from the hook.
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	lines := fmt.Sprintf("sentinel monitor m 127.0.0.1 %d 1\nsentinel auth-pass m %s\n"+
		"sentinel down-after-milliseconds m 60000\nsentinel failover-timeout m 20000\n", master.Port, testPassword)
	if err := os.WriteFile(conf, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	sentinel := nodetest.Start(t, nodetest.Options{Dir: dir, Config: conf, Args: []string{"--sentinel"}})
	sc := (probeTarget{Timeout: 5 * time.Second}).client(sentinel.Addr)
	defer sc.Close()
	waitFor(t, "the sentinel knows the replica", func() error {
		v, err := sc.Do(ctx, "SENTINEL", "REPLICAS", "m").Slice()
		if err != nil || len(v) != 1 {
			return fmt.Errorf("SENTINEL REPLICAS: %v %v", v, err)
		}
		return nil
	})

	t.Run("replica returns at once", func(t *testing.T) {
		r := runSubcommand(t, append([]string{"prestop", "--sentinel", sentinel.Addr, "--master-name", "m"}, connArgs(replica)...)...)
		if r.Code != 0 || !strings.Contains(r.Stdout, "not a master") || r.Took > 5*time.Second {
			t.Errorf("prestop: exit %d after %v, %s%s", r.Code, r.Took, r.Stdout, r.Stderr)
		}
	})

	// The write load: SET w:i i, one at a time; acked are the acknowledged.
	var (
		mu    sync.Mutex
		acked []int
	)
	load, stopLoad := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; load.Err() == nil; i++ {
			wctx, cancel := context.WithTimeout(load, time.Second)
			err := mc.Set(wctx, "w:"+strconv.Itoa(i), i, 0).Err()
			cancel()
			if err == nil {
				mu.Lock()
				acked = append(acked, i)
				mu.Unlock()
			}
		}
	}()
	waitFor(t, "writes acknowledged", func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(acked) < 100 {
			return fmt.Errorf("%d acknowledged", len(acked))
		}
		return nil
	})

	args := append([]string{"prestop", "--timeout", "40s", "--sentinel", sentinel.Addr, "--master-name", "m"}, connArgs(master)...)
	r := runSubcommand(t, args...)
	stopLoad()
	<-done
	t.Logf("prestop took %v:\n%s%s", r.Took, r.Stdout, r.Stderr)
	if r.Code != 0 || !strings.Contains(r.Stdout, "handed over") {
		t.Fatalf("prestop: exit %d\nsentinel log:\n%s", r.Code, nodetest.Tail(sentinel.Log(), 20))
	}
	addr, err := sc.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "m").StringSlice()
	if err != nil || len(addr) != 2 || addr[1] != strconv.Itoa(replica.Port) {
		t.Fatalf("the sentinel names %v (%v), want the replica on port %d", addr, err, replica.Port)
	}
	waitFor(t, "the replica promoted", func() error {
		if info, err := rc.Info(ctx, "replication").Result(); err != nil || parseInfo(info)[infoRole] != "master" {
			return fmt.Errorf("%v %q", err, info)
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	for _, i := range acked {
		if got, err := rc.Get(ctx, "w:"+strconv.Itoa(i)).Result(); err != nil || got != strconv.Itoa(i) {
			t.Fatalf("write w:%d acknowledged by the old master is %q, %v on the new one (%d acknowledged)", i, got, err, len(acked))
		}
	}
	t.Logf("%d writes acknowledged, all on the new master", len(acked))

	// The old master is paused for writes until it exits.
	wctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if err := mc.Set(wctx, "late", 1, 0).Err(); err == nil {
		t.Error("the old master acknowledged a write after the hand-over")
	} else if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "timeout") && !strings.HasPrefix(err.Error(), "READONLY") {
		t.Errorf("a late write on the old master: %v, want no reply or READONLY", err)
	}

	t.Run("sentinel flags go together", func(t *testing.T) {
		if r := runSubcommand(t, "prestop", "--sentinel", sentinel.Addr); r.Code != 2 {
			t.Errorf("prestop --sentinel without --master-name: exit %d", r.Code)
		}
	})
}

// startMasterAndReplica runs two nodes, the second the replica of the
// first, and waits until the master sees it online; their clients close
// when the test ends.
func startMasterAndReplica(t *testing.T) (master, replica *nodeProc, mc, rc *redis.Client) {
	t.Helper()
	master, replica = startNodeProc(t, false), startNodeProc(t, false)
	ctx := t.Context()
	rc, mc = replica.client(), master.client()
	t.Cleanup(func() { rc.Close(); mc.Close() })
	if err := rc.Do(ctx, "REPLICAOF", "127.0.0.1", strconv.Itoa(master.Port)).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the replica online", func() error {
		if info, err := mc.Info(ctx, "replication").Result(); err != nil || len(replicaOffsets(parseInfo(info))) != 1 {
			return fmt.Errorf("%v %q", err, info)
		}
		return nil
	})
	return master, replica, mc, rc
}
