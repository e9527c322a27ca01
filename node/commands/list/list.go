package list

import (
	"strconv"
	"time"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/keyspace/list"
)

// listFill is list-max-listpack-size for new lists.
func listFill(c *command.Ctx) int { return c.Limits().Encoding.ListFill }

// Error replies of the list commands worded as Redis 7.0 words them.
const (
	errRankZero       = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
	errCountNegative  = "ERR COUNT can't be negative"
	errMaxlenNegative = "ERR MAXLEN can't be negative"
)

// popName is the non-blocking pop a served blocking pop propagates as.
func popName(end list.End) []byte {
	if end == list.Head {
		return []byte("LPOP")
	}
	return []byte("RPOP")
}

// parseEnd parses LEFT or RIGHT, replying a syntax error otherwise.
func parseEnd(c *command.Ctx, arg []byte) (list.End, bool) {
	switch {
	case command.EqFold(arg, "left"):
		return list.Head, true
	case command.EqFold(arg, "right"):
		return list.Tail, true
	}
	c.Error(command.ErrSyntax)
	return 0, false
}

// listForRead looks key up for reading: l is nil when the key is missing
// (nothing replied) or of another type (WRONGTYPE replied, ok false).
func listForRead(c *command.Ctx, key []byte) (l *list.List, ok bool) {
	e, ok := c.ReadType(key, keyspace.TypeList)
	if !ok || e == nil {
		return nil, ok
	}
	return e.Object().(*list.List), true
}

// listForWrite is listForRead for a command that changes the list.
func listForWrite(c *command.Ctx, key []byte) (e *keyspace.Entry, l *list.List, ok bool) {
	e, ok = c.WriteType(key, keyspace.TypeList)
	if !ok || e == nil {
		return nil, nil, ok
	}
	return e, e.Object().(*list.List), true
}

// popEvent is the keyspace event of a pop from end.
func popEvent(end list.End) string {
	if end == list.Head {
		return "lpop"
	}
	return "rpop"
}

// pushEvent is the keyspace event of a push at end.
func pushEvent(end list.End) string {
	if end == list.Head {
		return "lpush"
	}
	return "rpush"
}

// listRemoved finishes a command that removed n elements from the list at
// key: it fires event, and an emptied list is deleted ("del"), as Redis
// keeps no empty lists.
func listRemoved(c *command.Ctx, e *keyspace.Entry, l *list.List, key []byte, n int, event string) {
	c.Notify(command.NotifyList, event, key)
	if l.Len() == 0 {
		c.DB.DeleteEntry(e)
		c.Notify(command.NotifyGeneric, "del", key)
	}
	c.Modified(key)
	c.AddDirty(int64(n - 1))
}

// pushGeneric is LPUSH, RPUSH and, with xx, LPUSHX and RPUSHX.
func pushGeneric(c *command.Ctx, end list.End, xx bool) {
	key := c.Args[1]
	_, l, ok := listForWrite(c, key)
	if !ok {
		return
	}
	if l == nil {
		if xx {
			c.W.Int(0)
			return
		}
		l = list.New(listFill(c))
		c.DB.AddObject(key, keyspace.TypeList, l)
	}
	for _, v := range c.Args[2:] {
		l.Push(end, v)
	}
	c.W.Int(int64(l.Len()))
	c.Modified(key)
	c.Notify(command.NotifyList, pushEvent(end), key)
	c.AddDirty(int64(len(c.Args) - 3))
	c.SignalReady(key)
}

// popGeneric is LPOP and RPOP, with the optional count.
func popGeneric(c *command.Ctx, end list.End) {
	if len(c.Args) > 3 {
		c.Error("ERR wrong number of arguments for '" + c.Cmd.Name + "' command")
		return
	}
	hasCount := len(c.Args) == 3
	var count int64
	if hasCount {
		var ok bool
		if count, ok = c.ParsePositive(c.Args[2], command.ErrMustBePositive); !ok {
			return
		}
	}
	key := c.Args[1]
	e, l, ok := listForWrite(c, key)
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
		listRemoved(c, e, l, key, 1, popEvent(end))
		return
	}
	if count == 0 {
		c.W.ArrayLen(0)
		return
	}
	n := int(min(count, int64(l.Len())))
	replyPops(c, l, end, n)
	listRemoved(c, e, l, key, n, popEvent(end))
}

