package server

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shoal-dev/shoal/node/cluster"
	"github.com/shoal-dev/shoal/node/nodetest"
)

// formCluster starts n nodes, splits the slots evenly with ADDSLOTSRANGE
// and joins them with CLUSTER MEET, as an operator would without
// redis-cli.
func formCluster(t *testing.T, n int, extra ...string) []*clusterProc {
	t.Helper()
	nodes := make([]*clusterProc, n)
	for i := range nodes {
		nodes[i] = startClusterProc(t, "", 0, extra...)
	}
	for i, p := range nodes {
		lo, hi := i*cluster.Slots/n, (i+1)*cluster.Slots/n-1
		if s := p.text(t, "CLUSTER", "ADDSLOTSRANGE", lo, hi); s != "OK" {
			t.Fatalf("ADDSLOTSRANGE: %s", s)
		}
	}
	for _, p := range nodes[1:] {
		if s := nodes[0].text(t, "CLUSTER", "MEET", "127.0.0.1", p.Port, p.BusPort); s != "OK" {
			t.Fatalf("MEET: %s", s)
		}
	}
	waitAgreement(t, nodes)
	return nodes
}

// slotRange is the slots node i of n serves in formCluster.
func slotRange(i, n int) (lo, hi int) { return i * cluster.Slots / n, (i+1)*cluster.Slots/n - 1 }

// keyInSlot finds a key named prefix+N that hashes to slot.
func keyInSlot(prefix string, slot int) string {
	for i := 0; ; i++ {
		k := prefix + strconv.Itoa(i)
		if cluster.KeyHashSlot([]byte(k)) == slot {
			return k
		}
	}
}

// keyOnNode finds a key served by node i of n in formCluster.
func keyOnNode(prefix string, i, n int) string {
	lo, hi := slotRange(i, n)
	for j := 0; ; j++ {
		k := prefix + strconv.Itoa(j)
		if s := cluster.KeyHashSlot([]byte(k)); s >= lo && s <= hi {
			return k
		}
	}
}

// dialRaw opens a raw RESP connection to a cluster node.
func dialRaw(t *testing.T, p *clusterProc) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, rd: bufio.NewReader(c)}
}

func expectReply(t *testing.T, r *rawConn, want string, args ...string) {
	t.Helper()
	if got := r.do(args...); got != want {
		t.Errorf("%v: got %q, want %q", args, got, want)
	}
}

func movedTo(slot int, p *clusterProc) string {
	return fmt.Sprintf("-MOVED %d %s\r\n", slot, p.Addr())
}

