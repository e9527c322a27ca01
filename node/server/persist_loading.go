package server

import (
	"os"
	"runtime"
	"time"

	"github.com/shoal-dev/shoal/node/persistence"
)

// Loading at start-up, as Redis: the node listens first (main: Listen,
// StartLoading, Serve) and loads its
// data set while clients are connected. Until the load ends a command
// without the loading flag is refused with -LOADING (INFO, CONFIG, AUTH,
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

// loadRead is the loader's Progress hook (lock held): it counts the bytes
// read and, every loadEventsInterval bytes or loadEventsPeriod, lets the
// clients that wait for the lock run.
func (s *Server) loadRead(n int) {
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

// loadTotalBytes is the size of what the load will read: the files of the
// AOF's manifest, or the snapshot.
func (p *persister) loadTotalBytes(aof *persistence.AOFDir) int64 {
	var paths []string
	if aof != nil {
		m := aof.Manifest()
		for _, f := range m.Files() {
			paths = append(paths, aof.Dir()+"/"+f.Name)
		}
	} else {
		paths = []string{p.s.cfg.DBFilename}
	}
	var total int64
	for _, path := range paths {
		if fi, err := os.Stat(path); err == nil {
			total += fi.Size()
		}
	}
	return total
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
