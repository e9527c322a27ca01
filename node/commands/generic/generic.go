package generic

import (
	"math"
	"strconv"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
)

func cmdDel(c *command.Ctx) {
	n := int64(0)
	for _, k := range c.Args[1:] {
		if c.DB.Delete(k) {
			c.Modified(k)
			c.Notify(command.NotifyGeneric, "del", k)
			n++
		}
	}
	c.W.Int(n)
}

// peekRead is Redis's lookupKeyReadWithFlags(LOOKUP_NOTOUCH): a lookup
// that leaves the key's clock alone but fires the keymiss event.
func peekRead(c *command.Ctx, key []byte) *keyspace.Entry {
	e := c.DB.Peek(key)
	if e == nil {
		c.Notify(command.NotifyKeyMiss, "keymiss", key)
	}
	return e
}

func cmdExists(c *command.Ctx) {
	n := int64(0)
	for _, k := range c.Args[1:] {
		if peekRead(c, k) != nil {
			n++
		}
	}
	c.W.Int(n)
}

func cmdType(c *command.Ctx) {
	e := peekRead(c, c.Args[1])
	if e == nil {
		c.W.SimpleString("none")
		return
	}
	c.W.SimpleString(e.Type().String())
}

// expireGeneric implements EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT
// (expireGenericCommand): base is 0 or now in ms, unitMs 1000 or 1.
func expireGeneric(c *command.Ctx, base, unitMs int64) {
	key := c.Args[1]
	// As Redis: the options first, then the time.
	var nx, xx, gt, lt bool
	for _, a := range c.Args[3:] {
		switch {
		case command.EqFold(a, "nx"):
			nx = true
		case command.EqFold(a, "xx"):
			xx = true
		case command.EqFold(a, "gt"):
			gt = true
		case command.EqFold(a, "lt"):
			lt = true
		default:
			c.Error("ERR Unsupported option " + command.ErrorTail(a))
			return
		}
	}
	if nx && (xx || gt || lt) {
		c.Error("ERR NX and XX, GT or LT options at the same time are not compatible")
		return
	}
	if gt && lt {
		c.Error("ERR GT and LT options at the same time are not compatible")
		return
	}
	when, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	invalid := "ERR invalid expire time in '" + c.Cmd.Name + "' command"
	if unitMs == 1000 {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			c.Error(invalid)
			return
		}
		when *= 1000
	}
	if when > math.MaxInt64-base {
		c.Error(invalid)
		return
	}
	when += base
	e := c.LookupWrite(key)
	if e == nil {
		c.W.Int(0)
		return
	}
	cur := e.ExpireAt()
	has := cur != 0
	if (nx && has) || (xx && !has) || (gt && (!has || when <= cur)) || (lt && has && when >= cur) {
		c.W.Int(0)
		return
	}
	if when <= c.Now() && !c.Env.NoExpire {
		c.DB.DeleteEntry(e)
		c.Modified(key)
		c.Rewrite([]byte("DEL"), key)
		c.Notify(command.NotifyGeneric, "del", key)
		c.W.Int(1)
		return
	}
	c.DB.SetExpire(e, when)
	c.Modified(key)
	c.Notify(command.NotifyGeneric, "expire", key)
	if c.Cmd.Name != "pexpireat" {
		c.Rewrite([]byte("PEXPIREAT"), key, []byte(strconv.FormatInt(when, 10)))
	}
	c.W.Int(1)
}

func cmdExpire(c *command.Ctx)    { expireGeneric(c, c.Now(), 1000) }
func cmdPexpire(c *command.Ctx)   { expireGeneric(c, c.Now(), 1) }
func cmdExpireat(c *command.Ctx)  { expireGeneric(c, 0, 1000) }
func cmdPexpireat(c *command.Ctx) { expireGeneric(c, 0, 1) }

// ttlGeneric implements TTL, PTTL, EXPIRETIME and PEXPIRETIME.
func ttlGeneric(c *command.Ctx, ms, abs bool) {
	e := peekRead(c, c.Args[1])
	if e == nil {
		c.W.Int(-2)
		return
	}
	at := e.ExpireAt()
	if at == 0 {
		c.W.Int(-1)
		return
	}
	v := at
	if !abs {
		v = at - c.Now()
		if v < 0 {
			v = 0
		}
	}
	if !ms {
		v = (v + 500) / 1000
	}
	c.W.Int(v)
}

