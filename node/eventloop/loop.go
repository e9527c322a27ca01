package eventloop

import (
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// Engine is what a loop serves connections for (node/server: the
// server). The loop calls it from its own goroutine.
type Engine interface {
	// Lock and Unlock are the engine's lock: the loop holds it while it
	// runs an iteration's batches and closes connections.
	sync.Locker
	// IdleTimeout is how long a connection may stay idle before the loop
	// closes it (0: for ever), as Redis's clientsCron. Lock held.
	IdleTimeout() time.Duration
	// AfterBatches runs once an iteration's batches ran and the killed
	// connections were closed, before the loop releases the lock.
	AfterBatches()
	// BeforeReplies runs after the loop released the lock, before it
	// writes the iteration's replies (and starts the goroutines of the
	// connections it handed over).
	BeforeReplies()
	// Logf logs a failure of the loop itself.
	Logf(format string, args ...any)
}

// Conn is the engine's side of a connection a loop serves.
type Conn interface {
	// Fill reads once from the Socket into the connection's input
	// buffer, without the lock; ErrWouldBlock when there was nothing.
	Fill() error
	// Run runs the complete commands read, lock held.
	Run() Batch
	// Output is the replies not yet written, and Consume drops the first
	// n bytes of it once the loop wrote them. Lock not held: only the
	// loop's goroutine runs the connection while the loop serves it.
	Output() []byte
	Consume(n int)
	// CloseAfter reports whether the connection is to close once its
	// replies are written (QUIT, a protocol error, a kill). Lock held.
	CloseAfter() bool
	// LastActive is when the connection last ran a batch. Lock held.
	LastActive() time.Time
	// Dropped tells that the loop closed the socket (the peer closed it,
	// a read or write failed, Close, the idle timeout, or the engine is
	// closing): the connection is over. Lock held.
	Dropped()
	// HandedOver tells that the socket is conn from now on, a connection
	// in Go's poller: the loop no longer serves it and will call Serve on
	// a goroutine of its own once it released the lock. Lock held.
	HandedOver(conn net.Conn)
	// Serve is the goroutine of a connection handed over: it continues
	// where the loop stopped and serves the connection until it ends.
	Serve()
}

// Batch is what running a connection's batch asks of the loop.
type Batch struct {
	// HandOver: the connection leaves the loop for a goroutine of its
	// own (it waits, others write to it, it became a replica). Its
	// replies are the goroutine's to write.
	HandOver bool
	// CloseAfter: close the connection once its replies are written.
	CloseAfter bool
}

// Config configures a loop.
type Config struct {
	Engine Engine
	// Closing is closed when the engine closes: the loop then closes
	// every connection it serves and Run returns.
	Closing <-chan struct{}
	// BusyPollUsec is event-loop-busy-poll: how long a loop with nothing
	// ready polls before it sleeps, in microseconds (0: never; see
	// busyPollBudget).
	BusyPollUsec int
	// Nap lets the loop nap keeping its P while busy polling pays (nap):
	// for an engine with fewer loops than Ps, so that napping loops never
	// hold every P.
	Nap bool
}

// Loop is one epoll loop and its connections.
type Loop struct {
	eng     Engine
	stop    <-chan struct{}
	epfd    int
	wake    [2]int // a pipe: Socket.Close writes to wake[1]
	events  []syscall.EpollEvent
	busy    busyPoll
	naps    bool // Config.Nap
	ready   []*Socket
	pending []pendingWrite
	handoff []Conn

	// sockets by fd: the loop's goroutine, and Add under the engine's
	// lock and mu.
	sockets []*Socket

	mu      sync.Mutex // guards closing, and sockets against Add
	closing []*Socket  // closed by others: the loop closes them

	lastScan time.Time
	blocked  bool // in ServeWhileBlocked (blocked.go)
}

type pendingWrite struct {
	s          *Socket
	closeAfter bool
}

// New makes a loop: an epoll set and the pipe that wakes it. Run serves
// it.
func New(cfg Config) (*Loop, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	l := &Loop{eng: cfg.Engine, stop: cfg.Closing, epfd: epfd, events: make([]syscall.EpollEvent, 256)}
	l.busy.budget = busyPollBudget(cfg.BusyPollUsec)
	l.naps = cfg.Nap
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

func (l *Loop) closeFds() {
	syscall.Close(l.epfd)
	syscall.Close(l.wake[0])
	syscall.Close(l.wake[1])
}

// Wake makes the loop run a pass (Engine.AfterBatches) soon, even with no
// socket ready. Safe from any goroutine.
func (l *Loop) Wake() { l.wakeUp() }

func (l *Loop) wakeUp() {
	_, _ = syscall.Write(l.wake[1], []byte{0})
}

// BusyPollStats are the loop's polls so far (busyPoll): those that found
// a ready event, that ran out of budget, that were preempted.
func (l *Loop) BusyPollStats() (hits, misses, preempted uint64) {
	return l.busy.hits.Load(), l.busy.misses.Load(), l.busy.preempted.Load()
}

// Add makes the loop serve s for c. Called with the engine's lock held.
// On error the socket is closed.
func (l *Loop) Add(s *Socket, c Conn) error {
	s.l, s.conn = l, c
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(s.fd)}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, s.fd, &ev); err != nil {
		syscall.Close(s.fd)
		return os.NewSyscallError("epoll_ctl", err)
	}
	l.mu.Lock()
	for s.fd >= len(l.sockets) {
		l.sockets = append(l.sockets, nil)
	}
	l.sockets[s.fd] = s
	l.mu.Unlock()
	return nil
}

