package server

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/nodetest"
)

// The announced endpoint of a node behind a per-pod Service (the operator's
// spec.externalAccess): clients must be sent to the Service's address and
// port, peers keep using the node's own. cluster-announce-hostname with
// cluster-preferred-endpoint-type hostname gives clients the address (as
// Redis 7.0); cluster-announce-client-port (the node's own, Valkey's name)
// gives them a port that differs from the one replicas connect to.

// startTwoShards starts two nodes with start, meets them and gives each
// half of the slots; it returns them once both agree.
func startTwoShards(t *testing.T, start func() *clusterProc) (a, b *clusterProc) {
	t.Helper()
	a, b = start(), start()
	if err := a.do(t, "CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(b.Port), strconv.Itoa(b.BusPort)).Err(); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		p          *clusterProc
		first, end int
	}{{a, 0, 8191}, {b, 8192, 16383}} {
		if err := s.p.do(t, "CLUSTER", "ADDSLOTSRANGE", s.first, s.end).Err(); err != nil {
			t.Fatal(err)
		}
	}
	waitAgreement(t, []*clusterProc{a, b})
	return a, b
}

// startRedisClusterProc starts Debian's redis-server in cluster mode.
func startRedisClusterProc(t *testing.T) *clusterProc {
	t.Helper()
	bus := nodetest.FreePort(t)
	proc := nodetest.Start(t, nodetest.Options{
		Binary: nodetest.RedisServer(t),
		Args: []string{"--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(bus),
			"--cluster-node-timeout", clusterNodeTimeout, "--save", "", "--appendonly", "no"},
		Ready: 20 * time.Second,
	})
	return &clusterProc{Port: proc.Port, BusPort: bus, Dir: proc.Dir, owner: t, proc: proc, cmd: proc.Cmd}
}

// setAnnounce sets cluster-announce-* on a live node.
func setAnnounce(t *testing.T, p *clusterProc, kv ...string) {
	t.Helper()
	args := []any{"CONFIG", "SET"}
	for _, s := range kv {
		args = append(args, s)
	}
	if err := p.do(t, args...).Err(); err != nil {
		t.Fatalf("CONFIG SET %v on %s: %v", kv, p.Addr(), err)
	}
}

// slotsEndpoints is CLUSTER SLOTS as "first-last endpoint:port
// [endpoint:port...]" lines, node IDs and metadata left out.
func slotsEndpoints(t *testing.T, p *clusterProc) ([]string, error) {
	v, err := p.do(t, "CLUSTER", "SLOTS").Slice()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range v {
		row, ok := r.([]any)
		if !ok || len(row) < 3 {
			return nil, fmt.Errorf("CLUSTER SLOTS row %v", r)
		}
		line := fmt.Sprintf("%v-%v", row[0], row[1])
		for _, n := range row[2:] {
			nd, ok := n.([]any)
			if !ok || len(nd) < 2 {
				return nil, fmt.Errorf("CLUSTER SLOTS node %v", n)
			}
			line += fmt.Sprintf(" %v:%v", nd[0], nd[1])
		}
		out = append(out, line)
	}
	return out, nil
}

// movedFor is the error of a GET of key on p ("" when p serves it).
func movedFor(t *testing.T, p *clusterProc, key string) string {
	err := p.do(t, "GET", key).Err()
	if err == nil || err.Error() == "redis: nil" {
		return ""
	}
	return err.Error()
}

