package server

import (
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/node/keyspace"
)

// memoryGauge estimates used_memory cheaply: a runtime/metrics reading of
// the heap, refreshed at most every millisecond, minus what evictions
// freed since (the heap only shrinks at the next GC).
type memoryGauge struct {
	sample []metrics.Sample
	last   time.Time
	heap   int64
	freed  int64
}

func (g *memoryGauge) used() int64 {
	if g.sample == nil {
		g.sample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	}
	if now := time.Now(); now.Sub(g.last) > time.Millisecond {
		metrics.Read(g.sample)
		g.heap = int64(g.sample[0].Value.Uint64())
		g.last = now
		g.freed = 0
	}
	return g.heap - g.freed
}

// setGCForMaxMemory gives the runtime a soft memory limit a little above
// maxmemory, so garbage is collected before eviction has to act, and
// otherwise collects when the heap grew by half (lower RSS than Go's
// default of 100%, at little CPU cost for a keyspace that mostly lives on).
func setGCForMaxMemory(maxmemory int64) {
	debug.SetGCPercent(gcPercent)
	if maxmemory > 0 {
		debug.SetMemoryLimit(maxmemory + maxmemory/4 + 64<<20)
	} else {
		debug.SetMemoryLimit(1<<63 - 1)
	}
}

const gcPercent = 50

func (s *Server) applyEvictionPolicy() {
	s.env.LFU = strings.HasSuffix(s.cfg.MaxMemoryPolicy, "-lfu")
	s.env.LFULogFactor = s.cfg.LFULogFactor
	s.env.LFUDecayTime = s.cfg.LFUDecayTime
}

// usedMemory is INFO's used_memory estimate.
func (s *Server) usedMemory() int64 { return s.mem.used() }

// performEvictions frees memory per maxmemory-policy until used memory is
// under maxmemory. It reports false when that is impossible (the command
// then gets the OOM error).
func (s *Server) performEvictions() bool {
	limit := s.cfg.MaxMemory
	if limit <= 0 || s.usedMemory() <= limit {
		return true
	}
	policy := s.cfg.MaxMemoryPolicy
	if policy == "noeviction" {
		return false
	}
	volatile := strings.HasPrefix(policy, "volatile-")
	samples := s.cfg.MaxMemorySamples
	var cand []*keyspace.Entry
	for s.usedMemory() > limit {
		var best *keyspace.Entry
		var bestDB *keyspace.DB
		var bestScore int64
		for _, db := range s.dbs {
			cand = db.Sample(samples, volatile, cand[:0])
			for _, e := range cand {
				var score int64 // higher evicts first
				switch {
				case strings.HasSuffix(policy, "-lru"):
					score = db.IdleMillis(e)
				case strings.HasSuffix(policy, "-lfu"):
					score = 255 - int64(db.LFUCounter(e))
				case policy == "volatile-ttl":
					score = -e.ExpireAt()
				default: // random
					score = 0
				}
				if best == nil || score > bestScore {
					best, bestDB, bestScore = e, db, score
				}
			}
		}
		if best == nil {
			return false
		}
		key := best.Key()
		s.mem.freed += keyspace.MemoryUsage(best)
		bestDB.DeleteEntry(best)
		s.stats.evictedKeys++
		s.touchWatched(bestDB.ID, key)
		if s.prop != nil {
			s.propBuf = append(s.propBuf, propOp{db: bestDB.ID, args: [][]byte{[]byte("DEL"), []byte(key)}})
		}
	}
	return true
}
