package server

import (
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// digits normalises the numbers of a reply that differ by nature between
// two servers (times, latencies): every run of digits becomes "N", and
// a RESP length prefix is dropped with it.
var digitsRe = regexp.MustCompile(`[0-9]+`)

func normaliseDigits(s string) string { return digitsRe.ReplaceAllString(s, "N") }

// The latency monitor with a low threshold: a DEBUG SLEEP records a
// "command" event, and LATEST, HISTORY, GRAPH, DOCTOR and RESET answer
// as Redis's with the times and latencies normalised.
func TestDifferentialLatencyMonitor(t *testing.T) {
	ours, ref := startNode(t, "--slowlog-log-slower-than", "-1"), startRedis(t, "--enable-debug-command", "yes", "--slowlog-log-slower-than", "-1")
	for _, proto := range []string{"2", "3"} {
		a, b := ours.raw(t), ref.raw(t)
		replies := func(args ...string) (string, string) { return a.do(args...), b.do(args...) }
		for _, s := range [][]string{{"HELLO", proto}, {"LATENCY", "RESET"}, {"CONFIG", "SET", "latency-monitor-threshold", "40"},
			{"LATENCY", "DOCTOR"}, {"LATENCY", "LATEST"}} {
			if got, want := replies(s...); normaliseDigits(got) != normaliseDigits(want) {
				t.Errorf("RESP%s %q:\n ours  %q\n redis %q", proto, s, got, want)
			}
		}
		// Both servers record one sample per second: the four sleeps
		// (about 0.25 s) must fall in one second on both, so they start
		// at the beginning of one.
		if now := time.Now(); now.Nanosecond() > 200e6 {
			<-time.After(now.Truncate(time.Second).Add(time.Second).Sub(now))
		}
		replies("DEBUG", "SLEEP", "0.06")
		replies("DEBUG", "SLEEP", "0.05")
		for _, s := range [][]string{{"LATENCY", "LATEST"}, {"LATENCY", "HISTORY", "command"}, {"LATENCY", "HISTORY", "COMMAND"},
			{"LATENCY", "GRAPH", "command"}, {"LATENCY", "DOCTOR"}, {"LATENCY", "GRAPH", "fast-command"},
			{"LATENCY", "RESET", "Command", "command", "nosuch"}, {"LATENCY", "LATEST"}, {"LATENCY", "HISTORY", "command"},
			{"CONFIG", "SET", "latency-monitor-threshold", "0"}, {"LATENCY", "DOCTOR"}} {
			got, want := replies(s...)
			if normaliseDigits(got) != normaliseDigits(want) {
				t.Errorf("RESP%s %q:\n ours  %q\n redis %q", proto, s, got, want)
			}
		}
	}
	// The sample: this second, at least the threshold, at most the
	// longest sleep (with some slack for a loaded machine).
	c := ours.client(t)
	ctx := ctxT(t)
	c.ConfigSet(ctx, "latency-monitor-threshold", "30")
	c.Do(ctx, "DEBUG", "SLEEP", "0.04")
	res, err := c.Do(ctx, "LATENCY", "LATEST").Slice()
	if err != nil || len(res) != 1 {
		t.Fatalf("LATENCY LATEST: %v %v", res, err)
	}
	ev := res[0].([]any)
	if ev[0] != "command" || ev[2].(int64) < 30 || ev[3].(int64) < ev[2].(int64) || time.Now().Unix()-ev[1].(int64) > 5 {
		t.Errorf("LATENCY LATEST %v", ev)
	}
	graph, err := c.Do(ctx, "LATENCY", "GRAPH", "command").Text()
	if err != nil || !strings.HasPrefix(graph, "command - high ") || !strings.HasSuffix(graph, "\n_\n \n0\ns\n") {
		t.Errorf("LATENCY GRAPH %q %v", graph, err)
	}
}

// A fast command that takes long is a "fast-command" event: the event
// name follows the command's fast flag.
func TestLatencyEventOfFastCommand(t *testing.T) {
	n := startNode(t)
	c := n.client(t)
	ctx := ctxT(t)
	c.ConfigSet(ctx, "latency-monitor-threshold", "1")
	// A sorted set big enough that ZRANGE 0 -1 (not fast) takes over 1 ms,
	// while ZCARD (fast) does not: only "command" is recorded.
	args := []any{"ZADD", "z"}
	for i := 0; i < 200000; i++ {
		args = append(args, i, i)
	}
	c.Do(ctx, args...)
	c.Do(ctx, "LATENCY", "RESET")
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.Do(ctx, "ZRANGE", "z", "0", "-1")
		res, _ := c.Do(ctx, "LATENCY", "LATEST").Slice()
		if len(res) > 0 {
			if ev := res[0].([]any); ev[0] != "command" {
				t.Fatalf("ZRANGE recorded as %v", ev)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no command event")
		}
	}
}

// INFO latencystats: a line per command that ran, with the configured
// percentiles (Redis's names, values normalised), none with
// latency-tracking off; OBJECT FREQ under the LFU policies and its error
// under the others.
func TestDifferentialLatencyStatsAndObjectFreq(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	a, b := ours.raw(t), ref.raw(t)
	sortedLines := func(s string) string {
		lines := strings.Split(normaliseDigits(s), "\r\n")
		sort.Strings(lines[1:])
		return strings.Join(lines, "\r\n")
	}
	for _, s := range [][]string{
		{"CONFIG", "RESETSTAT"}, {"SET", "a", "b"}, {"GET", "a"}, {"CLIENT", "ID"}, {"INFO", "latencystats"},
		{"CONFIG", "SET", "latency-tracking-info-percentiles", "0 12.5 99.99 100"}, {"INFO", "LATENCYSTATS"},
		{"CONFIG", "SET", "latency-tracking", "no"}, {"INFO", "latencystats"}, {"CONFIG", "GET", "latency-tracking"},
		{"CONFIG", "SET", "latency-tracking", "yes"}, {"CONFIG", "SET", "latency-tracking-info-percentiles", ""}, {"INFO", "latencystats"},
		{"CONFIG", "SET", "latency-monitor-threshold", "-1"}, {"CONFIG", "SET", "latency-monitor-threshold", "x"}, {"CONFIG", "GET", "latency-monitor-threshold"},
		{"OBJECT", "FREQ", "a"}, {"CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"}, {"SET", "f", "v"}, {"OBJECT", "FREQ", "f"},
		{"GET", "f"}, {"OBJECT", "FREQ", "f"}, {"OBJECT", "FREQ", "nosuch"}, {"OBJECT", "IDLETIME", "f"},
		{"CONFIG", "SET", "maxmemory-policy", "volatile-lfu"}, {"OBJECT", "FREQ", "f"},
		{"CONFIG", "SET", "maxmemory-policy", "volatile-lru"}, {"OBJECT", "FREQ", "f"}, {"OBJECT", "FREQ"}, {"OBJECT", "HELP"},
	} {
		got, want := a.do(s...), b.do(s...)
		if s[0] == "INFO" || s[0] == "CLIENT" {
			got, want = sortedLines(got), sortedLines(want)
		}
		if got != want {
			t.Errorf("%q:\n ours  %q\n redis %q", s, got, want)
		}
	}
}

// A blocking command that times out counts as a call in INFO
// commandstats but not in its latency histogram; one served later counts
// in both, as in Redis 7.0.15.
func TestDifferentialBlockedCallStats(t *testing.T) {
	calls := regexp.MustCompile(`cmdstat_blpop:calls=([0-9]+),`)
	for _, n := range []*testNode{startNode(t), startRedis(t)} {
		r, other := n.raw(t), n.raw(t)
		r.do("CONFIG", "RESETSTAT")
		r.do("BLPOP", "nokey", "0.01")
		r.do("LPUSH", "l", "a")
		r.do("BLPOP", "l", "0")
		r.send(encodeCommand("BLPOP", "l2", "0"))
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(other.do("CLIENT", "LIST"), "flags=b") {
			if time.Now().After(deadline) {
				t.Fatal("BLPOP never blocked")
			}
		}
		other.do("LPUSH", "l2", "x")
		r.reply()
		m := calls.FindStringSubmatch(other.do("INFO", "commandstats"))
		hist := other.do("LATENCY", "HISTOGRAM", "blpop")
		if m == nil || m[1] != "3" || !strings.Contains(hist, "$5\r\ncalls\r\n:2\r\n") {
			t.Errorf("%s: blpop commandstats %v, histogram %q", n.Addr, m, hist)
		}
	}
}

// The cost of recording one command's duration (hack/bench-node.sh
// measures the whole command).
func BenchmarkLatencyRecord(b *testing.B) {
	var st cmdStat
	ds := []time.Duration{3 * time.Microsecond, 9 * time.Microsecond, 40 * time.Microsecond, 700 * time.Microsecond}
	for i := 0; i < b.N; i++ {
		st.recordLatency(ds[i&3])
	}
}