func cmdTTL(c *command.Ctx)         { ttlGeneric(c, false, false) }
func cmdPTTL(c *command.Ctx)        { ttlGeneric(c, true, false) }
func cmdExpiretime(c *command.Ctx)  { ttlGeneric(c, false, true) }
func cmdPexpiretime(c *command.Ctx) { ttlGeneric(c, true, true) }

func cmdPersist(c *command.Ctx) {
	e := c.LookupWrite(c.Args[1])
	if e == nil || !c.DB.Persist(e) {
		c.W.Int(0)
		return
	}
	c.Modified(c.Args[1])
	c.Notify(command.NotifyGeneric, "persist", c.Args[1])
	c.W.Int(1)
}

func renameGeneric(c *command.Ctx, nx bool) {
	src, dst := c.Args[1], c.Args[2]
	e := c.LookupWrite(src)
	if e == nil {
		c.Error(command.ErrNoSuchKey)
		return
	}
	if string(src) == string(dst) {
		if nx {
			c.W.Int(0)
		} else {
			c.W.OK()
		}
		return
	}
	if d := c.LookupWrite(dst); d != nil {
		if nx {
			c.W.Int(0)
			return
		}
		c.DB.DeleteEntry(d)
	}
	c.DB.Rename(e, dst)
	c.Modified(src)
	c.Modified(dst)
	c.Notify(command.NotifyGeneric, "rename_from", src)
	c.Notify(command.NotifyGeneric, "rename_to", dst)
	if nx {
		c.W.Int(1)
	} else {
		c.W.OK()
	}
}

func cmdRename(c *command.Ctx)   { renameGeneric(c, false) }
func cmdRenamenx(c *command.Ctx) { renameGeneric(c, true) }

func cmdKeys(c *command.Ctx) {
	pat := c.Args[1]
	all := len(pat) == 1 && pat[0] == '*'
	var keys []string
	c.DB.ForEach(func(e *keyspace.Entry) bool {
		if all || command.GlobMatch(pat, []byte(e.Key()), false) {
			keys = append(keys, e.Key())
		}
		return true
	})
	c.W.ArrayLen(len(keys))
	for _, k := range keys {
		c.W.BulkString(k)
	}
}

func cmdScan(c *command.Ctx) {
	cursor, ok := c.ParseScanCursor(c.Args[1])
	if !ok {
		return
	}
	o, ok := c.ParseScanOptions(c.Args[2:], true)
	if !ok {
		return
	}
	entries, next := c.DB.Scan(cursor, o.Count, nil)
	keys := make([]string, 0, len(entries))
	for _, e := range entries {
		k := e.Key()
		if c.DB.Peek([]byte(k)) == nil { // expired: deleted now
			continue
		}
		if o.Match != nil && !command.GlobMatch(o.Match, []byte(k), false) {
			continue
		}
		if o.Type != "" && e.Type().String() != o.Type {
			continue
		}
		keys = append(keys, k)
	}
	c.W.ArrayLen(2)
	c.W.BulkString(strconv.FormatUint(next, 10))
	c.W.ArrayLen(len(keys))
	for _, k := range keys {
		c.W.BulkString(k)
	}
}

func cmdRandomkey(c *command.Ctx) {
	e := c.DB.Random()
	if e == nil {
		c.W.Null()
		return
	}
	c.W.BulkString(e.Key())
}

func cmdTouch(c *command.Ctx) {
	n := int64(0)
	for _, k := range c.Args[1:] {
		if c.LookupRead(k) != nil {
			n++
		}
	}
	c.W.Int(n)
}

// Copier is implemented by values of the non-string types so COPY can
// duplicate them.
type Copier interface{ Copy() any }

