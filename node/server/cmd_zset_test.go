package server

import (
	"strconv"
	"strings"
	"testing"
)

// zsetScript is a deterministic script over every sorted set command, in
// both encodings (a big set converts to skiplist), with the error cases
// whose order and words clients see.
func zsetScript() []step {
	s := []step{
		// ZADD options and errors.
		cmd("ZADD", "z", "1", "a", "2", "b", "3", "c"), cmd("ZADD", "z", "NX", "5", "a", "4", "d"), cmd("ZADD", "z", "XX", "10", "a", "11", "e"),
		cmd("ZADD", "z", "XX", "CH", "10", "a", "11", "b"), cmd("ZADD", "z", "GT", "CH", "1", "a", "20", "b"), cmd("ZADD", "z", "LT", "CH", "1", "a", "30", "b"),
		cmd("ZADD", "z", "INCR", "5", "c"), cmd("ZADD", "z", "INCR", "NX", "5", "c"), cmd("ZADD", "z", "INCR", "XX", "5", "nope"),
		cmd("ZADD", "z", "INCR", "GT", "-1", "c"), cmd("ZADD", "z", "NX", "XX", "1", "a"), cmd("ZADD", "z", "GT", "LT", "1", "a"),
		cmd("ZADD", "z", "NX", "GT", "1", "a"), cmd("ZADD", "z", "INCR", "1", "a", "2", "b"), cmd("ZADD", "z", "1"), cmd("ZADD", "z", "1", "a", "2"),
		cmd("ZADD", "z", "abc", "a"), cmd("ZADD", "z", "nan", "a"), cmd("ZADD", "z", "1", "a", "x", "b"), cmd("ZADD", "z", "inf", "inf1", "-inf", "ninf"),
		cmd("ZADD", "z", "0x10", "hex", "1e-5", "small", "0.1", "tenth", "-0", "negzero", "1.7976931348623157e308", "maxf"),
		cmd("ZADD", "z", "CH"), cmd("ZADD", "z", "ch", "nx", "1", "q"), cmd("ZADD", "newxx", "XX", "1", "a"), cmd("EXISTS", "newxx"),
		cmd("ZADD", "newxx", "XX", "INCR", "1", "a"), cmd("ZINCRBY", "z", "2.5", "a"), cmd("ZINCRBY", "z", "x", "a"), cmd("ZINCRBY", "z", "1", "new"),
		cmd("ZADD", "z", "INCR", "-inf", "inf1"), cmd("ZINCRBY", "z", "+inf", "ninf"), cmd("ZSCORE", "z", "ninf"),
		cmd("ZINCRBY", "zi", "5", "m"), cmd("ZSCORE", "zi", "m"),
		// Reads.
		cmd("ZCARD", "z"), cmd("ZCARD", "nokey"), cmd("ZSCORE", "z", "a"), cmd("ZSCORE", "z", "tenth"), cmd("ZSCORE", "z", "negzero"),
		cmd("ZSCORE", "z", "nope"), cmd("ZSCORE", "nokey", "a"), cmd("ZMSCORE", "z", "a", "nope", "c"), cmd("ZMSCORE", "nokey", "a", "b"),
		cmd("ZRANK", "z", "c"), cmd("ZREVRANK", "z", "c"), cmd("ZRANK", "z", "nope"), cmd("ZRANK", "nokey", "a"),
		cmd("ZRANGE", "z", "0", "-1", "WITHSCORES"), cmd("ZRANGE", "z", "2", "4"), cmd("ZRANGE", "z", "-3", "-1", "withscores"),
		cmd("ZRANGE", "z", "5", "2"), cmd("ZRANGE", "z", "100", "200"), cmd("ZRANGE", "z", "0", "x"), cmd("ZRANGE", "nokey", "0", "-1"),
		cmd("ZRANGE", "z", "0", "-1", "REV"), cmd("ZRANGE", "z", "(1", "20", "BYSCORE", "WITHSCORES"), cmd("ZRANGE", "z", "20", "(1", "BYSCORE", "REV"),
		cmd("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "3"), cmd("ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"),
		cmd("ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"), cmd("ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"), cmd("ZRANGE", "z", "0", "1", "REV", "REV"),
		cmd("ZRANGE", "z", "0", "1", "LIMIT", "1"), cmd("ZRANGE", "z", "0", "1", "FOO"), cmd("ZRANGE", "z", "a", "b", "BYSCORE"),
		cmd("ZRANGE", "z", "0", "-1", "BYSCORE", "LIMIT", "x", "1"),
		cmd("ZREVRANGE", "z", "0", "2", "WITHSCORES"), cmd("ZREVRANGE", "z", "0", "2", "BYSCORE"), cmd("ZREVRANGE", "z", "0", "2", "REV"),
		cmd("ZRANGEBYSCORE", "z", "-inf", "+inf"), cmd("ZRANGEBYSCORE", "z", "(1", "(20", "WITHSCORES"), cmd("ZRANGEBYSCORE", "z", "1", "20", "LIMIT", "1", "2"),
		cmd("ZRANGEBYSCORE", "z", "1", "20", "LIMIT", "-1", "2"), cmd("ZRANGEBYSCORE", "z", "1", "20", "LIMIT", "1", "-1"), cmd("ZRANGEBYSCORE", "z", "x", "1"),
		cmd("ZRANGEBYSCORE", "z", "1", "20", "REV"), cmd("ZRANGEBYSCORE", "z", "", "("), cmd("ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES"),
		cmd("ZREVRANGEBYSCORE", "z", "20", "1", "LIMIT", "0", "2"), cmd("ZREVRANGEBYSCORE", "z", "1", "20"),
		cmd("ZCOUNT", "z", "-inf", "+inf"), cmd("ZCOUNT", "z", "(1", "20"), cmd("ZCOUNT", "z", "1", "x"), cmd("ZCOUNT", "nokey", "0", "1"), cmd("ZCOUNT", "nokey", "x", "1"),
		// Lex (equal scores).
		cmd("ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "f", "0", "g"),
		cmd("ZRANGEBYLEX", "lex", "-", "+"), cmd("ZRANGEBYLEX", "lex", "[b", "(e"), cmd("ZRANGEBYLEX", "lex", "(b", "[e", "LIMIT", "1", "2"),
		cmd("ZREVRANGEBYLEX", "lex", "+", "-"), cmd("ZREVRANGEBYLEX", "lex", "[e", "(b"), cmd("ZRANGEBYLEX", "lex", "b", "e"),
		cmd("ZRANGEBYLEX", "lex", "-", "+", "WITHSCORES"), cmd("ZRANGEBYLEX", "lex", "+", "-"), cmd("ZLEXCOUNT", "lex", "-", "+"),
		cmd("ZLEXCOUNT", "lex", "[b", "[d"), cmd("ZLEXCOUNT", "lex", "x", "+"), cmd("ZLEXCOUNT", "nokey", "-", "+"),
		cmd("ZRANGE", "lex", "[c", "-", "BYLEX", "REV", "LIMIT", "0", "2"),
		// Stores.
		cmd("ZRANGESTORE", "dst", "z", "0", "2"), cmd("ZRANGE", "dst", "0", "-1", "WITHSCORES"), cmd("ZRANGESTORE", "dst", "z", "1", "20", "BYSCORE", "LIMIT", "0", "2"),
		cmd("ZRANGESTORE", "dst", "lex", "[b", "[d", "BYLEX", "REV"), cmd("ZRANGE", "dst", "0", "-1"), cmd("ZRANGESTORE", "dst", "z", "0", "-1", "WITHSCORES"),
		cmd("ZRANGESTORE", "dst", "nokey", "0", "-1"), cmd("EXISTS", "dst"), cmd("OBJECT", "ENCODING", "lex"),
		cmd("ZADD", "u1", "1", "a", "2", "b", "3", "c"), cmd("ZADD", "u2", "10", "b", "20", "c", "30", "d"), cmd("SADD", "us", "c", "d", "e"),
		cmd("ZUNION", "2", "u1", "u2", "WITHSCORES"), cmd("ZUNION", "2", "u1", "u2", "WEIGHTS", "2", "0.5", "WITHSCORES"),
		cmd("ZUNION", "3", "u1", "u2", "us", "AGGREGATE", "MIN", "WITHSCORES"), cmd("ZUNION", "2", "u1", "u2", "AGGREGATE", "max", "withscores"),
		cmd("ZINTER", "2", "u1", "u2", "WITHSCORES"), cmd("ZINTER", "3", "u1", "u2", "us", "WITHSCORES"), cmd("ZINTER", "2", "u1", "nokey"),
		cmd("ZDIFF", "2", "u1", "u2", "WITHSCORES"), cmd("ZDIFF", "2", "us", "u1", "WITHSCORES"), cmd("ZDIFF", "1", "u1"),
		cmd("ZINTERCARD", "2", "u1", "u2"), cmd("ZINTERCARD", "2", "u1", "u2", "LIMIT", "1"), cmd("ZINTERCARD", "2", "u1", "u2", "LIMIT", "-1"),
		cmd("ZINTERCARD", "0", "u1"), cmd("ZINTERCARD", "3", "u1"), cmd("ZINTERCARD", "1", "u1", "WITHSCORES"),
		cmd("ZUNIONSTORE", "out", "2", "u1", "u2"), cmd("ZRANGE", "out", "0", "-1", "WITHSCORES"), cmd("ZINTERSTORE", "out", "2", "u1", "u2", "WEIGHTS", "1", "inf"),
		cmd("ZRANGE", "out", "0", "-1", "WITHSCORES"), cmd("ZDIFFSTORE", "out", "2", "u1", "u1"), cmd("EXISTS", "out"),
		cmd("ZUNIONSTORE", "out", "0", "u1"), cmd("ZUNIONSTORE", "out", "x", "u1"), cmd("ZUNIONSTORE", "out", "3", "u1"), cmd("ZUNION", "1", "u1", "WEIGHTS", "x"),
		cmd("ZUNION", "2", "u1", "u2", "WEIGHTS", "1"), cmd("ZUNION", "1", "u1", "AGGREGATE", "avg"), cmd("ZUNIONSTORE", "out", "1", "u1", "WITHSCORES"),
		cmd("ZDIFF", "1", "u1", "WEIGHTS", "1"), cmd("ZDIFF", "1", "u1", "AGGREGATE", "SUM"), cmd("ZINTER", "1", "u1", "LIMIT", "1"),
		cmd("ZUNION", "1", "u1", "WEIGHTS", "0"), cmd("ZADD", "infs", "inf", "x"), cmd("ZUNION", "1", "infs", "WEIGHTS", "0", "WITHSCORES"),
		cmd("ZUNION", "2", "infs", "infs", "WEIGHTS", "1", "-1", "WITHSCORES"),
		// Removals.
		cmd("ZREM", "u1", "a", "nope"), cmd("ZREM", "u1", "b", "c", "x"), cmd("EXISTS", "u1"), cmd("ZREM", "nokey", "a"),
		cmd("ZREMRANGEBYRANK", "u2", "0", "0"), cmd("ZREMRANGEBYRANK", "u2", "5", "10"), cmd("ZREMRANGEBYRANK", "u2", "x", "1"),
		cmd("ZREMRANGEBYSCORE", "u2", "(20", "+inf"), cmd("ZREMRANGEBYSCORE", "u2", "x", "1"), cmd("ZREMRANGEBYSCORE", "u2", "-inf", "+inf"),
		cmd("EXISTS", "u2"), cmd("ZREMRANGEBYLEX", "lex", "[b", "[c"), cmd("ZREMRANGEBYLEX", "lex", "x", "+"), cmd("ZRANGE", "lex", "0", "-1"),
		cmd("ZREMRANGEBYRANK", "nokey", "0", "1"),
		// Pops.
		cmd("ZADD", "p", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"), cmd("ZPOPMIN", "p"), cmd("ZPOPMAX", "p"), cmd("ZPOPMIN", "p", "2"),
		cmd("ZPOPMAX", "p", "0"), cmd("ZPOPMIN", "p", "-1"), cmd("ZPOPMIN", "p", "x"), cmd("ZPOPMIN", "p", "1", "2"), cmd("ZPOPMAX", "p", "10"),
		cmd("EXISTS", "p"), cmd("ZPOPMIN", "nokey"), cmd("ZPOPMIN", "nokey", "2"),
		cmd("ZADD", "p", "1", "a", "2", "b", "3", "c"), cmd("ZMPOP", "2", "nokey", "p", "MIN"), cmd("ZMPOP", "1", "p", "MAX", "COUNT", "10"),
		cmd("ZMPOP", "1", "p", "MIN"), cmd("ZMPOP", "0", "p", "MIN"), cmd("ZMPOP", "1", "p", "UP"), cmd("ZMPOP", "1", "p", "MIN", "COUNT", "0"),
		cmd("ZMPOP", "1", "p", "MIN", "COUNT", "1", "COUNT", "1"), cmd("ZMPOP", "5", "p", "MIN"), cmd("ZMPOP", "1", "p"),
		cmd("ZADD", "p", "1", "a", "2", "b"), cmd("BZPOPMIN", "nokey", "p", "0"), cmd("BZPOPMAX", "p", "0"), cmd("EXISTS", "p"),
		cmd("BZPOPMIN", "p", "x"), cmd("BZPOPMIN", "p", "-1"), cmd("ZADD", "p", "1", "a", "2", "b"),
		cmd("BZMPOP", "0", "1", "p", "MAX", "COUNT", "5"), cmd("BZMPOP", "x", "1", "p", "MAX"), cmd("BZMPOP", "0", "0", "p", "MAX"),
		cmd("MULTI"), cmd("BZPOPMIN", "nokey", "0"), cmd("BZMPOP", "0", "1", "nokey", "MIN"), cmd("EXEC"),
		cmd("BZPOPMIN", "nokey", "0.01"), cmd("BZMPOP", "0.01", "1", "nokey", "MIN"),
		// Random members: deterministic when the count covers the set.
		cmd("ZADD", "r", "1", "a", "2", "b", "3", "c"), cmd("ZRANDMEMBER", "r", "3"), cmd("ZRANDMEMBER", "r", "10", "WITHSCORES"),
		cmd("ZRANDMEMBER", "r", "0"), cmd("ZRANDMEMBER", "nokey"), cmd("ZRANDMEMBER", "nokey", "5"), cmd("ZRANDMEMBER", "r", "x"),
		cmd("ZRANDMEMBER", "r", "1", "FOO"), cmd("ZRANDMEMBER", "r", "1", "WITHSCORES", "x"), cmd("ZRANDMEMBER", "r", "-9223372036854775808"),
		cmd("ZRANDMEMBER", "r", "-5000000000000000000", "WITHSCORES"), cmd("ZRANDMEMBER", "single"), cmd("ZADD", "single", "1", "only"),
		cmd("ZRANDMEMBER", "single"), cmd("ZRANDMEMBER", "single", "-3", "WITHSCORES"),
		// Scans.
		cmd("ZSCAN", "r", "0"), cmd("ZSCAN", "r", "0", "MATCH", "[ab]"), cmd("ZSCAN", "nokey", "0", "COUNT", "abc"), cmd("ZSCAN", "r", "x"),
		cmd("ZSCAN", "r", "0", "COUNT", "0"), cmd("ZSCAN", "r", "0", "FOO"), cmd("ZSCAN", "z", "0", "COUNT", "100"),
		// Wrong types.
		cmd("SET", "str", "v"), cmd("ZADD", "str", "1", "a"), cmd("ZINCRBY", "str", "1", "a"), cmd("ZREM", "str", "a"), cmd("ZCARD", "str"),
		cmd("ZSCORE", "str", "a"), cmd("ZMSCORE", "str", "a"), cmd("ZRANK", "str", "a"), cmd("ZRANGE", "str", "0", "1"), cmd("ZCOUNT", "str", "0", "1"),
		cmd("ZLEXCOUNT", "str", "-", "+"), cmd("ZRANGESTORE", "dst", "str", "0", "1"), cmd("ZUNION", "2", "u1", "str"), cmd("ZPOPMIN", "str"),
		cmd("BZPOPMIN", "str", "0"), cmd("ZMPOP", "2", "nokey", "str", "MIN"), cmd("ZRANDMEMBER", "str"), cmd("ZSCAN", "str", "0"),
		cmd("ZREMRANGEBYRANK", "str", "0", "1"), cmd("ZUNIONSTORE", "str", "1", "r"), cmd("TYPE", "str"), cmd("ZRANGE", "str", "0", "-1"),
		cmd("ZADD"), cmd("ZADD", "k"), cmd("ZRANGE", "k", "0"), cmd("ZPOPMIN"),
	}
	// A set big enough for the skiplist encoding, with ties and mixed
	// scores, read through every range form.
	for i := 0; i < 300; i++ {
		s = append(s, cmd("ZADD", "big", strconv.Itoa(i%37)+"."+strconv.Itoa(i%3), "m"+strconv.Itoa(i*7919%1000)))
	}
	s = append(s,
		cmd("OBJECT", "ENCODING", "big"), cmd("ZCARD", "big"), cmd("ZRANGE", "big", "0", "-1", "WITHSCORES"), cmd("ZRANGE", "big", "100", "110", "REV"),
		cmd("ZRANGEBYSCORE", "big", "(5", "9.1", "WITHSCORES", "LIMIT", "3", "10"), cmd("ZREVRANGEBYSCORE", "big", "30", "(20", "LIMIT", "2", "5"),
		cmd("ZCOUNT", "big", "5", "(9"), cmd("ZRANK", "big", "m500"), cmd("ZREVRANK", "big", "m500"), cmd("ZSCORE", "big", "m7"),
		cmd("ZRANDMEMBER", "big", "1000", "WITHSCORES"), cmd("ZINTER", "2", "big", "big", "WITHSCORES"), cmd("ZUNIONSTORE", "big2", "1", "big"),
		cmd("OBJECT", "ENCODING", "big2"), cmd("ZRANGESTORE", "small", "big", "0", "9"), cmd("OBJECT", "ENCODING", "small"),
		cmd("ZREMRANGEBYRANK", "big", "10", "-10"), cmd("ZRANGE", "big", "0", "-1", "WITHSCORES"), cmd("ZREMRANGEBYSCORE", "big", "0", "(1"),
		cmd("ZPOPMAX", "big", "3"), cmd("ZRANGE", "big", "0", "-1", "WITHSCORES"), cmd("OBJECT", "ENCODING", "big"),
		cmd("ZADD", "long", "1", strings.Repeat("x", 65)), cmd("OBJECT", "ENCODING", "long"),
	)
	return s
}

func TestDifferentialZSets(t *testing.T) { runDifferentialBothProtocols(t, zsetScript()) }
