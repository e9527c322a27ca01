package command

import (
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/keyspace/zset"
)

// Helpers shared by the command families (node/commands/...).

const (
	ErrLimitNegative   = "ERR LIMIT can't be negative"
	ErrMustBePositive  = "ERR value is out of range, must be positive"
	ErrNumkeysPositive = "ERR numkeys should be greater than 0"
	ErrCountPositive   = "ERR count should be greater than 0"
	ErrOutOfRangeLong  = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
	MaxRandomReplySize = 1 << 30 // see RandomReplyInChunks
)

// ParsePositive is getPositiveLongFromObjectOrReply: a non-negative integer,
// with msg as the reply both for junk and for a negative number.
func (c *Ctx) ParsePositive(arg []byte, msg string) (int64, bool) {
	n, ok := keyspace.ParseInt(arg)
	if !ok || n < 0 {
		c.Error(msg)
		return 0, false
	}
	return n, true
}

// ParseAtLeastOne is getRangeLongFromObjectOrReply(1, LONG_MAX) with msg.
func (c *Ctx) ParseAtLeastOne(arg []byte, msg string) (int64, bool) {
	n, ok := keyspace.ParseInt(arg)
	if !ok || n < 1 {
		c.Error(msg)
		return 0, false
	}
	return n, true
}