func cmdCopy(c *command.Ctx) {
	src, dst := c.Args[1], c.Args[2]
	dstDB := c.DB
	replace := false
	for i := 3; i < len(c.Args); i++ {
		switch {
		case command.EqFold(c.Args[i], "replace"):
			replace = true
		case command.EqFold(c.Args[i], "db") && i+1 < len(c.Args):
			n, ok := c.ParseInt32(c.Args[i+1], "")
			if !ok {
				return
			}
			if dstDB = c.Database(n); dstDB == nil {
				c.Error(command.ErrInvalidDB)
				return
			}
			i++
		default:
			c.Error(command.ErrSyntax)
			return
		}
	}
	if c.Limits().ClusterEnabled && dstDB != c.DB {
		c.Error("ERR Copying to another database is not allowed in cluster mode")
		return
	}
	if dstDB == c.DB && string(src) == string(dst) {
		c.Error(command.ErrSameObject)
		return
	}
	e := c.LookupRead(src)
	if e == nil {
		c.W.Int(0)
		return
	}
	if d := dstDB.LookupWrite(dst); d != nil {
		if !replace {
			c.W.Int(0)
			return
		}
		dstDB.DeleteEntry(d)
	}
	var ne *keyspace.Entry
	if e.Type() == keyspace.TypeString {
		ne = dstDB.AddString(dst, e.Bytes())
	} else {
		cp, ok := e.Object().(Copier)
		if !ok {
			c.Error("ERR COPY is not supported for this type")
			return
		}
		ne = dstDB.AddObject(dst, e.Type(), cp.Copy())
	}
	if at := e.ExpireAt(); at != 0 {
		dstDB.SetExpire(ne, at)
	}
	c.ModifiedIn(dstDB, dst)
	c.NotifyIn(command.NotifyGeneric, "copy_to", dstDB.ID, dst)
	c.W.Int(1)
}

func cmdMove(c *command.Ctx) {
	key := c.Args[1]
	if c.Limits().ClusterEnabled {
		c.Error("ERR MOVE is not allowed in cluster mode")
		return
	}
	n, ok := c.ParseInt32(c.Args[2], "")
	if !ok {
		return
	}
	dstDB := c.Database(n)
	if dstDB == nil {
		c.Error(command.ErrInvalidDB)
		return
	}
	if dstDB == c.DB {
		c.Error(command.ErrSameObject)
		return
	}
	e := c.LookupWrite(key)
	if e == nil || dstDB.LookupWrite(key) != nil {
		c.W.Int(0)
		return
	}
	var ne *keyspace.Entry
	if e.Type() == keyspace.TypeString {
		ne = dstDB.AddString(key, e.Bytes())
	} else {
		ne = dstDB.AddObject(key, e.Type(), e.Object())
	}
	if at := e.ExpireAt(); at != 0 {
		dstDB.SetExpire(ne, at)
	}
	c.DB.DeleteEntry(e)
	c.Modified(key)
	c.ModifiedIn(dstDB, key)
	c.Notify(command.NotifyGeneric, "move_from", key)
	c.NotifyIn(command.NotifyGeneric, "move_to", dstDB.ID, key)
	c.W.Int(1)
}

func cmdObjectEncoding(c *command.Ctx) {
	e := c.DB.Peek(c.Args[2])
	if e == nil {
		c.W.Null()
		return
	}
	c.W.BulkString(e.Encoding())
}

const lfuAdjustNote = " Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."

func cmdObjectIdletime(c *command.Ctx) {
	e := c.DB.Peek(c.Args[2])
	if e == nil {
		c.W.Null()
		return
	}
	if c.Env.LFU {
		c.Error("ERR An LFU maxmemory policy is selected, idle time not tracked." + lfuAdjustNote)
		return
	}
	c.W.Int(c.DB.IdleMillis(e) / 1000)
}

func cmdObjectFreq(c *command.Ctx) {
	e := c.DB.Peek(c.Args[2])
	if e == nil {
		c.W.Null()
		return
	}
	if !c.Env.LFU {
		c.Error("ERR An LFU maxmemory policy is not selected, access frequency not tracked." + lfuAdjustNote)
		return
	}
	c.W.Int(int64(c.DB.LFUCounter(e)))
}

func cmdObjectRefcount(c *command.Ctx) {
	e := c.DB.Peek(c.Args[2])
	if e == nil {
		c.W.Null()
		return
	}
	c.W.Int(1)
}

func cmdObjectHelp(c *command.Ctx) {
	c.ReplyHelp("OBJECT", []string{
		"ENCODING <key>",
		"    Return the kind of internal representation used in order to store the value",
		"    associated with a <key>.",
		"FREQ <key>",
		"    Return the access frequency index of the <key>. The returned integer is",
		"    proportional to the logarithm of the recent access frequency of the key.",
		"IDLETIME <key>",
		"    Return the idle time of the <key>, that is the approximated number of",
		"    seconds elapsed since the last access to the key.",
		"REFCOUNT <key>",
		"    Return the number of references of the value associated with the specified",
		"    <key>.",
	})
}