// TestClusterRouting checks the redirections and errors of the Redis
// Cluster specification, the slot migration protocol step by step
// (MIGRATING, IMPORTING, ASK, ASKING, TRYAGAIN, MIGRATE, SETSLOT NODE),
// pub/sub over the bus and the CLUSTER subcommands the server answers.
func TestClusterRouting(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three nodes")
	}
	nodes := formCluster(t, 3)
	n0, n1, n2 := nodes[0], nodes[1], nodes[2]

	t.Run("MOVEDandCROSSSLOT", func(t *testing.T) {
		r := dialRaw(t, n0)
		k := keyOnNode("m", 1, 3)
		expectReply(t, r, movedTo(cluster.KeyHashSlot([]byte(k)), n1), "GET", k)
		expectReply(t, r, "-"+ErrCrossSlot+"\r\n", "MSET", "a", "1", "b", "2")
		expectReply(t, r, "+PONG\r\n", "PING")
		expectReply(t, r, "-ERR SELECT is not allowed in cluster mode\r\n", "SELECT", "1")
		expectReply(t, r, "+OK\r\n", "SELECT", "0")
		// Inside MULTI a redirection fails the transaction ...
		expectReply(t, r, "+OK\r\n", "MULTI")
		expectReply(t, r, movedTo(cluster.KeyHashSlot([]byte(k)), n1), "SET", k, "v")
		expectReply(t, r, "-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC")
		// ... and keys of two slots across queued commands fail EXEC.
		a, b := keyOnNode("x", 0, 3), keyOnNode("y", 0, 3)
		for cluster.KeyHashSlot([]byte(a)) == cluster.KeyHashSlot([]byte(b)) {
			b += "z"
		}
		expectReply(t, r, "+OK\r\n", "MULTI")
		expectReply(t, r, "+QUEUED\r\n", "SET", a, "1")
		expectReply(t, r, "+QUEUED\r\n", "SET", b, "2")
		expectReply(t, r, "-"+ErrCrossSlot+"\r\n", "EXEC")
		expectReply(t, r, "-ERR EXEC without MULTI\r\n", "EXEC")
		expectReply(t, r, "$-1\r\n", "GET", a)
		expectReply(t, r, "+OK\r\n", "READONLY")
		expectReply(t, r, "+OK\r\n", "READWRITE")
	})

	t.Run("SlotMigrationProtocol", func(t *testing.T) { testSlotMigration(t, n0, n1, n2) })
	t.Run("PubSubOverTheBus", func(t *testing.T) { testClusterPubSub(t, n0, n1, n2) })
	t.Run("ClientsFollowAMovedSlot", func(t *testing.T) { testClientsFollowMovedSlot(t, n0, n1, n2) })
	t.Run("ServerSubcommands", func(t *testing.T) {
		r := dialRaw(t, n0)
		if s := n0.text(t, "CLUSTER", "MYSHARDID"); len(s) != 40 {
			t.Errorf("MYSHARDID %q", s)
		}
		expectReply(t, r, "+OK\r\n", "CLUSTER", "SAVECONFIG")
		expectReply(t, r, "-ERR Invalid slot\r\n", "CLUSTER", "COUNTKEYSINSLOT", "16384")
		expectReply(t, r, "-ERR value is not an integer or out of range\r\n", "CLUSTER", "COUNTKEYSINSLOT", "x")
		expectReply(t, r, "-ERR Invalid slot or number of keys\r\n", "CLUSTER", "GETKEYSINSLOT", "1", "-1")
		expectReply(t, r, "-ERR unknown subcommand 'NOSUCH'. Try CLUSTER HELP.\r\n", "CLUSTER", "NOSUCH")
		links, err := n0.do(t, "CLUSTER", "LINKS").Slice()
		if err != nil || len(links) < 4 {
			t.Errorf("CLUSTER LINKS of a node with two peers: %v, %v", links, err)
		}
		if s := n0.text(t, "INFO", "cluster"); !strings.Contains(s, "cluster_enabled:1") {
			t.Errorf("INFO cluster: %q", s)
		}
		if s := n0.text(t, "INFO", "clients"); strings.Contains(s, "cluster_connections:0\r\n") || !strings.Contains(s, "cluster_connections:") {
			t.Errorf("INFO clients of a node with two peers: %q", s)
		}
		help, err := n0.do(t, "CLUSTER", "HELP").StringSlice()
		if err != nil || !strings.Contains(strings.Join(help, "\n"), "MYSHARDID") {
			t.Errorf("CLUSTER HELP: %v %v", help, err)
		}
	})
	t.Run("ClusterDown", func(t *testing.T) { testClusterDown(t, nodes) })
}

