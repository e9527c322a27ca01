package server

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
)

// memoryGauge estimates used_memory cheaply and in a way eviction can act
// on: the live heap measured by the last GC, plus what write commands
// brought in since (their argument bytes), minus what deletions and
// evictions released since (estimated). A Go heap only shrinks at the next
// GC, so the raw heap size would make eviction chase garbage.
type memoryGauge struct {
	sample  []metrics.Sample
	last    time.Time
	cycles  uint64
	live    int64
	written int64
	freed   int64
	forced  time.Time
}

func (g *memoryGauge) refresh(now time.Time) {
	if g.sample == nil {
		g.sample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
	}
	metrics.Read(g.sample)
	g.last = now
	if cycles := g.sample[1].Value.Uint64(); cycles != g.cycles || g.live == 0 {
		g.cycles = cycles
		g.live = int64(g.sample[0].Value.Uint64())
		g.written, g.freed = 0, 0
	}
}

func (g *memoryGauge) used() int64 {
	if now := time.Now(); now.Sub(g.last) > time.Millisecond {
		g.refresh(now)
	}
	u := g.live + g.written - g.freed
	if u < 0 {
		u = 0
	}
	return u
}

// forceGC collects garbage when the estimate is mostly writes since the
// last GC (overwrites count twice until then), at most every 100ms.
func (g *memoryGauge) forceGC(limit int64) bool {
	if g.written < limit/8 || time.Since(g.forced) < 100*time.Millisecond {
		return false
	}
	runtime.GC()
	g.forced = time.Now()
	g.refresh(g.forced)
	return true
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
		return s.mem.forceGC(limit) && s.usedMemory() <= limit
	}
	if s.mem.forceGC(limit) && s.usedMemory() <= limit {
		return true
	}
	start := time.Now()
	defer func() { s.latency.addIfNeeded("eviction-cycle", time.Since(start)) }()
	volatile := strings.HasPrefix(policy, "volatile-")
	samples := s.cfg.MaxMemorySamples
	var cand []*keyspace.Entry
	for s.usedMemory() > limit {
		var best *keyspace.Entry
		var bestDB *keyspace.DB
		var bestScore int64
		for _, db := range s.dbs {
			cand = db.Sample(min(samples, db.Len()), volatile, cand[:0]) // at most the keys there are: maxmemory-samples goes up to INT_MAX
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
		s.notifyKeyspaceEvent(command.NotifyEvicted, "evicted", bestDB.ID, []byte(key))
		if s.propagates() {
			s.propBuf = append(s.propBuf, propOp{db: bestDB.ID, args: [][]byte{[]byte("DEL"), []byte(key)}})
		}
	}
	return true
}

// noteWrite counts what a write command may add to the heap.
func (g *memoryGauge) noteWrite(args [][]byte) {
	n := int64(64 * len(args))
	for _, a := range args {
		n += int64(len(a))
	}
	g.written += n
}
