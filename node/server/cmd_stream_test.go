package server

import (
	"strconv"
	"strings"
	"testing"
)

// Stream commands against redis-server: the same script on both, the same
// replies. Explicit IDs everywhere so replies are deterministic; timed
// steps (XPENDING ranges, XINFO STREAM FULL) carry delivery times and idle
// times, which may differ by the time between the two servers' runs.

// timed is a step whose integer replies may differ by up to a minute.
func timed(args ...string) step { return step{args: args, nearBy: -1} }

func streamScript() []step {
	return []step{
		cmd("xadd", "s", "1-1", "a", "1", "b", "2"),
		cmd("xadd", "s", "1-2", "a", "3", "b", "4"),
		cmd("xadd", "s", "1-2", "a", "3"),
		cmd("xadd", "s", "0-0", "a", "3"),
		cmd("xadd", "s", "1", "a", "3"),
		cmd("xadd", "s", "5-*", "a", "3"),
		cmd("xadd", "s", "5-*", "a", "3", "c", "4"),
		cmd("xadd", "s", "5-*", "a"),
		cmd("xadd", "s", "maxlen"),
		cmd("xadd", "s", "nomkstream", "6", "x", "y"),
		cmd("xadd", "nos", "nomkstream", "6", "x", "y"),
		cmd("xadd", "s", "1-2-3", "x", "y"),
		cmd("xadd", "s", "+", "x", "y"),
		cmd("xadd", "s", "-", "x", "y"),
		cmd("xadd", "s", "abc", "x", "y"),
		cmd("xadd", "s", "maxlen", "2", "minid", "2", "*", "x", "y"),
		cmd("xadd", "s", "maxlen", "-1", "*", "x", "y"),
		cmd("xadd", "s", "limit", "10", "8", "x", "y"),
		cmd("xadd", "s", "maxlen", "=", "5", "limit", "10", "8", "x", "y"),
		cmd("xadd", "s", "limit", "-1", "8", "x", "y"),
		cmd("xlen", "s"),
		cmd("xlen", "nos"),
		cmd("xrange", "s", "-", "+"),
		cmd("xrange", "s", "-", "+", "count", "2"),
		cmd("xrange", "s", "-", "+", "count", "0"),
		cmd("xrange", "s", "-", "+", "count", "-1"),
		cmd("xrange", "s", "(1-1", "+"),
		cmd("xrange", "s", "-", "(5-1"),
		cmd("xrange", "s", "1", "1"),
		cmd("xrange", "s", "5", "5"),
		cmd("xrange", "s", "(", "+"),
		cmd("xrange", "s", "(-", "+"),
		cmd("xrange", "s", "-", "(0-0"),
		cmd("xrange", "s", "(18446744073709551615-18446744073709551615", "+"),
		cmd("xrange", "s", "-", "+", "foo"),
		cmd("xrange", "s", "-", "+", "count"),
		cmd("xrange", "s", "-", "+", "count", "x"),
		cmd("xrange", "nos", "-", "+"),
		cmd("xrange", "s", "x", "+"),
		cmd("xrevrange", "s", "+", "-"),
		cmd("xrevrange", "s", "+", "-", "count", "1"),
		cmd("xrevrange", "s", "(5-1", "-"),
		cmd("xrevrange", "s", "5", "1-2"),
		cmd("xdel", "s", "1-1", "9-9"),
		cmd("xdel", "s", "x"),
		cmd("xdel", "nos", "1-1"),
		cmd("xlen", "s"),
		cmd("xrange", "s", "-", "+"),
		cmd("xtrim", "s", "maxlen", "2"),
		cmd("xtrim", "s"),
		cmd("xtrim", "s", "minid", "5-1"),
		cmd("xtrim", "s", "limit", "5"),
		cmd("xtrim", "s", "maxlen", "~", "0"),
		cmd("xtrim", "s", "maxlen", "~", "1", "limit", "1"),
		cmd("xtrim", "nos", "maxlen", "1"),
		cmd("xrange", "s", "-", "+"),
		cmd("set", "str", "x"),
		cmd("xadd", "str", "*", "a", "b"),
		cmd("xlen", "str"),
		cmd("xrange", "str", "-", "+"),
		cmd("xsetid", "s", "1-1"),
		cmd("xsetid", "s", "100-1"),
		cmd("xsetid", "s", "100-1", "entriesadded", "1"),
		cmd("xsetid", "s", "100-1", "entriesadded", "-1"),
		cmd("xsetid", "s", "100-1", "maxdeletedid", "200-1"),
		cmd("xsetid", "s", "100-1", "maxdeletedid", "50-1", "entriesadded", "50"),
		cmd("xinfo", "stream", "s"),
		cmd("xsetid", "nos", "1-1"),
		cmd("xsetid", "str", "1-1"),
		cmd("xsetid", "s", "100-1", "foo"),
		cmd("xsetid", "s", "-"),
		cmd("xadd", "s", "100-*", "a", "b"),
		timed("xadd", "s", "*", "a", "b"), // the time: the two servers run it in different milliseconds
		cmd("flushall"),
		cmd("xadd", "s", "1-1", "a", "1"),
		cmd("xadd", "s", "2-1", "b", "2"),
		cmd("xadd", "s", "3-1", "c", "3"),
		cmd("xgroup", "create", "s", "g", "0"),
		cmd("xgroup", "create", "s", "g", "0"),
		cmd("xgroup", "create", "nos", "g", "0"),
		cmd("xgroup", "create", "nos", "g", "0", "mkstream"),
		cmd("xgroup", "create", "nos2", "g", "$", "mkstream", "entriesread", "5"),
		cmd("xgroup", "create", "s", "g2", "$", "entriesread", "-2"),
		cmd("xgroup", "create", "s", "g2", "$", "entriesread", "x"),
		cmd("xgroup", "create", "s", "g2", "$", "foo"),
		cmd("xgroup", "create", "s", "g3", "-"),
		cmd("xgroup", "create", "s", "g3", "abc"),
		cmd("xgroup", "create", "s", "g3", "$", "entriesread", "1"),
		cmd("xinfo", "groups", "s"),
		cmd("xinfo", "groups", "nos2"),
		cmd("xgroup", "setid", "s", "g", "1-1"),
		cmd("xgroup", "setid", "s", "nog", "1-1"),
		cmd("xgroup", "setid", "s", "g", "1-1", "entriesread", "1"),
		cmd("xgroup", "setid", "s", "g", "1-1", "foo", "1"),
		cmd("xgroup", "setid", "s", "g", "$"),
		cmd("xgroup", "setid", "s", "g", "0", "entriesread", "0"),
		cmd("xinfo", "groups", "s"),
		cmd("xgroup", "createconsumer", "s", "g", "c1"),
		cmd("xgroup", "createconsumer", "s", "g", "c1"),
		cmd("xgroup", "createconsumer", "s", "nog", "c1"),
		cmd("xgroup", "createconsumer", "nokey", "g", "c1"),
		cmd("xreadgroup", "group", "g", "c1", "count", "1", "streams", "s", ">"),
		cmd("xreadgroup", "group", "g", "c2", "streams", "s", ">"),
		cmd("xreadgroup", "group", "g", "c2", "streams", "s", ">"),
		cmd("xreadgroup", "group", "g", "c1", "streams", "s", "0"),
		cmd("xreadgroup", "group", "g", "c2", "streams", "s", "0"),
		cmd("xreadgroup", "group", "g", "c2", "streams", "s", "1-1"),
		cmd("xreadgroup", "group", "nog", "c2", "streams", "s", ">"),
		cmd("xreadgroup", "group", "g", "c2", "streams", "nokey", ">"),
		cmd("xreadgroup", "group", "g", "c2", "streams", "s", "$"),
		cmd("xreadgroup", "group", "g", "c2", "streams", "s"),
		cmd("xreadgroup", "group", "g", "c2", "streams", "s", ">", "s"),
		cmd("xreadgroup", "streams", "s", ">"),
		cmd("xread", "streams", "s", "0"),
		cmd("xread", "count", "1", "streams", "s", "0"),
		cmd("xread", "streams", "s", "$"),
		cmd("xread", "streams", "s", ">"),
		cmd("xread", "streams", "s", "0", "nokey"),
		cmd("xread", "streams", "s", "nokey", "0", "0"),
		cmd("xread", "group", "g", "c", "streams", "s", "0"),
		cmd("xread", "noack", "streams", "s", "0"),
		cmd("xread", "count", "-5", "streams", "s", "1-1"),
		cmd("xread", "foo", "streams", "s", "0"),
		cmd("xread", "count", "1"),
		cmd("xread", "streams", "s", "str", "0", "0"),
		cmd("set", "str", "x"),
		cmd("xread", "streams", "s", "str", "0", "0"),
		cmd("xpending", "s", "g"),
		timed("xpending", "s", "g", "-", "+", "10"),
		timed("xpending", "s", "g", "-", "+", "10", "c1"),
		timed("xpending", "s", "g", "-", "+", "10", "nocons"),
		timed("xpending", "s", "g", "(1-1", "+", "10"),
		timed("xpending", "s", "g", "-", "+", "1"),
		timed("xpending", "s", "g", "-", "+", "0"),
		timed("xpending", "s", "g", "-", "+", "-1"),
		timed("xpending", "s", "g", "-", "+", "x"),
		timed("xpending", "s", "g", "x", "+", "10"),
		timed("xpending", "s", "g", "IDLE", "100000", "-", "+", "10"),
		timed("xpending", "s", "g", "IDLE", "100000", "-", "+"),
		timed("xpending", "s", "g", "IDLE", "x", "-", "+", "10"),
		cmd("xpending", "s", "g", "-"),
		cmd("xpending", "s", "nog"),
		cmd("xpending", "nokey", "g"),
		cmd("xpending", "str", "g"),
		cmd("xack", "s", "g", "1-1", "9-9"),
		cmd("xack", "s", "g", "x"),
		cmd("xack", "s", "nog", "1-1"),
		cmd("xack", "nokey", "g", "1-1"),
		cmd("xpending", "s", "g"),
		cmd("xinfo", "groups", "s"),
		cmd("xgroup", "delconsumer", "s", "g", "c2"),
		cmd("xgroup", "delconsumer", "s", "g", "c2"),
		cmd("xpending", "s", "g"),
		cmd("xinfo", "groups", "s"),
		cmd("xgroup", "destroy", "s", "g3"),
		cmd("xgroup", "destroy", "s", "g3"),
		cmd("xgroup", "destroy", "nokey", "g3"),
		cmd("xinfo", "groups", "s"),
		cmd("xinfo", "stream", "nokey"),
		cmd("xinfo", "stream", "str"),
		cmd("xinfo", "groups", "nokey"),
		cmd("xinfo", "consumers", "s", "nog"),
		timed("xinfo", "stream", "s", "full", "count", "x"),
		cmd("xinfo", "stream", "s", "foo"),
		cmd("xinfo", "stream", "s", "count", "1"),
		cmd("xinfo", "foo", "s"),
		cmd("xinfo", "help"),
		cmd("xgroup", "help"),
		cmd("xgroup", "foo"),
		cmd("xgroup", "create", "s"),
		cmd("xgroup", "setid", "s", "g", "1", "2", "3", "4", "5"),
		cmd("xdel", "s", "2-1"),
		cmd("xinfo", "groups", "s"),
		cmd("xgroup", "setid", "s", "g", "1-1"),
		cmd("xinfo", "groups", "s"),
		cmd("xreadgroup", "group", "g", "c9", "noack", "streams", "s", ">"),
		cmd("xinfo", "groups", "s"),
		cmd("xpending", "s", "g"),
		cmd("flushall"),
		cmd("xadd", "s", "1-1", "a", "1"),
		cmd("xadd", "s", "2-1", "b", "2"),
		cmd("xadd", "s", "3-1", "c", "3"),
		cmd("xadd", "s", "4-1", "d", "4"),
		cmd("xgroup", "create", "s", "g", "0"),
		cmd("xreadgroup", "group", "g", "c1", "streams", "s", ">"),
		cmd("xclaim", "s", "g", "c2", "0", "1-1"),
		cmd("xclaim", "s", "g", "c2", "0", "1-1", "justid"),
		cmd("xclaim", "s", "g", "c2", "0", "1-1", "2-1", "retrycount", "7"),
		cmd("xclaim", "s", "g", "c2", "1000000", "3-1"),
		cmd("xclaim", "s", "g", "c2", "0", "9-9"),
		cmd("xclaim", "s", "g", "c2", "0", "9-9", "force"),
		cmd("xclaim", "s", "g", "c2", "0", "4-1", "idle", "1000000", "justid"),
		cmd("xclaim", "s", "g", "c2", "0", "4-1", "time", "5", "justid"),
		cmd("xclaim", "s", "g", "c2", "0", "4-1", "foo"),
		cmd("xclaim", "s", "g", "c2", "0", "4-1", "idle", "x"),
		cmd("xclaim", "s", "g", "c2", "0", "4-1", "time", "x"),
		cmd("xclaim", "s", "g", "c2", "0", "4-1", "retrycount", "x"),
		cmd("xclaim", "s", "g", "c2", "0", "4-1", "lastid", "x"),
		cmd("xclaim", "s", "g", "c2", "x", "4-1"),
		cmd("xclaim", "s", "nog", "c2", "0", "4-1"),
		cmd("xclaim", "nokey", "g", "c2", "0", "4-1"),
		cmd("xclaim", "s", "g", "c2", "0", "x"),
		timed("xpending", "s", "g", "-", "+", "10"),
		cmd("xinfo", "groups", "s"),
		cmd("xclaim", "s", "g", "c3", "0", "1-1", "lastid", "10-1", "justid"),
		cmd("xinfo", "groups", "s"),
		cmd("xdel", "s", "2-1"),
		cmd("xclaim", "s", "g", "c3", "0", "2-1", "3-1", "justid"),
		cmd("xpending", "s", "g"),
		cmd("xgroup", "create", "s", "g2", "0"),
		cmd("xreadgroup", "group", "g2", "c1", "streams", "s", ">"),
		cmd("xautoclaim", "s", "g2", "c2", "0", "0"),
		cmd("xautoclaim", "s", "g2", "c2", "0", "0", "count", "1"),
		cmd("xautoclaim", "s", "g2", "c2", "0", "0", "count", "1", "justid"),
		cmd("xautoclaim", "s", "g2", "c2", "0", "(1-1", "count", "1", "justid"),
		cmd("xautoclaim", "s", "g2", "c2", "0", "0", "count", "0"),
		cmd("xautoclaim", "s", "g2", "c2", "0", "0", "count", "x"),
		cmd("xautoclaim", "s", "g2", "c2", "0", "0", "foo"),
		cmd("xautoclaim", "s", "g2", "c2", "x", "0"),
		cmd("xautoclaim", "s", "g2", "c2", "0", "x"),
		cmd("xautoclaim", "s", "nog", "c2", "0", "0"),
		cmd("xautoclaim", "nokey", "g2", "c2", "0", "0"),
		cmd("xautoclaim", "s", "g2", "c2", "1000000", "0"),
		cmd("xdel", "s", "3-1"),
		cmd("xautoclaim", "s", "g2", "c3", "0", "0", "justid"),
		cmd("xpending", "s", "g2"),
		cmd("xautoclaim", "s", "g2", "c3", "0", "0", "count", "2"),
		cmd("xreadgroup", "group", "g2", "c3", "streams", "s", "0"),
		timed("xinfo", "stream", "s", "full"),
		cmd("xadd", "s", "5-1", "e", "5"),
		cmd("xadd", "s", "6-1", "f", "6"),
		cmd("xinfo", "groups", "s"),
		cmd("xreadgroup", "group", "g2", "c3", "count", "1", "streams", "s", ">"),
		cmd("xinfo", "groups", "s"),
		cmd("xdel", "s", "6-1"),
		cmd("xinfo", "groups", "s"),
		cmd("xreadgroup", "group", "g2", "c3", "streams", "s", ">"),
		cmd("xinfo", "groups", "s"),
		cmd("xtrim", "s", "maxlen", "0"),
		cmd("xinfo", "groups", "s"),
		cmd("xinfo", "stream", "s"),
		cmd("xadd", "s", "7-1", "a", "1"),
		cmd("xinfo", "groups", "s"), cmd("flushall"),
		cmd("xadd", "big", "1-1", "f", strings.Repeat("v", 5000)),
		cmd("xadd", "big", "1-2", "f", "v"), cmd("xgroup", "create", "big", "g", "0"),
		cmd("xack", "big", "g", "-", "1-*"), cmd("xack", "big", "nog", "-"), cmd("xack", "big", "g", "1-1", "x"),
		cmd("xtrim", "big", "minid", "1\x00-2"), cmd("xdel", "big", "1-1\x00x"), cmd("xadd", "big", "1-3", "g", "v", "h", "w"),
	}
}

