package server

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// withLoop is a server whose RunLocked calls wait for a loop's pass
// (runQueuedLocked), which the test runs.
func withLoop() *Server {
	s := &Server{closing: make(chan struct{})}
	wake := func() {}
	s.lockedQueue.wake.Store(&wake)
	return s
}

// waitQueued polls until n RunLocked calls wait for a loop.
func waitQueued(t *testing.T, s *Server, n int32) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.lockedQueue.n.Load() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls queued, want %d", s.lockedQueue.n.Load(), n)
		}
		runtime.Gosched()
	}
}

// A call made while an event loop holds the lock runs in that loop, after
// its pass, and its caller returns without ever queueing on the lock:
// queueing would make the loop's Unlock hand it the lock, the loop's P and
// a thread switch (sync.Mutex's starvation mode).
func TestRunLockedRunsInTheLoopHoldingTheLock(t *testing.T) {
	s := withLoop()
	var runs atomic.Int32
	s.mu.Lock() // a loop's pass
	returned := make(chan struct{})
	go func() {
		s.RunLocked(func() { runs.Add(1) }, time.Hour)
		close(returned)
	}()
	waitQueued(t, s, 1)
	s.runQueuedLocked() // the pass ends, the lock still held
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("RunLocked did not return after the loop ran it")
	}
	s.mu.Unlock()
	if got := runs.Load(); got != 1 {
		t.Fatalf("ran %d times, want 1", got)
	}
	s.runQueuedLocked() // a later pass: nothing left
	if got := runs.Load(); got != 1 {
		t.Fatalf("ran %d times after a second pass, want 1", got)
	}
}

// Without event loops the caller runs fn itself under the lock; with a
// loop that does not run it within the wait (busy with one long command),
// it queues on the lock: fn runs once either way.
func TestRunLockedWithoutALoop(t *testing.T) {
	s := &Server{closing: make(chan struct{})}
	var runs atomic.Int32
	s.RunLocked(func() { runs.Add(1) }, time.Hour)
	if got := runs.Load(); got != 1 {
		t.Fatalf("no loop: ran %d times, want 1", got)
	}

	s = withLoop()
	s.mu.Lock() // the loop's long pass: it does not reach runQueuedLocked
	returned := make(chan struct{})
	go func() {
		s.RunLocked(func() { runs.Add(1) }, 10*time.Millisecond)
		close(returned)
	}()
	waitQueued(t, s, 1)
	select {
	case <-returned:
		t.Fatal("RunLocked returned while the lock was held and no loop ran it")
	case <-time.After(50 * time.Millisecond): // past its 10ms wait: it queues on the lock
	}
	s.mu.Unlock()
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("RunLocked did not return after the lock was released")
	}
	if got := runs.Load(); got != 2 {
		t.Fatalf("held lock: ran %d times in all, want 2", got)
	}
	s.mu.Lock()
	s.runQueuedLocked() // the queued entry its caller took: skipped
	s.mu.Unlock()
	if got := runs.Load(); got != 2 {
		t.Fatalf("a later pass ran a call its caller had run: %d runs", got)
	}
}

// A loop's pass and a caller whose wait ran out race for each call: in
// every order fn runs exactly once, and never after RunLocked returned.
func TestRunLockedRunsOnceInEveryOrder(t *testing.T) {
	s := withLoop()
	var runs atomic.Int32
	for round := int32(1); round <= 300; round++ {
		s.mu.Lock()
		returned := make(chan struct{})
		go func() {
			s.RunLocked(func() { runs.Add(1) }, 0) // gives up waiting at once
			close(returned)
		}()
		waitQueued(t, s, 1)
		s.runQueuedLocked()
		s.mu.Unlock()
		<-returned
		if got := runs.Load(); got != round {
			t.Fatalf("after round %d fn ran %d times", round, got)
		}
	}
}

// Calls queued by several goroutines run in the order they came, each
// once, in one pass.
func TestRunLockedRunsQueuedInOrder(t *testing.T) {
	s := withLoop()
	var order []int
	s.mu.Lock()
	done := make(chan struct{}, 3)
	for i := range 3 {
		go func() {
			s.RunLocked(func() { order = append(order, i) }, time.Hour)
			done <- struct{}{}
		}()
		waitQueued(t, s, int32(i+1))
	}
	s.runQueuedLocked()
	s.mu.Unlock()
	for range 3 {
		<-done
	}
	if len(order) != 3 || order[0] != 0 || order[1] != 1 || order[2] != 2 {
		t.Fatalf("ran in order %v, want [0 1 2]", order)
	}
}

// A caller waiting when the server closes returns without running fn.
func TestRunLockedReturnsWhenClosing(t *testing.T) {
	s := withLoop()
	var runs atomic.Int32
	s.mu.Lock()
	returned := make(chan struct{})
	go func() {
		s.RunLocked(func() { runs.Add(1) }, time.Hour)
		close(returned)
	}()
	waitQueued(t, s, 1)
	close(s.closing)
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("RunLocked did not return when the server closed")
	}
	s.runQueuedLocked()
	s.mu.Unlock()
	if got := runs.Load(); got != 0 {
		t.Fatalf("ran %d times after the server closed, want 0", got)
	}
}
