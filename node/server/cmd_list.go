package server

import (
	"strconv"
	"time"

	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/keyspace/list"
)

// listHandlers returns the handlers of the list commands by command name
// (see "Adding a command group" in doc.go). The command specs live in
// node/command/list.go. The argument checks follow Redis 7.0's t_list.c
// in order, since the order decides which error a client sees.
func listHandlers() map[string]Handler {
	return map[string]Handler{
		"lpush":      func(c *Client) { c.pushGeneric(list.Head, false) },
		"rpush":      func(c *Client) { c.pushGeneric(list.Tail, false) },
		"lpushx":     func(c *Client) { c.pushGeneric(list.Head, true) },
		"rpushx":     func(c *Client) { c.pushGeneric(list.Tail, true) },
		"lpop":       func(c *Client) { c.popGeneric(list.Head) },
		"rpop":       func(c *Client) { c.popGeneric(list.Tail) },
		"llen":       cmdLlen,
		"lrange":     cmdLrange,
		"lindex":     cmdLindex,
		"lset":       cmdLset,
		"linsert":    cmdLinsert,
		"lrem":       cmdLrem,
		"ltrim":      cmdLtrim,
		"lpos":       cmdLpos,
		"lmove":      cmdLmove,
		"rpoplpush":  func(c *Client) { c.lmoveGeneric(list.Tail, list.Head) },
		"lmpop":      func(c *Client) { c.mpopGeneric(1, false) },
		"blpop":      func(c *Client) { c.blockingPop(list.Head) },
		"brpop":      func(c *Client) { c.blockingPop(list.Tail) },
		"blmove":     cmdBlmove,
		"brpoplpush": cmdBrpoplpush,
		"blmpop":     func(c *Client) { c.mpopGeneric(2, true) },
	}
}

// listFill is list-max-listpack-size for new lists.
func (c *Client) listFill() int { return c.srv.cfg.Encoding.ListFill }

// Error replies of the list commands worded as Redis 7.0 words them.
const (
	errMustBePositive  = "ERR value is out of range, must be positive"
	errRankZero        = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
	errCountNegative   = "ERR COUNT can't be negative"
	errMaxlenNegative  = "ERR MAXLEN can't be negative"
	errNumkeysPositive = "ERR numkeys should be greater than 0"
	errCountPositive   = "ERR count should be greater than 0"
)

// popName is the non-blocking pop a served blocking pop propagates as.
func popName(end list.End) []byte {
	if end == list.Head {
		return []byte("LPOP")
	}
	return []byte("RPOP")
}

// parseEnd parses LEFT or RIGHT, replying a syntax error otherwise.
func (c *Client) parseEnd(arg []byte) (list.End, bool) {
	switch {
	case eqFold(arg, "left"):
		return list.Head, true
	case eqFold(arg, "right"):
		return list.Tail, true
	}
	c.Error(ErrSyntax)
	return 0, false
}

// parsePositive is getPositiveLongFromObjectOrReply: a non-negative integer,
// with msg as the reply both for junk and for a negative number.
func (c *Client) parsePositive(arg []byte, msg string) (int64, bool) {
	n, ok := keyspace.ParseInt(arg)
	if !ok || n < 0 {
		c.Error(msg)
		return 0, false
	}
	return n, true
}

// parseAtLeastOne is getRangeLongFromObjectOrReply(1, LONG_MAX) with msg.
func (c *Client) parseAtLeastOne(arg []byte, msg string) (int64, bool) {
	n, ok := keyspace.ParseInt(arg)
	if !ok || n < 1 {
		c.Error(msg)
		return 0, false
	}
	return n, true
}

// listForRead looks key up for reading: l is nil when the key is missing
// (nothing replied) or of another type (WRONGTYPE replied, ok false).
func (c *Client) listForRead(key []byte) (l *list.List, ok bool) {
	e, ok := c.ReadType(key, keyspace.TypeList)
	if !ok || e == nil {
		return nil, ok
	}
	return e.Object().(*list.List), true
}

// listForWrite is listForRead for a command that changes the list.
func (c *Client) listForWrite(key []byte) (e *keyspace.Entry, l *list.List, ok bool) {
	e, ok = c.WriteType(key, keyspace.TypeList)
	if !ok || e == nil {
		return nil, nil, ok
	}
	return e, e.Object().(*list.List), true
}

