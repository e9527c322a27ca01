package eventloop

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The loop's cycle with a line-echo engine over loopback TCP: what the
// node's engine relies on (batches, close after replies, Close from
// another goroutine, hand-over by the engine and for a full socket, the
// idle timeout, closing), without the node.

type testEngine struct {
	sync.Mutex
	t      *testing.T
	idle   time.Duration
	onPass func() // AfterBatches (lock held), if set
}

func (e *testEngine) IdleTimeout() time.Duration { return e.idle }
func (e *testEngine) AfterBatches() {
	if e.onPass != nil {
		e.onPass()
	}
}
func (e *testEngine) BeforeReplies()                  {}
func (e *testEngine) Logf(format string, args ...any) { e.t.Logf(format, args...) }

// echoConn answers each line with itself; "quit" with "bye" and a close,
// "detach" by leaving the loop, "big N" with N bytes.
type echoConn struct {
	sock       *Socket
	in, out    []byte
	closeAfter bool
	last       time.Time
	conn       net.Conn // once handed over
	events     chan string
}

func (c *echoConn) Fill() error {
	var buf [4096]byte
	n, err := c.sock.Read(buf[:])
	c.in = append(c.in, buf[:max(n, 0)]...)
	return err
}

func (c *echoConn) Run() Batch {
	c.last = time.Now()
	var b Batch
	for {
		i := bytes.IndexByte(c.in, '\n')
		if i < 0 || b.HandOver || c.closeAfter {
			break
		}
		line := string(c.in[:i])
		c.in = c.in[i+1:]
		switch {
		case line == "quit":
			c.out = append(c.out, "bye\n"...)
			c.closeAfter = true
		case line == "detach":
			b.HandOver = true
		case len(line) > 4 && line[:4] == "big ":
			n, _ := strconv.Atoi(line[4:])
			c.out = append(c.out, bytes.Repeat([]byte{'x'}, n)...)
			c.out = append(c.out, '\n')
		default:
			c.out = append(c.out, line+"\n"...)
		}
	}
	b.CloseAfter = c.closeAfter
	return b
}

func (c *echoConn) Output() []byte        { return c.out }
func (c *echoConn) Consume(n int)         { c.out = c.out[n:] }
func (c *echoConn) CloseAfter() bool      { return c.closeAfter }
func (c *echoConn) LastActive() time.Time { return c.last }
func (c *echoConn) Dropped()              { c.events <- "dropped" }

func (c *echoConn) HandedOver(conn net.Conn) {
	c.conn = conn
	c.events <- "handed over"
}

// Serve writes what the loop left, then echoes lines as the goroutine of
// a connection.
func (c *echoConn) Serve() {
	defer c.conn.Close()
	if _, err := c.conn.Write(append(c.out, "served\n"...)); err != nil {
		return
	}
	c.out = nil
	r := bufio.NewReader(io.MultiReader(bytes.NewReader(c.in), c.conn))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if _, err := c.conn.Write([]byte(line)); err != nil {
			return
		}
	}
}

type testLoop struct {
	l       *Loop
	eng     *testEngine
	ln      net.Listener
	closing chan struct{}
	conns   chan *echoConn
	ended   chan struct{}
}

func startLoop(t *testing.T, idle time.Duration) *testLoop {
	t.Helper()
	eng := &testEngine{t: t, idle: idle}
	tl := &testLoop{eng: eng, closing: make(chan struct{}), conns: make(chan *echoConn, 16), ended: make(chan struct{})}
	l, err := New(Config{Engine: eng, Closing: tl.closing, BusyPollUsec: 50, Nap: true})
	if err != nil {
		t.Fatal(err)
	}
	tl.l = l
	tl.ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(tl.ended)
		l.Run()
	}()
	go func() {
		for {
			conn, err := tl.ln.Accept()
			if err != nil {
				return
			}
			s, err := Take(conn)
			if err != nil {
				t.Error(err)
				return
			}
			c := &echoConn{sock: s, last: time.Now(), events: make(chan string, 4)}
			eng.Lock()
			err = l.Add(s, c)
			eng.Unlock()
			if err != nil {
				t.Error(err)
				return
			}
			tl.conns <- c
		}
	}()
	t.Cleanup(tl.stop)
	return tl
}

func (tl *testLoop) stop() {
	select {
	case <-tl.closing:
	default:
		close(tl.closing)
		tl.ln.Close()
		tl.l.wakeUp()
	}
	<-tl.ended
}