// TestClusterAnnounceHostnameDifferential: CONFIG SET of
// cluster-announce-hostname, cluster-announce-port and
// cluster-preferred-endpoint-type hostname on live nodes changes what a
// peer sends clients (CLUSTER SLOTS, MOVED) the same way on redis-server
// and on the node.
func TestClusterAnnounceHostnameDifferential(t *testing.T) {
	run := func(start func() *clusterProc) (slots []string, moved string) {
		a, b := startTwoShards(t, start)
		setAnnounce(t, a, "cluster-announce-hostname", "ext-a.example", "cluster-announce-port", "31001")
		setAnnounce(t, b, "cluster-announce-hostname", "ext-b.example", "cluster-preferred-endpoint-type", "hostname")
		// "foo" hashes to slot 12182 (b's), "a" to 15495 (b's), "b" to 3300 (a's).
		waitUntil(t, clusterWait, "the announced endpoint to reach the peer", func() error {
			var err error
			slots, err = slotsEndpoints(t, b)
			if err != nil {
				return err
			}
			if want := "0-8191 ext-a.example:31001"; len(slots) == 0 || slots[0] != want {
				return fmt.Errorf("CLUSTER SLOTS on b %q, want first %q", slots, want)
			}
			return nil
		})
		moved = movedFor(t, b, "b")
		return slots, moved
	}
	redisSlots, redisMoved := run(func() *clusterProc { return startRedisClusterProc(t) })
	oursSlots, oursMoved := run(func() *clusterProc { return startClusterProc(t, "", 0) })
	// b's own port differs between the runs; its hostname does not.
	norm := func(s []string) []string {
		out := make([]string, len(s))
		for i, l := range s {
			if j := strings.LastIndexByte(l, ':'); strings.Contains(l, "ext-b") && j > 0 {
				l = l[:j] + ":PORT"
			}
			out[i] = l
		}
		return out
	}
	if !reflect.DeepEqual(norm(redisSlots), norm(oursSlots)) {
		t.Errorf("CLUSTER SLOTS after CONFIG SET:\nredis %q\nours  %q", redisSlots, oursSlots)
	}
	if redisMoved != oursMoved || oursMoved != "MOVED 3300 ext-a.example:31001" {
		t.Errorf("MOVED: redis %q, ours %q", redisMoved, oursMoved)
	}
}

// TestClusterAnnounceClientPort: with cluster-announce-client-port set live,
// peers send clients to hostname:client-port (CLUSTER SLOTS, CLUSTER
// SHARDS, MOVED) while CLUSTER NODES, the bus and replication keep the
// node's own address and port; setting it back to 0 restores the port.
func TestClusterAnnounceClientPort(t *testing.T) {
	a, b := startTwoShards(t, func() *clusterProc { return startClusterProc(t, "", 0) })
	c := startClusterProc(t, "", 0)
	if err := c.do(t, "CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(a.Port), strconv.Itoa(a.BusPort)).Err(); err != nil {
		t.Fatal(err)
	}
	for i, p := range []*clusterProc{a, b, c} {
		setAnnounce(t, p, "cluster-announce-hostname", fmt.Sprintf("ext-%c.example", 'a'+i),
			"cluster-preferred-endpoint-type", "hostname", "cluster-announce-client-port", strconv.Itoa(31001+i))
	}
	aID := a.myID(t)
	waitUntil(t, clusterWait, "c to know a", func() error {
		if !strings.Contains(c.text(t, "CLUSTER", "NODES"), aID) {
			return fmt.Errorf("a not in c's CLUSTER NODES")
		}
		return nil
	})
	// c replicates a after the change: from a's own port, not the client port.
	if err := c.do(t, "CLUSTER", "REPLICATE", aID).Err(); err != nil {
		t.Fatal(err)
	}
	if err := a.do(t, "SET", "b", "v").Err(); err != nil { // slot 3300, a's
		t.Fatal(err)
	}
	waitUntil(t, clusterWait, "c to sync from a's own port", func() error {
		info := c.text(t, "INFO", "replication")
		if !strings.Contains(info, "master_link_status:up") || !strings.Contains(info, "master_port:"+strconv.Itoa(a.Port)) {
			return fmt.Errorf("c: %q", info)
		}
		if v, err := c.do(t, "READONLY").Text(); err != nil || v != "OK" {
			return fmt.Errorf("READONLY: %v", err)
		}
		return nil
	})
	waitUntil(t, clusterWait, "b to send clients to the client ports", func() error {
		slots, err := slotsEndpoints(t, b)
		if err != nil {
			return err
		}
		want := []string{"0-8191 ext-a.example:31001 ext-c.example:31003", "8192-16383 ext-b.example:31002"}
		if !reflect.DeepEqual(slots, want) {
			return fmt.Errorf("CLUSTER SLOTS on b %q, want %q", slots, want)
		}
		return nil
	})
	if got, want := movedFor(t, b, "b"), "MOVED 3300 ext-a.example:31001"; got != want {
		t.Errorf("MOVED on b: %q, want %q", got, want)
	}
	// CLUSTER SHARDS: the endpoint and port clients use, the ip beside.
	shards := fmt.Sprint(b.do(t, "CLUSTER", "SHARDS").Val())
	if want := "port 31001 ip 127.0.0.1 endpoint ext-a.example hostname ext-a.example role master"; !strings.Contains(shards, want) {
		t.Errorf("CLUSTER SHARDS on b lacks %q: %s", want, shards)
	}
	// CLUSTER NODES keeps the node's own port and bus port, with the
	// hostname after them, as Redis prints it.
	own := fmt.Sprintf("127.0.0.1:%d@%d,ext-a.example ", a.Port, a.BusPort)
	if nodes := b.text(t, "CLUSTER", "NODES"); !strings.Contains(nodes, own) {
		t.Errorf("CLUSTER NODES on b lacks %q:\n%s", own, nodes)
	}
	// Back to 0: the node's own port again, live.
	setAnnounce(t, a, "cluster-announce-client-port", "0")
	waitUntil(t, clusterWait, "b to see a's client port go", func() error {
		if got, want := movedFor(t, b, "b"), "MOVED 3300 ext-a.example:"+strconv.Itoa(a.Port); got != want {
			return fmt.Errorf("MOVED on b %q, want %q", got, want)
		}
		return nil
	})
	cfg, err := a.do(t, "CONFIG", "GET", "cluster-announce-client-*").StringSlice()
	if err != nil || len(cfg) != 4 {
		t.Fatalf("CONFIG GET cluster-announce-client-*: %q %v", cfg, err)
	}
}

