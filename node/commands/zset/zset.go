package zset

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/keyspace/set"
	"github.com/shoal-dev/shoal/node/keyspace/zset"
)

// zsetLimits are zset-max-listpack-entries and zset-max-listpack-value.
func zsetLimits(c *command.Ctx) zset.Limits { return c.Limits().Encoding.ZSet }

// Error replies of the sorted set commands worded as Redis 7.0 words them.
const (
	errZaddXXNX       = "ERR XX and NX options at the same time are not compatible"
	errZaddGTLTNX     = "ERR GT, LT, and/or NX options at the same time are not compatible"
	errZaddIncrPair   = "ERR INCR option supports a single increment-element pair"
	errLimitRank      = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	errWithscoresLex  = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
	errWeightNotFloat = "ERR weight value is not a float"
	errOutOfRange     = "ERR value is out of range"
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
func zsetForRead(c *command.Ctx, key []byte) (*zset.ZSet, bool) {
	return command.ObjectForRead[*zset.ZSet](c, key, keyspace.TypeZSet)
}

// zsetForWrite is zsetForRead for a command that changes the set.
func zsetForWrite(c *command.Ctx, key []byte) (*keyspace.Entry, *zset.ZSet, bool) {
	return command.ObjectForWrite[*zset.ZSet](c, key, keyspace.TypeZSet)
}

// replyScored replies members, with their scores if withScores: a flat
// array in RESP2, an array of [member, score] pairs in RESP3.
func replyScored(c *command.Ctx, es []zset.Entry, withScores bool) {
	replyScoredHeader(c, len(es), withScores)
	for _, e := range es {
		replyScoredEntry(c, e, withScores)
	}
}

func replyScoredHeader(c *command.Ctx, n int, withScores bool) {
	if withScores && c.W.Proto() == 2 {
		n *= 2
	}
	c.W.ArrayLen(n)
}

func replyScoredEntry(c *command.Ctx, e zset.Entry, withScores bool) {
	if withScores && c.W.Proto() > 2 {
		c.W.ArrayLen(2)
	}
	c.W.Bulk(e.Member)
	if withScores {
		c.W.Double(e.Score)
	}
}

// zaddGeneric is ZADD and (with AddIncr) ZINCRBY.
func zaddGeneric(c *command.Ctx, flags zset.AddFlags) {
	args := c.Args
	key := args[1]
	ch := false
	i := 2
options:
	for ; i < len(args); i++ {
		switch a := args[i]; {
		case command.EqFold(a, "nx"):
			flags |= zset.AddNX
		case command.EqFold(a, "xx"):
			flags |= zset.AddXX
		case command.EqFold(a, "ch"):
			ch = true
		case command.EqFold(a, "incr"):
			flags |= zset.AddIncr
		case command.EqFold(a, "gt"):
			flags |= zset.AddGT
		case command.EqFold(a, "lt"):
			flags |= zset.AddLT
		default:
			break options
		}
	}
	elements := len(args) - i
	if elements%2 != 0 || elements == 0 {
		c.Error(command.ErrSyntax)
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
			c.Error(command.ErrNotFloat)
			return
		}
		scores = append(scores, s)
	}
	_, z, ok := zsetForWrite(c, key)
	if !ok {
		return
	}
	lim := zsetLimits(c)
	created := false
	if z == nil {
		if xx {
			zaddReply(c, incr, ch, 0, 0, 0, 0)
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
		zaddReply(c, incr, ch, added, updated, processed, score)
	}
	if added+updated > 0 {
		c.Modified(key)
		if incr {
			c.Notify(command.NotifyZSet, "zincr", key)
		} else {
			c.Notify(command.NotifyZSet, "zadd", key)
		}
		c.AddDirty(int64(added + updated - 1))
	}
	if created {
		c.SignalReady(key)
	}
}

func zaddReply(c *command.Ctx, incr, ch bool, added, updated, processed int, score float64) {
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
func parseScoreRange(c *command.Ctx, lo, hi []byte) (zset.ScoreRange, bool) {
	return parseRange(c, zset.ParseScoreRange, lo, hi)
}

func parseLexRange(c *command.Ctx, lo, hi []byte) (zset.LexRange, bool) {
	return parseRange(c, zset.ParseLexRange, lo, hi)
}

func parseRange[R any](c *command.Ctx, parse func(lo, hi []byte) (R, error), lo, hi []byte) (R, bool) {
	r, err := parse(lo, hi)
	if err != nil {
		c.Error(err.Error())
		return r, false
	}
	return r, true
}

// zcountGeneric is ZCOUNT and ZLEXCOUNT: the range is parsed first.
func zcountGeneric(c *command.Ctx, rt rangeType) {
	var sr zset.ScoreRange
	var lr zset.LexRange
	var ok bool
	if rt == rangeScore {
		sr, ok = parseScoreRange(c, c.Args[2], c.Args[3])
	} else {
		lr, ok = parseLexRange(c, c.Args[2], c.Args[3])
	}
	if !ok {
		return
	}
	z, ok := zsetForRead(c, c.Args[1])
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

func cmdZscore(c *command.Ctx) {
	z, ok := zsetForRead(c, c.Args[1])
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

func cmdZmscore(c *command.Ctx) {
	z, ok := zsetForRead(c, c.Args[1])
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
func zrankGeneric(c *command.Ctx, rev bool) {
	args := c.Args
	if len(args) > 4 {
		c.Error("ERR wrong number of arguments for '" + c.Cmd.FullName() + "' command")
		return
	}
	withScore := false
	if len(args) == 4 {
		if !command.EqFold(args[3], "withscore") {
			c.Error(command.ErrSyntax)
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
	z, ok := zsetForRead(c, args[1])
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
func zrangeGeneric(c *command.Ctx, argStart int, store bool, rt rangeType, dir direction) {
	args := c.Args
	key := args[argStart]
	minIdx, maxIdx := argStart+1, argStart+2
	withScores := false
	var offset, limit int64 = 0, -1
	for j := argStart + 3; j < len(args); j++ {
		left := len(args) - j - 1
		switch a := args[j]; {
		case !store && command.EqFold(a, "withscores"):
			withScores = true
		case command.EqFold(a, "limit") && left >= 2:
			var ok bool
			if offset, ok = c.ParseInt(args[j+1]); !ok {
				return
			}
			if limit, ok = c.ParseInt(args[j+2]); !ok {
				return
			}
			j += 2
		case dir == dirAuto && command.EqFold(a, "rev"):
			dir = dirReverse
		case rt == rangeAuto && command.EqFold(a, "bylex"):
			rt = rangeLex
		case rt == rangeAuto && command.EqFold(a, "byscore"):
			rt = rangeScore
		default:
			c.Error(command.ErrSyntax)
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
	spec, ok := parseZrange(c, rt, args[minIdx], args[maxIdx])
	if !ok {
		return
	}
	z, ok := zsetForRead(c, key)
	if !ok {
		return
	}
	var buf [32]zset.Entry
	es := buf[:0]
	if z != nil {
		switch rt {
		case rangeRank:
			if s, e, ok := zset.RankRange(command.ClampInt(spec.start), command.ClampInt(spec.stop), z.Len()); ok {
				es = z.AppendRangeByRank(es, s, e, rev)
			}
		case rangeScore:
			es = z.AppendRangeByScore(es, spec.score, rev, command.ClampInt(offset), command.ClampInt(limit))
		case rangeLex:
			es = z.AppendRangeByLex(es, spec.lex, rev, command.ClampInt(offset), command.ClampInt(limit))
		}
	}
	if store {
		c.StoreValue(args[1], keyspace.TypeZSet, zset.FromSorted(zsetLimits(c), es), c.Cmd.Name) // "zrangestore"
		return
	}
	replyScored(c, es, withScores)
}

// zrangeSpec is a parsed rank, score or lex range.
type zrangeSpec struct {
	start, stop int64
	score       zset.ScoreRange
	lex         zset.LexRange
}

// parseZrange parses lo and hi as a range of type rt (a rank range as
// integers), replying the error on failure.
func parseZrange(c *command.Ctx, rt rangeType, lo, hi []byte) (spec zrangeSpec, ok bool) {
	switch rt {
	case rangeRank:
		if spec.start, ok = c.ParseInt(lo); !ok {
			return spec, false
		}
		spec.stop, ok = c.ParseInt(hi)
	case rangeScore:
		spec.score, ok = parseScoreRange(c, lo, hi)
	default:
		spec.lex, ok = parseLexRange(c, lo, hi)
	}
	return spec, ok
}

// zremrangeGeneric is ZREMRANGEBYRANK, ZREMRANGEBYSCORE and ZREMRANGEBYLEX.
func zremrangeGeneric(c *command.Ctx, rt rangeType) {
	spec, ok := parseZrange(c, rt, c.Args[2], c.Args[3])
	if !ok {
		return
	}
	key := c.Args[1]
	e, z, ok := zsetForWrite(c, key)
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
		if s, e, ok := zset.RankRange(command.ClampInt(spec.start), command.ClampInt(spec.stop), z.Len()); ok {
			deleted = z.RemoveRangeByRank(s, e)
		}
	case rangeScore:
		deleted = z.RemoveRangeByScore(spec.score)
	default:
		deleted = z.RemoveRangeByLex(spec.lex)
	}
	c.W.Int(int64(deleted))
	c.RemovedFrom(e, z, key, deleted, c.Cmd.Name) // "zremrangebyrank", ...
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
func firstZset(c *command.Ctx, keys [][]byte) (e *keyspace.Entry, key []byte, ok bool) {
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
func zpopReply(c *command.Ctx, e *keyspace.Entry, key []byte, top bool, count int64, emitKey, nested bool) int {
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
	event := "zpopmin"
	if top {
		event = "zpopmax"
	}
	c.RemovedFrom(e, z, key, n, event)
	return n
}

// zpopMinMax is ZPOPMIN and ZPOPMAX.
func zpopMinMax(c *command.Ctx, top bool) {
	if len(c.Args) > 3 {
		c.Error(command.ErrSyntax)
		return
	}
	count := int64(-1)
	if len(c.Args) == 3 {
		var ok bool
		if count, ok = c.ParsePositive(c.Args[2], command.ErrMustBePositive); !ok {
			return
		}
	}
	e, key, ok := firstZset(c, c.Args[1:2])
	if !ok {
		return
	}
	if e == nil || count == 0 {
		c.W.ArrayLen(0)
		return
	}
	nested := c.W.Proto() > 2 && count != -1
	zpopReply(c, e, key, top, max(count, 1), false, nested)
}

// bzpopMinMax is BZPOPMIN and BZPOPMAX; served, they propagate as
// ZPOPMIN/ZPOPMAX key.
func bzpopMinMax(c *command.Ctx, top bool) {
	keys := c.Args[1 : len(c.Args)-1]
	timeout, ok := c.ParseTimeout(c.Args[len(c.Args)-1])
	if !ok {
		return
	}
	e, key, ok := firstZset(c, keys)
	if !ok {
		return
	}
	if e == nil {
		c.BlockOnKeys(keys, timeout, nil)
		return
	}
	zpopReply(c, e, key, top, 1, true, false)
	c.Rewrite(zpopName(top), key)
}

// zmpopGeneric is ZMPOP (numkeys at 1) and BZMPOP (timeout at 1, numkeys
// at 2). Both propagate as ZPOPMIN/ZPOPMAX key count: ZMPOP with the count
// asked for, a served BZMPOP with the count popped, as Redis 7.0.
func zmpopGeneric(c *command.Ctx, numkeysIdx int, block bool) {
	args := c.Args
	numkeys, ok := c.ParseAtLeastOne(args[numkeysIdx], command.ErrNumkeysPositive)
	if !ok {
		return
	}
	if numkeys >= int64(len(args)) || numkeysIdx+int(numkeys)+1 >= len(args) {
		c.Error(command.ErrSyntax)
		return
	}
	whereIdx := numkeysIdx + int(numkeys) + 1
	var top bool
	switch {
	case command.EqFold(args[whereIdx], "min"):
	case command.EqFold(args[whereIdx], "max"):
		top = true
	default:
		c.Error(command.ErrSyntax)
		return
	}
	count, ok := c.ParseMPopCount(args[whereIdx+1:])
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
	e, key, ok := firstZset(c, keys)
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
	n := int64(zpopReply(c, e, key, top, count, true, true))
	if !block {
		n = count
	}
	c.Rewrite(zpopName(top), key, strconv.AppendInt(nil, n, 10))
}

// zsetOpGeneric is zunionInterDiffGenericCommand: ZUNION, ZINTER, ZDIFF,
// their STORE variants and ZINTERCARD (cardOnly). Plain sets are accepted
// as inputs with score 1.
func zsetOpGeneric(c *command.Ctx, op command.SetOp, store, cardOnly bool) {
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
		c.Error(command.ErrSyntax)
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
		case op != command.OpDiff && !cardOnly && remaining >= int(setnum)+1 && command.EqFold(a, "weights"):
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
		case op != command.OpDiff && !cardOnly && remaining >= 2 && command.EqFold(a, "aggregate"):
			switch v := args[j+1]; {
			case command.EqFold(v, "sum"):
				agg = zset.AggregateSum
			case command.EqFold(v, "min"):
				agg = zset.AggregateMin
			case command.EqFold(v, "max"):
				agg = zset.AggregateMax
			default:
				c.Error(command.ErrSyntax)
				return
			}
			j += 2
		case !store && !cardOnly && command.EqFold(a, "withscores"):
			withScores = true
			j++
		case cardOnly && remaining >= 2 && command.EqFold(a, "limit"):
			if limit, ok = c.ParsePositive(args[j+1], command.ErrLimitNegative); !ok {
				return
			}
			j += 2
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	if cardOnly {
		c.W.Int(int64(zset.InterCard(inputs, command.ClampInt(limit))))
		return
	}
	var res []zset.Entry
	switch op {
	case command.OpUnion:
		res = zset.UnionEntries(inputs, agg)
	case command.OpInter:
		res = zset.InterEntries(inputs, agg)
	default:
		res = zset.DiffEntries(inputs)
	}
	if store {
		// "zunionstore", ...
		c.StoreValue(args[1], keyspace.TypeZSet, zset.FromSorted(zsetLimits(c), res), c.Cmd.Name)
		return
	}
	replyScored(c, res, withScores)
}

func cmdZrandmember(c *command.Ctx) {
	args := c.Args
	if len(args) < 3 {
		z, ok := zsetForRead(c, args[1])
		if !ok {
			return
		}
		if z == nil {
			c.W.Null()
			return
		}
		e, _ := z.RandomMember(c.RandSource())
		c.W.Bulk(e.Member)
		return
	}
	l, ok := c.ParseRandomCount(args[2])
	if !ok {
		return
	}
	if len(args) > 4 || (len(args) == 4 && !command.EqFold(args[3], "withscores")) {
		c.Error(command.ErrSyntax)
		return
	}
	withScores := len(args) == 4
	if withScores && (l < -math.MaxInt64/2 || l > math.MaxInt64/2) {
		c.Error(errOutOfRange)
		return
	}
	z, ok := zsetForRead(c, args[1])
	if !ok {
		return
	}
	if z == nil || l == 0 {
		c.W.ArrayLen(0)
		return
	}
	rnd := c.RandSource()
	if l > 0 {
		replyScored(c, z.AppendRandom(nil, command.ClampInt(l), true, rnd), withScores)
		return
	}
	// A negative count: -l independent picks, written in chunks so the
	// reply buffer, not a list of picks, holds them.
	count := -l
	replyScoredHeader(c, command.ClampInt(count), withScores)
	var buf [command.RandomChunk]zset.Entry
	c.RandomReplyInChunks(count, func(n int) {
		for _, e := range z.AppendRandom(buf[:0], n, false, rnd) {
			replyScoredEntry(c, e, withScores)
		}
	})
}

func cmdZscan(c *command.Ctx) {
	e, cursor, o, ok := c.ScanStart(keyspace.TypeZSet)
	if !ok {
		return
	}
	next, es := e.Object().(*zset.ZSet).Scan(cursor, o.Count, nil)
	if o.Match != nil {
		es = slices.DeleteFunc(es, func(e zset.Entry) bool { return !command.GlobMatch(o.Match, e.Member, false) })
	}
	c.ReplyScanHeader(next, 2*len(es))
	var tmp [32]byte
	for _, e := range es {
		c.W.Bulk(e.Member)
		c.W.Bulk(zset.AppendScore(tmp[:0], e.Score))
	}
}
