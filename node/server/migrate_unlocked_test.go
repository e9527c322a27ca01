package server

import (
	"bufio"
	"fmt"
	"net"
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

// TestMigrateDeletesInSteps checks that a MIGRATE of many keys lets the
// other clients run between the short lock holds of its work, not only
// while it waits for the target: a client that asks for the first and
// the last key of the batch in one pipeline (one lock hold) sees, at some
// point, the first one moved (ASK) and the last one still here. A MIGRATE
// that deleted its batch in one lock hold, as before, never shows that.
// The window is tens of milliseconds: up to five batches are moved until
// the observer has caught it.
func TestMigrateDeletesInSteps(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two nodes")
	}
	nodes := formCluster(t, 2)
	src, dst := nodes[0], nodes[1]
	rs, rd := dialRaw(t, src), dialRaw(t, dst)
	const n = 50000
	moved := 0
	for round := 0; round < 5; round++ {
		counts := migrateObserved(t, src, dst, rs, rd, "{"+keyOnNode("steps"+strconv.Itoa(round), 0, 2)+"}", n)
		moved += n
		t.Logf("round %d: the first and the last key seen as %v", round, counts)
		if counts[":0 ASK"]+counts[":1 ASK"] > 0 {
			t.Fatalf("saw the last key moved before the first: %v", counts)
		}
		for k := range counts {
			if strings.HasPrefix(k, "error") {
				t.Fatalf("observer: %s", k)
			}
		}
		expectReply(t, rd, ":"+strconv.Itoa(moved)+"\r\n", "DBSIZE")
		expectReply(t, rs, ":0\r\n", "DBSIZE")
		if counts["ASK :1"] > 0 {
			return
		}
	}
	t.Error("never saw the first key of a batch moved and the last one not yet")
}

// migrateObserved sets n keys of tag's slot on src, opens the slot's move
// to dst, and moves them with one MIGRATE, while another client asks src,
// over and over, whether the first and the last exist (one pipeline): how
// often it saw each pair of replies (ASK for a moved key).
func migrateObserved(t *testing.T, src, dst *clusterProc, rs, rd *rawConn, tag string, n int) map[string]int {
	keys := make([]string, n)
	var load strings.Builder
	for i := range keys {
		keys[i] = tag + strconv.Itoa(i)
		load.WriteString(encodeCommand("SET", keys[i], "v"))
	}
	rs.send(load.String())
	for range keys {
		if got := rs.reply(); got != "+OK\r\n" {
			t.Fatalf("SET: %q", got)
		}
	}
	slot := strconv.Itoa(cluster.KeyHashSlot([]byte(tag)))
	expectReply(t, rd, "+OK\r\n", "CLUSTER", "SETSLOT", slot, "IMPORTING", src.myID(t))
	expectReply(t, rs, "+OK\r\n", "CLUSTER", "SETSLOT", slot, "MIGRATING", dst.myID(t))
	conn, err := net.Dial("tcp", src.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	probe := []byte(encodeCommand("EXISTS", keys[0]) + encodeCommand("EXISTS", keys[n-1]))
	stop := make(chan struct{})
	seen := make(chan map[string]int, 1)
	go func() {
		counts := map[string]int{}
		defer func() { seen <- counts }()
		br := bufio.NewReader(conn)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := conn.Write(probe); err != nil {
				counts["error: "+err.Error()]++
				return
			}
			var pair []string
			for range 2 {
				line, err := br.ReadString('\n')
				if err != nil {
					counts["error: "+err.Error()]++
					return
				}
				if strings.HasPrefix(line, "-ASK ") {
					line = "ASK"
				}
				pair = append(pair, strings.TrimSpace(line))
			}
			counts[strings.Join(pair, " ")]++
		}
	}()
	args := []string{"MIGRATE", "127.0.0.1", strconv.Itoa(dst.Port), "", "0", "60000", "KEYS"}
	if got := rs.do(append(args, keys...)...); got != "+OK\r\n" {
		t.Fatalf("MIGRATE: %q", got)
	}
	close(stop)
	return <-seen
}