func testSlotMigration(t *testing.T, src, dst, other *clusterProc) {
	ctx := ctxT(t)
	srcID, dstID := src.myID(t), dst.myID(t)
	tag := "{" + keyOnNode("mig", 0, 3) + "}" // a hash tag of the source
	slot := cluster.KeyHashSlot([]byte(tag))
	present, absent, big, list := tag+"present", tag+"absent", tag+"big", tag+"list"
	bigValue := strings.Repeat("0123456789", 1<<20) // 10 MB
	s := src.do(t, "SET", present, "v", "PX", 600000)
	if s.Err() != nil {
		t.Fatal(s.Err())
	}
	if err := src.do(t, "SET", big, bigValue).Err(); err != nil {
		t.Fatal(err)
	}
	if err := src.do(t, "RPUSH", list, "a", "b", "c").Err(); err != nil {
		t.Fatal(err)
	}

	rs, rd := dialRaw(t, src), dialRaw(t, dst)
	expectReply(t, rd, "+OK\r\n", "CLUSTER", "SETSLOT", strconv.Itoa(slot), "IMPORTING", srcID)
	expectReply(t, rs, "+OK\r\n", "CLUSTER", "SETSLOT", strconv.Itoa(slot), "MIGRATING", dstID)
	ask := fmt.Sprintf("-ASK %d %s\r\n", slot, dst.Addr())

	// The source serves the keys it has and sends the others to the target.
	expectReply(t, rs, "$1\r\nv\r\n", "GET", present)
	expectReply(t, rs, ask, "GET", absent)
	expectReply(t, rs, "-"+ErrTryAgain+"\r\n", "MGET", present, absent)
	// The target serves the slot only after ASKING, for one command.
	expectReply(t, rd, movedTo(slot, src), "GET", absent)
	expectReply(t, rd, "+OK\r\n", "ASKING")
	expectReply(t, rd, "$-1\r\n", "GET", absent)
	expectReply(t, rd, movedTo(slot, src), "GET", absent)
	// redis-cli -c follows the ASK.
	out, err := runCLI(t, time.Minute, "SET "+absent+" viaask\n", "-c", "-h", "127.0.0.1", "-p", strconv.Itoa(src.Port))
	if err != nil || !strings.Contains(out, "OK") {
		t.Fatalf("redis-cli -c SET through ASK: %v %q", err, out)
	}
	expectReply(t, rd, "+OK\r\n", "ASKING")
	expectReply(t, rd, "$6\r\nviaask\r\n", "GET", absent)
	// ASKING before MULTI covers the whole transaction.
	expectReply(t, rd, "+OK\r\n", "ASKING")
	expectReply(t, rd, "+OK\r\n", "MULTI")
	expectReply(t, rd, "+QUEUED\r\n", "SET", tag+"tx", "1")
	expectReply(t, rd, "+QUEUED\r\n", "INCR", tag+"tx")
	expectReply(t, rd, "*2\r\n+OK\r\n:2\r\n", "EXEC")
	expectReply(t, rd, movedTo(slot, src), "GET", tag+"tx")

	// The source refuses to give the slot away while it holds keys.
	expectReply(t, rs, fmt.Sprintf("-ERR Can't assign hashslot %d to a different node while I still hold keys for this hash slot.\r\n", slot),
		"CLUSTER", "SETSLOT", strconv.Itoa(slot), "NODE", dstID)
	expectReply(t, rs, ":3\r\n", "CLUSTER", "COUNTKEYSINSLOT", strconv.Itoa(slot))
	keys, err := src.do(t, "CLUSTER", "GETKEYSINSLOT", slot, 10).StringSlice()
	if err != nil || len(keys) != 3 {
		t.Fatalf("GETKEYSINSLOT: %v %v", keys, err)
	}

	// MIGRATE: errors first.
	expectReply(t, rs, "+NOKEY\r\n", "MIGRATE", "127.0.0.1", strconv.Itoa(dst.Port), absent, "0", "5000")
	closed := nodetest.FreePort(t)
	expectReply(t, rs, "-IOERR error or timeout connecting to the client\r\n", "MIGRATE", "127.0.0.1", strconv.Itoa(closed), present, "0", "1000")
	expectReply(t, rs, "-ERR When using MIGRATE KEYS option, the key argument must be set to the empty string\r\n",
		"MIGRATE", "127.0.0.1", strconv.Itoa(dst.Port), present, "0", "1000", "KEYS", present)
	expectReply(t, rs, "-ERR syntax error\r\n", "MIGRATE", "127.0.0.1", strconv.Itoa(dst.Port), present, "0", "1000", "BOGUS")
	// A key that exists on the target: BUSYKEY, the source keeps it.
	expectReply(t, rd, "+OK\r\n", "ASKING")
	expectReply(t, rd, "+OK\r\n", "SET", list, "target")
	expectReply(t, rs, "-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n",
		"MIGRATE", "127.0.0.1", strconv.Itoa(dst.Port), list, "0", "5000")
	expectReply(t, rs, ":1\r\n", "EXISTS", list)
	// COPY keeps the source's key; REPLACE overwrites the target's.
	expectReply(t, rs, "+OK\r\n", "MIGRATE", "127.0.0.1", strconv.Itoa(dst.Port), list, "0", "5000", "COPY", "REPLACE")
	expectReply(t, rs, ":1\r\n", "EXISTS", list)
	expectReply(t, rd, "+OK\r\n", "ASKING")
	expectReply(t, rd, "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", "LRANGE", list, "0", "-1")
	// The rest with KEYS, the 10 MB value and the TTL included.
	expectReply(t, rs, "+OK\r\n", "MIGRATE", "127.0.0.1", strconv.Itoa(dst.Port), "", "0", "10000", "REPLACE", "KEYS", present, big, list)
	expectReply(t, rs, ":0\r\n", "CLUSTER", "COUNTKEYSINSLOT", strconv.Itoa(slot))
	expectReply(t, rs, ask, "GET", present)
	expectReply(t, rd, "+OK\r\n", "ASKING")
	if pttl, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(rd.do("PTTL", present), ":"))); err != nil || pttl <= 0 || pttl > 600000 {
		t.Errorf("PTTL after MIGRATE: %d %v", pttl, err)
	}
	expectReply(t, rd, "+OK\r\n", "ASKING")
	if got := rd.do("STRLEN", big); got != ":10485760\r\n" {
		t.Errorf("STRLEN of the 10 MB value on the target: %q", got)
	}

	// SETSLOT NODE on the target, the source, then the other master.
	for _, p := range []*clusterProc{dst, src, other} {
		if s := p.text(t, "CLUSTER", "SETSLOT", slot, "NODE", dstID); s != "OK" {
			t.Fatalf("SETSLOT NODE on %s: %s", p.Addr(), s)
		}
	}
	expectReply(t, rs, movedTo(slot, dst), "GET", present)
	waitAgreement(t, []*clusterProc{src, dst, other})
	checkClean(t, src)
	cc := clusterClient(t, []*clusterProc{src})
	if v, err := cc.Get(ctx, big).Result(); err != nil || v != bigValue {
		t.Errorf("ClusterClient GET of the 10 MB key: len %d, %v", len(v), err)
	}
}

