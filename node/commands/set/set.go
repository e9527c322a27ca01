package set

import (
	"slices"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/keyspace/set"
)

// setLimits are set-max-intset-entries, set-max-listpack-entries and
// set-max-listpack-value.
func setLimits(c *command.Ctx) set.Limits { return c.Limits().Encoding.Set }

// Error replies of the set commands worded as Redis 7.0 words them.
const errNumkeysOverArgs = "ERR Number of keys can't be greater than number of args"

// spopBatch is how many members one propagated SREM carries (SPOP with a
// count propagates as SREMs, as Redis 7.2 batches them).
const spopBatch = 1024

// setForRead looks key up for reading: s is nil when the key is missing
// (nothing replied) or of another type (WRONGTYPE replied, ok false).
func setForRead(c *command.Ctx, key []byte) (*set.Set, bool) {
	return command.ObjectForRead[*set.Set](c, key, keyspace.TypeSet)
}

// setForWrite is setForRead for a command that changes the set.
func setForWrite(c *command.Ctx, key []byte) (*keyspace.Entry, *set.Set, bool) {
	return command.ObjectForWrite[*set.Set](c, key, keyspace.TypeSet)
}

func cmdSadd(c *command.Ctx) {
	key := c.Args[1]
	_, s, ok := setForWrite(c, key)
	if !ok {
		return
	}
	lim := setLimits(c)
	if s == nil {
		s = set.New(lim, c.Args[2], len(c.Args)-2)
		c.DB.AddObject(key, keyspace.TypeSet, s)
	}
	added := 0
	for _, m := range c.Args[2:] {
		if s.Add(lim, m) {
			added++
		}
	}
	c.W.Int(int64(added))
	if added > 0 {
		c.Modified(key)
		c.Notify(command.NotifySet, "sadd", key)
		c.AddDirty(int64(added - 1))
	}
}

func cmdSismember(c *command.Ctx) {
	s, ok := setForRead(c, c.Args[1])
	if !ok {
		return
	}
	c.W.Int(b2i(s != nil && s.IsMember(c.Args[2])))
}

