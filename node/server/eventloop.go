package server

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// An event loop serves plain request/reply connections the way Redis
// does, instead of one goroutine per connection: one goroutine waits in
// epoll (level-triggered) on all its connections, reads once from each
// ready one, runs all their batches in one hold of the server lock, and
// writes each client's replies with one write. That is one read and one
// write per batch (a goroutine per connection also pays a read that finds
// nothing before it parks) and no goroutine wake-ups or lock handoffs.
//
// The loop only knows the common path. A connection that needs to wait
// (blocked on keys, WAIT, CLIENT PAUSE), whose output others append to
// (pub/sub, MONITOR), that becomes a replica (SYNC, PSYNC), or whose
// reply does not fit in the socket at once is handed over, for good, to a
// goroutine of its own (serve), which continues exactly where the loop
// stopped. config: event-loops (0: a goroutine per connection).

// eventLoop is one epoll loop and its connections.
type eventLoop struct {
	s    *Server
	epfd int
	wake [2]int // a pipe: Close and kills write to wake[1]

	// clients by fd: the loop goroutine, and add() under the server lock
	// and mu.
	clients []*Client

	mu      sync.Mutex // guards closing, and clients against add()
	closing []*Client  // killed by others: the loop closes them

	events   []syscall.EpollEvent
	ready    []*Client
	pending  []pendingWrite
	handoffs []handoff
	lastScan time.Time
	busy     busyPoll
}

type pendingWrite struct {
	c          *Client
	closeAfter bool
}

type handoff struct {
	c *Client
	e batchEnd
}

// loopConn is a connection served by an event loop: the raw,
// non-blocking socket. Only the loop reads and writes it; Close (from any
// goroutine) asks the loop to close it.
type loopConn struct {
	fd           int
	c            *Client
	l            *eventLoop
	laddr, raddr net.Addr
}

var errWouldBlock = errors.New("would block")

