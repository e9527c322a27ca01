package server

import (
	"sync"
	"sync/atomic"
	"time"
)

// RunLocked runs fn under the server's lock, for goroutines other than
// the event loops (serverCron, the persister's save rules, the cluster
// bus's cron and messages), and returns when it ran: at once when the lock
// is free; else the event loop holding it runs fn at the end of its pass
// (loopEngine.AfterBatches, runQueuedLocked); if no loop did within wait
// (the lock held by other work, the loops idle), this goroutine queues on
// the lock and runs fn itself. It returns early, without running fn, when
// the server closes.
//
// Why not s.mu.Lock: under load an event loop holds the lock for nearly
// all of its passes, so a goroutine queueing on the lock waits over a
// millisecond; sync.Mutex then turns to its starvation mode, and the
// loop's next Unlock hands the lock, the loop's P and (its thread being
// locked) a thread switch to the waiter: the loop's clients wait for two
// thread wake-ups, for every cron round and bus message. Redis runs
// serverCron, clusterCron and the bus's handlers in its event loop,
// between passes; so do these when the lock is busy.
func (s *Server) RunLocked(fn func(), wait time.Duration) {
	if s.mu.TryLock() {
		fn()
		s.mu.Unlock()
		return
	}
	c := &lockedCall{fn: fn, done: make(chan struct{})}
	s.lockedQueue.push(c)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-c.done:
		return
	case <-s.closing:
		if c.taken.CompareAndSwap(false, true) {
			return
		}
		<-c.done // a loop runs it now
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
	n     atomic.Int32 // len(calls), read by every pass without mu
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
