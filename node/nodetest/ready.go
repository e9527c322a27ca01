package nodetest

import (
	"bufio"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readyPoll is how often Ready asks again.
const readyPoll = 10 * time.Millisecond

// Ready waits until the server at addr answers PING with anything but
// -LOADING (a node listens before it loads its data, as Redis does). It
// returns false when exited is closed first (nil: never) or within passes.
func Ready(addr string, exited <-chan struct{}, within time.Duration) bool {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	for {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			loading := AnswersLoading(c)
			c.Close()
			if !loading {
				return true
			}
		}
		select {
		case <-exited:
			return false
		case <-deadline.C:
			return false
		case <-tick.C:
		}
	}
}

// AnswersLoading sends PING on c and reports whether the server is still
// loading: it answers -LOADING, or not within a second (a loading node
// answers only between two buffers of its file). Any other reply, or a
// closed connection, is not loading.
func AnswersLoading(c net.Conn) bool {
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

// FreePort returns a loopback port that is free now, for a process the
// test starts next. It is picked at random below the kernel's ephemeral
// range (where the kernel never hands out ports by itself) and above the
// range's low end minus 12768 (20000-29999 by default, clear of Kubernetes
// NodePorts): a port from the ephemeral range, as port 0 gives, can go to
// any outgoing connection on this busy machine before the node binds it.
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func freePort() (int, error) {
	if lo, n := spareRange(); n > 0 {
		for range 200 {
			p := lo + rand.IntN(n)
			if !claim(p) {
				continue
			}
			if ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p))); err == nil {
				ln.Close()
				return p, nil
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// claim reports whether this process now holds port's claim: an exclusive
// flock on a file named after the port in a directory every test process
// shares, kept until the process exits. Between FreePort's check and the
// node's bind the port is closed, and test packages run side by side (CI
// saw a node of one package lose its port to another's); a claimed port
// is never handed out twice, in this process or another. The descriptor is
// a raw one on purpose: an *os.File would be closed by its finalizer, and
// the lock with it. Where the directory cannot be made, every port can be
// claimed (the old behaviour).
func claim(port int) bool {
	dir := filepath.Join(os.TempDir(), "shoal-test-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return true
	}
	fd, err := syscall.Open(filepath.Join(dir, strconv.Itoa(port)), syscall.O_CREAT|syscall.O_RDWR|syscall.O_CLOEXEC, 0o666)
	if err != nil {
		return true
	}
	if err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		syscall.Close(fd)
		return false
	}
	return true
}

// spareRange is the [lo, lo+n) range FreePort draws from, n = 0 when the
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
