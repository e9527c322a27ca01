package server

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The replication knobs the operator's CRD passes to nodes live: each test
// fails when the knob changes nothing.

// TestReplBacklogTTL: a master whose last replica went more than
// repl-backlog-ttl seconds ago frees its backlog (INFO repl_backlog_active
// drops to 0) and takes a new replication ID, as Redis; with replicas
// attached it keeps it.
func TestReplBacklogTTL(t *testing.T) {
	m := startNode(t, "--repl-backlog-ttl", "1")
	mc := m.client(t)
	r := startNode(t, "--replicaof", "127.0.0.1", strconv.Itoa(m.Port), "--repl-backlog-ttl", "1")
	rc := r.client(t)
	replFill(t, mc, "k", 10)
	replWaitInSync(t, mc, rc)
	if got := infoField0(t, mc, "repl_backlog_active"); got != "1" {
		t.Fatalf("repl_backlog_active with a replica = %q", got)
	}
	id := infoField0(t, mc, "master_replid")
	// Kept while the replica is attached, well past the ttl.
	deadline := time.Now().Add(2500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if got := infoField0(t, mc, "repl_backlog_active"); got != "1" {
			t.Fatalf("backlog freed with a replica attached (repl_backlog_active %q)", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// gone is taken before the command: the replica's promotion and the
	// master's noticing it come later, so their ttls count from later.
	gone := time.Now()
	if err := rc.ReplicaOf(ctxT(t), "no", "one").Err(); err != nil {
		t.Fatal(err)
	}
	// The promoted replica ran past its own ttl as a replica: its ttl counts
	// from the promotion, so it keeps the backlog and the old ID (for the
	// other replicas' partial resync) for a while, as Redis's. It may free
	// them 2 s after the promotion (whole seconds past the 1 s ttl): a
	// reply that came later than that, after a stall, proves nothing.
	for time.Since(gone) < 500*time.Millisecond {
		a, id2 := infoField0(t, rc, "repl_backlog_active"), infoField0(t, rc, "master_replid2")
		if (a != "1" || id2 != id) && time.Since(gone) < 1900*time.Millisecond {
			t.Fatalf("promoted replica freed its backlog at once: repl_backlog_active %q, master_replid2 %q (want %q)", a, id2, id)
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitUntil(t, 30*time.Second, "backlog freed", func() error {
		if got := infoField0(t, mc, "repl_backlog_active"); got != "0" {
			return fmt.Errorf("repl_backlog_active %q", got)
		}
		return nil
	})
	if took := time.Since(gone); took < time.Second {
		t.Errorf("backlog freed %v after the replica left, before the 1s ttl", took)
	}
	if got := infoField0(t, mc, "master_replid"); got == id {
		t.Errorf("master_replid unchanged (%s) after the backlog was freed", got)
	}
}

// TestReplDisableTCPNoDelay: with repl-disable-tcp-nodelay yes the
// master turns TCP_NODELAY off on a replica's connection when it asks to
// sync (Go turns it on for every TCP connection); with no it stays on.
func TestReplDisableTCPNoDelay(t *testing.T) {
	for _, disable := range []bool{true, false} {
		s := newInProcess(t, "--repl-disable-tcp-nodelay", yesNo(disable))
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		client, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { client.Close() })
		server, err := ln.Accept()
		ln.Close()
		if err != nil {
			t.Fatal(err)
		}
		s.accept(server)
		rc := &rawConn{t: t, c: client, rd: bufio.NewReader(client)}
		rc.send(encodeCommand("PSYNC", "?", "-1"))
		if line, err := rc.rd.ReadString('\n'); err != nil || len(line) < 12 || line[:12] != "+FULLRESYNC " {
			t.Fatalf("PSYNC: %q %v", line, err)
		}
		nodelay := tcpNoDelay(t, server.(*net.TCPConn))
		if nodelay == disable {
			t.Errorf("repl-disable-tcp-nodelay %s: TCP_NODELAY %v on the replica's connection", yesNo(disable), nodelay)
		}
	}
}

func tcpNoDelay(t *testing.T, c *net.TCPConn) bool {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := raw.Control(func(fd uintptr) {
		v, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_NODELAY)
	}); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	return v != 0
}
