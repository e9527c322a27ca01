package server

import (
	"runtime"
	"time"
)

// Loading at start-up, as Redis: the node listens first (main: Listen,
// StartLoading, Serve) and loads its data set (the Load hooks, hooks.go)
// while clients are connected. Until the load ends a command without the
// loading flag is refused with -LOADING (INFO, CONFIG, AUTH,
// HELLO and the other commands Redis flags CMD_LOADING run), INFO
// persistence says loading:1 with the loading_* progress fields, the
// periodic tasks leave the keyspace alone, and Serve starts neither the
// cluster bus nor the replication link: no slot is served and no master
// is followed before the data is in memory.
//
// The loader holds the server lock while it parses and gives it up each
// time it has read a buffer of the file (persistence's Progress hook), so
// that waiting clients get their reply (Redis processes events every
// loading-process-events-interval-bytes for the same reason). StartLoading
// takes the lock before Serve starts and hands it to the loader, so no
// client is served before the loader's first release.

// ErrLoading is Redis's reply to a command refused while loading.
const ErrLoading = "LOADING Redis is loading the dataset in memory"

// loadingState is the progress of the load at start-up, guarded by the
// server lock.
type loadingState struct {
	active      bool
	start       time.Time
	totalBytes  int64
	loadedBytes int64
	yieldedAt   int64         // loadedBytes when the loader last released the lock
	yieldedTime time.Time     // and when
	done        chan struct{} // closed when the load ends
}

// StartPersistence loads the data set (the Load hooks) and installs the
// plugged Persistence, and returns when it is done; a failure is an error
// the caller prints before it exits, as Redis does. Call it once, after
// New.
func (s *Server) StartPersistence() error { return <-s.StartLoading() }

// StartLoading is StartPersistence on a goroutine of its own, for a server
// that listens while it loads: it marks the server loading and takes the
// lock before it returns, so call it before Serve. The channel receives
// the result when the load ends.
func (s *Server) StartLoading() <-chan error {
	errc := make(chan error, 1)
	s.mu.Lock()
	now := time.Now()
	s.loading = loadingState{active: true, start: now, yieldedTime: now, done: make(chan struct{})}
	go func() {
		err := s.load()
		if err == nil {
			s.endLoading()
		}
		s.mu.Unlock()
		errc <- err
	}()
	return errc
}

// load runs the Load hooks (lock held, released from time to time by
// Loader.Read) and installs the plugged Persistence. The data set as
// loaded is the saved one: no changes since the last save.
func (s *Server) load() error {
	l := &Loader{s: s}
	for _, load := range s.hooks.load {
		if err := load(l); err != nil {
			return err
		}
	}
	s.dirty = 0
	if p := s.hooks.persistence; p != nil {
		s.persistence = p
	}
	return nil
}

// endLoading ends the loading state and releases Serve (lock held).
func (s *Server) endLoading() {
	if s.loading.done != nil {
		close(s.loading.done)
	}
	s.loading = loadingState{}
}

// waitLoaded blocks until the load ends; false when the server closed
// first.
func (s *Server) waitLoaded() bool {
	s.mu.Lock()
	done := s.loading.done
	s.mu.Unlock()
	if done == nil {
		return true
	}
	select {
	case <-done:
		return true
	case <-s.closing:
		return false
	}
}

// loadEventsInterval is how many bytes the loader reads between two
// releases of the lock: Redis's loading-process-events-interval-bytes
// default: a small file loads in one hold, and clients do not see
// LOADING for a small data set (nor do they from Redis). loadEventsPeriod bounds the time between two releases too: on a slow
// disk or a slow build 2 MB can take seconds, and the liveness probe (a
// PING with a 2 s timeout, which needs the lock to be accepted and again
// to be answered) must not time out while the node loads.
const (
	loadEventsInterval = 2 << 20
	loadEventsPeriod   = 20 * time.Millisecond
)

// Loader is what a Load hook reports its progress to (lock held).
type Loader struct{ s *Server }

// SetTotalBytes sets the size of what the load will read (INFO
// loading_total_bytes).
func (l *Loader) SetTotalBytes(n int64) { l.s.loading.totalBytes = n }

// Read is the loader's Progress hook (lock held): it counts the bytes
// read and, every loadEventsInterval bytes or loadEventsPeriod, lets the
// clients that wait for the lock run.
func (l *Loader) Read(n int) {
	s := l.s
	st := &s.loading
	st.loadedBytes += int64(n)
	if st.loadedBytes-st.yieldedAt < loadEventsInterval && time.Since(st.yieldedTime) < loadEventsPeriod {
		return
	}
	s.mu.Unlock()
	runtime.Gosched()
	s.mu.Lock()
	st.yieldedAt, st.yieldedTime = st.loadedBytes, time.Now()
}

// loadingInfo is the loading_* fields of INFO persistence while loading,
// computed as Redis 7.0's genRedisInfoString does (an ETA of 1 second
// while nothing is known yet).
func loadingInfo(st loadingState, now time.Time) (perc float64, eta int64) {
	remaining := int64(1)
	if st.totalBytes > 0 {
		perc = float64(st.loadedBytes) / float64(st.totalBytes) * 100
		remaining = st.totalBytes - st.loadedBytes
	}
	elapsed := now.Unix() - st.start.Unix()
	if elapsed == 0 {
		return perc, 1
	}
	return perc, elapsed * remaining / (st.loadedBytes + 1)
}
