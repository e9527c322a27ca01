package server

import (
	"strconv"
	"time"
)

// SIGTERM ends the node within shutdown-timeout seconds, whatever runs.
// The graceful path (Shutdown: flush the AOF, the final save, close the
// clients) needs the server lock; a command that holds it for long (a
// huge KEYS, DEBUG SLEEP, a bug) must not keep the node alive past the
// grace a pod's terminationGracePeriodSeconds is sized for. Redis's
// shutdown-timeout bounds its wait for lagging replicas; ours bounds the
// wait for the lock as well, and is read without it.

// defaultShutdownTimeout is Redis's default shutdown-timeout.
const defaultShutdownTimeout = 10 * time.Second

// minShutdownGrace is what a node with shutdown-timeout 0 (Redis: do not
// wait for replicas) still gives the command running when the signal came.
const minShutdownGrace = time.Second

// noteShutdownTimeout caches shutdown-timeout for ShutdownGrace. Called
// by cron with the lock held.
func (s *Server) noteShutdownTimeout() {
	d := defaultShutdownTimeout
	if kv := s.cfg.Get("shutdown-timeout"); len(kv) == 1 {
		if n, err := strconv.ParseInt(kv[0][1], 10, 64); err == nil && n >= 0 && n < 1<<31 {
			d = time.Duration(n) * time.Second
		}
	}
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

// ShutdownWithin runs Shutdown and reports whether it finished within
// grace; when it did not (a command still holds the lock), the caller
// exits without the graceful steps, and err says why.
func (s *Server) ShutdownWithin(grace time.Duration) (finished bool, err error) {
	done := make(chan error, 1)
	go func() { done <- s.Shutdown() }()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-done:
		return true, err
	case <-t.C:
		s.log.Printf("Shutdown did not finish within shutdown-timeout (%v): a command holds the server lock. Exiting now, without the final save.", grace)
		return false, nil
	}
}
