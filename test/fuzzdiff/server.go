package main

import (
	"bufio"
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

	noderesp "github.com/shoal-dev/shoal/node/resp"
	"github.com/shoal-dev/shoal/test/fuzzdiff/resp"
)

// memLimit is the address-space limit (prlimit --as) of both servers: a
// reply that would grow without bound makes the server fail on its own
// instead of waking the kernel's OOM killer on a shared machine.
const memLimit = 6 << 30

// proc is a server process the fuzzer started; it is stopped by its PID.
type proc struct {
	name   string
	addr   string
	dir    string
	log    string
	cmd    *exec.Cmd
	exited chan struct{}
}

// startServer starts bin with args plus --port and --bind on a free
// loopback port, in its own temp dir under parent, and waits until it
// listens.
func startServer(name, bin, parent string, args []string) (*proc, error) {
	dir, err := os.MkdirTemp(parent, name+"-")
	if err != nil {
		return nil, err
	}
	port := freePort()
	p := &proc{name: name, addr: "127.0.0.1:" + strconv.Itoa(port), dir: dir, log: filepath.Join(dir, "stderr.log")}
	full := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""}, args...)
	argv := append([]string{bin}, full...)
	if pl, err := exec.LookPath("prlimit"); err == nil {
		argv = append([]string{pl, "--as=" + strconv.Itoa(memLimit), "--"}, argv...)
	}
	logf, err := os.Create(p.log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	p.exited = make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if p.dead() {
			return nil, fmt.Errorf("%s exited at start:\n%s", name, p.tail(20))
		}
		if c, err := net.DialTimeout("tcp", p.addr, 100*time.Millisecond); err == nil {
			c.Close()
			return p, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.stop()
	return nil, fmt.Errorf("%s did not listen on %s within 15s", name, p.addr)
}

func (p *proc) dead() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// waitDead reports whether the process exits within d.
func (p *proc) waitDead(d time.Duration) bool {
	select {
	case <-p.exited:
		return true
	case <-time.After(d):
		return false
	}
}

// stop ends the process by PID: SIGTERM, then SIGKILL after 5 s. It
// reports whether SIGTERM alone ended it.
func (p *proc) stop() bool {
	if p.dead() {
		return true
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if p.waitDead(5 * time.Second) {
		return true
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	return false
}

// kill ends the process by PID with SIGKILL.
func (p *proc) kill() {
	if !p.dead() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// tail is the last n lines of the process's output.
func (p *proc) tail(n int) string {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// panicText is the part of the output from the first "panic:" or "fatal
// error:" line on, at most n lines; the tail when there is none.
func (p *proc) panicText(n int) string {
	b, _ := os.ReadFile(p.log)
	s := string(b)
	i := strings.Index(s, "panic:")
	if j := strings.Index(s, "fatal error:"); j >= 0 && (i < 0 || j < i) {
		i = j
	}
	if i < 0 {
		return p.tail(n)
	}
	lines := strings.Split(s[i:], "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// freePort returns a loopback port free now, drawn below the kernel's
// ephemeral range so no outgoing connection takes it before the server
// binds it.
func freePort() int {
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if v, err := strconv.Atoi(f[0]); err == nil {
				low = v
			}
		}
	}
	for range 200 {
		p := low - 12000 + rand.IntN(9000)
		if ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
			ln.Close()
			return p
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// conn is one client connection speaking raw RESP.
type conn struct {
	c  net.Conn
	rd *bufio.Reader
}

func dial(addr string) (*conn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &conn{c: c, rd: bufio.NewReaderSize(c, 64<<10)}, nil
}

// do sends one command (none when args is nil) and reads a reply by the
// deadline.
func (c *conn) do(args []string, deadline time.Time) (resp.Value, error) {
	_ = c.c.SetDeadline(deadline)
	if args != nil {
		if _, err := c.c.Write(noderesp.AppendCommand(nil, args)); err != nil {
			return resp.Value{}, err
		}
	}
	return resp.Read(c.rd)
}

// started waits until the command just written on c2 has run: its reply
// has come, or the server counts a blocked client (INFO on c). Otherwise
// the next line on c could run first.
func started(c, c2 *conn, deadline time.Time) {
	for time.Now().Before(deadline) {
		_ = c2.c.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := c2.rd.Peek(1); err == nil {
			return
		}
		v, err := c.do([]string{"INFO", "clients"}, deadline)
		if err != nil || strings.Contains(v.Str, "blocked_clients:") && !strings.Contains(v.Str, "blocked_clients:0") {
			return
		}
	}
}

// write sends one command without reading; an error shows in the next read.
func (c *conn) write(args []string) {
	_ = c.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, _ = c.c.Write(noderesp.AppendCommand(nil, args))
}

func (c *conn) close() {
	if c != nil {
		c.c.Close()
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
