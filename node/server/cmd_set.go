package server

import (
	"slices"
	"strconv"

	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/keyspace/set"
)

// setHandlers returns the handlers of the set commands by command name
// (see "Adding a command group" in doc.go). The command specs live in
// node/command/set.go. Argument checks follow Redis 7.0's t_set.c in
// order; encodings follow Redis 7.2 (listpack sets).
func setHandlers() map[string]Handler {
	return map[string]Handler{
		"sadd":        cmdSadd,
		"srem":        func(c *Client) { removeMembers[*set.Set](c, keyspace.TypeSet) },
		"scard":       func(c *Client) { cardinality(c, keyspace.TypeSet) },
		"sismember":   cmdSismember,
		"smismember":  cmdSmismember,
		"smembers":    func(c *Client) { c.sinterGeneric(c.Args[1:2], nil, false, 0) },
		"srandmember": cmdSrandmember,
		"spop":        cmdSpop,
		"smove":       cmdSmove,
		"sinter":      func(c *Client) { c.sinterGeneric(c.Args[1:], nil, false, 0) },
		"sinterstore": func(c *Client) { c.sinterGeneric(c.Args[2:], c.Args[1], false, 0) },
		"sintercard":  cmdSintercard,
		"sunion":      func(c *Client) { c.sunionDiffGeneric(c.Args[1:], nil, opUnion) },
		"sunionstore": func(c *Client) { c.sunionDiffGeneric(c.Args[2:], c.Args[1], opUnion) },
		"sdiff":       func(c *Client) { c.sunionDiffGeneric(c.Args[1:], nil, opDiff) },
		"sdiffstore":  func(c *Client) { c.sunionDiffGeneric(c.Args[2:], c.Args[1], opDiff) },
		"sscan":       cmdSscan,
	}
}

// setLimits are set-max-intset-entries, set-max-listpack-entries and
// set-max-listpack-value.
func (c *Client) setLimits() set.Limits { return c.srv.cfg.Encoding.Set }

// Error replies of the set commands worded as Redis 7.0 words them.
const errNumkeysOverArgs = "ERR Number of keys can't be greater than number of args"

// spopBatch is how many members one propagated SREM carries (SPOP with a
// count propagates as SREMs, as Redis 7.2 batches them).
const spopBatch = 1024

// setForRead looks key up for reading: s is nil when the key is missing
// (nothing replied) or of another type (WRONGTYPE replied, ok false).
func (c *Client) setForRead(key []byte) (*set.Set, bool) {
	return objectForRead[*set.Set](c, key, keyspace.TypeSet)
}

// setForWrite is setForRead for a command that changes the set.
func (c *Client) setForWrite(key []byte) (*keyspace.Entry, *set.Set, bool) {
	return objectForWrite[*set.Set](c, key, keyspace.TypeSet)
}

// objectForRead looks key up for reading a value of type t: v is the zero
// value when the key is missing (nothing replied) or of another type
// (WRONGTYPE replied, ok false).
func objectForRead[T any](c *Client, key []byte, t keyspace.Type) (v T, ok bool) {
	e, ok := c.ReadType(key, t)
	if !ok || e == nil {
		return v, ok
	}
	return e.Object().(T), true
}

// objectForWrite is objectForRead for a command that changes the value.
func objectForWrite[T any](c *Client, key []byte, t keyspace.Type) (e *keyspace.Entry, v T, ok bool) {
	e, ok = c.WriteType(key, t)
	if !ok || e == nil {
		return nil, v, ok
	}
	return e, e.Object().(T), true
}

// sized is a set or sorted set value.
type sized interface{ Len() int }

// removedFrom finishes a command that removed n members from the set or
// sorted set v at key: an emptied value is deleted, as Redis keeps no empty
// aggregates.
func (c *Client) removedFrom(e *keyspace.Entry, v sized, key []byte, n int) {
	if n == 0 {
		return
	}
	if v.Len() == 0 {
		c.DB.DeleteEntry(e)
	}
	c.Modified(key)
	c.AddDirty(int64(n - 1))
}

// storeValue makes dst hold v, a set or sorted set of type t (the STORE
// variants: any old value and its TTL are replaced; clients blocked on dst
// are signalled); an empty result deletes dst. It replies the size.
func (c *Client) storeValue(dst []byte, t keyspace.Type, v sized) {
	e := c.LookupWrite(dst)
	n := v.Len()
	c.W.Int(int64(n))
	if n == 0 {
		if e != nil {
			c.DB.DeleteEntry(e)
			c.Modified(dst)
		}
		return
	}
	if e != nil {
		c.DB.ReplaceObject(e, t, v)
	} else {
		c.DB.AddObject(dst, t, v)
	}
	c.Modified(dst)
	c.SignalReady(dst)
}

