package cluster

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/bus"
)

var goldenNow = time.UnixMilli(1795241520000)

// respBuf encodes replies as RESP2 or RESP3, to compare with the bytes
// Redis sent.
type respBuf struct {
	b     []byte
	proto int
}

func (r *respBuf) ArrayLen(n int) { r.b = append(r.b, "*"+strconv.Itoa(n)+"\r\n"...) }
func (r *respBuf) MapLen(n int) {
	if r.proto == 3 {
		r.b = append(r.b, "%"+strconv.Itoa(n)+"\r\n"...)
	} else {
		r.ArrayLen(2 * n)
	}
}
func (r *respBuf) BulkString(s string) {
	r.b = append(r.b, "$"+strconv.Itoa(len(s))+"\r\n"+s+"\r\n"...)
}
func (r *respBuf) Int(n int64) { r.b = append(r.b, ":"+strconv.FormatInt(n, 10)+"\r\n"...) }
func (r *respBuf) Null() {
	if r.proto == 3 {
		r.b = append(r.b, "_\r\n"...)
	} else {
		r.b = append(r.b, "$-1\r\n"...)
	}
}

func readGolden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "redis7", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func testConfig(port int, seed uint64) Config {
	cfg := DefaultConfig(port, rand.New(rand.NewPCG(seed, seed)))
	cfg.NodeTimeout = 5 * time.Second
	return cfg
}