// rawRead and rawWrite are read(2) and write(2) on a non-blocking socket
// as raw system calls: they never block, so the goroutine keeps its P and
// the scheduler is not involved.
func rawRead(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

func rawWrite(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

func (lc *loopConn) Read(p []byte) (int, error) {
	for {
		n, err := rawRead(lc.fd, p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return 0, errWouldBlock
		case err != nil:
			return 0, err
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// Write is not used by the loop (it writes the reply buffer itself); it
// exists for net.Conn and blocks until p is written.
func (lc *loopConn) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, err := syscall.Write(lc.fd, p[done:])
		if n > 0 {
			done += n
		}
		switch {
		case err == syscall.EINTR:
		case err == syscall.EAGAIN:
			time.Sleep(time.Millisecond)
		case err != nil:
			return done, err
		}
	}
	return done, nil
}

func (lc *loopConn) Close() error {
	lc.l.mu.Lock()
	lc.l.closing = append(lc.l.closing, lc.c)
	lc.l.mu.Unlock()
	lc.l.wakeUp()
	return nil
}

func (lc *loopConn) LocalAddr() net.Addr              { return lc.laddr }
func (lc *loopConn) RemoteAddr() net.Addr             { return lc.raddr }
func (lc *loopConn) SetDeadline(time.Time) error      { return nil }
func (lc *loopConn) SetReadDeadline(time.Time) error  { return nil }
func (lc *loopConn) SetWriteDeadline(time.Time) error { return nil }

func newEventLoop(s *Server) (*eventLoop, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	l := &eventLoop{s: s, epfd: epfd, events: make([]syscall.EpollEvent, 256)}
	l.busy.budget = busyPollBudget(s.cfg.EventLoopBusyPoll)
	if err := syscall.Pipe2(l.wake[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		syscall.Close(epfd)
		return nil, os.NewSyscallError("pipe2", err)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(l.wake[0])}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, l.wake[0], &ev); err != nil {
		l.closeFds()
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	return l, nil
}

func (l *eventLoop) closeFds() {
	syscall.Close(l.epfd)
	syscall.Close(l.wake[0])
	syscall.Close(l.wake[1])
}

func (l *eventLoop) wakeUp() {
	_, _ = syscall.Write(l.wake[1], []byte{0})
}

// takeSocket takes the socket of an accepted connection out of Go's poller.
func takeSocket(conn net.Conn) (fd int, err error) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return -1, errors.New("not a socket")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd = -1
	cerr := rc.Control(func(s uintptr) {
		syscall.ForkLock.RLock()
		fd, err = syscall.Dup(int(s))
		if err == nil {
			syscall.CloseOnExec(fd)
		}
		syscall.ForkLock.RUnlock()
	})
	if cerr != nil {
		return -1, cerr
	}
	if err != nil {
		return -1, err
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	conn.Close()
	return fd, nil
}

// add registers a new client of the loop. Called with the lock held.
func (l *eventLoop) add(c *Client, lc *loopConn) error {
	lc.l, lc.c = l, c
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(lc.fd)}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, lc.fd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	c.loop = lc
	l.mu.Lock()
	for lc.fd >= len(l.clients) {
		l.clients = append(l.clients, nil)
	}
	l.clients[lc.fd] = c
	l.mu.Unlock()
	return nil
}

// drop unregisters and closes a client. Called with the lock held.
func (l *eventLoop) drop(c *Client) {
	lc := c.loop
	if lc == nil || l.clients[lc.fd] != c {
		return
	}
	c.unregister()
	_ = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, lc.fd, nil)
	l.clients[lc.fd] = nil
	syscall.Close(lc.fd)
	c.loop = nil
	c.conn = nullConn{}
}

// handOver moves a client to a goroutine of its own (see above): the
// socket goes back to Go's poller. Called with the lock held; the caller
// starts the goroutine after unlocking.
func (l *eventLoop) handOver(c *Client) bool {
	lc := c.loop
	_ = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, lc.fd, nil)
	l.clients[lc.fd] = nil
	f := os.NewFile(uintptr(lc.fd), "")
	conn, err := net.FileConn(f)
	f.Close()
	c.loop = nil
	if err != nil {
		c.unregister()
		c.conn = nullConn{}
		return false
	}
	c.conn = conn
	c.rd.SetSource(conn)
	c.W.SetOutput(conn)
	c.srv.wg.Add(1)
	return true
}

// needsGoroutine reports whether the client left the loop's common path
// in the batch just run (lock held).
func (c *Client) needsGoroutine(e batchEnd) bool {
	return e.blocked || e.paused || c.async || c.handoff != nil || c.monitor
}

// run is the loop's goroutine.
func (l *eventLoop) run() {
	s := l.s
	defer s.wg.Done()
	defer l.closeFds()
	for {
		n, err := l.wait()
		if err != nil && err != syscall.EINTR {
			s.log.Printf("epoll_wait: %v", err)
			time.Sleep(10 * time.Millisecond)
		}
		// Read without the server lock: only this goroutine closes the
		// sockets.
		ready := l.ready[:0]
		l.mu.Lock()
		for i := 0; i < n; i++ {
			fd := int(l.events[i].Fd)
			if fd == l.wake[0] {
				var buf [64]byte
				for {
					if k, _ := rawRead(fd, buf[:]); k <= 0 {
						break
					}
				}
				continue
			}
			if fd < len(l.clients) && l.clients[fd] != nil {
				ready = append(ready, l.clients[fd])
			}
		}
		l.mu.Unlock()
		k := 0
		for _, c := range ready {
			if err := c.rd.Fill(); err == errWouldBlock {
				continue
			} else if err != nil {
				c.readErr = true
			}
			ready[k] = c
			k++
		}
		ready = ready[:k]
		l.ready = ready

		pending := l.pending[:0]
		handoffs := l.handoffs[:0]
		s.mu.Lock()
		for _, c := range ready {
			if c.readErr {
				l.drop(c)
				continue
			}
			c.runBatch()
			e := c.endBatch()
			if c.needsGoroutine(e) {
				if l.handOver(c) {
					handoffs = append(handoffs, handoff{c, e})
				}
				continue
			}
			if c.W.Len() > 0 || e.closeAfter {
				pending = append(pending, pendingWrite{c, e.closeAfter})
			}
		}
		// Killed (CLIENT KILL, output buffer limits, Close), maybe by a
		// command of this batch: closed before their replies are written.
		l.mu.Lock()
		closing := l.closing
		l.closing = nil
		l.mu.Unlock()
		for _, c := range closing {
			l.drop(c)
		}
		if now := time.Now(); now.Sub(l.lastScan) >= 100*time.Millisecond {
			l.lastScan = now
			l.closeIdle(now)
		}
		select {
		case <-s.closing:
			for _, c := range l.clients {
				if c != nil {
					l.drop(c)
				}
			}
			s.mu.Unlock()
			for _, h := range handoffs {
				go h.c.serveFrom(h.e)
			}
			return
		default:
		}
		mark := s.persistMark()
		fed := l.replicasFed()
		s.mu.Unlock()
		s.persistWait(mark)
		if fed {
			l.letReplicasTake()
		}

		for _, h := range handoffs {
			go h.c.serveFrom(h.e)
		}
		var done []*Client
		for _, p := range pending {
			if !l.write(p.c) || p.closeAfter {
				done = append(done, p.c)
			}
		}
		if len(done) > 0 {
			s.mu.Lock()
			for _, c := range done {
				if c.loop == nil {
					continue
				}
				if c.W.Len() > 0 && !c.closeAfter && !c.readErr {
					// The socket is full: a goroutine waits for it.
					if l.handOver(c) {
						go c.serveFrom(batchEnd{})
					}
					continue
				}
				l.drop(c)
			}
			s.mu.Unlock()
		}
		clear(pending)
		clear(handoffs)
		clear(l.ready)
		l.pending, l.handoffs = pending, handoffs
	}
}

// wait returns the ready events. It first polls without blocking, as a
// raw system call that keeps the P (cheap when the loop is busy); when
// nothing is ready it polls on for up to the busy-poll budget while that
// pays (busypoll.go), and only then blocks in epoll_wait as a system call
// the scheduler knows about, with a timeout for the idle-client scan.
func (l *eventLoop) wait() (int, error) {
	if n := l.poll(); n > 0 {
		return n, nil
	}
	if l.busy.budget == 0 {
		return syscall.EpollWait(l.epfd, l.events, 100)
	}
	idle := time.Now()
	if l.busy.worth() {
		if n := l.spin(idle); n > 0 {
			return n, nil
		}
	}
	n, err := syscall.EpollWait(l.epfd, l.events, 100)
	if n > 0 {
		l.busy.record(time.Since(idle))
	} else if err == nil {
		l.busy.record(l.busy.budget) // a timeout: a long gap
	}
	return n, err
}

// spin polls until an event is ready or the busy-poll budget is spent.
func (l *eventLoop) spin(idle time.Time) int {
	n := 0
	for i := 1; n == 0; i++ {
		if i%8 == 0 {
			if time.Since(idle) >= l.busy.budget {
				break
			}
			// Let goroutines readied on this P (replication writers,
			// hand-overs) run while the loop polls.
			runtime.Gosched()
		}
		n = l.poll()
	}
	l.busy.spun(time.Since(idle), n > 0)
	return n
}

// poll is epoll_wait without waiting, as a raw system call.
func (l *eventLoop) poll() int {
	n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_WAIT, uintptr(l.epfd),
		uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), 0, 0, 0)
	if e != 0 {
		return 0
	}
	return int(n)
}

