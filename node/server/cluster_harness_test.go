package server

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/internal/testenv"
	"github.com/shoal-dev/shoal/node/nodetest"
)

// The cluster harness: real shoal-node processes in cluster mode on
// 127.0.0.1, each with its own data directory, client port and bus port,
// stopped by PID. Unlike startNode, a cluster node can be stopped and
// started again on its directory (other client port, same bus port).

// clusterNodeTimeout is cluster-node-timeout in the tests: short enough
// for quick convergence, long enough for a loaded 2-core machine not to
// see false failures.
const clusterNodeTimeout = "5000"

// clusterWait bounds every wait for the cluster to reach a state.
const clusterWait = 60 * time.Second

type clusterProc struct {
	Port, BusPort int
	Dir           string
	extra         []string
	// owner is the test whose end stops the node, restarts in its
	// subtests included.
	owner  testing.TB
	proc   *nodetest.Proc
	cmd    *exec.Cmd
	exited <-chan struct{}
	starts int
}

func (p *clusterProc) Addr() string { return "127.0.0.1:" + strconv.Itoa(p.Port) }

// startClusterProc starts a cluster-mode node on dir (a new one when dir
// is "") with a fresh client port and bus port busPort (fresh when 0).
func startClusterProc(t testing.TB, dir string, busPort int, extra ...string) *clusterProc {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	if busPort == 0 {
		busPort = nodetest.FreePort(t)
	}
	p := &clusterProc{Port: nodetest.FreePort(t), BusPort: busPort, Dir: dir, extra: extra, owner: t}
	p.start(t)
	t.Cleanup(func() { p.stop(t) })
	return p
}

// start runs the node (again, logging to a new file) and waits until it
// accepts clients.
func (p *clusterProc) start(t testing.TB) {
	t.Helper()
	p.starts++
	args := append([]string{"--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(p.BusPort),
		"--cluster-node-timeout", clusterNodeTimeout, "--save", "3600 1000000000"}, p.extra...)
	p.proc = nodetest.Start(t, nodetest.Options{
		Dir: p.Dir, Port: p.Port, Log: filepath.Join(p.Dir, fmt.Sprintf("node.%d.log", p.starts)), Args: args,
		Ready: 20 * time.Second, Grace: 30 * time.Second, Owner: p.owner,
	})
	p.cmd, p.exited = p.proc.Cmd, p.proc.Exited()
}

// stop sends SIGTERM (the node saves its data) and waits for the exit.
func (p *clusterProc) stop(t testing.TB) {
	if p.cmd == nil {
		return
	}
	if !p.proc.Stop(30 * time.Second) {
		p.proc.Kill()
		t.Errorf("node %d did not exit on SIGTERM", p.cmd.Process.Pid)
	}
	p.cmd = nil
}

// restart stops the node and starts it again on its directory and bus
// port, with a new client port.
func (p *clusterProc) restartOnNewPort(t testing.TB) {
	t.Helper()
	p.stop(t)
	p.Port = nodetest.FreePort(t)
	p.start(t)
}

// do runs one command on the node with a short-lived client.
func (p *clusterProc) do(t testing.TB, args ...any) *redis.Cmd {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), DialTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, Protocol: 2})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.Do(ctx, args...)
}

func (p *clusterProc) text(t testing.TB, args ...any) string {
	t.Helper()
	s, err := p.do(t, args...).Text()
	if err != nil {
		t.Fatalf("%v on %s: %v", args, p.Addr(), err)
	}
	return s
}

func (p *clusterProc) myID(t testing.TB) string { return p.text(t, "CLUSTER", "MYID") }