// listRemoved finishes a command that removed n elements from the list at
// key: an emptied list is deleted, as Redis keeps no empty lists.
func (c *Client) listRemoved(e *keyspace.Entry, l *list.List, key []byte, n int) {
	if l.Len() == 0 {
		c.DB.DeleteEntry(e)
	}
	c.Modified(key)
	c.AddDirty(int64(n - 1))
}

// pushGeneric is LPUSH, RPUSH and, with xx, LPUSHX and RPUSHX.
func (c *Client) pushGeneric(end list.End, xx bool) {
	key := c.Args[1]
	_, l, ok := c.listForWrite(key)
	if !ok {
		return
	}
	if l == nil {
		if xx {
			c.W.Int(0)
			return
		}
		l = list.New(c.listFill())
		c.DB.AddObject(key, keyspace.TypeList, l)
	}
	for _, v := range c.Args[2:] {
		l.Push(end, v)
	}
	c.W.Int(int64(l.Len()))
	c.Modified(key)
	c.AddDirty(int64(len(c.Args) - 3))
	c.SignalReady(key)
}

// popGeneric is LPOP and RPOP, with the optional count.
func (c *Client) popGeneric(end list.End) {
	if len(c.Args) > 3 {
		c.Error("ERR wrong number of arguments for '" + c.Cmd.Name + "' command")
		return
	}
	hasCount := len(c.Args) == 3
	var count int64
	if hasCount {
		var ok bool
		if count, ok = c.parsePositive(c.Args[2], errMustBePositive); !ok {
			return
		}
	}
	key := c.Args[1]
	e, l, ok := c.listForWrite(key)
	if !ok {
		return
	}
	if l == nil {
		if hasCount {
			c.W.NullArray()
		} else {
			c.W.Null()
		}
		return
	}
	if !hasCount {
		v, _ := l.Pop(end)
		c.W.Bulk(v)
		c.listRemoved(e, l, key, 1)
		return
	}
	if count == 0 {
		c.W.ArrayLen(0)
		return
	}
	n := int(min(count, int64(l.Len())))
	c.replyPops(l, end, n)
	c.listRemoved(e, l, key, n)
}

// replyPops pops n elements from the given end and replies them as an
// array, in the order they were popped.
func (c *Client) replyPops(l *list.List, end list.End, n int) {
	c.W.ArrayLen(n)
	for range n {
		v, _ := l.Pop(end)
		c.W.Bulk(v)
	}
}

func cmdLlen(c *Client) {
	l, ok := c.listForRead(c.Args[1])
	if !ok {
		return
	}
	if l == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(l.Len()))
}

func cmdLrange(c *Client) {
	start, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	stop, ok := c.ParseInt(c.Args[3])
	if !ok {
		return
	}
	l, ok := c.listForRead(c.Args[1])
	if !ok {
		return
	}
	if l == nil {
		c.W.ArrayLen(0)
		return
	}
	it := l.Range(int(start), int(stop))
	c.W.ArrayLen(it.Len())
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		c.W.Bulk(v)
	}
}

func cmdLindex(c *Client) {
	l, ok := c.listForRead(c.Args[1])
	if !ok {
		return
	}
	if l == nil {
		c.W.Null()
		return
	}
	i, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	v, ok := l.Index(int(i))
	if !ok {
		c.W.Null()
		return
	}
	c.W.Bulk(v)
}

func cmdLset(c *Client) {
	key := c.Args[1]
	_, l, ok := c.listForWrite(key)
	if !ok {
		return
	}
	if l == nil {
		c.Error(ErrNoSuchKey)
		return
	}
	i, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	if !l.Set(int(i), c.Args[3]) {
		c.Error(ErrOutOfRange)
		return
	}
	c.W.OK()
	c.Modified(key)
}

func cmdLinsert(c *Client) {
	var after bool
	switch {
	case eqFold(c.Args[2], "after"):
		after = true
	case eqFold(c.Args[2], "before"):
	default:
		c.Error(ErrSyntax)
		return
	}
	key := c.Args[1]
	_, l, ok := c.listForWrite(key)
	if !ok {
		return
	}
	if l == nil {
		c.W.Int(0)
		return
	}
	n := l.Insert(c.Args[3], c.Args[4], after)
	c.W.Int(int64(n))
	if n > 0 {
		c.Modified(key)
	}
}

