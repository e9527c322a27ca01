package hash

import (
	"math"
	"strconv"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/keyspace/hash"
)

// hashLimits are hash-max-listpack-entries and hash-max-listpack-value.
func hashLimits(c *command.Ctx) hash.Limits { return c.Limits().Encoding.Hash }

// hashForRead looks key up for reading: h is nil when the key is missing
// (nothing replied) or of another type (WRONGTYPE replied, ok false).
func hashForRead(c *command.Ctx, key []byte) (h *hash.Hash, ok bool) {
	e, ok := c.ReadType(key, keyspace.TypeHash)
	if !ok || e == nil {
		return nil, ok
	}
	return e.Object().(*hash.Hash), true
}

// hashForWrite is hashTypeLookupWriteOrCreate: the hash at key, or a new
// empty one (e nil) that the caller adds once it holds a field.
func hashForWrite(c *command.Ctx, key []byte) (e *keyspace.Entry, h *hash.Hash, ok bool) {
	e, ok = c.WriteType(key, keyspace.TypeHash)
	if !ok {
		return nil, nil, false
	}
	if e == nil {
		return nil, hash.New(), true
	}
	return e, e.Object().(*hash.Hash), true
}

// hashChanged finishes a command that changed n fields of the hash at key,
// adding a new hash to the database, and fires event.
func hashChanged(c *command.Ctx, e *keyspace.Entry, h *hash.Hash, key []byte, n int, event string) {
	if e == nil {
		c.DB.AddObject(key, keyspace.TypeHash, h)
	}
	c.Modified(key)
	c.Notify(command.NotifyHash, event, key)
	c.AddDirty(int64(n - 1))
}

// hsetGeneric is HSET (replies the number of new fields) and HMSET (OK).
func hsetGeneric(c *command.Ctx, hmset bool) {
	if len(c.Args)%2 == 1 {
		c.Error("ERR wrong number of arguments for '" + c.Cmd.Name + "' command")
		return
	}
	key := c.Args[1]
	e, h, ok := hashForWrite(c, key)
	if !ok {
		return
	}
	lim := hashLimits(c)
	h.TryConversion(lim, c.Args[2:]...)
	created := 0
	for i := 2; i < len(c.Args); i += 2 {
		if h.Set(c.Args[i], c.Args[i+1], lim) {
			created++
		}
	}
	if hmset {
		c.W.OK()
	} else {
		c.W.Int(int64(created))
	}
	hashChanged(c, e, h, key, (len(c.Args)-2)/2, "hset")
}

func cmdHsetnx(c *command.Ctx) {
	key, field := c.Args[1], c.Args[2]
	e, h, ok := hashForWrite(c, key)
	if !ok {
		return
	}
	if h.Exists(field) {
		c.W.Int(0)
		return
	}
	lim := hashLimits(c)
	h.TryConversion(lim, field, c.Args[3])
	h.Set(field, c.Args[3], lim)
	c.W.Int(1)
	hashChanged(c, e, h, key, 1, "hset")
}

func cmdHget(c *command.Ctx) {
	h, ok := hashForRead(c, c.Args[1])
	if !ok {
		return
	}
	if h == nil {
		c.W.Null()
		return
	}
	v, ok := h.Get(c.Args[2])
	if !ok {
		c.W.Null()
		return
	}
	c.W.Bulk(v)
}

func cmdHmget(c *command.Ctx) {
	h, ok := hashForRead(c, c.Args[1])
	if !ok {
		return
	}
	fields := c.Args[2:]
	c.W.ArrayLen(len(fields))
	for _, f := range fields {
		if h == nil {
			c.W.Null()
			continue
		}
		if v, ok := h.Get(f); ok {
			c.W.Bulk(v)
		} else {
			c.W.Null()
		}
	}
}

func cmdHdel(c *command.Ctx) {
	key := c.Args[1]
	e, ok := c.WriteType(key, keyspace.TypeHash)
	if !ok {
		return
	}
	if e == nil {
		c.W.Int(0)
		return
	}
	h := e.Object().(*hash.Hash)
	deleted, removed := 0, false
	for _, f := range c.Args[2:] {
		if h.Delete(f) {
			deleted++
			if h.Len() == 0 {
				c.DB.DeleteEntry(e)
				removed = true
				break
			}
		}
	}
	if deleted > 0 {
		c.Modified(key)
		c.Notify(command.NotifyHash, "hdel", key)
		if removed {
			c.Notify(command.NotifyGeneric, "del", key)
		}
		c.AddDirty(int64(deleted - 1))
	}
	c.W.Int(int64(deleted))
}

func cmdHlen(c *command.Ctx) {
	h, ok := hashForRead(c, c.Args[1])
	if !ok {
		return
	}
	if h == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(h.Len()))
}

