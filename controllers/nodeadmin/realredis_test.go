package nodeadmin_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/controllers/nodeadmin"
	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/node/clusteradmin"
	"github.com/shoal-dev/shoal/node/nodetest"
)

// These tests drive real Redis Cluster nodes (Debian's redis-server, the
// reference implementation) with the admin client and the planner: what
// forms a Redis cluster here forms one of our nodes once they speak the same
// protocol.

const (
	password        = "test-password"
	formationBudget = 90 * time.Second // generous: a loaded 2-core machine
	pollEvery       = 100 * time.Millisecond
)

func TestMain(m *testing.M) { os.Exit(nodetest.Run(m)) }

type redisNode struct {
	port int
	proc *nodetest.Proc
}

func (n *redisNode) addr() string { return fmt.Sprintf("127.0.0.1:%d", n.port) }

// freeClusterPort finds a port p with p and p+10000 (the bus) both free.
// p is drawn at random from 10000-19999, so the bus lands in 20000-29999:
// both stay below the kernel's ephemeral range (32768 and up), where an
// outgoing connection on this busy machine could take a port that port 0
// returned before redis-server binds it.
func freeClusterPort(t *testing.T) int {
	t.Helper()
	for range 200 {
		p := 10000 + rand.IntN(10000)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		_ = l.Close()
		bus, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+10000))
		if err != nil {
			continue
		}
		_ = bus.Close()
		return p
	}
	t.Fatal("no free port pair for a cluster node")
	return 0
}

// startRedisNodes starts n cluster-enabled redis-servers on 127.0.0.1 and
// waits until each answers PING. They are stopped (by PID) when the test
// ends.
func startRedisNodes(t *testing.T, n int) []*redisNode {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server is required (Debian package redis-server): ", err)
	}
	nodes := make([]*redisNode, n)
	for i := range nodes {
		dir := t.TempDir()
		p := nodetest.Spawn(t, nodetest.Options{Binary: bin, Dir: dir, Port: freeClusterPort(t), Ready: 30 * time.Second, Args: []string{
			"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-node-timeout", "5000", "--save", "", "--appendonly", "no",
			"--requirepass", password, "--masterauth", password, "--daemonize", "no",
		}})
		nodes[i] = &redisNode{port: p.Port, proc: p}
	}
	for _, node := range nodes {
		if err := node.proc.WaitReady(); err != nil {
			t.Fatal(err)
		}
	}
	return nodes
}

// waitClusterCheck polls redis-cli --cluster check from addr until it
// finds every slot covered and no error (and no warning unless
// allowWarnings): a node may learn the last change by gossip a moment
// after the others, which redis-cli reports as a disagreement meanwhile.
func waitClusterCheck(t *testing.T, addr, password string, allowWarnings bool) {
	t.Helper()
	eventually(t, time.Minute, func() error {
		out, err := exec.Command("redis-cli", "--cluster", "check", addr, "-a", password, "--no-auth-warning").CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("[OK] All 16384 slots covered.")) || bytes.Contains(out, []byte("[ERR]")) ||
			!allowWarnings && bytes.Contains(out, []byte("[WARNING]")) {
			return fmt.Errorf("redis-cli --cluster check: %v\n%s", err, out)
		}
		return nil
	})
}

// eventually polls f until it returns nil or the deadline passes.
func eventually(t *testing.T, within time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %v", within, err)
		}
		time.Sleep(pollEvery)
	}
}

// members observes every node, as the reconciler does for pods.
func members(ctx context.Context, nodes []*redisNode, clients []clusteradmin.Client, d topology.Desired) []topology.Member {
	out := make([]topology.Member, len(nodes))
	for i, n := range nodes {
		m := topology.Member{
			Pod: fmt.Sprintf("node-%d", i), Shard: i / (1 + d.ReplicasPerMaster), Ordinal: i % (1 + d.ReplicasPerMaster),
			IP: "127.0.0.1", Port: n.port, BusPort: n.port + 10000,
		}
		if v, err := clients[i].ClusterView(ctx); err == nil {
			m.View = v
		}
		out[i] = m
	}
	return out
}

