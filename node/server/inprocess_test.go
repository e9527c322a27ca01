package server

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// In-process tests: a Server without listeners, clients over net.Pipe.
// They reach what a socket cannot show (the propagation sink).

type recordingPropagator struct {
	mu  sync.Mutex
	ops []string
}

func (p *recordingPropagator) Propagate(db int, args [][]byte) {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = string(a)
	}
	p.mu.Lock()
	p.ops = append(p.ops, strings.Join(parts, " "))
	p.mu.Unlock()
}

func (p *recordingPropagator) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.ops
	p.ops = nil
	return out
}

func newInProcess(t testing.TB, args ...string) *Server {
	t.Helper()
	cfg, err := ParseArgs(append([]string{"--port", "0", "--save", ""}, args...))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, enginePlugins()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// pipeClient is a raw RESP connection to an in-process server.
func pipeClient(t *testing.T, s *Server) *rawConn {
	t.Helper()
	a, b := net.Pipe()
	s.accept(b)
	t.Cleanup(func() { a.Close() })
	return &rawConn{t: t, c: a, rd: bufio.NewReader(a)}
}

func TestPropagationOfEffectiveWrites(t *testing.T) {
	s := newInProcess(t)
	p := &recordingPropagator{}
	s.SetPropagator(p)
	c := pipeClient(t, s)
	now := time.Now().UnixMilli()

	check := func(args []string, want ...string) {
		t.Helper()
		c.do(args...)
		got := p.take()
		if len(got) != len(want) {
			t.Fatalf("%q propagated %q, want %q", args, got, want)
		}
		for i := range want {
			if strings.HasSuffix(want[i], "*") {
				if !strings.HasPrefix(got[i], strings.TrimSuffix(want[i], "*")) {
					t.Fatalf("%q propagated %q, want %q", args, got, want)
				}
			} else if got[i] != want[i] {
				t.Fatalf("%q propagated %q, want %q", args, got, want)
			}
		}
	}
	check([]string{"SET", "k", "v"}, "SET k v")
	check([]string{"GET", "k"})
	check([]string{"DEL", "nokey"})
	check([]string{"SET", "k", "v", "EX", "100"}, "SET k v PXAT *")
	check([]string{"EXPIRE", "k", "100"}, "PEXPIREAT k *")
	check([]string{"PEXPIREAT", "k", "99999999999999"}, "PEXPIREAT k 99999999999999")
	check([]string{"EXPIRE", "nokey", "100"})
	check([]string{"INCRBYFLOAT", "f", "1.5"}, "SET f 1.5 KEEPTTL")
	check([]string{"GETDEL", "f"}, "DEL f")
	check([]string{"SETEX", "s", "10", "v"}, "SET s v PXAT *")
	check([]string{"EXPIRE", "s", "-1"}, "DEL s")
	check([]string{"MULTI"})
	check([]string{"SET", "a", "1"})
	check([]string{"INCR", "a"})
	check([]string{"EXEC"}, "MULTI", "SET a 1", "INCR a", "EXEC")

	// A lazily expired key propagates a DEL before the command.
	check([]string{"SET", "e", "v", "PX", "1"}, "SET e v PXAT *")
	for time.Now().UnixMilli() <= now+5 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(5 * time.Millisecond)
	check([]string{"GET", "e"}, "DEL e")
}

func TestBlockedClientDisconnectIsForgotten(t *testing.T) {
	s := newInProcess(t)
	c := pipeClient(t, s)
	c.send(encodeCommand("BLPOP", "q", "0"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		n := s.blocking.count
		s.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("client never blocked")
		}
		time.Sleep(time.Millisecond)
	}
	c.c.Close()
	for {
		s.mu.Lock()
		n, clients := s.blocking.count, len(s.clients)
		s.mu.Unlock()
		if n == 0 && clients == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("blocked client not cleaned up: blocked=%d clients=%d", n, clients)
		}
		time.Sleep(time.Millisecond)
	}
	// The element pushed now stays in the list: nobody is served.
	c2 := pipeClient(t, s)
	if got := c2.do("RPUSH", "q", "x"); got != ":1\r\n" {
		t.Fatalf("RPUSH = %q", got)
	}
	if got := c2.do("LLEN", "q"); got != ":1\r\n" {
		t.Fatalf("LLEN = %q", got)
	}
}

// remoteConn makes a net.Pipe end look like a TCP peer at addr.
type remoteConn struct {
	net.Conn
	addr net.Addr
}

func (r remoteConn) RemoteAddr() net.Addr { return r.addr }

func TestProtectedModeAndMaxclients(t *testing.T) {
	s := newInProcess(t, "--maxclients", "2")
	external := &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 5555}
	refused := func(s *Server) string {
		a, b := net.Pipe()
		defer a.Close()
		go s.accept(remoteConn{b, external})
		buf := make([]byte, 4096)
		_ = a.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _ := a.Read(buf)
		return string(buf[:n])
	}
	if got := refused(s); !strings.HasPrefix(got, "-DENIED Redis is running in protected mode") {
		t.Fatalf("external client with protected mode: %q", got)
	}
	// Loopback clients are accepted, up to maxclients.
	pipeClient(t, s).do("PING")
	pipeClient(t, s).do("PING")
	a, b := net.Pipe()
	defer a.Close()
	go s.accept(b)
	buf := make([]byte, 100)
	_ = a.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _ := a.Read(buf)
	if got := string(buf[:n]); got != "-ERR max number of clients reached\r\n" {
		t.Fatalf("over maxclients: %q", got)
	}
	// A password for the default user turns protected mode off.
	s2 := newInProcess(t, "--requirepass", "x")
	ext := pipeClientFrom(t, s2, external)
	if got := ext.do("PING"); got != "-NOAUTH Authentication required.\r\n" {
		t.Fatalf("external client with a password: %q", got)
	}
}

func pipeClientFrom(t *testing.T, s *Server, addr net.Addr) *rawConn {
	t.Helper()
	a, b := net.Pipe()
	s.accept(remoteConn{b, addr})
	t.Cleanup(func() { a.Close() })
	return &rawConn{t: t, c: a, rd: bufio.NewReader(a)}
}
