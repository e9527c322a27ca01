package stream

import (
	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/keyspace/stream"
)

func cmdXadd(c *command.Ctx) {
	a, ok := parseAddTrimArgs(c, true)
	if !ok {
		return
	}
	fieldPos := a.idPos + 1
	if n := len(c.Args) - fieldPos; n < 2 || n%2 == 1 {
		c.Error("ERR wrong number of arguments for 'xadd' command")
		return
	}
	if a.idGiven && a.seqGiven && a.id.IsZero() {
		c.Error("ERR The ID specified in XADD must be greater than 0-0")
		return
	}
	key := c.Args[1]
	e, s, ok := streamForWrite(c, key)
	if !ok {
		return
	}
	if e == nil {
		if a.noMkStream {
			c.W.Null()
			return
		}
		s = stream.New()
		c.DB.AddObject(key, keyspace.TypeStream, s)
	}
	last := s.LastID()
	if last == stream.MaxID {
		c.Error("ERR The stream has exhausted the last possible ID, unable to add more items")
		return
	}
	id, ok := nextID(s, &a, c.Now())
	if !ok || !last.Less(id) {
		c.Error("ERR The ID specified in XADD is equal or smaller than the target stream top item")
		return
	}
	fv := c.Args[fieldPos:]
	size := 0
	for _, x := range fv {
		size += len(x)
	}
	if size > 1<<30 {
		c.Error("ERR Elements are too large to be stored")
		return
	}
	s.Add(id, fv, limits(c))
	var idb [48]byte
	idArg := id.Append(idb[:0])
	c.W.Bulk(idArg)
	c.Modified(key)
	c.Notify(command.NotifyStream, "xadd", key)
	if a.trim.Strategy != stream.TrimNone {
		if s.Trim(a.trim) > 0 {
			c.Notify(command.NotifyStream, "xtrim", key)
		}
	}
	switch {
	case a.trim.Approx:
		var idArgp []byte
		if !a.idGiven || !a.seqGiven {
			idArgp = idArg
		}
		c.Rewrite(trimRewrite(c, s, &a, idArgp)...)
	case !a.idGiven || !a.seqGiven:
		// Propagate the ID chosen (Rewrite copies the arguments).
		arg := c.Args[a.idPos]
		c.Args[a.idPos] = idArg
		c.Rewrite(c.Args...)
		c.Args[a.idPos] = arg
	}
	c.SignalReady(key)
}

// nextID is the ID XADD adds: the explicit one, "ms-*" (the next
// sequence of ms), or "*" (the clock, or the next after the last ID).
func nextID(s *stream.Stream, a *addTrimArgs, now int64) (stream.ID, bool) {
	last := s.LastID()
	if a.idGiven {
		if a.seqGiven {
			return a.id, true
		}
		if last.Ms == a.id.Ms {
			if last.Seq == ^uint64(0) {
				return a.id, false
			}
			return stream.ID{Ms: last.Ms, Seq: last.Seq + 1}, true
		}
		return a.id, true
	}
	if ms := uint64(max(now, 0)); ms > last.Ms {
		return stream.ID{Ms: ms}, true
	}
	return last.Incr()
}

func cmdXlen(c *command.Ctx) {
	s, ok := streamForRead(c, c.Args[1])
	if !ok {
		return
	}
	if s == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(s.Length())
}

func cmdXrange(c *command.Ctx)    { xrangeGeneric(c, false) }
func cmdXrevrange(c *command.Ctx) { xrangeGeneric(c, true) }

func xrangeGeneric(c *command.Ctx, rev bool) {
	startArg, endArg := c.Args[2], c.Args[3]
	if rev {
		startArg, endArg = endArg, startArg
	}
	start, ok := parseStart(c, startArg)
	if !ok {
		return
	}
	end, ok := parseEnd(c, endArg)
	if !ok {
		return
	}
	count := int64(-1)
	for j := 4; j < len(c.Args); j++ {
		if command.EqFold(c.Args[j], "count") && j+1 < len(c.Args) {
			n, ok := c.ParseInt(c.Args[j+1])
			if !ok {
				return
			}
			count = max(n, 0)
			j++
		} else {
			c.Error(command.ErrSyntax)
			return
		}
	}
	s, ok := streamForRead(c, c.Args[1])
	if !ok {
		return
	}
	if s == nil {
		c.W.ArrayLen(0)
		return
	}
	if count == 0 {
		c.W.NullArray()
		return
	}
	if count < 0 {
		count = 0
	}
	replyRange(c, s, start, end, count, rev)
}

