package server

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/internal/testenv"
	"github.com/shoal-dev/shoal/node/nodetest"
	"github.com/shoal-dev/shoal/node/resp"
)

// The harness: nodetest builds shoal-node once; startNode runs it on a
// free loopback port and stops it (by PID) when the test ends.
// SHOAL_NODE_RACE=1 builds the node with the race detector; a race then
// shows in the node log (printed when a test fails) and fails the test.

func TestMain(m *testing.M) { os.Exit(nodetest.Run(m)) }

// testNode is a running node (or redis-server) process.
type testNode struct{ *nodetest.Proc }

// startNode starts a node with extra "--name value" arguments.
func startNode(t testing.TB, args ...string) *testNode {
	t.Helper()
	return &testNode{nodetest.Start(t, nodetest.Options{Args: append([]string{"--save", "", "--enable-debug-command", "yes"}, args...)})}
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