// drop unregisters and closes a socket. Called with the lock held.
func (l *Loop) drop(s *Socket) {
	if s.done || l.sockets[s.fd] != s {
		return
	}
	s.conn.Dropped()
	_ = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, s.fd, nil)
	l.sockets[s.fd] = nil
	syscall.Close(s.fd)
	s.done = true
}

// handOver gives a connection to a goroutine of its own: the socket goes
// back to Go's poller. Called with the lock held; the caller starts the
// goroutine (Conn.Serve) after unlocking, when it returns true.
func (l *Loop) handOver(s *Socket) bool {
	_ = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, s.fd, nil)
	l.sockets[s.fd] = nil
	s.done = true
	f := os.NewFile(uintptr(s.fd), "")
	conn, err := net.FileConn(f)
	f.Close()
	if err != nil {
		s.conn.Dropped()
		return false
	}
	s.conn.HandedOver(conn)
	return true
}

// Run is the loop's goroutine: it serves the connections until
// Config.Closing is closed.
func (l *Loop) Run() {
	// One OS thread for the loop, as Redis's main thread: a goroutine that
	// parks (on the engine's lock, in a GC stop, at a Gosched) resumes on
	// whichever thread has a P, and a loop moved to the core its clients
	// run on waits behind them there, while its own core idles (under
	// ten-call scripts at -P 16 it ran on three threads a second, with
	// twice Redis's run-queue wait).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer l.closeFds()
	for {
		n, err := l.wait()
		if err != nil && err != syscall.EINTR {
			l.eng.Logf("epoll_wait: %v", err)
			time.Sleep(10 * time.Millisecond)
		}
		// Read without the engine's lock: only this goroutine closes the
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
			if fd < len(l.sockets) && l.sockets[fd] != nil {
				ready = append(ready, l.sockets[fd])
			}
		}
		l.mu.Unlock()
		k := 0
		for _, s := range ready {
			if err := s.conn.Fill(); err == ErrWouldBlock {
				continue
			} else if err != nil {
				s.failed = true
			}
			ready[k] = s
			k++
		}
		ready = ready[:k]
		l.ready = ready

		pending := l.pending[:0]
		handoff := l.handoff[:0]
		l.eng.Lock()
		for _, s := range ready {
			if s.failed {
				l.drop(s)
				continue
			}
			if s.done { // dropped or handed over by ServeWhileBlocked
				continue
			}
			b := s.conn.Run()
			if b.HandOver {
				if l.handOver(s) {
					handoff = append(handoff, s.conn)
				}
				continue
			}
			if len(s.conn.Output()) > 0 || b.CloseAfter {
				pending = append(pending, pendingWrite{s, b.CloseAfter})
			}
		}
		// Closed by others (CLIENT KILL, output buffer limits, Close),
		// maybe by a command of this batch: closed before their replies
		// are written.
		l.mu.Lock()
		closing := l.closing
		l.closing = nil
		l.mu.Unlock()
		for _, s := range closing {
			l.drop(s)
		}
		if now := time.Now(); now.Sub(l.lastScan) >= 100*time.Millisecond {
			l.lastScan = now
			l.closeIdle(now)
		}
		select {
		case <-l.stop:
			for _, s := range l.sockets {
				if s != nil {
					l.drop(s)
				}
			}
			l.eng.Unlock()
			for _, c := range handoff {
				go c.Serve()
			}
			return
		default:
		}
		l.eng.AfterBatches()
		l.eng.Unlock()
		l.eng.BeforeReplies()

		for _, c := range handoff {
			go c.Serve()
		}
		var done []*Socket
		for _, p := range pending {
			if !l.write(p.s) || p.closeAfter {
				done = append(done, p.s)
			}
		}
		if len(done) > 0 {
			l.eng.Lock()
			for _, s := range done {
				if s.done {
					continue
				}
				if len(s.conn.Output()) > 0 && !s.conn.CloseAfter() && !s.failed {
					// The socket is full: a goroutine waits for it.
					if l.handOver(s) {
						go s.conn.Serve()
					}
					continue
				}
				l.drop(s)
			}
			l.eng.Unlock()
		}
		clear(pending)
		clear(handoff)
		clear(l.ready)
		l.pending, l.handoff = pending, handoff
	}
}

