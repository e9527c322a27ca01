package server

import (
	"bufio"
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
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/internal/testenv"
	"github.com/shoal-dev/shoal/node/resp"
)

// The harness: TestMain builds shoal-node once; startNode runs it on a
// free loopback port and stops it (by PID) when the test ends.

var nodeBinary string // set once by TestMain, read-only afterwards

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shoal-node-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	nodeBinary = filepath.Join(dir, "shoal-node")
	// SHOAL_NODE_RACE=1 builds the node with the race detector; a race then
	// shows in the node log (printed when a test fails) and fails stop().
	buildArgs := []string{"build", "-o", nodeBinary}
	if os.Getenv("SHOAL_NODE_RACE") == "1" {
		buildArgs = append(buildArgs, "-race")
	}
	build := exec.Command("go", append(buildArgs, "github.com/shoal-dev/shoal/node/cmd/shoal-node")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building shoal-node:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testNode is a running node process.
type testNode struct {
	Port int
	Addr string
	Dir  string
	cmd  *exec.Cmd
	log  string
}

// freePort returns a loopback port that is free now, for a process the
// test starts next. It is picked at random below the kernel's ephemeral
// range (where the kernel never hands out ports by itself) and above the
// range's low end minus 12768 (20000-29999 by default, clear of Kubernetes
// NodePorts): a port from the ephemeral range, as port 0 gives, can go to
// any outgoing connection on this busy machine before the node binds it.
func freePort(t testing.TB) int {
	t.Helper()
	if lo, n := spareRange(); n > 0 {
		for range 200 {
			p := lo + rand.IntN(n)
			if ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p))); err == nil {
				ln.Close()
				return p
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// spareRange is the [lo, lo+n) range freePort draws from, n = 0 when the
// ephemeral range leaves no room below it.
func spareRange() (lo, n int) {
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if v, err := strconv.Atoi(f[0]); err == nil {
				low = v
			}
		}
	}
	lo, hi := low-12768, low-2768
	if lo < 1024 {
		return 0, 0
	}
	return lo, hi - lo
}

// startNode starts a node with extra "--name value" arguments.
func startNode(t testing.TB, args ...string) *testNode {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	n := &testNode{Port: port, Addr: "127.0.0.1:" + strconv.Itoa(port), Dir: dir, log: filepath.Join(dir, "node.log")}
	full := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--enable-debug-command", "yes"}, args...)
	return runNode(t, n, full)
}

// runNode starts the binary with full arguments and waits until it listens.
func runNode(t testing.TB, n *testNode, full []string) *testNode {
	t.Helper()
	logf, err := os.Create(n.log)
	if err != nil {
		t.Fatal(err)
	}
	n.cmd = exec.Command(nodeBinary, full...)
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logf.Close()
	exited := make(chan struct{})
	go func() { _ = n.cmd.Wait(); close(exited) }()
	if !waitListening(n.Addr, exited, 10*time.Second) {
		_ = n.cmd.Process.Kill()
		<-exited
		b, _ := os.ReadFile(n.log)
		t.Fatalf("node did not start:\n%s", b)
	}
	t.Cleanup(func() { n.stop(t, exited) })
	return n
}

func waitListening(addr string, exited chan struct{}, timeout time.Duration) bool {
	// A node listens before it loads its data (as Redis): a test starts
	// using it once it answers anything but -LOADING.
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			loading := answersLoading(c)
			c.Close()
			if !loading {
				return true
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

func (n *testNode) stop(t testing.TB, exited chan struct{}) {
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = n.cmd.Process.Kill()
		<-exited
		t.Errorf("node %d did not exit on SIGTERM", n.cmd.Process.Pid)
	}
	checkNodeRace(t, n.log)
	if t.Failed() {
		if b, err := os.ReadFile(n.log); err == nil {
			t.Logf("node log:\n%s", b)
		}
	}
}

// checkNodeRace fails the test when a node's log reports a data race
// (nodes built with SHOAL_NODE_RACE=1, as make test-race does).
func checkNodeRace(t testing.TB, logPath string) {
	t.Helper()
	if b, err := os.ReadFile(logPath); err == nil && strings.Contains(string(b), "WARNING: DATA RACE") {
		t.Errorf("data race in the node (%s):\n%s", logPath, b)
	}
}

// client returns a go-redis client (RESP3 by default, as go-redis v9).
func (n *testNode) client(t testing.TB, opts ...func(*redis.Options)) *redis.Client {
	t.Helper()
	o := &redis.Options{Addr: n.Addr, DialTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second}
	for _, f := range opts {
		f(o)
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { c.Close() })
	return c
}

// rawConn speaks raw RESP, for byte-exact checks.
type rawConn struct {
	t  testing.TB
	c  net.Conn
	rd *bufio.Reader
}

func (n *testNode) raw(t testing.TB) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", n.Addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, rd: bufio.NewReader(c)}
}

// send writes raw bytes.
func (r *rawConn) send(s string) {
	r.t.Helper()
	if _, err := r.c.Write([]byte(s)); err != nil {
		r.t.Fatal(err)
	}
}

// do sends a command as a RESP multibulk and returns the raw reply.
func (r *rawConn) do(args ...string) string {
	r.t.Helper()
	r.send(encodeCommand(args...))
	return r.reply()
}

func encodeCommand(args ...string) string { return string(resp.AppendCommand(nil, args)) }

// reply reads one complete RESP2/RESP3 reply and returns its raw bytes.
func (r *rawConn) reply() string {
	r.t.Helper()
	_ = r.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	if err := readRaw(r.rd, &b); err != nil {
		r.t.Fatalf("reading reply: %v (so far %q)", err, b.String())
	}
	return b.String()
}

func readRaw(rd *bufio.Reader, b *strings.Builder) error {
	line, err := rd.ReadString('\n')
	if err != nil {
		return err
	}
	b.WriteString(line)
	if len(line) < 3 {
		return fmt.Errorf("short line %q", line)
	}
	body := strings.TrimSuffix(line[1:], "\r\n")
	switch line[0] {
	case '+', '-', ':', '_', ',', '#', '(':
		return nil
	case '$', '=', '!':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := ioReadFull(rd, buf); err != nil {
			return err
		}
		b.Write(buf)
		return nil
	case '*', '~', '>':
		n, _ := strconv.Atoi(body)
		for i := 0; i < n; i++ {
			if err := readRaw(rd, b); err != nil {
				return err
			}
		}
		return nil
	case '%', '|':
		n, _ := strconv.Atoi(body)
		for i := 0; i < 2*n; i++ {
			if err := readRaw(rd, b); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("bad reply type %q", line)
}

func ioReadFull(rd *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := rd.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// redisCLI runs Debian's redis-cli against the node.
func (n *testNode) redisCLI(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	testenv.LookTool(t, "redis-cli", "redis-tools")
	full := append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(n.Port)}, args...)
	cmd := exec.Command("redis-cli", full...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// answersLoading reports whether the server on c is still loading: it
// answers PING with -LOADING, or not within a second (a loading node
// answers only between two buffers of its file). Any other reply, or a
// closed connection, is not loading.
func answersLoading(c net.Conn) bool {
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return strings.HasPrefix(line, "-LOADING")
}