// machineFromNodes loads a CLUSTER NODES output as nodes.conf and restores
// what nodes.conf does not keep (exact ping/pong times, links), so that the
// machine's own CLUSTER NODES must reproduce the text byte for byte.
func machineFromNodes(t *testing.T, text string, port int) *Machine {
	t.Helper()
	cfg := testConfig(port, 1)
	cfg.Hostname = "host-" + strconv.Itoa(port) + ".example"
	m, _, err := Load(goldenNow, cfg, []byte(text+"vars currentEpoch 7 lastVoteEpoch 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		n := m.lookup(f[0])
		n.pingSent, _ = strconv.ParseInt(f[4], 10, 64)
		n.pongReceived, _ = strconv.ParseInt(f[5], 10, 64)
		if f[7] == "connected" && !n.isMyself() {
			m.nextLink++
			n.link = m.nextLink
		}
	}
	return m
}

func TestClusterNodesMatchesRedis(t *testing.T) {
	for _, tc := range []struct {
		file string
		port int
	}{
		{"nodes.23401.txt", 23401},
		{"nodes.23402.txt", 23402},
		{"nodes.23404.txt", 23404},            // from a replica
		{"nodes-after.23402.txt", 23402},      // myself importing a slot
		{"nodes-failover.23402.txt", 23402},   // a master in PFAIL with a ping in flight
		{"nodes-open-slots.23401.txt", 23401}, // myself migrating and importing
	} {
		want := readGolden(t, tc.file)
		m := machineFromNodes(t, want, tc.port)
		if got := m.ClusterNodes(); got != want {
			t.Errorf("%s:\n got:\n%s\nwant:\n%s", tc.file, got, want)
		}
	}
}

func TestClusterNodesFlagsAndAddresses(t *testing.T) {
	m := machineFromNodes(t, readGolden(t, "nodes.23401.txt"), 23401)
	n := m.lookup("bba01e5c325486cca3e546d3021a10095046616f")
	n.flags |= flagsOf("fail", "nofailover")
	n.hostname = ""
	m.freeLink(n)
	line, _ := m.NodeLine(n.id)
	want := "bba01e5c325486cca3e546d3021a10095046616f 127.0.0.1:23406@33406 slave,fail,nofailover c480a51a1f2fe0ef1f940de4ba465fc7521e0ce3 0 1795241511518 3 disconnected"
	if line != want {
		t.Fatalf("got  %s\nwant %s", line, want)
	}
	// A node met but not handshaken yet, as Redis prints it.
	m.begin(goldenNow)
	h := m.createNode("645a7c01fea54cc808777e9f4b7dce1d292090ed", flagsOf("handshake"))
	h.ip, h.port, h.cport = "127.0.0.1", 23999, 33999
	m.addNode(h)
	if line, _ := m.NodeLine(h.id); line != "645a7c01fea54cc808777e9f4b7dce1d292090ed 127.0.0.1:23999@33999 handshake - 0 0 0 disconnected" {
		t.Fatalf("handshake line %q", line)
	}
	h.flags = 0
	if line, _ := m.NodeLine(h.id); !strings.Contains(line, " noflags ") {
		t.Fatalf("no flags: %q", line)
	}
}

func flagsOf(names ...string) (f bus.NodeFlags) {
	for _, name := range names {
		flag, _ := flagByName(name)
		f |= flag
	}
	return f
}

// goldenShardsState is node 23401 as in nodes.23401.txt, with every node
// at replication offset offset except myself at myOffset (the offsets
// Redis reported when the golden replies were captured).
func goldenShardsState(t *testing.T, offset, myOffset int64) *Machine {
	m := machineFromNodes(t, readGolden(t, "nodes.23401.txt"), 23401)
	for _, n := range m.list {
		n.replOffset = offset
	}
	m.SetReplicationState(ReplicationState{Offset: myOffset})
	return m
}

func TestClusterSlotsAndShardsMatchRedis(t *testing.T) {
	for _, tc := range []struct {
		file             string
		proto            int
		offset, myOffset int64
		shards           bool
	}{
		{"slots.resp2", 2, 14, 14, false},
		{"slots.resp3", 3, 14, 14, false},
		{"shards.resp2", 2, 14, 14, true},
		{"shards.resp3", 3, 14, 28, true},
	} {
		m := goldenShardsState(t, tc.offset, tc.myOffset)
		want := readGolden(t, tc.file)
		w := &respBuf{proto: tc.proto}
		if tc.shards {
			m.ClusterShards(w)
		} else {
			m.ClusterSlots(w)
		}
		// The RESP3 captures start with the reply to HELLO 3.
		if !strings.HasSuffix(want, string(w.b)) || len(w.b) < len(want)/2 {
			t.Errorf("%s:\n got %q\nwant %q", tc.file, w.b, want)
		}
	}
}

func TestClusterShardsHealth(t *testing.T) {
	m := machineFromNodes(t, readGolden(t, "nodes.23401.txt"), 23401)
	m.lookup("c480a51a1f2fe0ef1f940de4ba465fc7521e0ce3").flags |= flagsOf("fail")
	w := &respBuf{proto: 3}
	m.ClusterShards(w)
	out := string(w.b)
	if strings.Count(out, "$4\r\nfail\r\n") != 1 || strings.Count(out, "$7\r\nloading\r\n") != 3 {
		t.Fatalf("health: %q", out)
	}
	// A failed replica is left out of CLUSTER SLOTS.
	m.lookup("d42b257a501f0e1cdcd2c9e1c91f3ec31e172281").flags |= flagsOf("fail")
	w = &respBuf{proto: 2}
	m.ClusterSlots(w)
	if bytes.Contains(w.b, []byte("d42b257a501f0e1cdcd2c9e1c91f3ec31e172281")) {
		t.Fatalf("failed replica listed: %q", w.b)
	}
}

func TestClusterSlotsEndpointTypes(t *testing.T) {
	m := goldenShardsState(t, 14, 14)
	m.cfg.PreferredEndpointType = "hostname"
	w := &respBuf{proto: 2}
	m.ClusterSlots(w)
	if !bytes.HasPrefix(w.b, []byte("*3\r\n*4\r\n:0\r\n:5460\r\n*4\r\n$18\r\nhost-23401.example\r\n:23401\r\n$40\r\n3002e293a05fe17bb5e1f538ef0191006d55d9f7\r\n*2\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n")) {
		t.Fatalf("hostname endpoint: %q", w.b[:200])
	}
	m.cfg.PreferredEndpointType = "unknown-endpoint"
	w = &respBuf{proto: 3}
	m.ClusterSlots(w)
	if !bytes.Contains(w.b, []byte("*4\r\n_\r\n:23401\r\n")) {
		t.Fatalf("unknown endpoint: %q", w.b[:200])
	}
}

func TestClusterInfoMatchesRedis(t *testing.T) {
	want := readGolden(t, "info.txt")
	m := machineFromNodes(t, readGolden(t, "nodes.23401.txt"), 23401)
	m.currentEpoch = 6
	// The first state update starts the writable delay of a restarted
	// master; the next one, 2 s later, computes size and state.
	m.Tick(goldenNow)
	m.Tick(goldenNow.Add(3 * time.Second))
	m.statsSent = [11]uint64{44, 45}
	m.statsReceived = [11]uint64{40, 44, 5}
	if got := m.ClusterInfo(0); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}
