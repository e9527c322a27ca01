package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/clusteradmin"
	"github.com/shoal-dev/shoal/node/nodetest"
)

// The process harness: nodetest builds shoal-node once; the tests run it as
// the data node (on 127.0.0.1, stopped by PID) and as the probe and hook the
// kubelet runs, with the password in the environment as in the pod.

const (
	testPassword    = "prestop-secret"
	testPasswordEnv = "SHOAL_TEST_PASSWORD"
	// testNodeTimeout is cluster-node-timeout: quick convergence, yet no
	// false failure detection on a loaded 2-core machine.
	testNodeTimeout = "5000"
	// testWait bounds every wait for a node or the cluster to reach a state.
	testWait = 60 * time.Second
)

func TestMain(m *testing.M) { os.Exit(nodetest.Run(m)) }

// nodeProc is a node process.
type nodeProc struct {
	Port, BusPort int
	proc          *nodetest.Proc
}

func (n *nodeProc) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.Port)) }

// startNodeProc runs a node with a password (cluster mode when cluster) and
// waits until it accepts connections; the test stops it.
func startNodeProc(t *testing.T, cluster bool) *nodeProc {
	t.Helper()
	busPort := nodetest.FreePort(t)
	args := []string{"--save", "", "--requirepass", testPassword, "--masterauth", testPassword}
	if cluster {
		args = append(args, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(busPort),
			"--cluster-node-timeout", testNodeTimeout)
	}
	p := nodetest.Start(t, nodetest.Options{Args: args, Ready: testWait, Grace: 20 * time.Second})
	return &nodeProc{Port: p.Port, BusPort: busPort, proc: p}
}

func (n *nodeProc) logTail() string {
	return nodetest.Tail(strings.TrimSpace(n.proc.Log()), 20)
}

// stop sends SIGTERM (SIGKILL after a while) and waits for the exit. Safe to
// call twice.
func (n *nodeProc) stop(t *testing.T) {
	if !n.proc.Stop(20 * time.Second) {
		t.Errorf("node %s did not stop on SIGTERM; killing it", n.Addr())
		n.proc.Kill()
	}
}

// kill stops the node with SIGKILL, as a crash.
func (n *nodeProc) kill() { n.proc.Kill() }

func (n *nodeProc) client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: n.Addr(), Password: testPassword, Protocol: 2,
		DisableIdentity: true, DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second})
}

// view is the node's typed view of the cluster.
func (n *nodeProc) view(ctx context.Context) (*clusteradmin.NodeView, error) {
	c := clusteradmin.New(n.Addr(), clusteradmin.Options{Password: testPassword, Timeout: 5 * time.Second})
	defer c.Close()
	return c.ClusterView(ctx)
}

func (n *nodeProc) mustView(t *testing.T) *clusteradmin.NodeView {
	t.Helper()
	v, err := n.view(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// subcommand runs `shoal-node args...` against node n as the kubelet runs
// probes and hooks: with the password in the environment.
type subcommandResult struct {
	Code           int
	Stdout, Stderr string
	Took           time.Duration
}

func runSubcommand(t *testing.T, args ...string) subcommandResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodetest.Binary(t), args...)
	cmd.Env = append(os.Environ(), testPasswordEnv+"="+testPassword)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := subcommandResult{Stdout: stdout.String(), Stderr: stderr.String(), Took: time.Since(start)}
	if err != nil {
		exitErr, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("shoal-node %v: %v", args, err)
		}
		r.Code = exitErr.ExitCode()
	}
	return r
}

func connArgs(n *nodeProc) []string {
	return []string{"--port", strconv.Itoa(n.Port), "--password-env", testPasswordEnv}
}

// waitFor polls cond until it returns nil, failing the test after testWait.
func waitFor(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached in %v: %v", what, testWait, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
