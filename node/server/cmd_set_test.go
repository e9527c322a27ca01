package server

import (
	"strconv"
	"strings"
	"testing"
)

// setScript is a deterministic script over every set command. Replies
// whose order Redis leaves to its hash table are compared as multisets;
// intsets (sorted in both) are compared as they are. OBJECT ENCODING is
// only compared where Redis 7.0 and our 7.2-style encodings agree
// (intset, and hashtable for big or long-membered sets).
func setScript() []step {
	s := []step{
		cmd("SADD", "s", "a", "b", "c", "a"), cmd("SADD", "s", "d"), cmd("SADD", "s", "a"), cmd("SCARD", "s"), cmd("SCARD", "nokey"),
		cmd("SISMEMBER", "s", "a"), cmd("SISMEMBER", "s", "z"), cmd("SISMEMBER", "nokey", "a"), cmd("SMISMEMBER", "s", "a", "z", "c"),
		cmd("SMISMEMBER", "nokey", "a", "b"), unordered("SMEMBERS", "s"), cmd("SMEMBERS", "nokey"),
		cmd("SADD", "i", "3", "1", "2", "-5", "100000", "9223372036854775807", "-9223372036854775808"), cmd("SMEMBERS", "i"),
		cmd("OBJECT", "ENCODING", "i"), cmd("SADD", "i", "007"), cmd("SISMEMBER", "i", "007"), cmd("SISMEMBER", "i", "7"), unordered("SMEMBERS", "i"),
		cmd("SREM", "i", "007"), unordered("SMEMBERS", "i"), cmd("SADD", "i2", "1", "2", "3"), cmd("SADD", "i2", "-0"), cmd("SISMEMBER", "i2", "0"),
		cmd("SREM", "s", "a", "z"), cmd("SREM", "s", "b", "c", "d", "x"), cmd("EXISTS", "s"), cmd("SREM", "nokey", "a"),
		// Multi-key.
		cmd("SADD", "x", "1", "2", "3", "4"), cmd("SADD", "y", "3", "4", "5"), cmd("SADD", "w", "4", "5", "6", "a"),
		cmd("SINTER", "x", "y"), cmd("SINTER", "x", "y", "w"), cmd("SINTER", "x", "nokey"), cmd("SINTER", "nokey", "x"), cmd("SINTER", "x"),
		cmd("SUNION", "x", "y"), unordered("SUNION", "x", "w"), cmd("SUNION", "nokey", "y"), cmd("SUNION", "nokey"),
		cmd("SDIFF", "x", "y"), cmd("SDIFF", "x", "y", "w"), cmd("SDIFF", "x", "nokey"), cmd("SDIFF", "nokey", "x"), cmd("SDIFF", "x", "x"),
		cmd("SINTERSTORE", "d", "x", "y"), cmd("SMEMBERS", "d"), cmd("OBJECT", "ENCODING", "d"), cmd("SINTERSTORE", "d", "x", "nokey"), cmd("EXISTS", "d"),
		cmd("SUNIONSTORE", "d", "x", "y"), cmd("SMEMBERS", "d"), cmd("SDIFFSTORE", "d", "x", "y"), cmd("SMEMBERS", "d"), cmd("SDIFFSTORE", "d", "x", "x"),
		cmd("EXISTS", "d"), cmd("SET", "strd", "v"), cmd("SUNIONSTORE", "strd", "x"), cmd("TYPE", "strd"), cmd("SMEMBERS", "strd"),
		cmd("SINTERCARD", "2", "x", "y"), cmd("SINTERCARD", "2", "x", "y", "LIMIT", "1"), cmd("SINTERCARD", "2", "x", "y", "LIMIT", "0"),
		cmd("SINTERCARD", "2", "x", "nokey"), cmd("SINTERCARD", "0", "x"), cmd("SINTERCARD", "x", "x"), cmd("SINTERCARD", "3", "x", "y"),
		cmd("SINTERCARD", "1", "x", "LIMIT", "-1"), cmd("SINTERCARD", "1", "x", "LIMIT"), cmd("SINTERCARD", "1", "x", "FOO"),
		// SMOVE.
		cmd("SMOVE", "x", "y", "1"), cmd("SMOVE", "x", "y", "3"), cmd("SMOVE", "x", "y", "nope"), cmd("SMOVE", "nokey", "y", "1"),
		cmd("SMOVE", "x", "x", "2"), cmd("SMOVE", "x", "x", "nope"), cmd("SMOVE", "x", "newdst", "2"), cmd("SMEMBERS", "newdst"),
		cmd("SMOVE", "x", "strd", "4"), cmd("SET", "str", "v"), cmd("SMOVE", "str", "y", "1"), cmd("SMOVE", "x", "str", "4"), cmd("SMOVE", "nokey", "str", "1"),
		cmd("SMEMBERS", "x"), cmd("SMOVE", "x", "y", "4"), cmd("EXISTS", "x"), cmd("SMEMBERS", "y"),
		// Random and pops: deterministic forms only.
		cmd("SADD", "r", "1", "2", "3"), cmd("SRANDMEMBER", "r", "3"), cmd("SRANDMEMBER", "r", "10"), cmd("SRANDMEMBER", "r", "0"),
		cmd("SRANDMEMBER", "nokey"), cmd("SRANDMEMBER", "nokey", "3"), cmd("SRANDMEMBER", "r", "x"), cmd("SRANDMEMBER", "r", "1", "2"),
		cmd("SRANDMEMBER", "r", "-9223372036854775808"), cmd("SADD", "one", "only"), cmd("SRANDMEMBER", "one"), cmd("SRANDMEMBER", "one", "-3"),
		cmd("SPOP", "one"), cmd("EXISTS", "one"), cmd("SPOP", "nokey"), cmd("SPOP", "nokey", "2"), cmd("SPOP", "r", "0"), cmd("SPOP", "r", "-1"),
		cmd("SPOP", "r", "x"), cmd("SPOP", "r", "1", "2"), cmd("SPOP", "r", "5"), cmd("EXISTS", "r"),
		// Scans.
		cmd("SADD", "sc", "1", "2", "3", "10", "11"), cmd("SSCAN", "sc", "0"), cmd("SSCAN", "sc", "0", "MATCH", "1*"), cmd("SSCAN", "nokey", "0", "COUNT", "x"),
		cmd("SSCAN", "sc", "x"), cmd("SSCAN", "sc", "0", "COUNT", "0"), cmd("SSCAN", "sc", "0", "FOO"),
		// Wrong types.
		cmd("SADD", "str", "a"), cmd("SREM", "str", "a"), cmd("SCARD", "str"), cmd("SISMEMBER", "str", "a"), cmd("SMISMEMBER", "str", "a"),
		cmd("SMEMBERS", "str"), cmd("SRANDMEMBER", "str"), cmd("SRANDMEMBER", "str", "2"), cmd("SPOP", "str"), cmd("SPOP", "str", "2"),
		cmd("SINTER", "nokey", "str"), cmd("SINTERCARD", "2", "nokey", "str"), cmd("SUNION", "x", "str"), cmd("SDIFF", "nokey", "str"),
		cmd("SINTERSTORE", "d", "str"), cmd("SSCAN", "str", "0"), cmd("SADD"), cmd("SADD", "k"), cmd("SINTERCARD", "1"),
		cmd("ZADD", "zs", "1", "a"), cmd("SINTER", "zs"),
	}
	// Sets big enough for the hashtable encoding, and an intset that
	// outgrows set-max-intset-entries.
	for i := 0; i < 200; i++ {
		s = append(s, cmd("SADD", "big", "member:"+strconv.Itoa(i)), cmd("SADD", "bigi", strconv.Itoa(i*3)))
	}
	for i := 0; i < 600; i++ {
		s = append(s, cmd("SADD", "huge", strconv.Itoa(i)))
	}
	s = append(s,
		cmd("OBJECT", "ENCODING", "big"), cmd("OBJECT", "ENCODING", "bigi"), cmd("OBJECT", "ENCODING", "huge"), cmd("SCARD", "huge"),
		unordered("SMEMBERS", "big"), cmd("SMEMBERS", "bigi"), unordered("SINTER", "big", "big"), cmd("SINTER", "bigi", "huge"),
		cmd("SINTERCARD", "2", "bigi", "huge"), cmd("SINTERCARD", "2", "bigi", "huge", "LIMIT", "7"), unordered("SUNION", "bigi", "big"),
		cmd("SUNIONSTORE", "u", "bigi", "big"), cmd("OBJECT", "ENCODING", "u"), cmd("SDIFFSTORE", "u", "huge", "bigi"), cmd("OBJECT", "ENCODING", "u"),
		cmd("SREM", "huge", "0", "1", "2"), cmd("SISMEMBER", "huge", "3"), cmd("SRANDMEMBER", "bigi", "1000"),
		cmd("SADD", "long", strings.Repeat("x", 65)), cmd("OBJECT", "ENCODING", "long"),
	)
	return s
}