func cmdHstrlen(c *command.Ctx) {
	h, ok := hashForRead(c, c.Args[1])
	if !ok {
		return
	}
	if h == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(h.StrLen(c.Args[2])))
}

func cmdHexists(c *command.Ctx) {
	h, ok := hashForRead(c, c.Args[1])
	if !ok {
		return
	}
	if h != nil && h.Exists(c.Args[2]) {
		c.W.Int(1)
		return
	}
	c.W.Int(0)
}

// hgetallGeneric is HKEYS, HVALS and HGETALL, which replies a map in RESP3.
func hgetallGeneric(c *command.Ctx, fields, values bool) {
	h, ok := hashForRead(c, c.Args[1])
	if !ok {
		return
	}
	n := 0
	if h != nil {
		n = h.Len()
	}
	if fields && values {
		c.W.MapLen(n)
	} else {
		c.W.ArrayLen(n)
	}
	if h == nil {
		return
	}
	for f, v := range h.All() {
		if fields {
			c.W.Bulk(f)
		}
		if values {
			c.W.Bulk(v)
		}
	}
}

func cmdHincrby(c *command.Ctx) {
	incr, ok := c.ParseInt(c.Args[3])
	if !ok {
		return
	}
	key := c.Args[1]
	e, h, ok := hashForWrite(c, key)
	if !ok {
		return
	}
	n, err := h.IncrBy(c.Args[2], incr, hashLimits(c))
	if err != nil {
		c.Error(err.Error())
		return
	}
	c.W.Int(n)
	hashChanged(c, e, h, key, 1, "hincrby")
}

func cmdHincrbyfloat(c *command.Ctx) {
	incr, err := hash.ParseFloatIncrement(c.Args[3])
	if err != nil {
		c.Error(err.Error())
		return
	}
	key, field := c.Args[1], c.Args[2]
	e, h, ok := hashForWrite(c, key)
	if !ok {
		return
	}
	res, err := h.IncrByFloat(field, incr, hashLimits(c))
	if err != nil {
		c.Error(err.Error())
		return
	}
	c.W.Bulk(res)
	hashChanged(c, e, h, key, 1, "hincrbyfloat")
	// Replicas and the AOF get the result, so float formatting can never
	// make them differ.
	c.Rewrite([]byte("HSET"), key, field, res)
}

func cmdHrandfield(c *command.Ctx) {
	rnd := c.RandSource()
	if len(c.Args) < 3 {
		h, ok := hashForRead(c, c.Args[1])
		if !ok {
			return
		}
		if h == nil {
			c.W.Null()
			return
		}
		f, _, _ := h.RandomField(rnd)
		c.W.Bulk(f)
		return
	}
	count, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	if count == math.MinInt64 {
		c.Error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return
	}
	withValues := false
	if len(c.Args) > 4 || (len(c.Args) == 4 && !command.EqFold(c.Args[3], "withvalues")) {
		c.Error(command.ErrSyntax)
		return
	}
	if len(c.Args) == 4 {
		withValues = true
		if count < -math.MaxInt64/2 || count > math.MaxInt64/2 {
			c.Error("ERR value is out of range")
			return
		}
	}
	h, ok := hashForRead(c, c.Args[1])
	if !ok {
		return
	}
	if h == nil || count == 0 {
		c.W.ArrayLen(0)
		return
	}
	n := h.RandomCount(int(count))
	resp3 := c.W.Proto() >= 3
	if withValues && !resp3 {
		c.W.ArrayLen(2 * n)
	} else {
		c.W.ArrayLen(n)
	}
	picked := 0
	h.RandomFields(int(count), rnd, func(f, v []byte) bool {
		if withValues && resp3 {
			c.W.ArrayLen(2)
		}
		c.W.Bulk(f)
		if withValues {
			c.W.Bulk(v)
		}
		// A count of -10^18 must not hold the lock for good.
		picked++
		return picked%command.RandomChunk != 0 || !c.RandomReplyOverLimit()
	})
}

func cmdHscan(c *command.Ctx) {
	cursor, ok := c.ParseScanCursor(c.Args[2])
	if !ok {
		return
	}
	h, ok := hashForRead(c, c.Args[1])
	if !ok {
		return
	}
	if h == nil {
		c.W.ArrayLen(2)
		c.W.BulkString("0")
		c.W.ArrayLen(0)
		return
	}
	o, ok := c.ParseScanOptions(c.Args[3:], false)
	if !ok {
		return
	}
	var out [][]byte
	next := h.Scan(cursor, o.Count, func(f, v []byte) {
		if o.Match == nil || command.GlobMatch(o.Match, f, false) {
			out = append(out, f, v)
		}
	})
	c.W.ArrayLen(2)
	c.W.BulkString(strconv.FormatUint(next, 10))
	c.W.ArrayLen(len(out))
	for _, b := range out {
		c.W.Bulk(b)
	}
}
