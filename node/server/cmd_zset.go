package server

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/keyspace/set"
	"github.com/shoal-dev/shoal/node/keyspace/zset"
)

// zsetHandlers returns the handlers of the zset commands by command name
// (see "Adding a command group" in doc.go). The command specs live in
// node/command/zset.go. Argument checks follow Redis 7.0's t_zset.c in
// order, since the order decides which error a client sees; ZRANK and
// ZREVRANK also take Redis 7.2's WITHSCORE.
func zsetHandlers() map[string]Handler {
	return map[string]Handler{
		"zadd":             func(c *Client) { c.zaddGeneric(0) },
		"zincrby":          func(c *Client) { c.zaddGeneric(zset.AddIncr) },
		"zrem":             func(c *Client) { removeMembers[*zset.ZSet](c, keyspace.TypeZSet) },
		"zcard":            func(c *Client) { cardinality(c, keyspace.TypeZSet) },
		"zcount":           func(c *Client) { c.zcountGeneric(rangeScore) },
		"zlexcount":        func(c *Client) { c.zcountGeneric(rangeLex) },
		"zscore":           cmdZscore,
		"zmscore":          cmdZmscore,
		"zrank":            func(c *Client) { c.zrankGeneric(false) },
		"zrevrank":         func(c *Client) { c.zrankGeneric(true) },
		"zrange":           func(c *Client) { c.zrangeGeneric(1, false, rangeAuto, dirAuto) },
		"zrangestore":      func(c *Client) { c.zrangeGeneric(2, true, rangeAuto, dirAuto) },
		"zrevrange":        func(c *Client) { c.zrangeGeneric(1, false, rangeRank, dirReverse) },
		"zrangebyscore":    func(c *Client) { c.zrangeGeneric(1, false, rangeScore, dirForward) },
		"zrevrangebyscore": func(c *Client) { c.zrangeGeneric(1, false, rangeScore, dirReverse) },
		"zrangebylex":      func(c *Client) { c.zrangeGeneric(1, false, rangeLex, dirForward) },
		"zrevrangebylex":   func(c *Client) { c.zrangeGeneric(1, false, rangeLex, dirReverse) },
		"zremrangebyrank":  func(c *Client) { c.zremrangeGeneric(rangeRank) },
		"zremrangebyscore": func(c *Client) { c.zremrangeGeneric(rangeScore) },
		"zremrangebylex":   func(c *Client) { c.zremrangeGeneric(rangeLex) },
		"zpopmin":          func(c *Client) { c.zpopMinMax(false) },
		"zpopmax":          func(c *Client) { c.zpopMinMax(true) },
		"bzpopmin":         func(c *Client) { c.bzpopMinMax(false) },
		"bzpopmax":         func(c *Client) { c.bzpopMinMax(true) },
		"zmpop":            func(c *Client) { c.zmpopGeneric(1, false) },
		"bzmpop":           func(c *Client) { c.zmpopGeneric(2, true) },
		"zunion":           func(c *Client) { c.zsetOpGeneric(opUnion, false, false) },
		"zinter":           func(c *Client) { c.zsetOpGeneric(opInter, false, false) },
		"zdiff":            func(c *Client) { c.zsetOpGeneric(opDiff, false, false) },
		"zunionstore":      func(c *Client) { c.zsetOpGeneric(opUnion, true, false) },
		"zinterstore":      func(c *Client) { c.zsetOpGeneric(opInter, true, false) },
		"zdiffstore":       func(c *Client) { c.zsetOpGeneric(opDiff, true, false) },
		"zintercard":       func(c *Client) { c.zsetOpGeneric(opInter, false, true) },
		"zrandmember":      cmdZrandmember,
		"zscan":            cmdZscan,
	}
}

// zsetLimits are zset-max-listpack-entries and zset-max-listpack-value.
func (c *Client) zsetLimits() zset.Limits { return c.srv.cfg.Encoding.ZSet }

// randSource is the random source of ZRANDMEMBER, SRANDMEMBER and SPOP:
// the server's injected one when set (tests), math/rand/v2 otherwise.
func (c *Client) randSource() zset.Rand { return hashRand{c.srv.env.Rand} }

