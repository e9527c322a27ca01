package server

import (
	"sync"
	"sync/atomic"
	"time"
)

// RunLocked runs fn under the server's lock, for goroutines other than
// the event loops (serverCron, the persister's save rules, clusterCron, the
// cluster bus's messages, the nodes.conf saver), and returns when it ran.
// When the lock is free it runs at once; when it is held, in an event loop
// at the end of its pass (loopEngine.AfterBatches, runQueuedLocked; the
// loop is woken if it sleeps), as Redis runs serverCron, clusterCron and
// the bus's handlers in its event loop; without event loops, or when no
// loop ran it within wait (a loop busy with one long command, a script
// that runs long), this goroutine queues on the lock and runs fn itself.
// It returns early, without running fn, when the server closes.
//
// Why not s.mu.Lock: under load an event loop holds the lock for nearly
// all of its passes, so a goroutine queueing on the lock waits over a
// millisecond; sync.Mutex then turns to its starvation mode, and the
// loop's next Unlock hands the lock, the loop's P and (its thread being
// locked) a thread switch to the waiter: the clients of its pass wait for
// two thread wake-ups.
func (s *Server) RunLocked(fn func(), wait time.Duration) {
	wake := s.lockedQueue.wake.Load()
	switch {
	case wake == nil:
		s.mu.Lock()
	case !s.mu.TryLock(): // held: a loop's pass, most likely
		s.runInLoop(fn, *wake, wait)
		return
	} // else the loops idle: no pass to wait for
	fn()
	s.mu.Unlock()
}

// runInLoop queues fn for the loop that wake wakes and waits for it to run
// fn (RunLocked, the lock held by others); past wait it takes the lock and
// runs fn itself unless the loop took it meanwhile.
func (s *Server) runInLoop(fn func(), wake func(), wait time.Duration) {
	c := &lockedCall{fn: fn, done: make(chan struct{})}
	s.lockedQueue.push(c)
	wake()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-c.done:
		return
	case <-s.closing:
		if !c.taken.CompareAndSwap(false, true) {
			<-c.done // a loop runs it now
		}
		return
	case <-t.C:
	}
	s.mu.Lock()
	if c.taken.CompareAndSwap(false, true) {
		fn()
	} // else a loop ran it, under the lock we now hold: it is done
	s.mu.Unlock()
}

// lockedCall is a RunLocked waiting for a loop.
type lockedCall struct {
	fn    func()
	taken atomic.Bool // by a loop (which runs it) or by its caller
	done  chan struct{}
}

// lockedQueue holds the RunLocked calls waiting for a loop's pass.
type lockedQueue struct {
	wake  atomic.Pointer[func()] // wakes the loop that runs the calls (nil: no loop runs)
	n     atomic.Int32           // len(calls), read by every pass without mu
	mu    sync.Mutex
	calls []*lockedCall
}

func (q *lockedQueue) push(c *lockedCall) {
	q.mu.Lock()
	q.calls = append(q.calls, c)
	q.n.Store(int32(len(q.calls)))
	q.mu.Unlock()
}

// runQueuedLocked runs the calls waiting for the lock, in the order they
// came (an event loop, lock held, after its pass).
func (s *Server) runQueuedLocked() {
	q := &s.lockedQueue
	if q.n.Load() == 0 {
		return
	}
	q.mu.Lock()
	calls := q.calls
	q.calls = nil
	q.n.Store(0)
	q.mu.Unlock()
	for _, c := range calls {
		if c.taken.CompareAndSwap(false, true) {
			c.fn()
			close(c.done)
		}
	}
}