// scanStart is the common start of SSCAN and ZSCAN: the cursor, the key
// (a missing key replies an empty scan before the options are parsed, as
// Redis does), the options. ok is false when it replied.
func (c *Client) scanStart(t keyspace.Type) (e *keyspace.Entry, cursor uint64, o ScanOptions, ok bool) {
	if cursor, ok = c.ParseScanCursor(c.Args[2]); !ok {
		return nil, 0, o, false
	}
	if e, ok = c.ReadType(c.Args[1], t); !ok {
		return nil, 0, o, false
	}
	if e == nil {
		c.replyScanHeader(0, 0)
		return nil, 0, o, false
	}
	o, ok = c.ParseScanOptions(c.Args[3:], false)
	return e, cursor, o, ok
}

// replyScanHeader starts a SCAN-family reply: the next cursor, then an
// array of n items that the caller writes.
func (c *Client) replyScanHeader(next uint64, n int) {
	c.W.ArrayLen(2)
	c.W.BulkString(strconv.FormatUint(next, 10))
	c.W.ArrayLen(n)
}

func cmdSadd(c *Client) {
	key := c.Args[1]
	_, s, ok := c.setForWrite(key)
	if !ok {
		return
	}
	lim := c.setLimits()
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
		c.AddDirty(int64(added - 1))
	}
}

// memberRemover is a set or sorted set, for SREM and ZREM.
type memberRemover interface {
	sized
	Remove(member []byte) bool
}

// removeMembers is SREM and ZREM: it stops once the value is empty, which
// is then deleted.
func removeMembers[T memberRemover](c *Client, t keyspace.Type) {
	key := c.Args[1]
	e, v, ok := objectForWrite[T](c, key, t)
	if !ok {
		return
	}
	if e == nil {
		c.W.Int(0)
		return
	}
	deleted := 0
	for _, m := range c.Args[2:] {
		if v.Remove(m) {
			deleted++
			if v.Len() == 0 {
				break
			}
		}
	}
	c.W.Int(int64(deleted))
	c.removedFrom(e, v, key, deleted)
}

// cardinality is SCARD and ZCARD.
func cardinality(c *Client, t keyspace.Type) {
	e, ok := c.ReadType(c.Args[1], t)
	if !ok {
		return
	}
	if e == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(e.Object().(sized).Len()))
}

func cmdSismember(c *Client) {
	s, ok := c.setForRead(c.Args[1])
	if !ok {
		return
	}
	c.W.Int(b2i(s != nil && s.IsMember(c.Args[2])))
}