// Error replies of the sorted set commands worded as Redis 7.0 words them.
const (
	errZaddXXNX        = "ERR XX and NX options at the same time are not compatible"
	errZaddGTLTNX      = "ERR GT, LT, and/or NX options at the same time are not compatible"
	errZaddIncrPair    = "ERR INCR option supports a single increment-element pair"
	errLimitRank       = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	errWithscoresLex   = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
	errWeightNotFloat  = "ERR weight value is not a float"
	errLimitNegative   = "ERR LIMIT can't be negative"
	errOutOfRange      = "ERR value is out of range"
	errOutOfRangeLong  = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
	maxRandomReplySize = 1 << 30 // see randomReplyInChunks
)

// rangeType and direction are zrangeGenericCommand's ZRANGE_* parameters.
type rangeType uint8

const (
	rangeAuto rangeType = iota
	rangeRank
	rangeScore
	rangeLex
)

type direction uint8

const (
	dirAuto direction = iota
	dirForward
	dirReverse
)

// zsetForRead looks key up for reading: z is nil when the key is missing
// (nothing replied) or of another type (WRONGTYPE replied, ok false).
func (c *Client) zsetForRead(key []byte) (*zset.ZSet, bool) {
	return objectForRead[*zset.ZSet](c, key, keyspace.TypeZSet)
}

// zsetForWrite is zsetForRead for a command that changes the set.
func (c *Client) zsetForWrite(key []byte) (*keyspace.Entry, *zset.ZSet, bool) {
	return objectForWrite[*zset.ZSet](c, key, keyspace.TypeZSet)
}

// replyScored replies members, with their scores if withScores: a flat
// array in RESP2, an array of [member, score] pairs in RESP3.
func (c *Client) replyScored(es []zset.Entry, withScores bool) {
	c.replyScoredHeader(len(es), withScores)
	for _, e := range es {
		c.replyScoredEntry(e, withScores)
	}
}

func (c *Client) replyScoredHeader(n int, withScores bool) {
	if withScores && c.W.Proto() == 2 {
		n *= 2
	}
	c.W.ArrayLen(n)
}

func (c *Client) replyScoredEntry(e zset.Entry, withScores bool) {
	if withScores && c.W.Proto() > 2 {
		c.W.ArrayLen(2)
	}
	c.W.Bulk(e.Member)
	if withScores {
		c.W.Double(e.Score)
	}
}

// zaddGeneric is ZADD and (with AddIncr) ZINCRBY.
func (c *Client) zaddGeneric(flags zset.AddFlags) {
	args := c.Args
	key := args[1]
	ch := false
	i := 2
options:
	for ; i < len(args); i++ {
		switch a := args[i]; {
		case eqFold(a, "nx"):
			flags |= zset.AddNX
		case eqFold(a, "xx"):
			flags |= zset.AddXX
		case eqFold(a, "ch"):
			ch = true
		case eqFold(a, "incr"):
			flags |= zset.AddIncr
		case eqFold(a, "gt"):
			flags |= zset.AddGT
		case eqFold(a, "lt"):
			flags |= zset.AddLT
		default:
			break options
		}
	}
	elements := len(args) - i
	if elements%2 != 0 || elements == 0 {
		c.Error(ErrSyntax)
		return
	}
	elements /= 2
	nx, xx, gt, lt, incr := flags&zset.AddNX != 0, flags&zset.AddXX != 0, flags&zset.AddGT != 0, flags&zset.AddLT != 0, flags&zset.AddIncr != 0
	switch {
	case nx && xx:
		c.Error(errZaddXXNX)
		return
	case (gt && nx) || (lt && nx) || (gt && lt):
		c.Error(errZaddGTLTNX)
		return
	case incr && elements > 1:
		c.Error(errZaddIncrPair)
		return
	}
	var buf [8]float64
	scores := buf[:0]
	for j := 0; j < elements; j++ {
		s, ok := zset.ParseScore(args[i+2*j])
		if !ok {
			c.Error(ErrNotFloat)
			return
		}
		scores = append(scores, s)
	}
	_, z, ok := c.zsetForWrite(key)
	if !ok {
		return
	}
	lim := c.zsetLimits()
	created := false
	if z == nil {
		if xx {
			c.zaddReply(incr, ch, 0, 0, 0, 0)
			return
		}
		z = zset.New(lim, len(args[i+1]))
		c.DB.AddObject(key, keyspace.TypeZSet, z)
		created = true
	}
	added, updated, processed := 0, 0, 0
	var score float64
	var err error
	for j := 0; j < elements && err == nil; j++ {
		var res zset.AddResult
		score, res, err = z.Add(lim, args[i+2*j+1], scores[j], flags)
		switch res {
		case zset.Added:
			added++
		case zset.Updated:
			updated++
		}
		if err == nil && res != zset.NOP {
			processed++
		}
	}
	if err != nil {
		c.Error(err.Error())
	} else {
		c.zaddReply(incr, ch, added, updated, processed, score)
	}
	if added+updated > 0 {
		c.Modified(key)
		c.AddDirty(int64(added + updated - 1))
	}
	if created {
		c.SignalReady(key)
	}
}