// TestMeetWithRedisServerFailsSafely: the bus format is shoal's own
// (node/bus), so Redis 7.0 never reads the client-port extension (type 2)
// at all. A mistaken MEET between Debian's redis-server and a node that
// gossips it, in both directions, forms no link and harms neither: both
// drop the handshake when it times out, neither learns the other's node
// ID, and both keep serving. (Older shoal nodes skip extension 2 as any
// unknown extension: node/bus TestUnknownExtensionIsSkipped.)
func TestMeetWithRedisServerFailsSafely(t *testing.T) {
	r := startRedisClusterProc(t)
	ours := startClusterProc(t, "", 0)
	setAnnounce(t, ours, "cluster-announce-hostname", "ext-ours.example",
		"cluster-preferred-endpoint-type", "hostname", "cluster-announce-client-port", "31001")
	rID, oursID := r.myID(t), ours.myID(t)
	met := time.Now()
	for _, m := range []struct{ from, to *clusterProc }{{r, ours}, {ours, r}} {
		if err := m.from.do(t, "CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(m.to.Port), strconv.Itoa(m.to.BusPort)).Err(); err != nil {
			t.Fatalf("MEET from %s: %v", m.from.Addr(), err)
		}
	}
	// Both saw the handshake start (checked only when the machine was fast
	// enough to look before the handshake timeout)...
	for _, p := range []*clusterProc{r, ours} {
		if nodes := p.text(t, "CLUSTER", "NODES"); !strings.Contains(nodes, "handshake") && time.Since(met) < 2*time.Second {
			t.Errorf("no handshake in CLUSTER NODES of %s right after MEET:\n%s", p.Addr(), nodes)
		}
	}
	// ...and both drop it after cluster-node-timeout, alone again.
	waitUntil(t, clusterWait, "both nodes to drop the handshake", func() error {
		for _, p := range []*clusterProc{r, ours} {
			nodes := p.text(t, "CLUSTER", "NODES")
			if strings.Count(strings.TrimSpace(nodes), "\n") != 0 {
				return fmt.Errorf("CLUSTER NODES of %s:\n%s", p.Addr(), nodes)
			}
		}
		return nil
	})
	for _, c := range []struct {
		p       *clusterProc
		otherID string
	}{{r, oursID}, {ours, rID}} {
		if nodes := c.p.text(t, "CLUSTER", "NODES"); strings.Contains(nodes, c.otherID) {
			t.Errorf("%s learned the other's node ID %s:\n%s", c.p.Addr(), c.otherID, nodes)
		}
		if err := c.p.do(t, "PING").Err(); err != nil {
			t.Errorf("PING %s after the MEET: %v", c.p.Addr(), err)
		}
		if info := c.p.text(t, "CLUSTER", "INFO"); !strings.Contains(info, "cluster_known_nodes:1\r\n") {
			t.Errorf("CLUSTER INFO of %s:\n%s", c.p.Addr(), info)
		}
	}
}