// runCLI runs redis-cli with a deadline and returns its output.
func runCLI(t testing.TB, timeout time.Duration, stdin string, args ...string) (string, error) {
	t.Helper()
	testenv.LookTool(t, "redis-cli", "redis-tools")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "redis-cli", args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// waitUntil polls cond until it returns nil or the deadline passes.
func waitUntil(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = cond(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s: %v", timeout, what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// clusterNodesLine is one parsed line of CLUSTER NODES.
type clusterNodesLine struct {
	ID, Addr, Flags, Master, Link string
	Slots                         []string
}

func parseClusterNodes(s string) []clusterNodesLine {
	var out []clusterNodesLine
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		out = append(out, clusterNodesLine{ID: f[0], Addr: f[1], Flags: f[2], Master: f[3], Link: f[7], Slots: f[8:]})
	}
	return out
}

// clusterView is what a node believes: node ID -> "host:port slots...".
func clusterView(t testing.TB, p *clusterProc) (map[string]string, error) {
	s, err := p.do(t, "CLUSTER", "NODES").Text()
	if err != nil {
		return nil, err
	}
	view := map[string]string{}
	for _, l := range parseClusterNodes(s) {
		if strings.Contains(l.Flags, "fail") || strings.Contains(l.Flags, "handshake") || l.Link != "connected" {
			return nil, fmt.Errorf("%s sees %s as %s/%s", p.Addr(), l.ID, l.Flags, l.Link)
		}
		addr := l.Addr
		if i := strings.IndexByte(addr, '@'); i >= 0 {
			addr = addr[:i]
		}
		view[l.ID] = addr + " " + strings.Join(l.Slots, " ")
	}
	return view, nil
}

// waitAgreement waits until every node has the same view of the cluster
// (IDs, addresses, slots) with n nodes, every link up, and cluster_state
// ok; it returns that view.
func waitAgreement(t testing.TB, nodes []*clusterProc) map[string]string {
	t.Helper()
	var agreed map[string]string
	waitUntil(t, clusterWait, "all nodes to agree on the configuration", func() error {
		var first map[string]string
		for _, p := range nodes {
			v, err := clusterView(t, p)
			if err != nil {
				return err
			}
			if len(v) != len(nodes) {
				return fmt.Errorf("%s knows %d nodes", p.Addr(), len(v))
			}
			if first == nil {
				first = v
			} else if fmt.Sprint(sortedView(v)) != fmt.Sprint(sortedView(first)) {
				return fmt.Errorf("views differ:\n%v\n%v", sortedView(first), sortedView(v))
			}
			info, err := p.do(t, "CLUSTER", "INFO").Text()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") {
				return fmt.Errorf("%s: cluster_state is not ok", p.Addr())
			}
		}
		agreed = first
		return nil
	})
	return agreed
}

func sortedView(v map[string]string) []string {
	out := make([]string, 0, len(v))
	for id, s := range v {
		out = append(out, id+" "+s)
	}
	sort.Strings(out)
	return out
}

// checkClean runs `redis-cli --cluster check` until it reports a clean
// cluster: every slot covered, all nodes agree, no open slots.
func checkClean(t testing.TB, p *clusterProc) string {
	t.Helper()
	var out string
	waitUntil(t, clusterWait, "redis-cli --cluster check to be clean", func() error {
		var err error
		out, err = runCLI(t, 30*time.Second, "", "--cluster", "check", p.Addr())
		if err != nil {
			return fmt.Errorf("%v:\n%s", err, out)
		}
		for _, want := range []string{"[OK] All nodes agree about slots configuration.", "[OK] All 16384 slots covered."} {
			if !strings.Contains(out, want) {
				return fmt.Errorf("no %q in:\n%s", want, out)
			}
		}
		if strings.Contains(out, "[ERR]") || strings.Contains(out, "[WARNING]") {
			return fmt.Errorf("problems reported:\n%s", out)
		}
		return nil
	})
	return out
}

// clusterClient is a go-redis ClusterClient on the nodes; opts adjust its
// options.
func clusterClient(t testing.TB, nodes []*clusterProc, opts ...func(*redis.ClusterOptions)) *redis.ClusterClient {
	t.Helper()
	addrs := make([]string, len(nodes))
	for i, p := range nodes {
		addrs[i] = p.Addr()
	}
	o := &redis.ClusterOptions{Addrs: addrs, DialTimeout: 5 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	for _, f := range opts {
		f(o)
	}
	c := redis.NewClusterClient(o)
	t.Cleanup(func() { c.Close() })
	return c
}

// stopAll stops nodes in parallel.
func stopAll(t testing.TB, nodes []*clusterProc) {
	var wg sync.WaitGroup
	for _, p := range nodes {
		wg.Add(1)
		go func() { defer wg.Done(); p.stop(t) }()
	}
	wg.Wait()
}