// repliesNear compares two raw replies line by line; integer lines, and
// the milliseconds of stream IDs (ms-seq) with the same seq, may differ by
// up to a minute (timed steps).
func repliesNear(a, b string) bool {
	la, lb := strings.Split(a, "\r\n"), strings.Split(b, "\r\n")
	if len(la) != len(lb) {
		return false
	}
	for i := range la {
		if la[i] == lb[i] {
			continue
		}
		msA, seqA, okA := strings.Cut(la[i], "-")
		msB, seqB, okB := strings.Cut(lb[i], "-")
		if okA && okB && seqA == seqB {
			x, err1 := strconv.ParseInt(msA, 10, 64)
			y, err2 := strconv.ParseInt(msB, 10, 64)
			if err1 == nil && err2 == nil && x-y <= 60000 && y-x <= 60000 {
				continue
			}
		}
		if !strings.HasPrefix(la[i], ":") || !strings.HasPrefix(lb[i], ":") {
			return false
		}
		x, err1 := strconv.ParseInt(la[i][1:], 10, 64)
		y, err2 := strconv.ParseInt(lb[i][1:], 10, 64)
		if err1 != nil || err2 != nil || x-y > 60000 || y-x > 60000 {
			return false
		}
	}
	return true
}

func runStreamDifferential(t *testing.T, resp3 bool) { runTimedDifferential(t, streamScript(), resp3) }

