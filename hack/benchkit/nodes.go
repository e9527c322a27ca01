package benchkit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/controllers/topology"
	"github.com/shoal-dev/shoal/node/clusteradmin"
)

// Node is one node process on 127.0.0.1.
type Node struct {
	Port int
	// LogPath is the file of its stdout and stderr.
	LogPath string
	cmd     *exec.Cmd
	done    chan struct{}
}

// Addr is host:port.
func (n *Node) Addr() string { return fmt.Sprintf("127.0.0.1:%d", n.Port) }

// Addrs are the nodes' addresses.
func Addrs(nodes []*Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Addr()
	}
	return out
}

func freePort() (int, error) {
	for range 1000 {
		p := 10000 + rand.IntN(10000)
		if portFree(p) && portFree(p+10000) {
			return p, nil
		}
	}
	return 0, errors.New("no free port")
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// StartNodes starts n cluster-enabled nodes of bin, each in a folder of
// dir, without persistence, and waits until each accepts connections.
// With profileDir, each node writes its CPU and lock-contention profiles
// there (cpu-<i>.prof, mutex-<i>.prof, alloc-<i>.prof) when StopNodes stops it. The nodes
// started are returned also on error (for StopNodes).
func StartNodes(bin, dir string, n int, profileDir string) ([]*Node, error) {
	var nodes []*Node
	for i := range n {
		port, err := freePort()
		if err != nil {
			return nodes, err
		}
		d := filepath.Join(dir, fmt.Sprint(i))
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nodes, err
		}
		cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(d, "nodes.conf"), "--dir", d, "--appendonly", "no", "--save", "",
			"--cluster-node-timeout", "5000")
		cmd.Dir = d
		if profileDir != "" {
			cmd.Env = append(os.Environ(), "SHOAL_CPUPROFILE="+filepath.Join(profileDir, fmt.Sprintf("cpu-%d.prof", i)),
				"SHOAL_MUTEXPROFILE="+filepath.Join(profileDir, fmt.Sprintf("mutex-%d.prof", i)),
				"SHOAL_ALLOCPROFILE="+filepath.Join(profileDir, fmt.Sprintf("alloc-%d.prof", i)),
				"SHOAL_TRACE="+filepath.Join(profileDir, fmt.Sprintf("trace-%d.out", i)))
		}
		logPath := filepath.Join(d, "log")
		logf, err := os.Create(logPath)
		if err != nil {
			return nodes, err
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			return nodes, err
		}
		node := &Node{Port: port, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
		go func() { _ = cmd.Wait(); close(node.done) }()
		nodes = append(nodes, node)
	}
	for _, n := range nodes {
		if err := Poll(30*time.Second, func() error {
			c, err := net.Dial("tcp", n.Addr())
			if err == nil {
				_ = c.Close()
			}
			return err
		}); err != nil {
			return nodes, err
		}
	}
	return nodes, nil
}

// StopNodes stops the nodes (by PID: SIGTERM, so that they write their
// profiles, then SIGKILL after 10 s) and waits for their exit.
func StopNodes(nodes []*Node) {
	for _, n := range nodes {
		_ = n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.done:
		case <-time.After(10 * time.Second):
			_ = n.cmd.Process.Kill()
			<-n.done
		}
	}
}

// Poll calls f every 50 ms until it succeeds or d passed; its last error.
func Poll(d time.Duration, f func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Form meets every node and gives the first masters nodes the slots, in
// even ranges (topology.EvenSlotRanges), then waits until every node
// knows every other and says cluster_state:ok.
func Form(ctx context.Context, nodes []*Node, masters int) error {
	seed := redis.NewClient(&redis.Options{Addr: nodes[0].Addr()})
	defer seed.Close()
	for _, n := range nodes[1:] {
		if err := seed.ClusterMeet(ctx, "127.0.0.1", fmt.Sprint(n.Port)).Err(); err != nil {
			return err
		}
	}
	for i, r := range topology.EvenSlotRanges(masters) {
		c := redis.NewClient(&redis.Options{Addr: nodes[i].Addr()})
		err := c.ClusterAddSlotsRange(ctx, r.First, r.Last).Err()
		_ = c.Close()
		if err != nil {
			return err
		}
	}
	return Poll(60*time.Second, func() error { return ClusterOK(ctx, nodes) })
}

// ClusterOK is nil when every node says cluster_state:ok and knows every
// node, none in handshake.
func ClusterOK(ctx context.Context, nodes []*Node) error {
	for _, n := range nodes {
		c := redis.NewClient(&redis.Options{Addr: n.Addr()})
		info, err := c.ClusterInfo(ctx).Result()
		nodesReply, err2 := c.ClusterNodes(ctx).Result()
		_ = c.Close()
		if err != nil || err2 != nil {
			return errors.Join(err, err2)
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return fmt.Errorf("%s: not ok", n.Addr())
		}
		if strings.Count(strings.TrimSpace(nodesReply), "\n")+1 != len(nodes) || strings.Contains(nodesReply, "handshake") {
			return fmt.Errorf("%s: not every node known", n.Addr())
		}
	}
	return nil
}

// DBSize is the sum of the nodes' DBSIZE.
func DBSize(ctx context.Context, addrs []string) (int64, error) {
	var total int64
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		n, err := c.DBSize(ctx).Result()
		_ = c.Close()
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// Members observes the nodes at addrs as the operator's reconciler does
// (CLUSTER NODES, INFO... through dial's ClusterView): node i is shard i,
// its pod named by its address.
func Members(ctx context.Context, addrs []string, dial clusteradmin.Dialer) ([]topology.Member, error) {
	members := make([]topology.Member, len(addrs))
	for i, a := range addrs {
		host, port, err := net.SplitHostPort(a)
		if err != nil {
			return nil, err
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, err
		}
		c := dial(a, clusteradmin.Auth{})
		v, err := c.ClusterView(ctx)
		_ = c.Close()
		if err != nil {
			return nil, err
		}
		members[i] = topology.Member{Pod: a, Shard: i, IP: host, Port: p, BusPort: p + 10000, View: v}
	}
	return members, nil
}

// CPUSeconds is the CPU time (user and system, INFO cpu) the nodes at
// addrs used since they started.
func CPUSeconds(ctx context.Context, addrs []string) (float64, error) {
	var total float64
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		info, err := c.Info(ctx, "cpu").Result()
		_ = c.Close()
		if err != nil {
			return total, err
		}
		for _, l := range strings.Split(info, "\r\n") {
			k, v, _ := strings.Cut(l, ":")
			if k == "used_cpu_user" || k == "used_cpu_sys" {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return total, fmt.Errorf("%s: %s: %w", a, l, err)
				}
				total += f
			}
		}
	}
	return total, nil
}

// LogLines are the lines of the nodes' logs that contain substr, each
// after its node's address.
func LogLines(nodes []*Node, substr string) []string {
	var out []string
	for _, n := range nodes {
		b, err := os.ReadFile(n.LogPath)
		if err != nil {
			out = append(out, n.Addr()+": "+err.Error())
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, substr) {
				out = append(out, n.Addr()+": "+l)
			}
		}
	}
	return out
}

// OwnCPU is the CPU (user and system) this process has used so far.
func OwnCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
