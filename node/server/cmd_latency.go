package server

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"time"
)

// LATENCY, as Redis 7.0's latency.c (the monitor is latency.go, the
// per-command histograms latency_hist.go).

func latencyHandlers() map[string]Handler {
	return map[string]Handler{
		"latency|latest":    cmdLatencyLatest,
		"latency|history":   cmdLatencyHistory,
		"latency|reset":     cmdLatencyReset,
		"latency|doctor":    cmdLatencyDoctor,
		"latency|graph":     cmdLatencyGraph,
		"latency|histogram": cmdLatencyHistogram,
		"latency|help":      cmdLatencyHelp,
	}
}

// cmdLatencyLatest answers, for every event, its name, the time and
// latency of its last sample and its all-time high.
func cmdLatencyLatest(c *Client) {
	events := c.srv.latency.snapshot("")
	c.W.ArrayLen(len(events))
	for _, e := range events {
		c.W.ArrayLen(4)
		c.W.BulkString(e.name)
		c.W.Int(e.last.time)
		c.W.Int(e.last.latency)
		c.W.Int(e.max)
	}
}

// cmdLatencyHistory answers the event's samples, oldest first, as
// [unix time, ms] pairs (none for an unknown event).
func cmdLatencyHistory(c *Client) {
	events := c.srv.latency.snapshot(cString(c.Args[2]))
	if len(events) == 0 {
		c.W.ArrayLen(0)
		return
	}
	c.W.ArrayLen(len(events[0].samples))
	for _, s := range events[0].samples {
		c.W.ArrayLen(2)
		c.W.Int(s.time)
		c.W.Int(s.latency)
	}
}

// cString is an argument as Redis's latency code reads it: a C string,
// up to its first NUL byte.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func cmdLatencyReset(c *Client) {
	names := make([]string, 0, len(c.Args)-2)
	for _, a := range c.Args[2:] {
		names = append(names, cString(a))
	}
	if len(names) == 0 {
		c.W.Int(int64(c.srv.latency.reset(nil)))
		return
	}
	n := 0
	for _, name := range names {
		n += c.srv.latency.reset([]string{name})
	}
	c.W.Int(int64(n))
}

func cmdLatencyGraph(c *Client) {
	name := cString(c.Args[2])
	events := c.srv.latency.snapshot(name)
	if len(events) == 0 {
		c.Error("ERR No samples available for event '" + name + "'")
		return
	}
	c.W.Verbatim("txt", latencyGraph(events[0], time.Now().Unix()))
}

// latencyDoctorDisabled is LATENCY DOCTOR's report while the monitor is
// off (latency-monitor-threshold 0) and never recorded anything.
const latencyDoctorDisabled = "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. " +
	"You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. " +
	"If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"

func cmdLatencyDoctor(c *Client) {
	s := c.srv
	events := s.latency.snapshot("")
	if len(events) == 0 && s.cfg.LatencyMonitorThreshold == 0 {
		c.W.Verbatim("txt", latencyDoctorDisabled)
		return
	}
	c.W.Verbatim("txt", latencyReport(events, doctorEnv{
		now:           time.Now().Unix(),
		threshold:     s.cfg.LatencyMonitorThreshold,
		slowlogSlower: s.cfg.SlowlogSlowerThan,
		fsyncAlways:   s.cfg.AppendFsync == "always",
		hz:            s.cfg.Hz,
		anonHugePages: anonHugePages(),
	}))
}

// doctorEnv is what LATENCY DOCTOR's advice depends on besides the events.
type doctorEnv struct {
	now, threshold, slowlogSlower int64
	fsyncAlways                   bool
	hz                            int
	anonHugePages                 bool
}

// latencyStats is analyzeLatencyForEvent's: the samples' average, mean
// absolute deviation and the seconds they span.
func latencyStats(e latencyEvent, now int64) (avg, mad, period int64) {
	if len(e.samples) == 0 {
		return 0, 0, 0
	}
	var sum int64
	oldest := e.samples[0].time
	for _, s := range e.samples {
		sum += s.latency
		oldest = min(oldest, s.time)
	}
	avg = sum / int64(len(e.samples))
	period = max(now-oldest, 1)
	sum = 0
	for _, s := range e.samples {
		d := avg - s.latency
		if d < 0 {
			d = -d
		}
		sum += d
	}
	return avg, sum / int64(len(e.samples)), period
}