func cmdSmismember(c *Client) {
	s, ok := c.setForRead(c.Args[1])
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
func (c *Client) setsForRead(keys [][]byte) (sets []*set.Set, missing int, ok bool) {
	sets = make([]*set.Set, len(keys))
	for i, k := range keys {
		if sets[i], ok = c.setForRead(k); !ok {
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
func (c *Client) sinterGeneric(keys [][]byte, dst []byte, cardOnly bool, limit int) {
	sets, missing, ok := c.setsForRead(keys)
	if !ok {
		return
	}
	switch {
	case dst != nil && missing > 0:
		c.storeValue(dst, keyspace.TypeSet, &set.Set{})
	case dst != nil:
		c.storeValue(dst, keyspace.TypeSet, set.Inter(c.setLimits(), sets))
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

func cmdSintercard(c *Client) {
	args := c.Args
	numkeys, ok := c.parseAtLeastOne(args[1], errNumkeysPositive)
	if !ok {
		return
	}
	if numkeys > int64(len(args)-2) {
		c.Error(errNumkeysOverArgs)
		return
	}
	limit := int64(0)
	for j := 2 + int(numkeys); j < len(args); j++ {
		if eqFold(args[j], "limit") && j+1 < len(args) {
			j++
			if limit, ok = c.parsePositive(args[j], errLimitNegative); !ok {
				return
			}
			continue
		}
		c.Error(ErrSyntax)
		return
	}
	c.sinterGeneric(args[2:2+numkeys], nil, true, clampInt(limit))
}

// sunionDiffGeneric is SUNION, SDIFF and their STORE variants.
func (c *Client) sunionDiffGeneric(keys [][]byte, dst []byte, op setOp) {
	sets, _, ok := c.setsForRead(keys)
	if !ok {
		return
	}
	var res *set.Set
	if op == opUnion {
		res = set.Union(c.setLimits(), sets)
	} else {
		res = set.Diff(c.setLimits(), sets)
	}
	if dst != nil {
		c.storeValue(dst, keyspace.TypeSet, res)
		return
	}
	c.replySet(res)
}

// replySet replies every member as a RESP3 set (an array in RESP2).
func (c *Client) replySet(s *set.Set) {
	c.W.SetLen(s.Len())
	for m := range s.All() {
		c.W.Bulk(m)
	}
}

func cmdSrandmember(c *Client) {
	args := c.Args
	if len(args) > 3 {
		c.Error(ErrSyntax)
		return
	}
	if len(args) == 2 {
		s, ok := c.setForRead(args[1])
		if !ok {
			return
		}
		if s == nil {
			c.W.Null()
			return
		}
		m, _ := s.RandomMember(c.randSource())
		c.W.Bulk(m)
		return
	}
	l, ok := c.parseRandomCount(args[2])
	if !ok {
		return
	}
	s, ok := c.setForRead(args[1])
	if !ok {
		return
	}
	if s == nil || l == 0 {
		c.W.ArrayLen(0)
		return
	}
	rnd := c.randSource()
	if l > 0 {
		ms := s.AppendRandom(nil, clampInt(l), true, rnd)
		c.W.ArrayLen(len(ms))
		for _, m := range ms {
			c.W.Bulk(m)
		}
		return
	}
	c.W.ArrayLen(clampInt(-l))
	var buf [randomChunk][]byte
	c.randomReplyInChunks(-l, func(n int) {
		for _, m := range s.AppendRandom(buf[:0], n, false, rnd) {
			c.W.Bulk(m)
		}
	})
}

// cmdSpop is SPOP: it propagates as SREM key member(s), or DEL key when
// the whole set is popped, as Redis does.
func cmdSpop(c *Client) {
	args := c.Args
	if len(args) > 3 {
		c.Error(ErrSyntax)
		return
	}
	key := args[1]
	if len(args) == 2 {
		e, s, ok := c.setForWrite(key)
		if !ok {
			return
		}
		if s == nil {
			c.W.Null()
			return
		}
		m := s.Pop(1, c.randSource())[0]
		c.W.Bulk(m)
		c.removedFrom(e, s, key, 1)
		c.Rewrite([]byte("SREM"), key, m)
		return
	}
	count, ok := c.parsePositive(args[2], errMustBePositive)
	if !ok {
		return
	}
	e, s, ok := c.setForWrite(key)
	if !ok {
		return
	}
	if s == nil || count == 0 {
		c.W.SetLen(0)
		return
	}
	if count >= int64(s.Len()) {
		// Redis replies SUNION key (a rebuilt set) and deletes the key.
		c.replySet(set.Union(c.setLimits(), []*set.Set{s}))
		n := s.Len()
		c.DB.DeleteEntry(e)
		c.Modified(key)
		c.AddDirty(int64(n - 1))
		c.Rewrite([]byte("DEL"), key)
		return
	}
	popped := s.Pop(int(count), c.randSource())
	c.W.SetLen(len(popped))
	for _, m := range popped {
		c.W.Bulk(m)
	}
	c.removedFrom(e, s, key, len(popped))
	srem := []byte("SREM")
	for i := 0; i < len(popped); i += spopBatch {
		batch := popped[i:min(i+spopBatch, len(popped))]
		c.AlsoPropagate(append([][]byte{srem, key}, batch...)...)
	}
	c.PreventPropagation()
}

func cmdSmove(c *Client) {
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
	if ss.Len() == 0 {
		c.DB.DeleteEntry(se)
	}
	lim := c.setLimits()
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
	}
	c.W.Int(1)
}

func cmdSscan(c *Client) {
	e, cursor, o, ok := c.scanStart(keyspace.TypeSet)
	if !ok {
		return
	}
	next, ms := e.Object().(*set.Set).Scan(cursor, o.Count, nil)
	if o.Match != nil {
		ms = slices.DeleteFunc(ms, func(m []byte) bool { return !GlobMatch(o.Match, m, false) })
	}
	c.replyScanHeader(next, len(ms))
	for _, m := range ms {
		c.W.Bulk(m)
	}
}