func (c *Client) zaddReply(incr, ch bool, added, updated, processed int, score float64) {
	switch {
	case incr && processed > 0:
		c.W.Double(score)
	case incr:
		c.W.Null()
	case ch:
		c.W.Int(int64(added + updated))
	default:
		c.W.Int(int64(added))
	}
}

// parseScoreRange and parseLexRange reply Redis's error on failure.
func (c *Client) parseScoreRange(lo, hi []byte) (zset.ScoreRange, bool) {
	return parseRange(c, zset.ParseScoreRange, lo, hi)
}

func (c *Client) parseLexRange(lo, hi []byte) (zset.LexRange, bool) {
	return parseRange(c, zset.ParseLexRange, lo, hi)
}

func parseRange[R any](c *Client, parse func(lo, hi []byte) (R, error), lo, hi []byte) (R, bool) {
	r, err := parse(lo, hi)
	if err != nil {
		c.Error(err.Error())
		return r, false
	}
	return r, true
}

// zcountGeneric is ZCOUNT and ZLEXCOUNT: the range is parsed first.
func (c *Client) zcountGeneric(rt rangeType) {
	var sr zset.ScoreRange
	var lr zset.LexRange
	var ok bool
	if rt == rangeScore {
		sr, ok = c.parseScoreRange(c.Args[2], c.Args[3])
	} else {
		lr, ok = c.parseLexRange(c.Args[2], c.Args[3])
	}
	if !ok {
		return
	}
	z, ok := c.zsetForRead(c.Args[1])
	if !ok {
		return
	}
	switch {
	case z == nil:
		c.W.Int(0)
	case rt == rangeScore:
		c.W.Int(int64(z.CountByScore(sr)))
	default:
		c.W.Int(int64(z.CountByLex(lr)))
	}
}

func cmdZscore(c *Client) {
	z, ok := c.zsetForRead(c.Args[1])
	if !ok {
		return
	}
	if z == nil {
		c.W.Null()
		return
	}
	if s, found := z.Score(c.Args[2]); found {
		c.W.Double(s)
		return
	}
	c.W.Null()
}

func cmdZmscore(c *Client) {
	z, ok := c.zsetForRead(c.Args[1])
	if !ok {
		return
	}
	c.W.ArrayLen(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		if z != nil {
			if s, found := z.Score(m); found {
				c.W.Double(s)
				continue
			}
		}
		c.W.Null()
	}
}

// zrankGeneric is ZRANK and ZREVRANK, with Redis 7.2's WITHSCORE.
func (c *Client) zrankGeneric(rev bool) {
	args := c.Args
	if len(args) > 4 {
		c.Error("ERR wrong number of arguments for '" + c.Cmd.FullName() + "' command")
		return
	}
	withScore := false
	if len(args) == 4 {
		if !eqFold(args[3], "withscore") {
			c.Error(ErrSyntax)
			return
		}
		withScore = true
	}
	notFound := func() {
		if withScore {
			c.W.NullArray()
		} else {
			c.W.Null()
		}
	}
	z, ok := c.zsetForRead(args[1])
	if !ok {
		return
	}
	if z == nil {
		notFound()
		return
	}
	rank, score, found := z.Rank(args[2], rev)
	if !found {
		notFound()
		return
	}
	if withScore {
		c.W.ArrayLen(2)
		c.W.Int(int64(rank))
		c.W.Double(score)
		return
	}
	c.W.Int(int64(rank))
}