// latencyAdvice is one piece of Redis's advice, in the order it prints them.
type latencyAdvice int

const (
	adviseBetterVM latencyAdvice = iota
	adviseSlowlogEnabled
	adviseSlowlogTuning
	adviseSlowlogInspect
	adviseScheduler
	adviseLocalDisk
	adviseSSD
	adviseDataWriteback
	adviseDiskContention
	adviseNoAppendfsync
	adviseRelaxFsync
	adviseWriteLoadInfo
	adviseHz
	adviseLargeObjects
	adviseMassEviction
	adviseDisableTHP
	adviseCount
)

// eventAdvice is which advice each event brings (createLatencyReport).
var eventAdvice = map[string][]latencyAdvice{
	"fast-command":            {adviseScheduler},
	"aof-write-pending-fsync": {adviseLocalDisk, adviseDiskContention, adviseSSD, adviseDataWriteback},
	"aof-write-active-child":  {adviseNoAppendfsync, adviseDataWriteback, adviseSSD},
	"aof-write-alone":         {adviseLocalDisk, adviseDataWriteback, adviseSSD},
	"aof-fsync-always":        {adviseRelaxFsync},
	"aof-fstat":               {adviseDiskContention, adviseLocalDisk},
	"rdb-unlink-temp-file":    {adviseDiskContention, adviseLocalDisk},
	"aof-rewrite-diff-write":  {adviseWriteLoadInfo, adviseDataWriteback, adviseSSD, adviseLocalDisk},
	"aof-rename":              {adviseWriteLoadInfo, adviseDataWriteback, adviseSSD, adviseLocalDisk},
	"expire-cycle":            {adviseHz, adviseLargeObjects},
	"eviction-del":            {adviseLargeObjects},
	"eviction-cycle":          {adviseMassEviction},
}

// latencyReport is createLatencyReport: each event's statistics, then
// the advice they call for.
func latencyReport(events []latencyEvent, env doctorEnv) string {
	var b strings.Builder
	var advise [adviseCount]bool
	advices := 0
	for i, e := range events {
		if i == 0 {
			b.WriteString("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n")
		}
		avg, mad, period := latencyStats(e, env.now)
		fmt.Fprintf(&b, "%d. %s: %d latency spikes (average %dms, mean deviation %dms, period %.2f sec). Worst all time event %dms.",
			i+1, e.name, len(e.samples), avg, mad, float64(period)/float64(len(e.samples)), e.max)
		name := strings.ToLower(e.name)
		if name == "command" {
			if env.slowlogSlower < 0 {
				advise[adviseSlowlogEnabled] = true
				advices++
			} else if env.slowlogSlower/1000 > env.threshold {
				advise[adviseSlowlogTuning] = true
				advices++
			}
			advise[adviseSlowlogInspect], advise[adviseLargeObjects] = true, true
			advices += 2
		}
		for _, a := range eventAdvice[name] {
			advise[a] = true
			advices++
		}
		b.WriteByte('\n')
	}
	if env.anonHugePages {
		advise[adviseDisableTHP] = true
		advices++
	}
	switch {
	case len(events) == 0 && advices == 0:
		b.WriteString("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n")
	case len(events) > 0 && advices == 0:
		b.WriteString("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n")
	default:
		b.WriteString("\nI have a few advices for you:\n\n")
		for a := latencyAdvice(0); a < adviseCount; a++ {
			if !advise[a] {
				continue
			}
			switch a {
			case adviseSlowlogEnabled:
				fmt.Fprintf(&b, "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than %d'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n", env.threshold*1000)
			case adviseSlowlogTuning:
				fmt.Fprintf(&b, "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than %d'.\n", env.threshold*1000)
			case adviseRelaxFsync:
				if env.fsyncAlways {
					b.WriteString(adviceText[a])
				}
			case adviseHz:
				if env.hz < 100 {
					b.WriteString(adviceText[a])
				}
			default:
				b.WriteString(adviceText[a])
			}
		}
	}
	return b.String()
}

