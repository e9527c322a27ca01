package server

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"

	"github.com/shoal-dev/shoal/node/command"
)

// Introspection that tools call: CLIENT UNBLOCK and the MEMORY report
// commands (STATS, DOCTOR, MALLOC-STATS, PURGE), as Redis 7.0.

func introspectionHandlers() map[string]Handler {
	return map[string]Handler{
		"client|unblock":      cmdClientUnblock,
		"memory|stats":        cmdMemoryStats,
		"memory|doctor":       cmdMemoryDoctor,
		"memory|malloc-stats": cmdMemoryMallocStats,
		"memory|purge":        cmdMemoryPurge,
		"acl|load":            cmdACLLoad,
		"acl|save":            cmdACLSave,
	}
}

const errUnblocked = "UNBLOCKED client unblocked via CLIENT UNBLOCK"

// cmdClientUnblock is CLIENT UNBLOCK <id> [TIMEOUT|ERROR]: a client
// blocked on keys (BLPOP, WAIT, ...) gets its timeout reply, or the
// UNBLOCKED error, as if its wait had ended; 1 if there was one, else 0.
func cmdClientUnblock(c *Client) {
	if len(c.Args) > 4 {
		c.Error(command.SubcommandSyntaxError(c.Args))
		return
	}
	unblockError := false
	if len(c.Args) == 4 {
		switch {
		case command.EqFold(c.Args[3], "timeout"):
		case command.EqFold(c.Args[3], "error"):
			unblockError = true
		default:
			c.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	}
	id, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	s := c.srv
	target := s.clients[id]
	if target == nil || target.blk == nil {
		c.W.Int(0)
		return
	}
	if unblockError {
		s.unblock(target)
		mark := target.W.Len()
		target.W.Error(errUnblocked)
		s.stats.countError(errUnblocked)
		target.endReply(mark)
	} else {
		s.blockTimedOut(target)
	}
	select {
	case target.wake <- struct{}{}:
	default:
	}
	if target.async {
		target.wakeAsync()
	}
	c.W.Int(1)
}

// memoryOverhead is Redis's redisMemOverhead with the node's figures:
// the Go heap stands for the allocator (allocated: live objects, active:
// the heap's spans in use, resident: what the runtime holds mapped and
// not returned to the OS).
type memoryOverhead struct {
	peak, total, startup, backlog, clientsReplicas, clientsNormal int64
	dbs                                                           []dbOverhead
	overheadTotal, keys, bytesPerKey, dataset                     int64
	datasetPerc, peakPerc                                         float64
	allocated, active, resident, rss                              int64
}

type dbOverhead struct {
	id                  int
	main, expires, slot int64
}

// Per key, the map entry and the pointer to its Entry (Redis counts a
// dictEntry and a bucket pointer); per volatile key, the expires index.
const (
	keyOverheadBytes    = 48
	expireOverheadBytes = 32
)

func (s *Server) memoryOverhead() memoryOverhead {
	var m memoryOverhead
	m.total = s.usedMemory()
	m.peak = s.notePeak(m.total)
	m.startup = s.memStartup
	if f := s.infoSections["replication"]; f != nil {
		var b strings.Builder
		f(&b)
		m.backlog = infoInt(b.String(), "repl_backlog_histlen")
	}
	// Every client's buffers as CLIENT LIST's tot-mem counts them (the
	// engine does not tell a replica's connection from the others, so
	// clients.slaves stays 0 and replicas count as normal clients).
	for _, cl := range s.clients {
		m.clientsNormal += int64(cl.qbufCap + cl.argvPending + cl.obufLen + 16384)
	}
	m.overheadTotal = m.startup + m.backlog + m.clientsReplicas + m.clientsNormal
	for _, db := range s.dbs {
		n := int64(db.Len())
		if n == 0 {
			continue
		}
		o := dbOverhead{id: db.ID, main: n * keyOverheadBytes, expires: int64(db.VolatileLen()) * expireOverheadBytes}
		if s.cfg.ClusterEnabled {
			o.slot = n * 16
		}
		m.dbs = append(m.dbs, o)
		m.keys += n
		m.overheadTotal += o.main + o.expires + o.slot
	}
	m.dataset = max(m.total-m.overheadTotal, 0)
	m.peakPerc = float64(m.total) * 100 / float64(max(m.peak, 1))
	net := int64(1)
	if m.total > m.startup {
		net = m.total - m.startup
	}
	m.datasetPerc = float64(m.dataset) * 100 / float64(net)
	if m.keys > 0 {
		m.bytesPerKey = net / m.keys
	}
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(samples)
	m.allocated = int64(samples[0].Value.Uint64())
	m.active = m.allocated + int64(samples[1].Value.Uint64())
	m.resident = int64(samples[2].Value.Uint64() - samples[3].Value.Uint64())
	m.rss = readRSS()
	return m
}

// infoInt reads an integer field of an INFO section's text.
func infoInt(text, name string) int64 {
	for _, line := range strings.Split(text, "\r\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// ratio is a/b as Redis's floats (0 when b is 0).
func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(float32(float64(a) / float64(b)))
}

// cmdMemoryStats is MEMORY STATS: the keys of Redis 7.0's reply, in its
// order, with the node's figures (memory_stats in the report says which
// are estimates).
func cmdMemoryStats(c *Client) {
	m := c.srv.memoryOverhead()
	w := c.W
	w.MapLen(27 + len(m.dbs))
	kv := func(k string, v int64) { w.BulkString(k); w.Int(v) }
	kf := func(k string, v float64) { w.BulkString(k); w.Double(float64(float32(v))) }
	kv("peak.allocated", m.peak)
	kv("total.allocated", m.total)
	kv("startup.allocated", m.startup)
	kv("replication.backlog", m.backlog)
	kv("clients.slaves", m.clientsReplicas)
	kv("clients.normal", m.clientsNormal)
	kv("cluster.links", 0)
	kv("aof.buffer", 0)
	kv("lua.caches", 0)
	kv("functions.caches", 0)
	for _, db := range m.dbs {
		w.BulkString("db." + strconv.Itoa(db.id))
		w.MapLen(3)
		kv("overhead.hashtable.main", db.main)
		kv("overhead.hashtable.expires", db.expires)
		kv("overhead.hashtable.slot-to-keys", db.slot)
	}
	kv("overhead.total", m.overheadTotal)
	kv("keys.count", m.keys)
	kv("keys.bytes-per-key", m.bytesPerKey)
	kv("dataset.bytes", m.dataset)
	kf("dataset.percentage", m.datasetPerc)
	kf("peak.percentage", m.peakPerc)
	kv("allocator.allocated", m.allocated)
	kv("allocator.active", m.active)
	kv("allocator.resident", m.resident)
	kf("allocator-fragmentation.ratio", ratio(m.active, m.allocated))
	kv("allocator-fragmentation.bytes", m.active-m.allocated)
	kf("allocator-rss.ratio", ratio(m.resident, m.active))
	kv("allocator-rss.bytes", m.resident-m.active)
	kf("rss-overhead.ratio", ratio(m.rss, m.resident))
	kv("rss-overhead.bytes", m.rss-m.resident)
	kf("fragmentation", ratio(m.rss, m.total))
	kv("fragmentation.bytes", m.rss-m.total)
}

// cmdMemoryDoctor is MEMORY DOCTOR (getMemoryDoctorReport) on the figures
// of MEMORY STATS.
func cmdMemoryDoctor(c *Client) {
	s := c.srv
	m := s.memoryOverhead()
	c.W.Verbatim("txt", memoryDoctorReport(m, 0, len(s.clients)))
}

func memoryDoctorReport(m memoryOverhead, replicas, normal int) string {
	if m.total < 5<<20 {
		return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. " +
			"Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
	}
	var issues []string
	if float64(m.peak)/float64(m.total) > 1.5 {
		issues = append(issues, " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n")
	}
	if ratio(m.rss, m.total) > 1.4 && m.rss-m.total > 10<<20 {
		issues = append(issues, " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"go-"+runtime.Version()+"\".\n\n")
	}
	if ratio(m.active, m.allocated) > 1.1 && m.active-m.allocated > 10<<20 {
		issues = append(issues, " * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n")
	}
	if ratio(m.resident, m.active) > 1.1 && m.resident-m.active > 10<<20 {
		issues = append(issues, " * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n")
	}
	if ratio(m.rss, m.resident) > 1.1 && m.rss-m.resident > 10<<20 {
		issues = append(issues, " * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n")
	}
	if replicas > 0 && m.clientsReplicas/int64(replicas) > 10<<20 {
		issues = append(issues, " * Big replica buffers: The replica output buffers in this instance are greater than 10MB for each replica (on average). This likely means that there is some replica instance that is struggling receiving data, either because it is too slow or because of networking issues. As a result, data piles on the master output buffers. Please try to identify what replica is not receiving data correctly and why. You can use the INFO output in order to check the replicas delays and the CLIENT LIST command to check the output buffers of each replica.\n\n")
	}
	if normal > 0 && m.clientsNormal/int64(normal) > 200<<10 {
		issues = append(issues, " * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n")
	}
	if len(issues) == 0 {
		return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
	}
	return "Sam, I detected a few issues in this Redis instance memory implants:\n\n" + strings.Join(issues, "") + "I'm here to keep you safe, Sam. I want to help you.\n"
}

// cmdMemoryMallocStats reports the Go runtime's memory statistics, the
// node's allocator, where Redis prints jemalloc's.
func cmdMemoryMallocStats(c *Client) {
	var b strings.Builder
	b.WriteString("___ Begin Go runtime memory statistics ___\n")
	fmt.Fprintf(&b, "Version: %q\n", runtime.Version())
	descs := metrics.All()
	samples := make([]metrics.Sample, 0, len(descs))
	for _, d := range descs {
		if strings.HasPrefix(d.Name, "/memory/") || strings.HasPrefix(d.Name, "/gc/") {
			samples = append(samples, metrics.Sample{Name: d.Name})
		}
	}
	metrics.Read(samples)
	for _, sm := range samples {
		switch sm.Value.Kind() {
		case metrics.KindUint64:
			fmt.Fprintf(&b, "%s: %d\n", sm.Name, sm.Value.Uint64())
		case metrics.KindFloat64:
			fmt.Fprintf(&b, "%s: %g\n", sm.Name, sm.Value.Float64())
		}
	}
	b.WriteString("--- End Go runtime memory statistics ---\n")
	c.W.Verbatim("txt", b.String())
}

// cmdMemoryPurge returns freed memory to the OS (debug.FreeOSMemory, as
// Redis asks jemalloc to purge its dirty pages). It forces a collection,
// which takes long on a big heap, so it runs beside the server, not
// under its lock; a purge already running is not started again.
func cmdMemoryPurge(c *Client) {
	s := c.srv
	if s.purging.CompareAndSwap(false, true) {
		go func() {
			defer s.purging.Store(false)
			debug.FreeOSMemory()
		}()
	}
	c.W.OK()
}
