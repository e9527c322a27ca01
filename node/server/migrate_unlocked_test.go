package server

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/cluster"
)

// TestMigrateServesOthersWhileTargetWaits checks that a MIGRATE waiting
// for its target keeps only the writers of the keys it moves waiting: the
// target is paused (CLIENT PAUSE WRITE holds its RESTORE-ASKING), and
// meanwhile the source answers reads of the moving key and writes of
// other keys; a write of the moving key sent meanwhile runs after the
// MIGRATE, as it would after Redis's, so it finds the key gone and is
// redirected with ASK instead of changing a value the target already has.
func TestMigrateServesOthersWhileTargetWaits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two nodes")
	}
	nodes := formCluster(t, 2)
	src, dst := nodes[0], nodes[1]
	tag := "{" + keyOnNode("held", 0, 2) + "}"
	slot := cluster.KeyHashSlot([]byte(tag))
	moving, other := tag+"k", keyOnNode("other", 0, 2)
	if cluster.KeyHashSlot([]byte(other)) == slot {
		t.Fatal("other key in the moving slot")
	}
	for _, k := range []string{moving, tag + "k2"} {
		if err := src.do(t, "SET", k, "v1").Err(); err != nil {
			t.Fatal(err)
		}
	}
	rs, rd := dialRaw(t, src), dialRaw(t, dst)
	expectReply(t, rd, "+OK\r\n", "CLUSTER", "SETSLOT", strconv.Itoa(slot), "IMPORTING", src.myID(t))
	expectReply(t, rs, "+OK\r\n", "CLUSTER", "SETSLOT", strconv.Itoa(slot), "MIGRATING", dst.myID(t))
	// Paused for longer than the test waits: CLIENT UNPAUSE ends it.
	expectReply(t, rd, "+OK\r\n", "CLIENT", "PAUSE", "60000", "WRITE")

	migrated := make(chan string, 1)
	mig := dialRaw(t, src)
	go func() { migrated <- mig.do("MIGRATE", "127.0.0.1", strconv.Itoa(dst.Port), moving, "0", "60000") }()
	waitUntil(t, 10*time.Second, "the MIGRATE to be running", func() error {
		if !strings.Contains(src.text(t, "CLIENT", "LIST"), "cmd=migrate") {
			return fmt.Errorf("no client runs MIGRATE")
		}
		return nil
	})

	// Served while the target has not answered.
	r := dialRaw(t, src)
	expectReply(t, r, ":1\r\n", "INCR", other)
	expectReply(t, r, "$2\r\nv1\r\n", "GET", moving)
	expectReply(t, r, "+OK\r\n", "CLIENT", "SETNAME", "writer")
	written := make(chan string, 1)
	go func() { written <- r.do("SET", moving, "v2") }()
	waitUntil(t, 10*time.Second, "the write of the moving key to wait", func() error {
		for _, line := range strings.Split(src.text(t, "CLIENT", "LIST"), "\n") {
			if strings.Contains(line, "name=writer ") && strings.Contains(line, "flags=b") {
				return nil
			}
		}
		return fmt.Errorf("the writer is not waiting")
	})
	select {
	case got := <-migrated:
		t.Fatalf("MIGRATE replied %q while its target was paused", got)
	default:
	}

	expectReply(t, rd, "+OK\r\n", "CLIENT", "UNPAUSE")
	if got := <-migrated; got != "+OK\r\n" {
		t.Fatalf("MIGRATE: %q", got)
	}
	ask := fmt.Sprintf("-ASK %d %s\r\n", slot, dst.Addr())
	if got := <-written; got != ask {
		t.Fatalf("the write held during the MIGRATE: %q, want %q", got, ask)
	}
	expectReply(t, rd, "+OK\r\n", "ASKING")
	expectReply(t, rd, "$2\r\nv1\r\n", "GET", moving)
	expectReply(t, rs, ask, "GET", moving)
	// The cached connection serves the next MIGRATE.
	expectReply(t, rs, "+OK\r\n", "MIGRATE", "127.0.0.1", strconv.Itoa(dst.Port), tag+"k2", "0", "5000")
}
