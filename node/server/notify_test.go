package server

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/node/command"
)

// eventSub is a connection subscribed to every keyspace event and to a
// marker channel that ends a batch.
type eventSub struct {
	r *rawConn
}

const eventsEnd = "notify-test-end"

func subscribeEvents(t *testing.T, n *testNode) *eventSub {
	t.Helper()
	r := n.raw(t)
	r.do("PSUBSCRIBE", "__key*__:*")
	r.do("SUBSCRIBE", eventsEnd)
	return &eventSub{r: r}
}

// until returns the messages received before the marker published by
// pub, as "channel message" lines.
func (s *eventSub) until(pub *rawConn) []string {
	s.r.t.Helper()
	pub.do("PUBLISH", eventsEnd, "x")
	return s.untilMarker()
}

// untilMarker reads messages until the marker (already published).
func (s *eventSub) untilMarker() []string {
	s.r.t.Helper()
	var out []string
	for {
		msg := parsePush(s.r.reply())
		if len(msg) >= 3 && msg[0] == "message" && msg[1] == eventsEnd {
			return out
		}
		if len(msg) == 4 && msg[0] == "pmessage" {
			out = append(out, msg[2]+" "+msg[3])
		} else {
			out = append(out, "unexpected "+strings.Join(msg, " "))
		}
	}
}

// parsePush splits a raw array (or push) of bulk strings.
func parsePush(raw string) []string {
	rd := bufio.NewReader(strings.NewReader(raw))
	var out []string
	head, _ := rd.ReadString('\n')
	if len(head) == 0 || (head[0] != '*' && head[0] != '>') {
		return []string{raw}
	}
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return out
		}
		if line[0] == '$' {
			n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
			if n < 0 {
				out = append(out, "")
				continue
			}
			body := make([]byte, n+2)
			if _, err := io.ReadFull(rd, body); err != nil {
				return out
			}
			out = append(out, string(body[:n]))
		} else {
			out = append(out, strings.TrimSuffix(line[1:], "\r\n"))
		}
	}
}