// ParseMPopCount parses the options after LMPOP/ZMPOP's LEFT|RIGHT|MIN|MAX:
// at most one COUNT n (n >= 1), default 1; anything else is a syntax error.
func (c *Ctx) ParseMPopCount(opts [][]byte) (int64, bool) {
	count := int64(-1)
	for j := 0; j < len(opts); j++ {
		if count == -1 && EqFold(opts[j], "count") && j+1 < len(opts) {
			j++
			var ok bool
			if count, ok = c.ParseAtLeastOne(opts[j], ErrCountPositive); !ok {
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

// ObjectForRead looks key up for reading a value of type t: v is the zero
// value when the key is missing (nothing replied) or of another type
// (WRONGTYPE replied, ok false).
func ObjectForRead[T any](c *Ctx, key []byte, t keyspace.Type) (v T, ok bool) {
	e, ok := c.ReadType(key, t)
	if !ok || e == nil {
		return v, ok
	}
	return e.Object().(T), true
}

// ObjectForWrite is ObjectForRead for a command that changes the value.
func ObjectForWrite[T any](c *Ctx, key []byte, t keyspace.Type) (e *keyspace.Entry, v T, ok bool) {
	e, ok = c.WriteType(key, t)
	if !ok || e == nil {
		return nil, v, ok
	}
	return e, e.Object().(T), true
}

// Sized is a set or sorted set value.
type Sized interface{ Len() int }

// typeNotifyClass is the keyspace event class of a value type.
func typeNotifyClass(t keyspace.Type) NotifyClass {
	switch t {
	case keyspace.TypeString:
		return NotifyString
	case keyspace.TypeList:
		return NotifyList
	case keyspace.TypeSet:
		return NotifySet
	case keyspace.TypeHash:
		return NotifyHash
	case keyspace.TypeZSet:
		return NotifyZSet
	}
	return NotifyGeneric
}

// RemovedFrom finishes a command that removed n members from the set or
// sorted set v at key: it fires event (of the value's class), and an
// emptied value is deleted ("del"), as Redis keeps no empty aggregates.
func (c *Ctx) RemovedFrom(e *keyspace.Entry, v Sized, key []byte, n int, event string) {
	if n == 0 {
		return
	}
	c.Notify(typeNotifyClass(e.Type()), event, key)
	if v.Len() == 0 {
		c.DB.DeleteEntry(e)
		c.Notify(NotifyGeneric, "del", key)
	}
	c.Modified(key)
	c.AddDirty(int64(n - 1))
}

// StoreValue makes dst hold v, a set or sorted set of type t (the STORE
// variants: any old value and its TTL are replaced; clients blocked on dst
// are signalled) and fires event; an empty result deletes dst ("del"). It
// replies the size.
func (c *Ctx) StoreValue(dst []byte, t keyspace.Type, v Sized, event string) {
	e := c.LookupWrite(dst)
	n := v.Len()
	c.W.Int(int64(n))
	if n == 0 {
		if e != nil {
			c.DB.DeleteEntry(e)
			c.Modified(dst)
			c.Notify(NotifyGeneric, "del", dst)
		}
		return
	}
	if e != nil {
		c.DB.ReplaceObject(e, t, v)
	} else {
		c.DB.AddObject(dst, t, v)
	}
	c.Modified(dst)
	c.Notify(typeNotifyClass(t), event, dst)
	c.SignalReady(dst)
}

// ScanStart is the common start of SSCAN and ZSCAN: the cursor, the key
// (a missing key replies an empty scan before the options are parsed, as
// Redis does), the options. ok is false when it replied.
func (c *Ctx) ScanStart(t keyspace.Type) (e *keyspace.Entry, cursor uint64, o ScanOptions, ok bool) {
	if cursor, ok = c.ParseScanCursor(c.Args[2]); !ok {
		return nil, 0, o, false
	}
	if e, ok = c.ReadType(c.Args[1], t); !ok {
		return nil, 0, o, false
	}
	if e == nil {
		c.ReplyScanHeader(0, 0)
		return nil, 0, o, false
	}
	o, ok = c.ParseScanOptions(c.Args[3:], false)
	return e, cursor, o, ok
}

// ReplyScanHeader starts a SCAN-family reply: the next cursor, then an
// array of n items that the caller writes.
func (c *Ctx) ReplyScanHeader(next uint64, n int) {
	c.W.ArrayLen(2)
	c.W.BulkString(strconv.FormatUint(next, 10))
	c.W.ArrayLen(n)
}

// EnvRand is HRANDFIELD's random source: the server's injected one when
// set (tests), math/rand/v2 otherwise.
type EnvRand struct{ fn func(n int) int }

func (r EnvRand) IntN(n int) int {
	if r.fn != nil {
		return r.fn(n)
	}
	return rand.IntN(n)
}

// RandSource is the random source of ZRANDMEMBER, SRANDMEMBER and SPOP:
// the server's injected one when set (tests), math/rand/v2 otherwise.
func (c *Ctx) RandSource() zset.Rand { return EnvRand{c.Env.Rand} }

// ParseRandomCount parses ZRANDMEMBER's and SRANDMEMBER's count, a long
// between -LONG_MAX and LONG_MAX, replying the error on failure.
func (c *Ctx) ParseRandomCount(arg []byte) (int64, bool) {
	l, ok := c.ParseInt(arg)
	if ok && l == math.MinInt64 {
		c.Error(ErrOutOfRangeLong)
		return 0, false
	}
	return l, ok
}

// RandomChunk is how many random picks are drawn and written at a time.
const RandomChunk = 1024

// RandomReplyInChunks calls emit(n) until count picks are written. Redis
// would build a reply of any size here (a count of -10^18 never finishes);
// we close the client, as an output buffer limit would, once the reply
// passes MaxRandomReplySize or the configured limit.
func (c *Ctx) RandomReplyInChunks(count int64, emit func(n int)) {
	for count > 0 {
		n := int(min(count, RandomChunk))
		emit(n)
		count -= int64(n)
		if c.RandomReplyOverLimit() {
			return
		}
	}
}

// ClampInt converts a parsed 64-bit argument to int (a no-op on 64-bit
// platforms).
func ClampInt(n int64) int {
	return int(max(min(n, math.MaxInt), math.MinInt))
}

// RandomReplyOverLimit closes the client, and reports true, once a random
// reply being written passes the output limits (RandomReplyInChunks).
func (c *Ctx) RandomReplyOverLimit() bool { return c.OutputOverLimit(MaxRandomReplySize) }

// MemberRemover is a set or sorted set, for SREM and ZREM.
type MemberRemover interface {
	Sized
	Remove(member []byte) bool
}

// RemoveMembers is SREM and ZREM: it stops once the value is empty, which
// is then deleted.
func RemoveMembers[T MemberRemover](c *Ctx, t keyspace.Type) {
	key := c.Args[1]
	e, v, ok := ObjectForWrite[T](c, key, t)
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
	c.RemovedFrom(e, v, key, deleted, c.Cmd.Name) // "srem", "zrem"
}

// Cardinality is SCARD and ZCARD.
func Cardinality(c *Ctx, t keyspace.Type) {
	e, ok := c.ReadType(c.Args[1], t)
	if !ok {
		return
	}
	if e == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(e.Object().(Sized).Len()))
}

// SetOp is ZUNION/ZINTER/ZDIFF's operation (also SUNION/SINTER/SDIFF's).
type SetOp uint8

const (
	OpUnion SetOp = iota
	OpInter
	OpDiff
)

// ReplyHelp answers a HELP subcommand as Redis's addReplyHelp.
func (c *Ctx) ReplyHelp(cmd string, lines []string) {
	c.W.ArrayLen(len(lines) + 3)
	c.W.SimpleString(cmd + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.W.SimpleString(l)
	}
	c.W.SimpleString("HELP")
	c.W.SimpleString("    Prints this help.")
}