// dial connects a client and returns it with the loop's side of it.
func (tl *testLoop) dial(t *testing.T) (net.Conn, *bufio.Reader, *echoConn) {
	t.Helper()
	conn, err := net.Dial("tcp", tl.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	select {
	case c := <-tl.conns:
		return conn, bufio.NewReader(conn), c
	case <-time.After(10 * time.Second):
		t.Fatal("the connection never reached the loop")
		return nil, nil, nil
	}
}

func expectLine(t *testing.T, r *bufio.Reader, want string) {
	t.Helper()
	got, err := r.ReadString('\n')
	if err != nil || got != want+"\n" {
		t.Fatalf("read %q, %v; want %q", got, err, want)
	}
}

func expectEOF(t *testing.T, r *bufio.Reader) {
	t.Helper()
	if b, err := r.ReadByte(); err != io.EOF {
		t.Fatalf("read %q, %v; want EOF", b, err)
	}
}

func expectEvent(t *testing.T, c *echoConn, want string) {
	t.Helper()
	select {
	case got := <-c.events:
		if got != want {
			t.Fatalf("event %q; want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no event; want %q", want)
	}
}

func TestLoopRunsABatchAndClosesAfterItsReplies(t *testing.T) {
	tl := startLoop(t, 0)
	conn, r, c := tl.dial(t)
	if _, err := io.WriteString(conn, "a\nb\nc\n"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a", "b", "c"} {
		expectLine(t, r, want)
	}
	if _, err := io.WriteString(conn, "d\nquit\nnever\n"); err != nil {
		t.Fatal(err)
	}
	expectLine(t, r, "d")
	expectLine(t, r, "bye")
	expectEOF(t, r)
	expectEvent(t, c, "dropped")
}

func TestLoopDropsAConnectionItsPeerClosed(t *testing.T) {
	tl := startLoop(t, 0)
	conn, _, c := tl.dial(t)
	conn.Close()
	expectEvent(t, c, "dropped")
}

func TestLoopClosesASocketClosedByAnotherGoroutine(t *testing.T) {
	tl := startLoop(t, 0)
	conn, r, c := tl.dial(t)
	if _, err := io.WriteString(conn, "a\n"); err != nil {
		t.Fatal(err)
	}
	expectLine(t, r, "a")
	if err := c.sock.Close(); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, c, "dropped")
	expectEOF(t, r)
}

func TestLoopHandsAConnectionOverWhenTheEngineAsks(t *testing.T) {
	tl := startLoop(t, 0)
	conn, r, c := tl.dial(t)
	if _, err := io.WriteString(conn, "a\ndetach\nb\n"); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, c, "handed over")
	// The goroutine writes the batch's replies, then serves what was
	// read after the hand-over and what comes next.
	expectLine(t, r, "a")
	expectLine(t, r, "served")
	expectLine(t, r, "b")
	if _, err := io.WriteString(conn, "c\n"); err != nil {
		t.Fatal(err)
	}
	expectLine(t, r, "c")
}

func TestLoopHandsAFullSocketOver(t *testing.T) {
	tl := startLoop(t, 0)
	conn, r, c := tl.dial(t)
	// Far more than the socket buffers hold: the loop's one write is
	// partial, and the connection goes to a goroutine that waits.
	// (A send buffer is at most net.ipv4.tcp_wmem's maximum, 4 MB by
	// default, and a receive buffer grows only as its reader reads.)
	const n = 16 << 20
	if _, err := io.WriteString(conn, "big "+strconv.Itoa(n)+"\n"); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, c, "handed over")
	got := make([]byte, n+1)
	if _, err := io.ReadFull(r, got); err != nil || !bytes.Equal(got, append(bytes.Repeat([]byte{'x'}, n), '\n')) {
		t.Fatalf("read %v; want %d x and a newline", err, n)
	}
	expectLine(t, r, "served")
}

func TestLoopClosesIdleConnections(t *testing.T) {
	tl := startLoop(t, 50*time.Millisecond)
	conn, r, c := tl.dial(t)
	if _, err := io.WriteString(conn, "a\n"); err != nil {
		t.Fatal(err)
	}
	expectLine(t, r, "a")
	expectEvent(t, c, "dropped")
	expectEOF(t, r)
}

func TestLoopClosingDropsEveryConnectionAndEnds(t *testing.T) {
	tl := startLoop(t, 0)
	_, r1, c1 := tl.dial(t)
	_, r2, c2 := tl.dial(t)
	tl.stop()
	expectEvent(t, c1, "dropped")
	expectEvent(t, c2, "dropped")
	expectEOF(t, r1)
	expectEOF(t, r2)
}

// TestLoopKeepsItsThread: the loop's passes run on one OS thread however
// often its goroutine parks (the engine's lock contended, the world
// stopped by GC); a goroutine that parks otherwise resumes on whichever
// thread has a P.
func TestLoopKeepsItsThread(t *testing.T) {
	tl := startLoop(t, 0)
	tids := map[int]int{}
	tl.eng.Lock()
	tl.eng.onPass = func() { tids[syscall.Gettid()]++ }
	tl.eng.Unlock()
	conn, r, _ := tl.dial(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	repeat := func(f func()) { // f until stop is closed
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					f()
				}
			}
		}()
	}
	repeat(func() { // holds the engine's lock for 50us at a time
		tl.eng.Lock()
		for start := time.Now(); time.Since(start) < 50*time.Microsecond; {
		}
		tl.eng.Unlock()
		runtime.Gosched()
	})
	repeat(runtime.GC) // stops the world now and then
	for i := 0; i < 1000; i++ {
		if _, err := conn.Write([]byte("ping " + strconv.Itoa(i) + "\n")); err != nil {
			t.Fatal(err)
		}
		expectLine(t, r, "ping "+strconv.Itoa(i))
	}
	close(stop)
	wg.Wait()
	tl.eng.Lock()
	defer tl.eng.Unlock()
	if len(tids) != 1 {
		t.Fatalf("the loop's passes ran on %d threads: %v", len(tids), tids)
	}
}
