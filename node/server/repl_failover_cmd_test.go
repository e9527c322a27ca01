package server

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/nodetest"
)

// The standalone FAILOVER command with real node processes: the roles
// swap, the old master continues the stream with a partial resync, and no
// write the old master acknowledged is lost.
func TestFailoverCommandSwapsRoles(t *testing.T) {
	for _, to := range []bool{true, false} {
		t.Run(fmt.Sprintf("to=%v", to), func(t *testing.T) { testFailoverSwapsRoles(t, to) })
	}
}

func testFailoverSwapsRoles(t *testing.T, to bool) {
	m := startNode(t)
	r := startNode(t, "--replicaof", "127.0.0.1", strconv.Itoa(m.Port))
	mc, rc := m.client(t), r.client(t)
	ctx := ctxT(t)
	replFill(t, mc, "f", 2000)
	replWaitInSync(t, mc, rc)

	// A writer INCRs a counter on the master until it is refused (the
	// master turned replica): every value it was answered must survive.
	var (
		mu    sync.Mutex
		acked int64
		werr  error
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		wc := m.client(t)
		for {
			n, err := wc.Incr(ctx, "counter").Result()
			if err != nil {
				mu.Lock()
				werr = err
				mu.Unlock()
				return
			}
			mu.Lock()
			acked = n
			mu.Unlock()
		}
	}()
	waitUntil(t, 60*time.Second, "writes flowing", func() error {
		mu.Lock()
		defer mu.Unlock()
		if acked < 100 {
			return fmt.Errorf("%d writes", acked)
		}
		return nil
	})
	args := []any{"FAILOVER"}
	if to {
		args = append(args, "TO", "127.0.0.1", r.Port, "TIMEOUT", 20000)
	}
	if err := mc.Do(ctx, args...).Err(); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	waitUntil(t, 60*time.Second, "roles swapped", func() error {
		if role := replInfo(t, rc, "replication", "role"); role != "master" {
			return fmt.Errorf("target role %q", role)
		}
		if role := replInfo(t, mc, "replication", "role"); role != "slave" {
			return fmt.Errorf("old master role %q", role)
		}
		if st := replInfo(t, mc, "replication", "master_failover_state"); st != "no-failover" {
			return fmt.Errorf("old master failover state %q", st)
		}
		return nil
	})
	<-done
	mu.Lock()
	last, err := acked, werr
	mu.Unlock()
	if err == nil || !strings.HasPrefix(err.Error(), "READONLY") {
		t.Fatalf("the writer stopped with %v, want READONLY", err)
	}
	if got, err := rc.Get(ctx, "counter").Int64(); err != nil || got < last {
		t.Fatalf("new master counter = %d, %v; %d were acknowledged", got, err, last)
	}
	if err := rc.Set(ctx, "after", "failover", 0).Err(); err != nil {
		t.Fatalf("write to the new master: %v", err)
	}
	replWaitInSync(t, rc, mc)
	if v := mc.Get(ctx, "after").Val(); v != "failover" {
		t.Fatalf("old master after = %q", v)
	}
	replSame(t, rc, mc, "f", 2000)
	if full, ok := replInfoInt(t, rc, "stats", "sync_full"), replInfoInt(t, rc, "stats", "sync_partial_ok"); full != 0 || ok != 1 {
		t.Fatalf("new master: sync_full %d sync_partial_ok %d, want 0 and 1", full, ok)
	}
	if got := m.raw(t).do("ROLE"); !strings.HasPrefix(got, "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:"+strconv.Itoa(r.Port)+"\r\n$9\r\nconnected\r\n") {
		t.Fatalf("ROLE of the old master: %q", got)
	}
}