// replyPops pops n elements from the given end and replies them as an
// array, in the order they were popped.
func replyPops(c *command.Ctx, l *list.List, end list.End, n int) {
	c.W.ArrayLen(n)
	for range n {
		v, _ := l.Pop(end)
		c.W.Bulk(v)
	}
}

func cmdLlen(c *command.Ctx) {
	l, ok := listForRead(c, c.Args[1])
	if !ok {
		return
	}
	if l == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(l.Len()))
}

func cmdLrange(c *command.Ctx) {
	start, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	stop, ok := c.ParseInt(c.Args[3])
	if !ok {
		return
	}
	l, ok := listForRead(c, c.Args[1])
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

func cmdLindex(c *command.Ctx) {
	l, ok := listForRead(c, c.Args[1])
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

func cmdLset(c *command.Ctx) {
	key := c.Args[1]
	_, l, ok := listForWrite(c, key)
	if !ok {
		return
	}
	if l == nil {
		c.Error(command.ErrNoSuchKey)
		return
	}
	i, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	if !l.Set(int(i), c.Args[3]) {
		c.Error(command.ErrOutOfRange)
		return
	}
	c.W.OK()
	c.Modified(key)
	c.Notify(command.NotifyList, "lset", key)
}

func cmdLinsert(c *command.Ctx) {
	var after bool
	switch {
	case command.EqFold(c.Args[2], "after"):
		after = true
	case command.EqFold(c.Args[2], "before"):
	default:
		c.Error(command.ErrSyntax)
		return
	}
	key := c.Args[1]
	_, l, ok := listForWrite(c, key)
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
		c.Notify(command.NotifyList, "linsert", key)
	}
}

func cmdLrem(c *command.Ctx) {
	count, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	key := c.Args[1]
	e, l, ok := listForWrite(c, key)
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
		listRemoved(c, e, l, key, n, "lrem")
	}
}

func cmdLtrim(c *command.Ctx) {
	start, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	stop, ok := c.ParseInt(c.Args[3])
	if !ok {
		return
	}
	key := c.Args[1]
	e, l, ok := listForWrite(c, key)
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
	listRemoved(c, e, l, key, max(removed, 1), "ltrim")
	if removed == 0 {
		c.PreventPropagation()
	}
	c.W.OK()
}