// eventScript is a command sequence over every served family whose
// keyspace events are compared with Redis's.
var eventScript = [][]string{
	// strings
	{"SET", "s", "v"}, {"SET", "s", "w", "EX", "100"}, {"SET", "s", "w", "NX"}, {"SET", "s", "x", "XX", "GET"},
	{"SET", "s", "w", "KEEPTTL"}, {"SETNX", "s2", "a"}, {"SETNX", "s2", "b"}, {"SETEX", "s3", "10", "a"},
	{"PSETEX", "s4", "10000", "a"}, {"GETSET", "s", "y"}, {"GETSET", "snew", "y"}, {"MSET", "m1", "a", "m2", "b"},
	{"MSETNX", "m3", "a", "m4", "b"}, {"MSETNX", "m3", "a", "m5", "b"}, {"APPEND", "s", "zz"}, {"APPEND", "ap", "zz"},
	{"INCR", "n"}, {"INCRBY", "n", "5"}, {"DECR", "n"}, {"DECRBY", "n", "2"}, {"INCRBYFLOAT", "f", "1.5"},
	{"SETRANGE", "s", "1", "abc"}, {"SETRANGE", "sr", "0", ""}, {"SETRANGE", "sr", "2", "x"},
	{"GET", "s"}, {"GET", "missing"}, {"MGET", "s", "missing", "m1"}, {"STRLEN", "missing"},
	{"GETRANGE", "missing", "0", "1"}, {"GETDEL", "m1"}, {"GETDEL", "m1"},
	{"GETEX", "m2", "EX", "100"}, {"GETEX", "m2", "PERSIST"}, {"GETEX", "m2"}, {"GETEX", "m2", "PXAT", "1"},
	{"GETEX", "missing"},
	{"SETBIT", "b", "7", "1"}, {"SETBIT", "b", "7", "1"}, {"GETBIT", "missing", "1"}, {"BITCOUNT", "missing"},
	{"BITOP", "AND", "bd", "b", "s"}, {"BITOP", "AND", "bd", "missing"}, {"BITPOS", "b", "1"},
	// keys
	{"DEL", "s", "missing", "s2"}, {"UNLINK", "s3", "missing"}, {"EXISTS", "s4", "missing"}, {"TYPE", "missing"},
	{"EXPIRE", "s4", "100"}, {"EXPIRE", "s4", "100", "NX"}, {"PEXPIRE", "s4", "100000"}, {"EXPIREAT", "s4", "99999999999"},
	{"PEXPIREAT", "s4", "99999999999000"}, {"PERSIST", "s4"}, {"PERSIST", "s4"}, {"EXPIRE", "s4", "-1"},
	{"EXPIRE", "missing", "10"}, {"SET", "r1", "v"}, {"RENAME", "r1", "r2"}, {"SET", "r3", "v"}, {"RENAME", "r2", "r3"},
	{"RENAMENX", "r3", "r4"}, {"SET", "r5", "v"}, {"RENAMENX", "r4", "r5"}, {"RENAME", "r4", "r4"},
	{"MOVE", "r4", "1"}, {"SELECT", "1"}, {"MOVE", "r4", "0"}, {"SET", "r6", "x"}, {"SELECT", "0"},
	{"COPY", "r5", "c1"}, {"COPY", "r5", "c1"}, {"COPY", "r5", "c1", "REPLACE"}, {"COPY", "r5", "c1", "DB", "1"},
	{"SWAPDB", "0", "1"}, {"SWAPDB", "0", "1"}, {"TOUCH", "r5", "missing"}, {"TTL", "missing"},
	{"OBJECT", "ENCODING", "missing"}, {"DUMP", "missing"},
	// lists
	{"LPUSH", "l", "a", "b"}, {"RPUSH", "l", "c"}, {"LPUSHX", "l", "d"}, {"RPUSHX", "l", "e"}, {"LPUSHX", "lx", "d"},
	{"LINSERT", "l", "BEFORE", "a", "z"}, {"LINSERT", "l", "BEFORE", "nope", "z"}, {"LSET", "l", "0", "q"},
	{"LPOP", "l"}, {"RPOP", "l", "2"}, {"LREM", "l", "0", "nope"}, {"LREM", "l", "1", "a"}, {"LTRIM", "l", "0", "-1"},
	{"LRANGE", "missing", "0", "-1"}, {"LINDEX", "missing", "0"}, {"LLEN", "missing"},
	{"RPUSH", "l2", "a", "b", "c"}, {"RPOPLPUSH", "l2", "l3"}, {"LMOVE", "l2", "l3", "LEFT", "RIGHT"},
	{"LMOVE", "l2", "l2", "LEFT", "RIGHT"}, {"LMOVE", "l2", "l3", "LEFT", "LEFT"}, {"LMPOP", "2", "missing", "l3", "LEFT", "COUNT", "10"},
	{"BLPOP", "l", "0.01"}, {"RPUSH", "l4", "a"}, {"BLPOP", "l4", "1"}, {"RPUSH", "l4", "a", "b"}, {"BRPOPLPUSH", "l4", "l5", "1"},
	{"BLMOVE", "l4", "l5", "LEFT", "LEFT", "1"}, {"BLMPOP", "1", "1", "l5", "RIGHT"}, {"LTRIM", "l5", "1", "0"},
	{"LPOS", "missing", "a"},
	// hashes
	{"HSET", "h", "a", "1", "b", "2"}, {"HSET", "h", "a", "1"}, {"HMSET", "h", "c", "3"}, {"HSETNX", "h", "a", "1"},
	{"HSETNX", "h", "d", "1"}, {"HINCRBY", "h", "n", "1"}, {"HINCRBYFLOAT", "h", "f", "1.5"}, {"HDEL", "h", "nope"},
	{"HDEL", "h", "a", "b"}, {"HGET", "missing", "a"}, {"HGETALL", "missing"}, {"HLEN", "missing"},
	{"HDEL", "h", "c", "d", "n", "f"}, {"HRANDFIELD", "missing"},
	// sets
	{"SADD", "st", "a", "b", "c"}, {"SADD", "st", "a"}, {"SREM", "st", "nope"}, {"SREM", "st", "a"},
	{"SMOVE", "st", "st2", "b"}, {"SMOVE", "st", "st2", "nope"}, {"SMOVE", "st", "st2", "c"}, {"SMOVE", "st2", "st2", "c"},
	{"SADD", "st", "x", "y", "z"}, {"SPOP", "st"}, {"SPOP", "st", "1"}, {"SPOP", "st", "5"}, {"SPOP", "missing"},
	{"SADD", "sa", "1", "2", "3"}, {"SADD", "sb", "2", "3", "4"}, {"SINTERSTORE", "sd", "sa", "sb"},
	{"SUNIONSTORE", "sd", "sa", "sb"}, {"SDIFFSTORE", "sd", "sa", "sa"}, {"SDIFFSTORE", "sd", "sa", "sb"},
	{"SINTERSTORE", "sd", "missing", "sb"}, {"SINTERSTORE", "sd", "missing", "sb"}, {"SMEMBERS", "missing"},
	{"SISMEMBER", "missing", "a"}, {"SCARD", "missing"}, {"SINTER", "sa", "missing"}, {"SUNION", "missing", "sa"},
	{"SINTERCARD", "2", "sa", "missing"}, {"SRANDMEMBER", "missing"},
	// sorted sets
	{"ZADD", "z", "1", "a", "2", "b", "3", "c"}, {"ZADD", "z", "1", "a"}, {"ZADD", "z", "5", "a"}, {"ZADD", "z", "NX", "5", "a"},
	{"ZADD", "z", "INCR", "1", "a"}, {"ZINCRBY", "z", "1", "b"}, {"ZREM", "z", "nope"}, {"ZREM", "z", "a"},
	{"ZADD", "z", "1", "d", "2", "e", "3", "f", "0", "g"}, {"ZREMRANGEBYSCORE", "z", "100", "200"},
	{"ZREMRANGEBYSCORE", "z", "0", "1"}, {"ZREMRANGEBYRANK", "z", "0", "0"}, {"ZREMRANGEBYLEX", "z", "-", "+"},
	{"ZADD", "za", "1", "a", "2", "b"}, {"ZADD", "zb", "1", "b", "2", "c"}, {"ZUNIONSTORE", "zd", "2", "za", "zb"},
	{"ZINTERSTORE", "zd", "2", "za", "zb"}, {"ZDIFFSTORE", "zd", "1", "missing"}, {"ZDIFFSTORE", "zd", "2", "za", "zb"},
	{"ZRANGESTORE", "zd", "za", "0", "-1"}, {"ZRANGESTORE", "zd", "za", "5", "6"}, {"ZRANGESTORE", "zd", "za", "5", "6"},
	{"ZPOPMIN", "za"}, {"ZPOPMAX", "za", "5"}, {"ZPOPMIN", "missing"}, {"BZPOPMIN", "zb", "1"}, {"BZPOPMAX", "zb", "1"},
	{"ZADD", "zc", "1", "a", "2", "b"}, {"ZMPOP", "1", "zc", "MIN"}, {"BZMPOP", "1", "1", "zc", "MAX", "COUNT", "5"},
	{"ZSCORE", "missing", "a"}, {"ZRANGE", "missing", "0", "-1"}, {"ZCARD", "missing"}, {"ZRANK", "missing", "a"},
	{"ZRANDMEMBER", "missing"}, {"ZUNION", "2", "missing", "zb"}, {"ZMSCORE", "missing", "a"},
	// types mixed: WRONGTYPE writes fire nothing
	{"SET", "w", "v"}, {"LPUSH", "w", "a"}, {"SADD", "w", "a"}, {"HSET", "w", "a", "1"}, {"ZADD", "w", "1", "a"},
	// transactions
	{"MULTI"}, {"SET", "t1", "a"}, {"LPUSH", "t2", "a"}, {"DEL", "t1", "t2"}, {"EXEC"},
	// dump / restore
	{"SET", "dr", "v"}, {"FLUSHDB"}, {"SET", "x", "1"}, {"FLUSHALL"},
}