// FAILOVER's errors against Redis: syntax, no replica, a replica, cluster
// mode, a target that is not a replica, FORCE without TIMEOUT and TO, a
// failover already in progress (its replica frozen with SIGSTOP, behind
// the master), ABORT, and a TIMEOUT that gives up.
func TestDifferentialFailoverErrors(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	runDifferential(t, ours, ref, []step{
		cmd("FAILOVER"), cmd("FAILOVER", "ABORT"), cmd("FAILOVER", "TIMEOUT", "0"), cmd("FAILOVER", "TIMEOUT", "-1"),
		cmd("FAILOVER", "TIMEOUT", "x"), cmd("FAILOVER", "TIMEOUT"), cmd("FAILOVER", "TO", "h"), cmd("FAILOVER", "TO", "h", "x"),
		cmd("FAILOVER", "FORCE"), cmd("FAILOVER", "TIMEOUT", "10", "TIMEOUT", "20"), cmd("FAILOVER", "FORCE", "FORCE"),
		cmd("FAILOVER", "ABORT", "x"), cmd("FAILOVER", "BOGUS"), cmd("FAILOVER", "TO", "h", "1", "TO", "h", "2"),
		cmd("FAILOVER", "to", "h", "1", "force", "timeout", "5"),
	})

	// Masters with one replica each.
	oursR := startNode(t, "--replicaof", "127.0.0.1", strconv.Itoa(ours.Port))
	refR := startRedis(t, "--replicaof", "127.0.0.1", strconv.Itoa(ref.Port))
	for _, p := range [][2]*testNode{{ours, oursR}, {ref, refR}} {
		mc := p[0].client(t)
		replWaitInSync(t, mc, p[1].client(t))
		// Redis puts a replica online at its first ACK after the sync.
		waitUntil(t, 60*time.Second, "replica online on "+p[0].String(), func() error {
			if s := replInfo(t, mc, "replication", "slave0"); !strings.Contains(s, "state=online") {
				return errors.New(s)
			}
			return nil
		})
	}
	runDifferential(t, oursR, refR, []step{cmd("FAILOVER"), cmd("FAILOVER", "ABORT"), cmd("FAILOVER", "TO", "127.0.0.1", "1")})
	script := func(port int) []step {
		p := strconv.Itoa(port)
		return []step{
			cmd("FAILOVER", "TO", "127.0.0.1", "1"), cmd("FAILOVER", "TO", "localhost", p), cmd("FAILOVER", "FORCE"),
			cmd("FAILOVER", "TO", "127.0.0.1", p, "FORCE"), cmd("FAILOVER", "FORCE", "TIMEOUT", "100"),
		}
	}
	a, b := ours.raw(t), ref.raw(t)
	sa, sb := script(oursR.Port), script(refR.Port)
	for i := range sa {
		if got, want := a.do(sa[i].args...), b.do(sb[i].args...); got != want {
			t.Errorf("%q:\n ours  %q\n redis %q", sa[i].args, got, want)
		}
	}

	// Freeze the replicas and write: the failover waits for them. SIGSTOP
	// takes effect when the threads are next scheduled: a replica still
	// running could take the write and answer the master's GETACK.
	for _, n := range []*testNode{oursR, refR} {
		if err := n.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Cmd.Process.Signal(syscall.SIGCONT) })
		waitStopped(t, n.Cmd.Process.Pid)
	}
	for _, n := range []*testNode{ours, ref} {
		if err := n.client(t).Set(ctxT(t), "k", "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	steps := func(port int) [][]string {
		p := strconv.Itoa(port)
		return [][]string{
			{"FAILOVER", "TO", "127.0.0.1", p, "TIMEOUT", "600000"}, {"FAILOVER"}, {"FAILOVER", "TO", "127.0.0.1", p},
			{"FAILOVER", "BOGUS"}, {"FAILOVER", "ABORT"}, {"FAILOVER", "ABORT"},
			{"FAILOVER", "TIMEOUT", "100"},
		}
	}
	sa2, sb2 := steps(oursR.Port), steps(refR.Port)
	for i := range sa2 {
		if got, want := a.do(sa2[i]...), b.do(sb2[i]...); got != want {
			t.Errorf("%q:\n ours  %q\n redis %q", sa2[i], got, want)
		}
	}
	// The TIMEOUT passes: both give up and take writes again.
	for _, n := range []*testNode{ours, ref} {
		c := n.client(t)
		waitUntil(t, 60*time.Second, "failover timed out on "+n.String(), func() error {
			if st := replInfo(t, c, "replication", "master_failover_state"); st != "no-failover" {
				return errors.New(st)
			}
			return nil
		})
		if err := c.Set(ctxT(t), "k2", "v", 0).Err(); err != nil {
			t.Fatalf("write after the timeout on %s: %v", n, err)
		}
		if role := replInfo(t, c, "replication", "role"); role != "master" {
			t.Fatalf("%s role %q", n, role)
		}
	}
	for _, n := range []*testNode{oursR, refR} {
		_ = n.Cmd.Process.Signal(syscall.SIGCONT)
	}

	// Cluster mode.
	dirA, dirB := t.TempDir(), t.TempDir()
	oc := startNode(t, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(nodetest.FreePort(t)), "--cluster-config-file", dirA+"/nodes.conf")
	rc := startRedis(t, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(nodetest.FreePort(t)), "--cluster-config-file", dirB+"/nodes.conf")
	runDifferential(t, oc, rc, []step{cmd("FAILOVER"), cmd("FAILOVER", "ABORT"), cmd("FAILOVER", "BOGUS")})
}