func cmdLrem(c *Client) {
	count, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	key := c.Args[1]
	e, l, ok := c.listForWrite(key)
	if !ok {
		return
	}
	if l == nil {
		c.W.Int(0)
		return
	}
	n := l.Remove(int(count), c.Args[3])
	c.W.Int(int64(n))
	if n > 0 {
		c.listRemoved(e, l, key, n)
	}
}

func cmdLtrim(c *Client) {
	start, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	stop, ok := c.ParseInt(c.Args[3])
	if !ok {
		return
	}
	key := c.Args[1]
	e, l, ok := c.listForWrite(key)
	if !ok {
		return
	}
	if l == nil {
		c.W.OK()
		return
	}
	before := l.Len()
	l.Trim(int(start), int(stop))
	removed := before - l.Len()
	// Redis signals the key (WATCH) even when nothing was trimmed, but
	// propagates only a change.
	c.listRemoved(e, l, key, max(removed, 1))
	if removed == 0 {
		c.PreventPropagation()
	}
	c.W.OK()
}

func cmdLpos(c *Client) {
	rank, count, maxlen := int64(1), int64(-1), int64(0) // count -1: no COUNT
	args := c.Args
	for j := 3; j < len(args); j++ {
		more := j+1 < len(args)
		var ok bool
		switch {
		case eqFold(args[j], "rank") && more:
			j++
			if rank, ok = c.ParseInt(args[j]); !ok {
				return
			}
			if rank == 0 {
				c.Error(errRankZero)
				return
			}
		case eqFold(args[j], "count") && more:
			j++
			if count, ok = c.parsePositive(args[j], errCountNegative); !ok {
				return
			}
		case eqFold(args[j], "maxlen") && more:
			j++
			if maxlen, ok = c.parsePositive(args[j], errMaxlenNegative); !ok {
				return
			}
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	l, ok := c.listForRead(c.Args[1])
	if !ok {
		return
	}
	if l == nil {
		if count != -1 {
			c.W.ArrayLen(0)
		} else {
			c.W.Null()
		}
		return
	}
	if count == -1 {
		pos := l.Pos(nil, c.Args[2], int(rank), 1, int(maxlen))
		if len(pos) == 0 {
			c.W.Null()
			return
		}
		c.W.Int(int64(pos[0]))
		return
	}
	pos := l.Pos(nil, c.Args[2], int(rank), int(count), int(maxlen))
	c.W.ArrayLen(len(pos))
	for _, p := range pos {
		c.W.Int(int64(p))
	}
}

func cmdLmove(c *Client) {
	from, ok := c.parseEnd(c.Args[3])
	if !ok {
		return
	}
	to, ok := c.parseEnd(c.Args[4])
	if !ok {
		return
	}
	c.lmoveGeneric(from, to)
}

// lmoveGeneric is LMOVE and RPOPLPUSH (and BLMOVE, BRPOPLPUSH when the
// source has elements). It reports whether an element moved.
func (c *Client) lmoveGeneric(from, to list.End) bool {
	src, dst := c.Args[1], c.Args[2]
	se, sl, ok := c.listForWrite(src)
	if !ok {
		return false
	}
	if sl == nil {
		c.W.Null()
		return false
	}
	_, dl, ok := c.listForWrite(dst)
	if !ok {
		return false
	}
	if dl == nil {
		dl = list.New(c.listFill())
		c.DB.AddObject(dst, keyspace.TypeList, dl)
	}
	v, _ := list.Move(sl, dl, from, to)
	c.W.Bulk(v)
	c.Modified(dst)
	if sl.Len() == 0 {
		c.DB.DeleteEntry(se)
	}
	c.Modified(src)
	c.SignalReady(dst)
	return true
}

// mpopGeneric is LMPOP and BLMPOP: numkeys is at c.Args[numkeysIdx], the
// timeout (BLMPOP) at c.Args[1].
func (c *Client) mpopGeneric(numkeysIdx int, block bool) {
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
	end, ok := c.parseEnd(args[whereIdx])
	if !ok {
		return
	}
	count, ok := c.parseMPopCount(args[whereIdx+1:])
	if !ok {
		return
	}
	var timeout time.Duration
	if block {
		if timeout, ok = c.ParseTimeout(args[1]); !ok {
			return
		}
	}
	keys := args[numkeysIdx+1 : whereIdx]
	e, l, key, ok := c.firstNonEmptyList(keys)
	if !ok {
		return
	}
	if l == nil {
		if block {
			c.BlockOnKeys(keys, timeout, nil)
			return
		}
		c.W.NullArray()
		return
	}
	n := int(min(count, int64(l.Len())))
	c.W.ArrayLen(2)
	c.W.Bulk(key)
	c.replyPops(l, end, n)
	c.listRemoved(e, l, key, n)
	c.Rewrite(popName(end), key, strconv.AppendInt(nil, int64(n), 10))
}

// firstNonEmptyList returns the first of keys holding a list (lists are
// never empty). A key of another type replies WRONGTYPE (ok false), except
// when a blocked client is served again: Redis 7.0 then serves it from the
// list that became ready and ignores its other keys, so they are skipped.
func (c *Client) firstNonEmptyList(keys [][]byte) (e *keyspace.Entry, l *list.List, key []byte, ok bool) {
	for _, k := range keys {
		e := c.LookupWrite(k)
		if e == nil {
			continue
		}
		if e.Type() != keyspace.TypeList {
			if c.Reexecuted() {
				continue
			}
			c.WrongType()
			return nil, nil, nil, false
		}
		return e, e.Object().(*list.List), k, true
	}
	return nil, nil, nil, true
}

// blockingPop is BLPOP and BRPOP.
func (c *Client) blockingPop(end list.End) {
	keys := c.Args[1 : len(c.Args)-1]
	timeout, ok := c.ParseTimeout(c.Args[len(c.Args)-1])
	if !ok {
		return
	}
	e, l, key, ok := c.firstNonEmptyList(keys)
	if !ok {
		return
	}
	if l == nil {
		c.BlockOnKeys(keys, timeout, nil)
		return
	}
	v, _ := l.Pop(end)
	c.W.ArrayLen(2)
	c.W.Bulk(key)
	c.W.Bulk(v)
	c.listRemoved(e, l, key, 1)
	c.Rewrite(popName(end), key)
}

func cmdBlmove(c *Client) {
	from, ok := c.parseEnd(c.Args[3])
	if !ok {
		return
	}
	to, ok := c.parseEnd(c.Args[4])
	if !ok {
		return
	}
	timeout, ok := c.ParseTimeout(c.Args[5])
	if !ok {
		return
	}
	if c.blmoveGeneric(from, to, timeout) {
		c.Rewrite([]byte("LMOVE"), c.Args[1], c.Args[2], c.Args[3], c.Args[4])
	}
}

func cmdBrpoplpush(c *Client) {
	timeout, ok := c.ParseTimeout(c.Args[3])
	if !ok {
		return
	}
	if c.blmoveGeneric(list.Tail, list.Head, timeout) {
		c.Rewrite([]byte("RPOPLPUSH"), c.Args[1], c.Args[2])
	}
}

// blmoveGeneric moves like LMOVE when the source has elements and blocks
// otherwise. It reports whether an element moved.
func (c *Client) blmoveGeneric(from, to list.End, timeout time.Duration) bool {
	src := c.Args[1]
	e := c.LookupWrite(src)
	if e != nil && e.Type() != keyspace.TypeList {
		if !c.Reexecuted() {
			c.WrongType()
			return false
		}
		e = nil // not a list any more: keep waiting, as Redis 7.0 does
	}
	if e != nil {
		return c.lmoveGeneric(from, to)
	}
	if c.inExec {
		// Inside MULTI a blocking command cannot block: Redis replies the
		// null bulk here, while a real timeout replies the null array.
		c.W.Null()
		return false
	}
	c.BlockOnKeys([][]byte{src}, timeout, nil)
	return false
}

// parseMPopCount parses the options after LMPOP/ZMPOP's LEFT|RIGHT|MIN|MAX:
// at most one COUNT n (n >= 1), default 1; anything else is a syntax error.
func (c *Client) parseMPopCount(opts [][]byte) (int64, bool) {
	count := int64(-1)
	for j := 0; j < len(opts); j++ {
		if count == -1 && eqFold(opts[j], "count") && j+1 < len(opts) {
			j++
			var ok bool
			if count, ok = c.parseAtLeastOne(opts[j], errCountPositive); !ok {
				return 0, false
			}
			continue
		}
		c.Error(ErrSyntax)
		return 0, false
	}
	if count == -1 {
		count = 1
	}
	return count, true
}