// wait returns the ready events. It first polls without blocking, as a
// raw system call that keeps the P (cheap when the loop is busy); when
// nothing is ready it polls on for up to the busy-poll budget while that
// pays (busypoll.go) and then naps (up to napTimeout, keeping its P), and
// only then blocks in epoll_wait as a system call the scheduler knows
// about, with a timeout for the idle scan.
func (l *Loop) wait() (int, error) {
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
		if l.naps {
			if n := l.nap(); n > 0 {
				l.busy.record(time.Since(idle))
				return n, nil
			}
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
func (l *Loop) spin(idle time.Time) int {
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

// napTimeout is how long a busy loop sleeps in epoll_wait keeping its P
// before it sleeps as the scheduler knows (a blocking system call).
const napTimeout = 2 // milliseconds

// nap is epoll_wait for up to napTimeout as a raw system call: the thread
// sleeps in the kernel but keeps its P, so the next event resumes it at
// once, on its own thread, where a blocking system call gives the P up
// after 20us and the loop, woken, waits for a P (on a busy node: behind
// the other goroutines). Only while busy polling pays (worth), so never
// with one P, and only with Config.Nap. A stop of the world (GC)
// interrupts it: the runtime's preemption signal ends the system call
// with EINTR.
func (l *Loop) nap() int { return l.rawWait(napTimeout) }

// poll is epoll_wait without waiting, as a raw system call.
func (l *Loop) poll() int { return l.rawWait(0) }

// rawWait is epoll_wait for up to ms milliseconds as a raw system call
// (the scheduler does not see it: the thread keeps its P); errors, EINTR
// included, count as nothing ready.
func (l *Loop) rawWait(ms uintptr) int {
	n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_WAIT, uintptr(l.epfd),
		uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), ms, 0, 0)
	if e != 0 {
		return 0
	}
	return int(n)
}

// write sends a connection's replies with one non-blocking write. It
// returns false when the connection is to be closed (failed: the write
// failed) or handed over (the socket is full), which needs the lock.
func (l *Loop) write(s *Socket) bool {
	if s.done {
		return true
	}
	b := s.conn.Output()
	if len(b) == 0 {
		return true
	}
	n, err := rawWrite(s.fd, b)
	for err == syscall.EINTR {
		n, err = rawWrite(s.fd, b)
	}
	if n > 0 {
		s.conn.Consume(n)
	}
	if err != nil && err != syscall.EAGAIN {
		s.failed = true
		return false
	}
	return len(s.conn.Output()) == 0
}

// closeIdle closes the connections idle for longer than the engine's
// idle timeout, as Redis's clientsCron does (lock held).
func (l *Loop) closeIdle(now time.Time) {
	t := l.eng.IdleTimeout()
	if t <= 0 {
		return
	}
	for _, s := range l.sockets {
		if s != nil && now.Sub(s.conn.LastActive()) > t {
			l.drop(s)
		}
	}
}