func cmdLpos(c *command.Ctx) {
	rank, count, maxlen := int64(1), int64(-1), int64(0) // count -1: no COUNT
	args := c.Args
	for j := 3; j < len(args); j++ {
		more := j+1 < len(args)
		var ok bool
		switch {
		case command.EqFold(args[j], "rank") && more:
			j++
			if rank, ok = c.ParseInt(args[j]); !ok {
				return
			}
			if rank == 0 {
				c.Error(errRankZero)
				return
			}
		case command.EqFold(args[j], "count") && more:
			j++
			if count, ok = c.ParsePositive(args[j], errCountNegative); !ok {
				return
			}
		case command.EqFold(args[j], "maxlen") && more:
			j++
			if maxlen, ok = c.ParsePositive(args[j], errMaxlenNegative); !ok {
				return
			}
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	l, ok := listForRead(c, c.Args[1])
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

func cmdLmove(c *command.Ctx) {
	from, ok := parseEnd(c, c.Args[3])
	if !ok {
		return
	}
	to, ok := parseEnd(c, c.Args[4])
	if !ok {
		return
	}
	lmoveGeneric(c, from, to)
}

// lmoveGeneric is LMOVE and RPOPLPUSH (and BLMOVE, BRPOPLPUSH when the
// source has elements). It reports whether an element moved.
func lmoveGeneric(c *command.Ctx, from, to list.End) bool {
	src, dst := c.Args[1], c.Args[2]
	se, sl, ok := listForWrite(c, src)
	if !ok {
		return false
	}
	if sl == nil {
		c.W.Null()
		return false
	}
	_, dl, ok := listForWrite(c, dst)
	if !ok {
		return false
	}
	if dl == nil {
		dl = list.New(listFill(c))
		c.DB.AddObject(dst, keyspace.TypeList, dl)
	}
	v, _ := list.Move(sl, dl, from, to)
	c.W.Bulk(v)
	c.Modified(dst)
	c.Notify(command.NotifyList, pushEvent(to), dst)
	c.Notify(command.NotifyList, popEvent(from), src)
	if sl.Len() == 0 {
		c.DB.DeleteEntry(se)
		c.Notify(command.NotifyGeneric, "del", src)
	}
	c.Modified(src)
	c.SignalReady(dst)
	return true
}

// mpopGeneric is LMPOP and BLMPOP: numkeys is at c.Args[numkeysIdx], the
// timeout (BLMPOP) at c.Args[1].
func mpopGeneric(c *command.Ctx, numkeysIdx int, block bool) {
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
	end, ok := parseEnd(c, args[whereIdx])
	if !ok {
		return
	}
	count, ok := c.ParseMPopCount(args[whereIdx+1:])
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
	e, l, key, ok := firstNonEmptyList(c, keys)
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
	replyPops(c, l, end, n)
	listRemoved(c, e, l, key, n, popEvent(end))
	c.Rewrite(popName(end), key, strconv.AppendInt(nil, int64(n), 10))
}

// firstNonEmptyList returns the first of keys holding a list (lists are
// never empty). A key of another type replies WRONGTYPE (ok false), except
// when a blocked client is served again: Redis 7.0 then serves it from the
// list that became ready and ignores its other keys, so they are skipped.
func firstNonEmptyList(c *command.Ctx, keys [][]byte) (e *keyspace.Entry, l *list.List, key []byte, ok bool) {
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
func blockingPop(c *command.Ctx, end list.End) {
	keys := c.Args[1 : len(c.Args)-1]
	timeout, ok := c.ParseTimeout(c.Args[len(c.Args)-1])
	if !ok {
		return
	}
	e, l, key, ok := firstNonEmptyList(c, keys)
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
	listRemoved(c, e, l, key, 1, popEvent(end))
	c.Rewrite(popName(end), key)
}

func cmdBlmove(c *command.Ctx) {
	from, ok := parseEnd(c, c.Args[3])
	if !ok {
		return
	}
	to, ok := parseEnd(c, c.Args[4])
	if !ok {
		return
	}
	timeout, ok := c.ParseTimeout(c.Args[5])
	if !ok {
		return
	}
	if blmoveGeneric(c, from, to, timeout) {
		c.Rewrite([]byte("LMOVE"), c.Args[1], c.Args[2], c.Args[3], c.Args[4])
	}
}

func cmdBrpoplpush(c *command.Ctx) {
	timeout, ok := c.ParseTimeout(c.Args[3])
	if !ok {
		return
	}
	if blmoveGeneric(c, list.Tail, list.Head, timeout) {
		c.Rewrite([]byte("RPOPLPUSH"), c.Args[1], c.Args[2])
	}
}

// blmoveGeneric moves like LMOVE when the source has elements and blocks
// otherwise. It reports whether an element moved.
func blmoveGeneric(c *command.Ctx, from, to list.End, timeout time.Duration) bool {
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
		return lmoveGeneric(c, from, to)
	}
	if c.InExec() {
		// Inside MULTI a blocking command cannot block: Redis replies the
		// null bulk here, while a real timeout replies the null array.
		c.W.Null()
		return false
	}
	c.BlockOnKeys([][]byte{src}, timeout, nil)
	return false
}
