package server

import (
	"time"
)

// LATENCY, as Redis 7.0 with latency-monitor-threshold 0 (the default:
// the latency monitor records no events) and latency-tracking yes (every
// command's latency goes to a histogram, LATENCY HISTOGRAM).

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

// The monitor records no event while latency-monitor-threshold is 0, so
// LATEST and HISTORY are empty and RESET resets nothing.
func cmdLatencyLatest(c *Client)  { c.W.ArrayLen(0) }
func cmdLatencyHistory(c *Client) { c.W.ArrayLen(0) }
func cmdLatencyReset(c *Client)   { c.W.Int(0) }

func cmdLatencyGraph(c *Client) {
	c.Error("ERR No samples available for event '" + string(c.Args[2]) + "'")
}

// latencyDoctorDisabled is LATENCY DOCTOR's report while the monitor is
// off (latency-monitor-threshold 0).
const latencyDoctorDisabled = "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. " +
	"You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. " +
	"If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"

func cmdLatencyDoctor(c *Client) { c.W.Verbatim("txt", latencyDoctorDisabled) }

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
		if s.cmdStats[id].latency.total() > 0 {
			n++
		}
	}
	c.W.MapLen(n)
	for _, id := range ids {
		h := &s.cmdStats[id].latency
		if h.total() == 0 {
			continue
		}
		c.W.BulkString(s.cmds.ByID(id).FullName())
		c.W.MapLen(2)
		c.W.BulkString("calls")
		c.W.Int(h.total())
		c.W.BulkString("histogram_usec")
		h.reply(c)
	}
}

// latencyHistogram counts a command's durations in the buckets Redis 7.0
// reports: its hdr_histogram (1024 ns to 1 s, 2 significant figures)
// iterated by powers of two from 1024 ns. Bucket k holds the durations up
// to latencyBucketTop(k) nanoseconds that no earlier bucket holds.
type latencyHistogram struct {
	counts [latencyBuckets]int64
}

const (
	latencyBuckets = 21            // 1024 << 20 ns is past the 1 s maximum
	latencyMinNs   = 1024          // CONFIG_LATENCY_HISTOGRAM_MIN_VALUE
	latencyMaxNs   = 1_000_000_000 // CONFIG_LATENCY_HISTOGRAM_MAX_VALUE
)

// latencyBucketTop is the highest value the histogram holds as equal to
// 1024<<k: the reporting level plus its equivalence range, one unit of
// 1024 ns up to 2^17 ns and 1/128 of the value above (256 sub-buckets).
func latencyBucketTop(k int) int64 {
	level := int64(latencyMinNs) << k
	return level + max(latencyMinNs, level>>7) - 1
}

// add records one command's duration (Redis records whole microseconds,
// clamped to the histogram's range).
func (h *latencyHistogram) add(d time.Duration) {
	ns := min(max(d.Microseconds()*1000, latencyMinNs), latencyMaxNs)
	k := 0
	for k < latencyBuckets-1 && ns > latencyBucketTop(k) {
		k++
	}
	h.counts[k]++
}

func (h *latencyHistogram) total() int64 {
	var n int64
	for _, v := range h.counts {
		n += v
	}
	return n
}

// reply writes the cumulative distribution: the top of each bucket in
// microseconds with the count of durations up to it, for each bucket that
// holds any.
func (h *latencyHistogram) reply(c *Client) {
	n := 0
	for _, v := range h.counts {
		if v > 0 {
			n++
		}
	}
	c.W.MapLen(n)
	var cum int64
	for k, v := range h.counts {
		if v == 0 {
			continue
		}
		cum += v
		c.W.Int(latencyBucketTop(k) / 1000)
		c.W.Int(cum)
	}
}