func testClusterPubSub(t *testing.T, n0, n1, n2 *clusterProc) {
	ctx := ctxT(t)
	// PUBLISH on one node reaches subscribers of every node.
	sub := redis.NewClient(&redis.Options{Addr: n2.Addr()})
	defer sub.Close()
	ps := sub.Subscribe(ctx, "news")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n0.do(t, "PUBLISH", "news", "hello").Err(); err != nil {
		t.Fatal(err)
	}
	msg, err := ps.ReceiveMessage(ctx)
	if err != nil || msg.Payload != "hello" {
		t.Fatalf("message on another node: %v %v", msg, err)
	}

	// Sharded channels are routed by slot like keys.
	ch := keyOnNode("chan", 1, 3)
	r := dialRaw(t, n0)
	expectReply(t, r, movedTo(cluster.KeyHashSlot([]byte(ch)), n1), "SPUBLISH", ch, "x")
	expectReply(t, r, "-"+ErrCrossSlot+"\r\n", "SSUBSCRIBE", "a", "b")
	cc := clusterClient(t, []*clusterProc{n0, n1, n2})
	sps := cc.SSubscribe(ctx, ch)
	defer sps.Close()
	if _, err := sps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := cc.SPublish(ctx, ch, "sharded").Result(); err != nil || n != 1 {
		t.Fatalf("SPUBLISH: %d %v", n, err)
	}
	m, err := sps.ReceiveMessage(ctx)
	if err != nil || m.Payload != "sharded" || m.Channel != ch {
		t.Fatalf("sharded message: %v %v", m, err)
	}
	if v, err := n1.do(t, "PUBSUB", "SHARDNUMSUB", ch).Slice(); err != nil || fmt.Sprint(v) != fmt.Sprintf("[%s 1]", ch) {
		t.Errorf("PUBSUB SHARDNUMSUB: %v %v", v, err)
	}
}