// zrangeGeneric is zrangeGenericCommand: ZRANGE (argStart 1) and
// ZRANGESTORE (argStart 2, store), and with a fixed range type and
// direction ZREVRANGE, Z[REV]RANGEBYSCORE and Z[REV]RANGEBYLEX.
func (c *Client) zrangeGeneric(argStart int, store bool, rt rangeType, dir direction) {
	args := c.Args
	key := args[argStart]
	minIdx, maxIdx := argStart+1, argStart+2
	withScores := false
	var offset, limit int64 = 0, -1
	for j := argStart + 3; j < len(args); j++ {
		left := len(args) - j - 1
		switch a := args[j]; {
		case !store && eqFold(a, "withscores"):
			withScores = true
		case eqFold(a, "limit") && left >= 2:
			var ok bool
			if offset, ok = c.ParseInt(args[j+1]); !ok {
				return
			}
			if limit, ok = c.ParseInt(args[j+2]); !ok {
				return
			}
			j += 2
		case dir == dirAuto && eqFold(a, "rev"):
			dir = dirReverse
		case rt == rangeAuto && eqFold(a, "bylex"):
			rt = rangeLex
		case rt == rangeAuto && eqFold(a, "byscore"):
			rt = rangeScore
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	if dir == dirAuto {
		dir = dirForward
	}
	if rt == rangeAuto {
		rt = rangeRank
	}
	if limit != -1 && rt == rangeRank {
		c.Error(errLimitRank)
		return
	}
	if withScores && rt == rangeLex {
		c.Error(errWithscoresLex)
		return
	}
	rev := dir == dirReverse
	if rev && rt != rangeRank {
		minIdx, maxIdx = maxIdx, minIdx // given as max min
	}
	spec, ok := c.parseZrange(rt, args[minIdx], args[maxIdx])
	if !ok {
		return
	}
	z, ok := c.zsetForRead(key)
	if !ok {
		return
	}
	var buf [32]zset.Entry
	es := buf[:0]
	if z != nil {
		switch rt {
		case rangeRank:
			if s, e, ok := zset.RankRange(clampInt(spec.start), clampInt(spec.stop), z.Len()); ok {
				es = z.AppendRangeByRank(es, s, e, rev)
			}
		case rangeScore:
			es = z.AppendRangeByScore(es, spec.score, rev, clampInt(offset), clampInt(limit))
		case rangeLex:
			es = z.AppendRangeByLex(es, spec.lex, rev, clampInt(offset), clampInt(limit))
		}
	}
	if store {
		c.storeValue(args[1], keyspace.TypeZSet, zset.FromSorted(c.zsetLimits(), es))
		return
	}
	c.replyScored(es, withScores)
}

// clampInt converts a parsed 64-bit argument to int (a no-op on 64-bit
// platforms).
func clampInt(n int64) int {
	return int(max(min(n, math.MaxInt), math.MinInt))
}

// zrangeSpec is a parsed rank, score or lex range.
type zrangeSpec struct {
	start, stop int64
	score       zset.ScoreRange
	lex         zset.LexRange
}

// parseZrange parses lo and hi as a range of type rt (a rank range as
// integers), replying the error on failure.
func (c *Client) parseZrange(rt rangeType, lo, hi []byte) (spec zrangeSpec, ok bool) {
	switch rt {
	case rangeRank:
		if spec.start, ok = c.ParseInt(lo); !ok {
			return spec, false
		}
		spec.stop, ok = c.ParseInt(hi)
	case rangeScore:
		spec.score, ok = c.parseScoreRange(lo, hi)
	default:
		spec.lex, ok = c.parseLexRange(lo, hi)
	}
	return spec, ok
}

// zremrangeGeneric is ZREMRANGEBYRANK, ZREMRANGEBYSCORE and ZREMRANGEBYLEX.
func (c *Client) zremrangeGeneric(rt rangeType) {
	spec, ok := c.parseZrange(rt, c.Args[2], c.Args[3])
	if !ok {
		return
	}
	key := c.Args[1]
	e, z, ok := c.zsetForWrite(key)
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	deleted := 0
	switch rt {
	case rangeRank:
		if s, e, ok := zset.RankRange(clampInt(spec.start), clampInt(spec.stop), z.Len()); ok {
			deleted = z.RemoveRangeByRank(s, e)
		}
	case rangeScore:
		deleted = z.RemoveRangeByScore(spec.score)
	default:
		deleted = z.RemoveRangeByLex(spec.lex)
	}
	c.W.Int(int64(deleted))
	c.removedFrom(e, z, key, deleted)
}

// zpopName returns ZPOPMIN or ZPOPMAX (top), the commands the blocking
// and multi-key pops propagate as.
func zpopName(top bool) []byte {
	if top {
		return []byte("ZPOPMAX")
	}
	return []byte("ZPOPMIN")
}

// firstZset returns the first of keys holding a sorted set (sorted sets
// are never empty). A key of another type replies WRONGTYPE (ok false),
// except when a blocked client is served again: Redis 7.0 then serves it
// from the key that became ready, so the others are skipped.
func (c *Client) firstZset(keys [][]byte) (e *keyspace.Entry, key []byte, ok bool) {
	for _, k := range keys {
		e := c.LookupWrite(k)
		if e == nil {
			continue
		}
		if e.Type() != keyspace.TypeZSet {
			if c.Reexecuted() {
				continue
			}
			c.WrongType()
			return nil, nil, false
		}
		return e, k, true
	}
	return nil, nil, true
}

// zpopReply pops up to count members from the set at e and replies them in
// one of genericZpopCommand's shapes: flat (ZPOPMIN in RESP2, or with
// emitKey BZPOPMIN's [key, member, score]) or nested (ZPOPMIN with a count
// in RESP3; with emitKey ZMPOP's [key, [[member, score], ...]]). It returns
// how many it popped.
func (c *Client) zpopReply(e *keyspace.Entry, key []byte, top bool, count int64, emitKey, nested bool) int {
	z := e.Object().(*zset.ZSet)
	popped := z.Pop(int(min(count, int64(z.Len()))), top)
	n := len(popped)
	switch {
	case !nested && !emitKey:
		c.W.ArrayLen(2 * n)
	case nested && !emitKey:
		c.W.ArrayLen(n)
	case !nested && emitKey:
		c.W.ArrayLen(2*n + 1)
		c.W.Bulk(key)
	default:
		c.W.ArrayLen(2)
		c.W.Bulk(key)
		c.W.ArrayLen(n)
	}
	for _, p := range popped {
		if nested {
			c.W.ArrayLen(2)
		}
		c.W.Bulk(p.Member)
		c.W.Double(p.Score)
	}
	c.removedFrom(e, z, key, n)
	return n
}

// zpopMinMax is ZPOPMIN and ZPOPMAX.
func (c *Client) zpopMinMax(top bool) {
	if len(c.Args) > 3 {
		c.Error(ErrSyntax)
		return
	}
	count := int64(-1)
	if len(c.Args) == 3 {
		var ok bool
		if count, ok = c.parsePositive(c.Args[2], errMustBePositive); !ok {
			return
		}
	}
	e, key, ok := c.firstZset(c.Args[1:2])
	if !ok {
		return
	}
	if e == nil || count == 0 {
		c.W.ArrayLen(0)
		return
	}
	nested := c.W.Proto() > 2 && count != -1
	c.zpopReply(e, key, top, max(count, 1), false, nested)
}

// bzpopMinMax is BZPOPMIN and BZPOPMAX; served, they propagate as
// ZPOPMIN/ZPOPMAX key.
func (c *Client) bzpopMinMax(top bool) {
	keys := c.Args[1 : len(c.Args)-1]
	timeout, ok := c.ParseTimeout(c.Args[len(c.Args)-1])
	if !ok {
		return
	}
	e, key, ok := c.firstZset(keys)
	if !ok {
		return
	}
	if e == nil {
		c.BlockOnKeys(keys, timeout, nil)
		return
	}
	c.zpopReply(e, key, top, 1, true, false)
	c.Rewrite(zpopName(top), key)
}

// zmpopGeneric is ZMPOP (numkeys at 1) and BZMPOP (timeout at 1, numkeys
// at 2). Both propagate as ZPOPMIN/ZPOPMAX key count: ZMPOP with the count
// asked for, a served BZMPOP with the count popped, as Redis 7.0.
func (c *Client) zmpopGeneric(numkeysIdx int, block bool) {
	args := c.Args
	numkeys, ok := c.parseAtLeastOne(args[numkeysIdx], errNumkeysPositive)
	if !ok {
		return
	}
	if numkeys >= int64(len(args)) || numkeysIdx+int(numkeys)+1 >= len(args) {
		c.Error(ErrSyntax)
		return
	}
	whereIdx := numkeysIdx + int(numkeys) + 1
	var top bool
	switch {
	case eqFold(args[whereIdx], "min"):
	case eqFold(args[whereIdx], "max"):
		top = true
	default:
		c.Error(ErrSyntax)
		return
	}
	count, ok := c.parseMPopCount(args[whereIdx+1:])
	if !ok {
		return
	}
	keys := args[numkeysIdx+1 : whereIdx]
	var timeout time.Duration
	if block {
		if timeout, ok = c.ParseTimeout(args[1]); !ok {
			return
		}
	}
	e, key, ok := c.firstZset(keys)
	if !ok {
		return
	}
	if e == nil {
		if block {
			c.BlockOnKeys(keys, timeout, nil)
		} else {
			c.W.NullArray()
		}
		return
	}
	n := int64(c.zpopReply(e, key, top, count, true, true))
	if !block {
		n = count
	}
	c.Rewrite(zpopName(top), key, strconv.AppendInt(nil, n, 10))
}

// setOp is ZUNION/ZINTER/ZDIFF's operation (also SUNION/SINTER/SDIFF's).
type setOp uint8

const (
	opUnion setOp = iota
	opInter
	opDiff
)

// zsetOpGeneric is zunionInterDiffGenericCommand: ZUNION, ZINTER, ZDIFF,
// their STORE variants and ZINTERCARD (cardOnly). Plain sets are accepted
// as inputs with score 1.
func (c *Client) zsetOpGeneric(op setOp, store, cardOnly bool) {
	args := c.Args
	nkIdx := 1
	if store {
		nkIdx = 2
	}
	setnum, ok := c.ParseInt(args[nkIdx])
	if !ok {
		return
	}
	if setnum < 1 {
		c.Error("ERR at least 1 input key is needed for '" + c.Cmd.FullName() + "' command")
		return
	}
	if setnum > int64(len(args)-(nkIdx+1)) {
		c.Error(ErrSyntax)
		return
	}
	inputs := make([]zset.Input, setnum)
	j := nkIdx + 1
	for i := range inputs {
		inputs[i].Weight = 1
		e := c.LookupRead(args[j])
		j++
		if e == nil {
			continue
		}
		switch e.Type() {
		case keyspace.TypeZSet:
			inputs[i].Z = e.Object().(*zset.ZSet)
		case keyspace.TypeSet:
			inputs[i].Set = e.Object().(*set.Set)
		default:
			c.WrongType()
			return
		}
	}
	agg := zset.AggregateSum
	withScores := false
	limit := int64(0)
	for remaining := len(args) - j; remaining > 0; remaining = len(args) - j {
		switch a := args[j]; {
		case op != opDiff && !cardOnly && remaining >= int(setnum)+1 && eqFold(a, "weights"):
			j++
			for i := range inputs {
				w, ok := zset.ParseScore(args[j])
				if !ok {
					c.Error(errWeightNotFloat)
					return
				}
				inputs[i].Weight = w
				j++
			}
		case op != opDiff && !cardOnly && remaining >= 2 && eqFold(a, "aggregate"):
			switch v := args[j+1]; {
			case eqFold(v, "sum"):
				agg = zset.AggregateSum
			case eqFold(v, "min"):
				agg = zset.AggregateMin
			case eqFold(v, "max"):
				agg = zset.AggregateMax
			default:
				c.Error(ErrSyntax)
				return
			}
			j += 2
		case !store && !cardOnly && eqFold(a, "withscores"):
			withScores = true
			j++
		case cardOnly && remaining >= 2 && eqFold(a, "limit"):
			if limit, ok = c.parsePositive(args[j+1], errLimitNegative); !ok {
				return
			}
			j += 2
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	if cardOnly {
		c.W.Int(int64(zset.InterCard(inputs, clampInt(limit))))
		return
	}
	lim := c.zsetLimits()
	var res *zset.ZSet
	switch op {
	case opUnion:
		res = zset.Union(lim, inputs, agg)
	case opInter:
		res = zset.Inter(lim, inputs, agg)
	default:
		res = zset.Diff(lim, inputs)
	}
	if store {
		c.storeValue(args[1], keyspace.TypeZSet, res)
		return
	}
	c.replyScoredHeader(res.Len(), withScores)
	for m, s := range res.All() {
		c.replyScoredEntry(zset.Entry{Member: m, Score: s}, withScores)
	}
}

func cmdZrandmember(c *Client) {
	args := c.Args
	if len(args) < 3 {
		z, ok := c.zsetForRead(args[1])
		if !ok {
			return
		}
		if z == nil {
			c.W.Null()
			return
		}
		e, _ := z.RandomMember(c.randSource())
		c.W.Bulk(e.Member)
		return
	}
	l, ok := c.parseRandomCount(args[2])
	if !ok {
		return
	}
	if len(args) > 4 || (len(args) == 4 && !eqFold(args[3], "withscores")) {
		c.Error(ErrSyntax)
		return
	}
	withScores := len(args) == 4
	if withScores && (l < -math.MaxInt64/2 || l > math.MaxInt64/2) {
		c.Error(errOutOfRange)
		return
	}
	z, ok := c.zsetForRead(args[1])
	if !ok {
		return
	}
	if z == nil || l == 0 {
		c.W.ArrayLen(0)
		return
	}
	rnd := c.randSource()
	if l > 0 {
		c.replyScored(z.AppendRandom(nil, clampInt(l), true, rnd), withScores)
		return
	}
	// A negative count: -l independent picks, written in chunks so the
	// reply buffer, not a list of picks, holds them.
	count := -l
	c.replyScoredHeader(clampInt(count), withScores)
	var buf [randomChunk]zset.Entry
	c.randomReplyInChunks(count, func(n int) {
		for _, e := range z.AppendRandom(buf[:0], n, false, rnd) {
			c.replyScoredEntry(e, withScores)
		}
	})
}

// parseRandomCount parses ZRANDMEMBER's and SRANDMEMBER's count, a long
// between -LONG_MAX and LONG_MAX, replying the error on failure.
func (c *Client) parseRandomCount(arg []byte) (int64, bool) {
	l, ok := c.ParseInt(arg)
	if ok && l == math.MinInt64 {
		c.Error(errOutOfRangeLong)
		return 0, false
	}
	return l, ok
}

// randomChunk is how many random picks are drawn and written at a time.
const randomChunk = 1024

// randomReplyInChunks calls emit(n) until count picks are written. Redis
// would build a reply of any size here (a count of -10^18 never finishes);
// we close the client, as an output buffer limit would, once the reply
// passes maxRandomReplySize or the configured limit.
func (c *Client) randomReplyInChunks(count int64, emit func(n int)) {
	for count > 0 {
		n := int(min(count, randomChunk))
		emit(n)
		count -= int64(n)
		if c.randomReplyOverLimit() {
			return
		}
	}
}

// randomReplyOverLimit closes the client, and reports true, once a random
// reply being written passes the output limits (randomReplyInChunks).
func (c *Client) randomReplyOverLimit() bool {
	c.checkOutputLimit()
	if c.killed {
		return true
	}
	if c.W.Len() > maxRandomReplySize {
		c.srv.log.Printf("Client id=%d closed: random reply over %d bytes.", c.ID, maxRandomReplySize)
		c.kill()
		return true
	}
	return false
}

func cmdZscan(c *Client) {
	e, cursor, o, ok := c.scanStart(keyspace.TypeZSet)
	if !ok {
		return
	}
	next, es := e.Object().(*zset.ZSet).Scan(cursor, o.Count, nil)
	if o.Match != nil {
		es = slices.DeleteFunc(es, func(e zset.Entry) bool { return !GlobMatch(o.Match, e.Member, false) })
	}
	c.replyScanHeader(next, 2*len(es))
	var tmp [32]byte
	for _, e := range es {
		c.W.Bulk(e.Member)
		c.W.Bulk(zset.AppendScore(tmp[:0], e.Score))
	}
}