func TestDifferentialSets(t *testing.T) { runDifferentialBothProtocols(t, setScript()) }

// runDifferentialBothProtocols runs the script against a fresh node and
// redis-server in RESP2, then again after FLUSHALL in RESP3.
func runDifferentialBothProtocols(t *testing.T, script []step) {
	ours, ref := startNode(t), startRedis(t)
	t.Run("RESP2", func(t *testing.T) { runDifferential(t, ours, ref, script) })
	for _, n := range []*testNode{ours, ref} {
		if got := n.raw(t).do("FLUSHALL"); got != "+OK\r\n" {
			t.Fatalf("FLUSHALL: %q", got)
		}
	}
	t.Run("RESP3", func(t *testing.T) { runDifferentialRESP3(t, ours, ref, script) })
}

// TestDifferentialSetAndZSetCommandInfo compares COMMAND INFO and GETKEYS
// for every set and sorted set command. ZRANK and ZREVRANK are left out:
// their arity is -3 here (Redis 7.2's WITHSCORE) against 7.0's 3.
func TestDifferentialSetAndZSetCommandInfo(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	var script []step
	for _, name := range []string{"sadd", "srem", "scard", "sismember", "smismember", "smembers", "srandmember", "spop", "smove",
		"sinter", "sintercard", "sinterstore", "sunion", "sunionstore", "sdiff", "sdiffstore", "sscan",
		"zadd", "zincrby", "zrem", "zcard", "zcount", "zlexcount", "zscore", "zmscore", "zrange", "zrangestore", "zrevrange",
		"zrangebyscore", "zrevrangebyscore", "zrangebylex", "zrevrangebylex", "zremrangebyrank", "zremrangebyscore",
		"zremrangebylex", "zpopmin", "zpopmax", "bzpopmin", "bzpopmax", "zmpop", "bzmpop", "zunion", "zinter", "zdiff",
		"zunionstore", "zinterstore", "zdiffstore", "zintercard", "zrandmember", "zscan"} {
		script = append(script, cmd("COMMAND", "INFO", name))
	}
	script = append(script,
		cmd("COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"), cmd("COMMAND", "GETKEYS", "ZINTERCARD", "2", "a", "b"),
		cmd("COMMAND", "GETKEYS", "ZMPOP", "2", "a", "b", "MIN"), cmd("COMMAND", "GETKEYS", "BZMPOP", "0", "1", "a", "MAX"),
		cmd("COMMAND", "GETKEYS", "BZPOPMIN", "a", "b", "0"), cmd("COMMAND", "GETKEYS", "ZRANGESTORE", "d", "s", "0", "1"),
		cmd("COMMAND", "GETKEYS", "SMOVE", "a", "b", "m"), cmd("COMMAND", "GETKEYS", "SINTERCARD", "2", "a", "b", "LIMIT", "1"),
		cmd("COMMAND", "GETKEYS", "SDIFFSTORE", "d", "a", "b"), cmd("COMMAND", "GETKEYS", "ZDIFF", "2", "a", "b"),
	)
	runDifferential(t, ours, ref, script)
}