// form runs observe-plan-execute rounds until the planner says Formed and
// returns the phases it went through.
func form(t *testing.T, nodes []*redisNode, clients []clusteradmin.Client, d topology.Desired) []topology.Phase {
	t.Helper()
	ctx := context.Background()
	byPod := map[string]clusteradmin.Client{}
	for i := range nodes {
		byPod[fmt.Sprintf("node-%d", i)] = clients[i]
	}
	var phases []topology.Phase
	eventually(t, formationBudget, func() error {
		p := topology.PlanFormation(members(ctx, nodes, clients, d), d)
		if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
			phases = append(phases, p.Phase)
		}
		switch p.Phase {
		case topology.PhaseFormed:
			return nil
		case topology.PhaseBlocked:
			t.Fatalf("formation blocked: %s", p.Reason)
		}
		for _, a := range p.Actions {
			if err := nodeadmin.Execute(ctx, byPod[a.Pod], a); err != nil {
				t.Fatalf("%s: %v", a, err)
			}
		}
		return errors.New(string(p.Phase) + ": " + p.Reason)
	})
	return phases
}

func dial(t *testing.T, nodes []*redisNode) []clusteradmin.Client {
	clients := make([]clusteradmin.Client, len(nodes))
	for i, n := range nodes {
		clients[i] = clusteradmin.New(n.addr(), clusteradmin.Options{Password: password, Timeout: 10 * time.Second})
		c := clients[i]
		t.Cleanup(func() { _ = c.Close() })
	}
	return clients
}

func TestFormationOfRealRedisCluster(t *testing.T) {
	d := topology.Desired{Masters: 3, ReplicasPerMaster: 1}
	nodes := startRedisNodes(t, 6)
	clients := dial(t, nodes)
	phases := form(t, nodes, clients, d)
	t.Logf("phases: %v", phases)
	for _, want := range []topology.Phase{topology.PhaseMeeting, topology.PhaseAssigningSlots, topology.PhaseReplicating} {
		found := false
		for _, p := range phases {
			found = found || p == want
		}
		if !found {
			t.Errorf("formation skipped phase %s: %v", want, phases)
		}
	}

	// redis-cli's own checker agrees.
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Fatal("redis-cli is required (Debian package redis-tools): ", err)
	}
	waitClusterCheck(t, nodes[0].addr(), password, true)

	// A cluster client can write to every shard and read back.
	ctx := context.Background()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{nodes[0].addr()}, Password: password})
	defer func() { _ = cc.Close() }()
	for i := range 300 {
		if err := cc.Set(ctx, fmt.Sprintf("key:%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 300 {
		if v, err := cc.Get(ctx, fmt.Sprintf("key:%d", i)).Int(); err != nil || v != i {
			t.Fatalf("key:%d = %d, %v", i, v, err)
		}
	}

	// Formation is done and stays done: a new plan changes nothing. Now that
	// the masters hold keys, a plan for more shards must not touch them.
	if p := topology.PlanFormation(members(ctx, nodes, clients, d), d); p.Phase != topology.PhaseFormed || len(p.Actions) != 0 {
		t.Errorf("second plan: %+v", p)
	}

	// The replica of shard 0 takes over by a coordinated CLUSTER FAILOVER.
	oldMaster := members(ctx, nodes, clients, d)[0].ID()
	if err := clients[1].Failover(ctx, clusteradmin.FailoverDefault); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, func() error {
		v, err := clients[1].ClusterView(ctx)
		if err != nil {
			return err
		}
		if me, _ := v.Myself(); !me.IsMaster() || me.SlotCount() != 5461 {
			return fmt.Errorf("node-1 after failover: %+v", me)
		}
		v0, err := clients[0].ClusterView(ctx)
		if err != nil {
			return err
		}
		if me, _ := v0.Myself(); !me.IsReplica() || v0.Replication.Role != "slave" {
			return fmt.Errorf("node-0 after failover: %+v", me)
		}
		return nil
	})
	if p := topology.PlanFormation(members(ctx, nodes, clients, d), d); p.Phase == topology.PhaseBlocked || len(p.Actions) != 0 {
		t.Errorf("plan after failover must not act: %+v", p)
	}
	if id := members(ctx, nodes, clients, d)[0].ID(); id != oldMaster {
		t.Errorf("node ID changed across failover: %s -> %s", oldMaster, id)
	}
}