// adviceText is Redis's wording of each fixed piece of advice.
var adviceText = [adviseCount]string{
	adviseBetterVM:       "- If you are using a virtual machine, consider upgrading it with a faster one using a hypervisior that provides less latency during fork() calls. Xen is known to have poor fork() performance. Even in the context of the same VM provider, certain kinds of instances can execute fork faster than others.\n",
	adviseSlowlogInspect: "- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n",
	adviseScheduler: "- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n" +
		"  1) Lower the system load.\n" +
		"  2) Use a computer / VM just for Redis if you are running other software in the same system.\n" +
		"  3) Check if you have a \"noisy neighbour\" problem.\n" +
		"  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n" +
		"  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n",
	adviseLocalDisk:      "- It is strongly advised to use local disks for persistence, especially if you are using AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n",
	adviseSSD:            "- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log rewriting (resulting in smaller memory usage and smaller final AOF rewrite buffer flushes). With extremely high write load SSD disks can be a good option. However Redis should perform reasonably with high load using normal disks. Use this advice as a last resort.\n",
	adviseDataWriteback:  "- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared to data=ordered, however this mode of operation provides less guarantees, and sometimes it can happen that after a hard crash the AOF file will have a half-written command at the end and will require to be repaired before Redis restarts.\n",
	adviseDiskContention: "- Try to lower the disk contention. This is often caused by other disk intensive processes running in the same computer (including other Redis instances).\n",
	adviseNoAppendfsync:  "- Assuming from the point of view of data safety this is viable in your environment, you could try to enable the 'no-appendfsync-on-rewrite' option, so that fsync will not be performed while there is a child rewriting the AOF file or producing an RDB file (the moment where there is high disk contention).\n",
	adviseRelaxFsync:     "- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n",
	adviseWriteLoadInfo:  "- Latency during the AOF atomic rename operation or when the final difference is flushed to the AOF file at the end of the rewrite, sometimes is caused by very high write load, causing the AOF buffer to get very large. If possible try to send less commands to accomplish the same work, or use Lua scripts to group multiple operations into a single EVALSHA call.\n",
	adviseHz:             "- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n",
	adviseLargeObjects:   "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n",
	adviseMassEviction:   "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n",
	adviseDisableTHP:     "- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n",
}

// anonHugePages reports whether the process has transparent huge pages
// (AnonHugePages in /proc/self/smaps above 0), as THPGetAnonHugePagesSize.
func anonHugePages() bool {
	data, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "AnonHugePages:" && f[1] != "0" {
			return true
		}
	}
	return false
}

func cmdLatencyHelp(c *Client) {
	lines := []string{
		"LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"DOCTOR",
		"    Return a human readable latency analysis report.",
		"GRAPH <event>",
		"    Return an ASCII latency graph for the <event> class.",
		"HISTORY <event>",
		"    Return time-latency samples for the <event> class.",
		"LATEST",
		"    Return the latest latency samples for all events.",
		"RESET [<event> ...]",
		"    Reset latency data of one or more <event> classes.",
		"    (default: reset all data for all event classes)",
		"HISTOGRAM [COMMAND ...]",
		"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
		"    If no commands are specified then all histograms are replied.",
		"HELP",
		"    Prints this help.",
	}
	c.W.ArrayLen(len(lines))
	for _, l := range lines {
		c.W.SimpleString(l)
	}
}

// cmdLatencyHistogram answers, for each command named (every command
// when none is), its calls and cumulative latency distribution. A name
// that is no command is skipped; a container brings its subcommands.
func cmdLatencyHistogram(c *Client) {
	s := c.srv
	var ids []int
	if len(c.Args) == 2 {
		for id := 0; id < s.cmds.NumIDs(); id++ {
			ids = append(ids, id)
		}
	} else {
		for _, arg := range c.Args[2:] {
			sp := s.cmds.LookupName(string(arg))
			if sp == nil {
				continue
			}
			ids = append(ids, sp.ID())
			for i := range sp.Subcommands {
				if sub := sp.Sub([]byte(sp.Subcommands[i].Name)); sub != nil {
					ids = append(ids, sub.ID())
				}
			}
		}
	}
	n := 0
	for _, id := range ids {
		if h := s.cmdStats[id].hist; h != nil {
			n++
		}
	}
	c.W.MapLen(n)
	for _, id := range ids {
		h := s.cmdStats[id].hist
		if h == nil {
			continue
		}
		c.W.BulkString(s.cmds.ByID(id).FullName())
		c.W.MapLen(2)
		c.W.BulkString("calls")
		c.W.Int(h.total)
		c.W.BulkString("histogram_usec")
		usec, cum := h.cdf()
		c.W.MapLen(len(usec))
		for i := range usec {
			c.W.Int(usec[i])
			c.W.Int(cum[i])
		}
	}
}