// runTimedDifferential runs script on a node and on Redis; timed steps may
// differ in their integers (times) by up to a minute.
func runTimedDifferential(t *testing.T, script []step, resp3 bool) {
	t.Helper()
	ours, ref := startNode(t), startRedis(t)
	a, b := ours.raw(t), ref.raw(t)
	if resp3 {
		a.do("HELLO", "3")
		b.do("HELLO", "3")
	}
	for _, s := range script {
		got, want := a.do(s.args...), b.do(s.args...)
		if got != want && (s.nearBy != -1 || !repliesNear(got, want)) {
			t.Errorf("resp3=%v %q:\n ours  %q\n redis %q", resp3, s.args, got, want)
		}
	}
}

func TestDifferentialStreamsRESP2(t *testing.T) { runStreamDifferential(t, false) }
func TestDifferentialStreamsRESP3(t *testing.T) { runStreamDifferential(t, true) }

// XINFO and XGROUP argument shapes in Redis's order of checks: the key
// (no such key, WRONGTYPE, the group) before the options of XINFO STREAM,
// XGROUP's options (ENTRIESREAD's value, MKSTREAM) before the key, the
// subcommand's arity last (found by test/fuzzdiff).
func TestDifferentialStreamSubcommandShapes(t *testing.T) {
	script := []step{
		cmd("XADD", "s", "1-1", "a", "b"), cmd("XADD", "s", "2-1", "c", "d"), cmd("SET", "str", "x"),
		cmd("XGROUP", "CREATE", "s", "g", "$"), cmd("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"),
	}
	for _, key := range []string{"s", "str", "nokey"} {
		for _, tail := range [][]string{nil, {"FULL"}, {"full", "COUNT", "1"}, {"FULL", "count", "x"}, {"FULL", "COUNT", " 1"},
			{"FULL", "COUNT", "+1"}, {"FULL", "COUNT", "-5"}, {"FULL", "COUNT", "0"}, {"FULL", "COUNT"}, {"FULL", "COUNT", "1", "x"},
			{"FULL", "bogus", "5"}, {"bogus"}, {"COUNT", "1"}, {"FULL", "FULL"}, {"FULL", "FULL", "FULL"}} {
			script = append(script, cmd(append([]string{"XINFO", "STREAM", key}, tail...)...))
		}
		script = append(script,
			cmd("XINFO", "GROUPS", key), cmd("XINFO", "GROUPS", key, "extra"),
			cmd("XINFO", "CONSUMERS", key, "g"), cmd("XINFO", "CONSUMERS", key, "nog"), cmd("XINFO", "CONSUMERS", key, "g", "extra"),
			cmd("XINFO", "BOGUS", key), cmd("XINFO", "HELP", key),
			cmd("XGROUP", "SETID", key, "g", "0", "ENTRIESREAD", "1", "ENTRIESREAD", "2"),
			cmd("XGROUP", "SETID", key, "g", "0", "ENTRIESREAD", "x", "ENTRIESREAD", "2"),
			cmd("XGROUP", "SETID", key, "nog", "0", "ENTRIESREAD", "1", "ENTRIESREAD", "2"),
			cmd("XGROUP", "SETID", key, "g", "0", "ENTRIESREAD", "-5"),
			cmd("XGROUP", "SETID", key, "g", "0", "ENTRIESREAD", "-1"),
			cmd("XGROUP", "SETID", key, "g", "0", "ENTRIESREAD"),
			cmd("XGROUP", "SETID", key, "g", "0", "MKSTREAM"),
			cmd("XGROUP", "SETID", key, "g", "x", "ENTRIESREAD", "3"),
			cmd("XGROUP", "SETID", key, "g", "$", "entriesread", "3"),
			cmd("XGROUP", "SETID", key, "g"),
			cmd("XGROUP", "CREATE", key, "g2", "0", "MKSTREAM", "MKSTREAM", "MKSTREAM", "ENTRIESREAD", "1"),
			cmd("XGROUP", "CREATE", key, "g3", "0", "MKSTREAM", "MKSTREAM", "ENTRIESREAD", "1"),
			cmd("XGROUP", "CREATE", key, "g4", "0", "ENTRIESREAD", "x", "MKSTREAM"),
			cmd("XGROUP", "CREATE", key, "g5", "0", "ENTRIESREAD", "1"),
			cmd("XGROUP", "CREATE", key, "g6", "x", "MKSTREAM"),
			cmd("XGROUP", "CREATE", key, "g7", "0", "BOGUS"),
			cmd("XGROUP", "CREATE", key, "g"),
			cmd("XGROUP", "DESTROY", key, "g", "extra"), cmd("XGROUP", "DESTROY", key, "g", "MKSTREAM"),
			cmd("XGROUP", "DESTROY", key, "g", "ENTRIESREAD", "1"),
			cmd("XGROUP", "CREATECONSUMER", key, "nog", "c"), cmd("XGROUP", "CREATECONSUMER", key, "g", "c", "ENTRIESREAD", "5"),
			cmd("XGROUP", "DELCONSUMER", key, "nog", "c"), cmd("XGROUP", "DELCONSUMER", key, "g", "c", "x"),
			cmd("XGROUP", "BOGUS", key, "g"), cmd("XGROUP", "HELP", key),
			cmd("XINFO", "GROUPS", "s"),
		)
	}
	for i := range script {
		script[i].nearBy = -1 // XINFO's idle and seen times
	}
	runTimedDifferential(t, script, false)
}
