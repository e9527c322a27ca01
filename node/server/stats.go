package server

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
)

// stats are the counters INFO stats reports.
type stats struct {
	commands            int64
	connectionsReceived int64
	rejectedConnections int64
	rejectedCalls       int64
	expiredKeys         int64
	evictedKeys         int64
	keyspaceHits        int64
	keyspaceMisses      int64
	netInput, netOutput int64
	errors              map[string]int64 // by error code
	totalErrors         int64
	handlerPanics       int64 // commands whose handler panicked (panic.go)

	// instantaneous_ops_per_sec: samples of the command counter.
	samples    [16]int64
	sampleTime [16]time.Time
	sampleIdx  int
	opsPerSec  int64
}

func (st *stats) countError(msg string) {
	code := msg
	if i := strings.IndexByte(msg, ' '); i >= 0 {
		code = msg[:i]
	}
	if st.errors == nil {
		st.errors = map[string]int64{}
	}
	if _, ok := st.errors[code]; ok || len(st.errors) < 128 {
		st.errors[code]++
	}
	st.totalErrors++
}

// sampleInstantaneous records the command counter for
// instantaneous_ops_per_sec (about every 100ms, 16 samples).
func (st *stats) sampleInstantaneous(now time.Time) {
	prev := (st.sampleIdx + len(st.samples) - 1) % len(st.samples)
	if !st.sampleTime[prev].IsZero() && now.Sub(st.sampleTime[prev]) < 100*time.Millisecond {
		return
	}
	st.samples[st.sampleIdx] = st.commands
	st.sampleTime[st.sampleIdx] = now
	oldest := (st.sampleIdx + 1) % len(st.samples)
	if !st.sampleTime[oldest].IsZero() {
		if d := now.Sub(st.sampleTime[oldest]).Seconds(); d > 0 {
			st.opsPerSec = int64(float64(st.commands-st.samples[oldest]) / d)
		}
	}
	st.sampleIdx = oldest
}

func (st *stats) reset() {
	*st = stats{}
}

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// clientsCron closes idle clients (timeout) and enforces soft output
// limits. Called with the lock held.
func (s *Server) clientsCron(now time.Time) {
	for _, c := range s.clients {
		if c.async {
			c.checkOutputLimit()
		}
	}
}