// TestKeyspaceEventsDifferential runs eventScript on our node and on
// redis-server, with every event class on, and compares the event
// streams a PSUBSCRIBE '__key*__:*' connection receives.
func TestKeyspaceEventsDifferential(t *testing.T) {
	compareOnBoth(t, func(n *testNode) []string {
		c := n.raw(t)
		if r := c.do("CONFIG", "SET", "notify-keyspace-events", "KAnm"); r != "+OK\r\n" {
			t.Fatalf("config set: %q", r)
		}
		sub := subscribeEvents(t, n)
		for _, args := range eventScript {
			c.do(args...)
			// RESTORE needs a payload: dump the key the script just set.
			if args[0] == "SET" && args[1] == "dr" {
				dump := parsePush("*1\r\n" + c.do("DUMP", "dr"))
				if len(dump) == 1 {
					c.do("RESTORE", "dr2", "0", dump[0])
					c.do("RESTORE", "dr2", "0", dump[0], "REPLACE")
				}
			}
		}
		return sub.until(c)
	})
}

// compareOnBoth runs fn on our node and on redis-server and compares the
// transcripts it returns.
func compareOnBoth(t *testing.T, fn func(n *testNode) []string) {
	t.Helper()
	got := fn(startNode(t))
	want := fn(startRedis(t))
	compareEvents(t, got, want)
}

