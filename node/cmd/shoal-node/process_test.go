package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// The process harness: TestMain builds shoal-node once; the tests run it as
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

var testBinary string // set once by TestMain, read-only afterwards

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shoal-node-cmd-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testBinary = filepath.Join(dir, "shoal-node")
	build := exec.Command("go", "build", "-o", testBinary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building shoal-node:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// nodeProc is a node process.
type nodeProc struct {
	Port, BusPort int
	dir, log      string
	cmd           *exec.Cmd
	exited        chan struct{}
}

func (n *nodeProc) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.Port)) }

// freeTestPort picks a free loopback port at random below the kernel's
// ephemeral range (20000-29999 on the default 32768 range), where no
// outgoing connection of this busy machine can take it before the node binds.
func freeTestPort(t *testing.T) int {
	t.Helper()
	for range 200 {
		p := 20000 + rand.IntN(10000)
		if ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p))); err == nil {
			ln.Close()
			return p
		}
	}
	t.Fatal("no free port in 20000-29999")
	return 0
}

// startNodeProc runs a node with a password (cluster mode when cluster) and
// waits until it accepts connections; the test stops it.
func startNodeProc(t *testing.T, cluster bool) *nodeProc {
	t.Helper()
	n := &nodeProc{Port: freeTestPort(t), BusPort: freeTestPort(t), dir: t.TempDir()}
	n.log = filepath.Join(n.dir, "node.log")
	args := []string{"--port", strconv.Itoa(n.Port), "--bind", "127.0.0.1", "--dir", n.dir, "--save", "",
		"--requirepass", testPassword, "--masterauth", testPassword}
	if cluster {
		args = append(args, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(n.BusPort),
			"--cluster-node-timeout", testNodeTimeout)
	}
	logf, err := os.Create(n.log)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	n.cmd = exec.Command(testBinary, args...)
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.exited = make(chan struct{})
	go func() { _ = n.cmd.Wait(); close(n.exited) }()
	t.Cleanup(func() { n.stop(t) })
	waitFor(t, "node "+n.Addr()+" accepting connections", func() error {
		select {
		case <-n.exited:
			return fmt.Errorf("node exited:\n%s", n.logTail())
		default:
		}
		c, err := net.DialTimeout("tcp", n.Addr(), time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
	return n
}

func (n *nodeProc) logTail() string {
	b, _ := os.ReadFile(n.log)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

// stop sends SIGTERM (SIGKILL after a while) and waits for the exit. Safe to
// call twice.
func (n *nodeProc) stop(t *testing.T) {
	select {
	case <-n.exited:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(20 * time.Second):
		t.Errorf("node %s did not stop on SIGTERM; killing it", n.Addr())
		_ = n.cmd.Process.Kill()
		<-n.exited
	}
}

// kill stops the node with SIGKILL, as a crash.
func (n *nodeProc) kill() {
	_ = n.cmd.Process.Kill()
	<-n.exited
}

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
	cmd := exec.CommandContext(ctx, testBinary, args...)
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