// replicasFed reports whether an online replica has stream bytes its
// writer has not taken yet (lock held).
func (l *eventLoop) replicasFed() bool {
	return l.s.writersPending()
}

// letReplicasTake gives the replicas' writers the lock before the
// replies go out, so the replication stream of this iteration's writes
// leaves no later than their replies, as with a goroutine per connection:
// the loop would otherwise take the lock again at once, and the writers
// (readied on this P, which raw system calls never give up) would lag.
func (l *eventLoop) letReplicasTake() {
	s := l.s
	for i := 0; i < 100; i++ {
		runtime.Gosched()
		s.mu.Lock()
		fed := l.replicasFed()
		s.mu.Unlock()
		if !fed {
			return
		}
	}
}

// write sends a client's replies with one non-blocking write. It returns
// false when the client is to be closed (readErr: the write failed) or
// handed over (the socket is full), which needs the lock.
func (l *eventLoop) write(c *Client) bool {
	lc := c.loop
	b := c.W.Bytes()
	if lc == nil || len(b) == 0 {
		return true
	}
	n, err := rawWrite(lc.fd, b)
	for err == syscall.EINTR {
		n, err = rawWrite(lc.fd, b)
	}
	if n > 0 {
		c.W.Consume(n)
	}
	if err != nil && err != syscall.EAGAIN {
		c.readErr = true
		return false
	}
	return c.W.Len() == 0
}

// closeIdle closes clients idle for longer than timeout, as Redis's
// clientsCron does (lock held).
func (l *eventLoop) closeIdle(now time.Time) {
	t := time.Duration(l.s.cfg.Timeout) * time.Second
	if t <= 0 {
		return
	}
	for _, c := range l.clients {
		if c != nil && now.Sub(c.lastActive) > t {
			l.drop(c)
		}
	}
}

// serveFrom is the goroutine of a client handed over by a loop: it
// finishes the batch the loop ran, then serves as serve does.
func (c *Client) serveFrom(e batchEnd) {
	defer c.srv.wg.Done()
	defer c.freeUnlessPanicking()
	needRead, ok := c.finishBatch(e)
	if !ok {
		return
	}
	if c.handoff != nil {
		needRead = false
	}
	c.serveLoop(needRead)
}