func compareEvents(t *testing.T, got, want []string) {
	t.Helper()
	n := max(len(got), len(want))
	bad := false
	for i := 0; i < n; i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			bad = true
		}
	}
	if bad {
		t.Errorf("events differ:\n%s", diffLines(got, want))
	}
}

// diffLines is a line diff of the two streams (longest common
// subsequence): "-" only ours, "+" only Redis's, with the line numbers.
func diffLines(got, want []string) string {
	n, m := len(got), len(want)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if got[i] == want[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var b strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && got[i] == want[j]:
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			fmt.Fprintf(&b, "+ %4d %s   (after ours %d: %s)\n", j, want[j], i, at(got, i-1))
			j++
		default:
			fmt.Fprintf(&b, "- %4d %s   (after redis %d: %s)\n", i, got[i], j, at(want, j-1))
			i++
		}
	}
	return b.String()
}

func at(l []string, i int) string {
	if i < 0 || i >= len(l) {
		return ""
	}
	return l[i]
}

// TestNotifyKeyspaceEventsConfig compares CONFIG SET/GET of
// notify-keyspace-events with Redis's: the classes come back in Redis's
// normalised order, A standing for its classes.
func TestNotifyKeyspaceEventsConfig(t *testing.T) {
	var script []step
	for _, v := range []string{"", "K", "E", "KEA", "AKE", "EKA", "gx$lshzetdnmKE", "Ag", "An", "Anm", "mE", "g$lshzxetd",
		"g$lshzxetdK", "nK", "xyz", "KEA!", "a"} {
		script = append(script, cmd("CONFIG", "SET", "notify-keyspace-events", v), cmd("CONFIG", "GET", "notify-keyspace-events"))
	}
	runDifferential(t, startNode(t), startRedis(t), script)
}