// replyRange replies the entries of [start, end] (at most count, 0: all).
func replyRange(c *command.Ctx, s *stream.Stream, start, end stream.ID, count int64, rev bool) int {
	n := 0
	mark := c.W.Len()
	// Count first, then write: the array length comes before the entries.
	s.Range(start, end, rev, func(stream.ID, [][]byte) bool {
		n++
		return count == 0 || int64(n) < count
	})
	c.W.Truncate(mark)
	c.W.ArrayLen(n)
	i := 0
	s.Range(start, end, rev, func(id stream.ID, fv [][]byte) bool {
		replyEntry(c, id, fv)
		i++
		return i < n
	})
	return n
}

func cmdXdel(c *command.Ctx) {
	key := c.Args[1]
	e, s, ok := streamForWrite(c, key)
	if !ok {
		return
	}
	if e == nil {
		c.W.Int(0)
		return
	}
	ids := make([]stream.ID, 0, len(c.Args)-2)
	for _, arg := range c.Args[2:] {
		id, ok := parseStrictID(c, arg)
		if !ok {
			return
		}
		ids = append(ids, id)
	}
	deleted := 0
	for _, id := range ids {
		if s.Delete(id) {
			if s.MaxDeletedID().Less(id) {
				s.SetMaxDeletedID(id)
			}
			deleted++
		}
	}
	if deleted > 0 {
		c.Modified(key)
		c.Notify(command.NotifyStream, "xdel", key)
		c.AddDirty(int64(deleted - 1))
	}
	c.W.Int(int64(deleted))
}

func cmdXtrim(c *command.Ctx) {
	a, ok := parseAddTrimArgs(c, false)
	if !ok {
		return
	}
	key := c.Args[1]
	e, s, ok := streamForWrite(c, key)
	if !ok {
		return
	}
	if e == nil {
		c.W.Int(0)
		return
	}
	deleted := s.Trim(a.trim)
	if deleted > 0 {
		c.Notify(command.NotifyStream, "xtrim", key)
		if a.trim.Approx {
			c.Rewrite(trimRewrite(c, s, &a, nil)...)
		}
		c.Modified(key)
		c.AddDirty(deleted - 1)
	}
	c.W.Int(deleted)
}

func cmdXsetid(c *command.Ctx) {
	id, ok := parseStrictID(c, c.Args[2])
	if !ok {
		return
	}
	var maxDel stream.ID
	entriesAdded := int64(-1)
	for i := 3; i < len(c.Args); i += 2 {
		more := len(c.Args) - 1 - i
		switch opt := c.Args[i]; {
		case command.EqFold(opt, "entriesadded") && more > 0:
			n, ok := c.ParseInt(c.Args[i+1])
			if !ok {
				return
			}
			if n < 0 {
				c.Error("ERR entries_added must be positive")
				return
			}
			entriesAdded = n
		case command.EqFold(opt, "maxdeletedid") && more > 0:
			if maxDel, ok = parseStrictID(c, c.Args[i+1]); !ok {
				return
			}
			if id.Less(maxDel) {
				c.Error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
				return
			}
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	key := c.Args[1]
	e, s, ok := streamForWrite(c, key)
	if !ok {
		return
	}
	if e == nil {
		c.Error(command.ErrNoSuchKey)
		return
	}
	if id.Less(s.MaxDeletedID()) {
		c.Error("ERR The ID specified in XSETID is smaller than current max_deleted_entry_id")
		return
	}
	if s.Length() > 0 {
		if id.Less(s.LastEntryID()) {
			c.Error("ERR The ID specified in XSETID is smaller than the target stream top item")
			return
		}
		if entriesAdded != -1 && s.Length() > entriesAdded {
			c.Error("ERR The entries_added specified in XSETID is smaller than the target stream length")
			return
		}
	}
	s.SetLastID(id)
	ea := s.EntriesAdded()
	if entriesAdded != -1 {
		ea = entriesAdded
	}
	md := s.MaxDeletedID()
	if !maxDel.IsZero() {
		md = maxDel
	}
	s.SetMeta(id, md, ea)
	c.W.OK()
	c.Modified(key)
	c.Notify(command.NotifyStream, "xsetid", key)
}