func TestSetSlotAndForgetOnRealRedis(t *testing.T) {
	ctx := context.Background()
	nodes := startRedisNodes(t, 2)
	clients := dial(t, nodes)
	if err := clients[0].Meet(ctx, "127.0.0.1", nodes[1].port, nodes[1].port+10000); err != nil {
		t.Fatal(err)
	}
	var otherID string
	eventually(t, 30*time.Second, func() error {
		v, err := clients[1].ClusterView(ctx)
		if err != nil {
			return err
		}
		otherID = v.MyID()
		v0, err := clients[0].ClusterView(ctx)
		if err != nil {
			return err
		}
		if !v0.Knows(otherID) {
			return errors.New("node-0 does not know node-1 yet")
		}
		return nil
	})

	if err := clients[0].AddSlots(ctx, []clusteradmin.SlotRange{{First: 0, Last: 99}, {First: 200, Last: 200}}); err != nil {
		t.Fatal(err)
	}
	if err := clients[0].SetSlot(ctx, 7, clusteradmin.SlotMigrating, otherID); err != nil {
		t.Fatal(err)
	}
	v, err := clients[0].ClusterView(ctx)
	if err != nil {
		t.Fatal(err)
	}
	me, _ := v.Myself()
	if clusteradmin.FormatSlots(me.Slots) != "0-99 200" || me.MigratingSlotsTo[7] != otherID {
		t.Fatalf("after ADDSLOTSRANGE and SETSLOT MIGRATING: %+v", me)
	}
	if err := clients[0].SetSlot(ctx, 7, clusteradmin.SlotStable, ""); err != nil {
		t.Fatal(err)
	}
	if v, err = clients[0].ClusterView(ctx); err != nil {
		t.Fatal(err)
	}
	if me, _ = v.Myself(); len(me.MigratingSlotsTo) != 0 {
		t.Fatalf("after SETSLOT STABLE: %+v", me)
	}

	// A slot that is already assigned is refused, worded as Redis words it.
	err = clients[0].AddSlots(ctx, []clusteradmin.SlotRange{{First: 5, Last: 5}})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("ERR Slot 5 is already busy")) {
		t.Errorf("ADDSLOTSRANGE of a busy slot: %v", err)
	}

	if err := clients[0].Forget(ctx, otherID); err != nil {
		t.Fatal(err)
	}
	if v, err = clients[0].ClusterView(ctx); err != nil {
		t.Fatal(err)
	}
	if v.Knows(otherID) {
		t.Error("node-0 still knows node-1 after CLUSTER FORGET")
	}
}

func TestClusterViewOfUnreachableNode(t *testing.T) {
	c := clusteradmin.New("127.0.0.1:1", clusteradmin.Options{Timeout: time.Second})
	defer func() { _ = c.Close() }()
	if _, err := c.ClusterView(context.Background()); err == nil {
		t.Fatal("a node that does not listen must give an error")
	}
}

// formedCluster starts Redis nodes, forms them as d and returns them, a
// client of each and a cluster client (closed at the end of the test).
func formedCluster(t *testing.T, d topology.Desired) ([]*redisNode, []clusteradmin.Client, *redis.ClusterClient) {
	nodes := startRedisNodes(t, d.Masters)
	clients := dial(t, nodes)
	form(t, nodes, clients, d)
	var addrs []string
	for _, n := range nodes {
		addrs = append(addrs, n.addr())
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, Password: password})
	t.Cleanup(func() { _ = cc.Close() })
	return nodes, clients, cc
}
