package server

import "time"

// SIGTERM ends the node within shutdown-timeout seconds, whatever runs.
// The graceful path (Shutdown: flush the AOF, the final save, close the
// clients) needs the server lock; a command that holds it for long (a
// huge KEYS, DEBUG SLEEP, a bug) must not keep the node alive past the
// grace a pod's terminationGracePeriodSeconds is command.Sized for. Redis's
// shutdown-timeout bounds its wait for lagging replicas; ours bounds the
// wait for the lock, and then the closing of the connections, but not the
// final save in between (cutting it short would lose the writes it
// holds). It is read without the lock.

// defaultShutdownTimeout is Redis's default shutdown-timeout.
const defaultShutdownTimeout = 10 * time.Second

// minShutdownGrace is what a node with shutdown-timeout 0 (Redis: do not
// wait for replicas) still gives the command running when the signal came.
const minShutdownGrace = time.Second

// noteShutdownTimeout caches shutdown-timeout for ShutdownGrace. Called
// with the lock held, at start-up and after CONFIG SET.
func (s *Server) noteShutdownTimeout() {
	d := time.Duration(s.cfg.ShutdownTimeout) * time.Second
	s.shutdownGrace.Store(int64(max(d, minShutdownGrace)))
}

// ShutdownGrace is how long a graceful shutdown may take before the
// process exits without it: shutdown-timeout (at least a second).
func (s *Server) ShutdownGrace() time.Duration {
	if d := s.shutdownGrace.Load(); d > 0 {
		return time.Duration(d)
	}
	return defaultShutdownTimeout
}

// ShutdownWithin runs Shutdown if it gets the lock within grace, and
// reports whether it did; when it did not (a command still holds the
// lock), the caller exits without the graceful steps. Once Shutdown holds
// the lock it runs to the end: a final save of a big dataset is not cut
// short (Redis finishes it too).
func (s *Server) ShutdownWithin(grace time.Duration) (finished bool, err error) {
	p := &shutdownProgress{locked: make(chan struct{}), saved: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- s.shutdown(p) }()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.locked:
	case <-t.C:
		s.log.Printf("Shutdown did not start within shutdown-timeout (%v): a command holds the server lock. Exiting now, without the final save.", grace)
		return false, nil
	}
	<-p.saved
	t.Reset(grace)
	select {
	case err := <-done:
		return true, err
	case <-t.C:
		s.log.Printf("Connections did not close within shutdown-timeout (%v) after the final save. Exiting now.", grace)
		return false, nil
	}
}

// shutdownProgress marks the steps of a shutdown: the lock taken, the
// AOF flushed and the final save done.
type shutdownProgress struct {
	locked, saved chan struct{}
}
