package clients

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/testenv"
	"github.com/shoal-dev/shoal/node/nodetest"
)

func TestMain(m *testing.M) { os.Exit(nodetest.Run(m)) }

// server is one kind of server the scenarios run against.
type server struct {
	name string
	bin  func(t testing.TB) string
}

var servers = []server{
	{"redis", nodetest.RedisServer},
	{"shoal", nodetest.Binary},
}

// startSingle starts one standalone server without snapshots.
func startSingle(t *testing.T, bin string) string {
	t.Helper()
	return nodetest.Start(t, nodetest.Options{Binary: bin, Args: []string{"--save", ""}}).Addr
}

// startCluster starts three cluster-mode masters of bin, joins them with
// redis-cli --cluster create and waits until each says cluster_state:ok.
func startCluster(t *testing.T, bin string) []string {
	t.Helper()
	testenv.LookTool(t, "redis-cli", "redis-tools")
	addrs := make([]string, 3)
	for i := range addrs {
		dir := t.TempDir()
		p := nodetest.Start(t, nodetest.Options{Binary: bin, Dir: dir, Args: []string{
			"--save", "", "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(nodetest.FreePort(t)),
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"), "--cluster-node-timeout", "5000",
		}})
		addrs[i] = p.Addr
	}
	out, err := run(t, 2*time.Minute, "", "redis-cli", append(append([]string{"--cluster", "create"}, addrs...), "--cluster-yes")...)
	if err != nil || !strings.Contains(out, "[OK] All 16384 slots covered.") {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(time.Minute)
	for _, a := range addrs {
		for {
			info, _ := run(t, 10*time.Second, "", "redis-cli", "-u", "redis://"+a, "CLUSTER", "INFO")
			if strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: cluster_state not ok within a minute:\n%s", a, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return addrs
}

// run runs a program with a deadline and returns its combined output.
func run(t testing.TB, timeout time.Duration, dir, prog string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s timed out after %s: %w", prog, timeout, err)
	}
	return string(out), err
}

// nodeScript runs a Node.js scenario of node/ with its arguments; the
// packages must be installed (npm ci --prefix test/clients/node).
func nodeScript(t *testing.T, timeout time.Duration, script string, args ...string) (string, error) {
	t.Helper()
	node := testenv.LookTool(t, "node", "nodejs")
	if _, err := os.Stat(filepath.Join("node", "node_modules", "bullmq")); err != nil {
		testenv.Unavailable(t, "the Node.js clients are not installed (npm ci --prefix test/clients/node)")
	}
	return run(t, timeout, "node", node, append([]string{script}, args...)...)
}

// runScenario runs the Node.js scenario script against each server,
// standalone and as a cluster: it fails the test when the script exits
// with an error, and logs its one-line summary.
func runScenario(t *testing.T, script, what string) {
	for _, srv := range servers {
		for _, mode := range []string{"single", "cluster"} {
			t.Run(srv.name+"/"+mode, func(t *testing.T) {
				bin := srv.bin(t)
				var addrs []string
				if mode == "single" {
					addrs = []string{startSingle(t, bin)}
				} else {
					addrs = startCluster(t, bin)
				}
				out, err := nodeScript(t, 3*time.Minute, script, mode, strings.Join(addrs, ","))
				if err != nil {
					t.Fatalf("%s against %s (%s): %v\n%s", what, srv.name, mode, err, out)
				}
				t.Logf("%s", strings.TrimSpace(out))
			})
		}
	}
}