// testClusterDown: a slot without owner makes the cluster fail under
// cluster-require-full-coverage; cluster-allow-reads-when-down lets reads
// through.
func testClusterDown(t *testing.T, nodes []*clusterProc) {
	n0 := nodes[0]
	own := mySlots(t, n0)
	lo := own[0]
	served, unbound := keyInSlot("up", own[1]), keyInSlot("down", lo)
	if err := n0.do(t, "SET", served, "1").Err(); err != nil {
		t.Fatal(err)
	}
	if s := n0.text(t, "CLUSTER", "DELSLOTS", lo); s != "OK" {
		t.Fatal(s)
	}
	r := dialRaw(t, n0)
	waitUntil(t, clusterWait, "cluster_state:fail", func() error {
		if info := n0.text(t, "CLUSTER", "INFO"); !strings.Contains(info, "cluster_state:fail") {
			return fmt.Errorf("still ok")
		}
		return nil
	})
	expectReply(t, r, "-"+ErrClusterDownUnbound+"\r\n", "GET", unbound)
	expectReply(t, r, "-"+ErrClusterDown+"\r\n", "GET", served)
	expectReply(t, r, "+OK\r\n", "CONFIG", "SET", "cluster-allow-reads-when-down", "yes")
	expectReply(t, r, "$1\r\n1\r\n", "GET", served)
	expectReply(t, r, "-"+ErrClusterDownRO+"\r\n", "SET", served, "2")
	expectReply(t, r, "+OK\r\n", "CONFIG", "SET", "cluster-allow-reads-when-down", "no")
	if s := n0.text(t, "CLUSTER", "ADDSLOTS", lo); s != "OK" {
		t.Fatal(s)
	}
	waitAgreement(t, nodes)
	cc := clusterClient(t, nodes)
	if err := cc.Set(context.Background(), served, "3", 0).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestClusterCommandsStandalone: without cluster-enabled the cluster
// commands answer as Redis's, and sharded pub/sub still works locally.
func TestClusterCommandsStandalone(t *testing.T) {
	n := startNode(t)
	r := n.raw(t)
	for _, cmd := range [][]string{{"CLUSTER", "INFO"}, {"CLUSTER", "NODES"}, {"ASKING"}, {"READONLY"}, {"READWRITE"}} {
		if got := r.do(cmd...); got != "-"+ErrClusterDisabled+"\r\n" {
			t.Errorf("%v: %q", cmd, got)
		}
	}
	sub := n.raw(t)
	if got := sub.do("SSUBSCRIBE", "a", "b"); got != "*3\r\n$10\r\nssubscribe\r\n$1\r\na\r\n:1\r\n" {
		t.Fatalf("SSUBSCRIBE: %q", got)
	}
	if got := sub.reply(); got != "*3\r\n$10\r\nssubscribe\r\n$1\r\nb\r\n:2\r\n" {
		t.Fatalf("SSUBSCRIBE second reply: %q", got)
	}
	if got := sub.do("SUBSCRIBE", "x"); got != "*3\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n:1\r\n" {
		t.Errorf("SUBSCRIBE counts its own subscriptions: %q", got)
	}
	if got := r.do("SPUBLISH", "a", "hi"); got != ":1\r\n" {
		t.Errorf("SPUBLISH: %q", got)
	}
	if got := sub.reply(); got != "*3\r\n$8\r\nsmessage\r\n$1\r\na\r\n$2\r\nhi\r\n" {
		t.Errorf("smessage: %q", got)
	}
	if got := r.do("PUBSUB", "SHARDCHANNELS"); got != "*2\r\n$1\r\na\r\n$1\r\nb\r\n" {
		t.Errorf("PUBSUB SHARDCHANNELS: %q", got)
	}
	if got := sub.do("SUNSUBSCRIBE", "a"); got != "*3\r\n$12\r\nsunsubscribe\r\n$1\r\na\r\n:1\r\n" {
		t.Errorf("SUNSUBSCRIBE: %q", got)
	}
	if got := sub.do("GET", "k"); !strings.HasPrefix(got, "-ERR Can't execute 'get'") {
		t.Errorf("GET while subscribed: %q", got)
	}
	if got := sub.do("RESET"); got != "+RESET\r\n" {
		t.Errorf("RESET: %q", got)
	}
	if got := r.do("PUBSUB", "SHARDNUMSUB", "b"); got != "*2\r\n$1\r\nb\r\n:0\r\n" {
		t.Errorf("shard subscriptions left after RESET: %q", got)
	}
}

// testClientsFollowMovedSlot: when a slot moves away, clients blocked on
// its keys get MOVED, and its shard channels' subscribers are told with
// sunsubscribe.
func testClientsFollowMovedSlot(t *testing.T, src, dst, other *clusterProc) {
	tag := "{" + keyOnNode("blk", 0, 3) + "}"
	slot := cluster.KeyHashSlot([]byte(tag))
	blocked, sub := dialRaw(t, src), dialRaw(t, src)
	blocked.send(encodeCommand("BLPOP", tag+"queue", "0"))
	expectReply(t, sub, "*3\r\n$10\r\nssubscribe\r\n$"+strconv.Itoa(len(tag+"ch"))+"\r\n"+tag+"ch\r\n:1\r\n", "SSUBSCRIBE", tag+"ch")
	waitUntil(t, clusterWait, "the client to block", func() error {
		if s := src.text(t, "INFO", "clients"); !strings.Contains(s, "blocked_clients:1") {
			return fmt.Errorf("not blocked yet")
		}
		return nil
	})
	srcID, dstID := src.myID(t), dst.myID(t)
	for _, step := range []struct {
		p    *clusterProc
		args []any
	}{
		{dst, []any{"CLUSTER", "SETSLOT", slot, "IMPORTING", srcID}},
		{src, []any{"CLUSTER", "SETSLOT", slot, "MIGRATING", dstID}},
		{dst, []any{"CLUSTER", "SETSLOT", slot, "NODE", dstID}},
		{src, []any{"CLUSTER", "SETSLOT", slot, "NODE", dstID}},
		{other, []any{"CLUSTER", "SETSLOT", slot, "NODE", dstID}},
	} {
		if s := step.p.text(t, step.args...); s != "OK" {
			t.Fatalf("%v: %s", step.args, s)
		}
	}
	if got := blocked.reply(); got != movedTo(slot, dst) {
		t.Errorf("blocked client got %q, want %q", got, movedTo(slot, dst))
	}
	if got := sub.reply(); got != "*3\r\n$12\r\nsunsubscribe\r\n$"+strconv.Itoa(len(tag+"ch"))+"\r\n"+tag+"ch\r\n:0\r\n" {
		t.Errorf("shard subscriber got %q", got)
	}
	waitAgreement(t, []*clusterProc{src, dst, other})
}

// mySlots lists the slots p serves, from its CLUSTER NODES myself line.
func mySlots(t *testing.T, p *clusterProc) []int {
	var slots []int
	for _, l := range parseClusterNodes(p.text(t, "CLUSTER", "NODES")) {
		if !strings.Contains(l.Flags, "myself") {
			continue
		}
		for _, r := range l.Slots {
			a, b, found := strings.Cut(r, "-")
			lo, err := strconv.Atoi(a)
			if err != nil {
				continue // an open slot
			}
			hi := lo
			if found {
				hi, _ = strconv.Atoi(b)
			}
			for s := lo; s <= hi; s++ {
				slots = append(slots, s)
			}
		}
	}
	return slots
}

// TestClusterTakesSlotsOfItsData: a node started in cluster mode on data
// written before (here by the same node in standalone mode) serves the
// slots of its keys instead of hiding them (verifyClusterConfigWithData).
func TestClusterTakesSlotsOfItsData(t *testing.T) {
	dir := t.TempDir()
	n := nodetest.Start(t, nodetest.Options{Dir: dir, Args: []string{"--save", ""}, Ready: 20 * time.Second})
	addr := n.Addr
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	ctx := ctxT(t)
	for _, k := range []string{"alpha", "beta", "gamma"} {
		if err := c.Set(ctx, k, k, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	_ = c.Shutdown(ctx).Err() // the connection closes
	c.Close()
	<-n.Exited()

	p := startClusterProc(t, dir, 0)
	own := map[int]bool{}
	for _, s := range mySlots(t, p) {
		own[s] = true
	}
	for _, k := range []string{"alpha", "beta", "gamma"} {
		slot := cluster.KeyHashSlot([]byte(k))
		if !own[slot] {
			t.Errorf("the node does not serve slot %d of its key %s", slot, k)
		}
		if n, err := p.do(t, "CLUSTER", "COUNTKEYSINSLOT", slot).Int(); err != nil || n != 1 {
			t.Errorf("COUNTKEYSINSLOT %d = %d, %v", slot, n, err)
		}
	}
	if len(own) != 3 {
		t.Errorf("the node serves %d slots, want the 3 of its keys", len(own))
	}
}
