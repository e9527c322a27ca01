package server

import (
	"net"
	"runtime"
	"time"

	"github.com/shoal-dev/shoal/node/eventloop"
)

// With event-loops N > 0, N epoll loops (node/eventloop) serve the plain
// request/reply connections instead of one goroutine per connection. This
// file is the engine's side of them: loopEngine is what a loop serves
// connections for, loopClient a Client as a loop sees it. A client that
// must wait (blocked, WAIT, CLIENT PAUSE), that others write to (pub/sub,
// MONITOR) or that becomes a replica leaves its loop for a goroutine of
// its own (serveFrom), for good; handlers see no difference.

// startLoops starts the event loops of event-loops.
func (s *Server) startLoops() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < s.cfg.EventLoops; i++ {
		l, err := eventloop.New(eventloop.Config{
			Engine:       &loopEngine{s: s},
			Closing:      s.closing,
			BusyPollUsec: s.cfg.EventLoopBusyPoll,
			Nap:          s.cfg.EventLoops < runtime.GOMAXPROCS(0),
		})
		if err != nil {
			return err
		}
		s.loops = append(s.loops, l)
		if i == 0 {
			wake := l.Wake
			s.lockedQueue.wake.Store(&wake) // RunLocked's calls go to it
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			l.Run()
		}()
	}
	return nil
}

// acceptToLoop hands a new connection to the next event loop, or to a
// goroutine when its socket cannot be taken. Called with the lock held.
func (s *Server) acceptToLoop(conn net.Conn) {
	sock, err := eventloop.Take(conn)
	if err != nil {
		c := newClient(s, conn)
		s.clients[c.ID] = c
		s.wg.Add(1)
		go c.serve()
		return
	}
	l := s.loops[s.nextLoop%len(s.loops)]
	s.nextLoop++
	c := newClient(s, sock)
	c.loop = sock
	if err := l.Add(sock, &loopClient{c: c}); err != nil {
		return
	}
	s.clients[c.ID] = c
}

// loopEngine is the server as one event loop sees it.
type loopEngine struct {
	s *Server
	// taken by AfterBatches for BeforeReplies
	mark int64
	fed  bool
	// behind: the last wait for the writers ran out (a replica's socket
	// full): the next pass does not wait again until they caught up.
	behind bool
}

func (e *loopEngine) Lock()   { e.s.mu.Lock() }
func (e *loopEngine) Unlock() { e.s.mu.Unlock() }

func (e *loopEngine) IdleTimeout() time.Duration {
	return time.Duration(e.s.cfg.Timeout) * time.Second
}

func (e *loopEngine) AfterBatches() {
	e.s.runQueuedLocked()
	e.mark = e.s.persistMark()
	e.fed = e.replicasFed()
}

// BeforeReplies waits for the iteration's writes to be durable (appendfsync
// always) and lets the replicas' writers take their stream first.
func (e *loopEngine) BeforeReplies() {
	e.s.persistWait(e.mark)
	if e.fed {
		e.letReplicasTake()
	}
}

func (e *loopEngine) Logf(format string, args ...any) { e.s.log.Printf(format, args...) }

// replicasFed reports whether an online replica has stream bytes its
// writer has not taken or not finished writing yet (lock held).
func (e *loopEngine) replicasFed() bool {
	return e.s.writersPending()
}

// replicaHandOffWait bounds how long a pass's replies wait for the
// replicas' writers.
const replicaHandOffWait = 5 * time.Millisecond

// letReplicasTake gives the replicas' writers the lock and the CPU before
// the replies go out, and waits (up to replicaHandOffWait) until they have
// written this iteration's stream to the replicas' sockets, so a write is
// in its replica's socket before its reply leaves: a master killed after
// replying still delivers it (the kernel sends what a socket holds). The
// loop would otherwise take the lock again at once, and the writers
// (readied on this P, which raw system calls never give up) would lag.
// Redis does not promise this for a plain write (WAIT does); it narrows
// the window in which a failover loses an acknowledged one.
func (e *loopEngine) letReplicasTake() {
	s := e.s
	start := time.Now()
	for i := 1; ; i++ {
		runtime.Gosched()
		s.mu.Lock()
		fed := e.replicasFed()
		s.mu.Unlock()
		if !fed {
			e.behind = false
			return
		}
		if e.behind || (i%8 == 0 && time.Since(start) > replicaHandOffWait) {
			e.behind = true
			return
		}
	}
}

// loopClient is a client served by an event loop (eventloop.Conn).
type loopClient struct {
	c *Client
	e batchEnd // the batch that handed the client over, for serveFrom
}

func (lc *loopClient) Fill() error { return lc.c.rd.Fill() }

func (lc *loopClient) Run() eventloop.Batch {
	c := lc.c
	c.runBatch()
	e := c.endBatch()
	if c.needsGoroutine(e) {
		lc.e = e
		return eventloop.Batch{HandOver: true}
	}
	return eventloop.Batch{CloseAfter: e.closeAfter}
}

// needsGoroutine reports whether the client left the loop's common path
// in the batch just run (lock held).
func (c *Client) needsGoroutine(e batchEnd) bool {
	return e.blocked || e.paused || c.async || c.handoff != nil || c.monitor
}

func (lc *loopClient) Output() []byte        { return lc.c.W.Bytes() }
func (lc *loopClient) Consume(n int)         { lc.c.W.Consume(n) }
func (lc *loopClient) CloseAfter() bool      { return lc.c.closeAfter }
func (lc *loopClient) LastActive() time.Time { return lc.c.lastActive }

func (lc *loopClient) Dropped() {
	c := lc.c
	c.unregister()
	c.loop = nil
	c.conn = nullConn{}
}

func (lc *loopClient) HandedOver(conn net.Conn) {
	c := lc.c
	c.loop = nil
	c.conn = conn
	c.rd.SetSource(conn)
	c.W.SetOutput(conn)
	c.srv.wg.Add(1)
}

func (lc *loopClient) Serve() {
	e := lc.e
	lc.e = batchEnd{}
	lc.c.serveFrom(e)
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