func cmdSmismember(c *command.Ctx) {
	s, ok := setForRead(c, c.Args[1])
	if !ok {
		return
	}
	c.W.ArrayLen(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		c.W.Int(b2i(s != nil && s.IsMember(m)))
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// setsForRead looks up every key of a multi-key set command: a missing key
// is a nil set; any key of another type replies WRONGTYPE (ok false).
func setsForRead(c *command.Ctx, keys [][]byte) (sets []*set.Set, missing int, ok bool) {
	sets = make([]*set.Set, len(keys))
	for i, k := range keys {
		if sets[i], ok = setForRead(c, k); !ok {
			return nil, 0, false
		}
		if sets[i] == nil {
			missing++
		}
	}
	return sets, missing, true
}

// sinterGeneric is sinterGenericCommand: SINTER, SMEMBERS (one key),
// SINTERSTORE (dst) and SINTERCARD (cardOnly, with limit).
func sinterGeneric(c *command.Ctx, keys [][]byte, dst []byte, cardOnly bool, limit int) {
	sets, missing, ok := setsForRead(c, keys)
	if !ok {
		return
	}
	switch {
	case dst != nil && missing > 0:
		c.StoreValue(dst, keyspace.TypeSet, &set.Set{}, "sinterstore")
	case dst != nil:
		c.StoreValue(dst, keyspace.TypeSet, set.Inter(setLimits(c), sets), "sinterstore")
	case cardOnly && missing > 0:
		c.W.Int(0)
	case cardOnly:
		c.W.Int(int64(set.InterCard(sets, limit)))
	case missing > 0:
		c.W.SetLen(0)
	default:
		// Stream in the smallest set's order, as Redis replies.
		var members [][]byte
		var arena []byte
		set.InterEach(sets, 0, func(m []byte) {
			start := len(arena)
			arena = append(arena, m...)
			members = append(members, arena[start:len(arena):len(arena)])
		})
		c.W.SetLen(len(members))
		for _, m := range members {
			c.W.Bulk(m)
		}
	}
}

func cmdSintercard(c *command.Ctx) {
	args := c.Args
	numkeys, ok := c.ParseAtLeastOne(args[1], command.ErrNumkeysPositive)
	if !ok {
		return
	}
	if numkeys > int64(len(args)-2) {
		c.Error(errNumkeysOverArgs)
		return
	}
	limit := int64(0)
	for j := 2 + int(numkeys); j < len(args); j++ {
		if command.EqFold(args[j], "limit") && j+1 < len(args) {
			j++
			if limit, ok = c.ParsePositive(args[j], command.ErrLimitNegative); !ok {
				return
			}
			continue
		}
		c.Error(command.ErrSyntax)
		return
	}
	sinterGeneric(c, args[2:2+numkeys], nil, true, command.ClampInt(limit))
}

// sunionDiffGeneric is SUNION, SDIFF and their STORE variants.
func sunionDiffGeneric(c *command.Ctx, keys [][]byte, dst []byte, op command.SetOp) {
	sets, _, ok := setsForRead(c, keys)
	if !ok {
		return
	}
	var res *set.Set
	if op == command.OpUnion {
		res = set.Union(setLimits(c), sets)
	} else {
		res = set.Diff(setLimits(c), sets)
	}
	if dst != nil {
		event := "sunionstore"
		if op != command.OpUnion {
			event = "sdiffstore"
		}
		c.StoreValue(dst, keyspace.TypeSet, res, event)
		return
	}
	replySet(c, res)
}

// replySet replies every member as a RESP3 set (an array in RESP2).
func replySet(c *command.Ctx, s *set.Set) {
	c.W.SetLen(s.Len())
	for m := range s.All() {
		c.W.Bulk(m)
	}
}

func cmdSrandmember(c *command.Ctx) {
	args := c.Args
	if len(args) > 3 {
		c.Error(command.ErrSyntax)
		return
	}
	if len(args) == 2 {
		s, ok := setForRead(c, args[1])
		if !ok {
			return
		}
		if s == nil {
			c.W.Null()
			return
		}
		m, _ := s.RandomMember(c.RandSource())
		c.W.Bulk(m)
		return
	}
	l, ok := c.ParseRandomCount(args[2])
	if !ok {
		return
	}
	s, ok := setForRead(c, args[1])
	if !ok {
		return
	}
	if s == nil || l == 0 {
		c.W.ArrayLen(0)
		return
	}
	rnd := c.RandSource()
	if l > 0 {
		ms := s.AppendRandom(nil, command.ClampInt(l), true, rnd)
		c.W.ArrayLen(len(ms))
		for _, m := range ms {
			c.W.Bulk(m)
		}
		return
	}
	c.W.ArrayLen(command.ClampInt(-l))
	var buf [command.RandomChunk][]byte
	c.RandomReplyInChunks(-l, func(n int) {
		for _, m := range s.AppendRandom(buf[:0], n, false, rnd) {
			c.W.Bulk(m)
		}
	})
}

// cmdSpop is SPOP: it propagates as SREM key member(s), or DEL key when
// the whole set is popped, as Redis does.
func cmdSpop(c *command.Ctx) {
	args := c.Args
	if len(args) > 3 {
		c.Error(command.ErrSyntax)
		return
	}
	key := args[1]
	if len(args) == 2 {
		e, s, ok := setForWrite(c, key)
		if !ok {
			return
		}
		if s == nil {
			c.W.Null()
			return
		}
		m := s.Pop(1, c.RandSource())[0]
		c.W.Bulk(m)
		c.RemovedFrom(e, s, key, 1, "spop")
		c.Rewrite([]byte("SREM"), key, m)
		return
	}
	count, ok := c.ParsePositive(args[2], command.ErrMustBePositive)
	if !ok {
		return
	}
	e, s, ok := setForWrite(c, key)
	if !ok {
		return
	}
	if s == nil || count == 0 {
		c.W.SetLen(0)
		return
	}
	if count >= int64(s.Len()) {
		// Redis replies SUNION key (a rebuilt set) and deletes the key.
		replySet(c, set.Union(setLimits(c), []*set.Set{s}))
		n := s.Len()
		c.Notify(command.NotifySet, "spop", key)
		c.DB.DeleteEntry(e)
		c.Notify(command.NotifyGeneric, "del", key)
		c.Modified(key)
		c.AddDirty(int64(n - 1))
		c.Rewrite([]byte("DEL"), key)
		return
	}
	popped := s.Pop(int(count), c.RandSource())
	c.W.SetLen(len(popped))
	for _, m := range popped {
		c.W.Bulk(m)
	}
	c.RemovedFrom(e, s, key, len(popped), "spop")
	srem := []byte("SREM")
	for i := 0; i < len(popped); i += spopBatch {
		batch := popped[i:min(i+spopBatch, len(popped))]
		c.AlsoPropagate(append([][]byte{srem, key}, batch...)...)
	}
	c.PreventPropagation()
}

func cmdSmove(c *command.Ctx) {
	src, dst, member := c.Args[1], c.Args[2], c.Args[3]
	se := c.LookupWrite(src)
	de := c.LookupWrite(dst)
	if se == nil {
		c.W.Int(0)
		return
	}
	if se.Type() != keyspace.TypeSet || (de != nil && de.Type() != keyspace.TypeSet) {
		c.WrongType()
		return
	}
	ss := se.Object().(*set.Set)
	if se == de {
		c.W.Int(b2i(ss.IsMember(member)))
		return
	}
	if !ss.Remove(member) {
		c.W.Int(0)
		return
	}
	c.Notify(command.NotifySet, "srem", src)
	if ss.Len() == 0 {
		c.DB.DeleteEntry(se)
		c.Notify(command.NotifyGeneric, "del", src)
	}
	lim := setLimits(c)
	var ds *set.Set
	if de == nil {
		ds = set.New(lim, member, 1)
		c.DB.AddObject(dst, keyspace.TypeSet, ds)
	} else {
		ds = de.Object().(*set.Set)
	}
	c.Modified(src)
	if ds.Add(lim, member) {
		c.Modified(dst)
		c.Notify(command.NotifySet, "sadd", dst)
	}
	c.W.Int(1)
}

func cmdSscan(c *command.Ctx) {
	e, cursor, o, ok := c.ScanStart(keyspace.TypeSet)
	if !ok {
		return
	}
	next, ms := e.Object().(*set.Set).Scan(cursor, o.Count, nil)
	if o.Match != nil {
		ms = slices.DeleteFunc(ms, func(m []byte) bool { return !command.GlobMatch(o.Match, m, false) })
	}
	c.ReplyScanHeader(next, len(ms))
	for _, m := range ms {
		c.W.Bulk(m)
	}
}