// TestKeyspaceEventsExpiryEviction checks the events (and the tracking
// invalidations) of keys that expire lazily, expire in the active
// cycle, and are evicted, on both servers: the keyevent channel and the
// RESP3 invalidation pushes, polling with a deadline (no sleeps).
func TestKeyspaceEventsExpiryEviction(t *testing.T) {
	compareOnBoth(t, func(n *testNode) []string {
		c := n.raw(t)
		var out []string
		c.do("CONFIG", "SET", "notify-keyspace-events", "Exe")
		out = append(out, c.do("CONFIG", "GET", "notify-keyspace-events"))
		sub := n.raw(t)
		sub.do("PSUBSCRIBE", "__keyevent@*")
		trk := n.raw(t)
		trk.do("HELLO", "3")
		trk.do("CLIENT", "TRACKING", "ON")

		// Lazy: the active cycle is off, an access finds the key expired.
		c.do("DEBUG", "SET-ACTIVE-EXPIRE", "0")
		c.do("SET", "lazy", "v", "PX", "30")
		trk.do("GET", "lazy")
		deadline := time.Now().Add(10 * time.Second)
		for c.do("PTTL", "lazy") != ":-2\r\n" {
			if time.Now().After(deadline) {
				t.Fatal("lazy never expired")
			}
		}
		out = append(out, "lazy: "+sub.reply(), "lazy: "+trk.reply())

		// Active: nobody touches the key.
		c.do("DEBUG", "SET-ACTIVE-EXPIRE", "1")
		c.do("SET", "active", "v", "PX", "100")
		trk.do("GET", "active") // tracked even if already gone
		out = append(out, "active: "+sub.reply(), "active: "+trk.reply())

		// Eviction: every key goes once maxmemory is tiny.
		var evicted []string
		for _, k := range []string{"e1", "e2", "e3"} {
			c.do("SET", k, "v")
		}
		c.do("CONFIG", "SET", "maxmemory-policy", "allkeys-random")
		c.do("CONFIG", "SET", "maxmemory", "1")
		for range 3 {
			evicted = append(evicted, sub.reply())
		}
		c.do("CONFIG", "SET", "maxmemory", "0")
		sort.Strings(evicted)
		return append(out, evicted...)
	})
}

// TestKeyspaceEventsOff checks that with notify-keyspace-events empty
// (the default) nothing is published, and that K without E uses only
// the keyspace channel.
func TestKeyspaceEventsOff(t *testing.T) {
	n := startNode(t)
	c := n.raw(t)
	sub := subscribeEvents(t, n)
	c.do("SET", "a", "1")
	c.do("DEL", "a")
	if ev := sub.until(c); len(ev) != 0 {
		t.Fatalf("events with notifications off: %q", ev)
	}
	c.do("CONFIG", "SET", "notify-keyspace-events", "K$")
	c.do("SET", "a", "1")
	c.do("DEL", "a") // generic: not asked for
	ev := sub.until(c)
	if len(ev) != 1 || ev[0] != "__keyspace@0__:a set" {
		t.Fatalf("events with K$: %q", ev)
	}
}

// TestKeyspaceEventsClusterLocal checks that in cluster mode keyspace
// events reach only the subscribers of the node that owns the key, as
// Redis publishes them locally, while PUBLISH still crosses the bus.
func TestKeyspaceEventsClusterLocal(t *testing.T) {
	a := startClusterProc(t, "", 0)
	b := startClusterProc(t, "", 0)
	a.do(t, "CLUSTER", "ADDSLOTSRANGE", 0, 16383)
	a.do(t, "CLUSTER", "MEET", "127.0.0.1", b.Port, b.BusPort)
	waitAgreement(t, []*clusterProc{a, b})
	a.do(t, "CONFIG", "SET", "notify-keyspace-events", "KEA")
	b.do(t, "CONFIG", "SET", "notify-keyspace-events", "KEA")
	subA := subscribeEvents(t, &testNode{a.proc})
	subB := subscribeEvents(t, &testNode{b.proc})
	c := (&testNode{a.proc}).raw(t)
	c.do("SET", "k", "v")
	if ev := subB.until(c); len(ev) != 0 { // the marker came over the bus
		t.Errorf("events on the other node: %q", ev)
	}
	want := []string{"__keyspace@0__:k set", "__keyevent@0__:set k"}
	if got := subA.untilMarker(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("events on the owner: %q, want %q", got, want)
	}
}

// BenchmarkNotifyOff is the cost of an event nobody asked for (the
// default): one flag test. BenchmarkNotifyOn publishes it to nobody.
func BenchmarkNotifyOff(b *testing.B) { benchmarkNotify(b, "") }
func BenchmarkNotifyOn(b *testing.B)  { benchmarkNotify(b, "KEA") }

func benchmarkNotify(b *testing.B, flags string) {
	s := newInProcess(b, "--notify-keyspace-events", flags)
	key := []byte("key:000001")
	for b.Loop() {
		s.notifyKeyspaceEvent(command.NotifyString, "set", 0, key)
	}
}
