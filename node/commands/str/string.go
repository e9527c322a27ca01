package str

import (
	"math"
	"math/bits"
	"strconv"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/keyspace/longdouble"
)

// maxStringSize bounds SETRANGE/APPEND/SETBIT results (proto-max-bulk-len).
func maxStringSize(c *command.Ctx) int64 { return c.Limits().ProtoMaxBulkLen }

// getString looks a string key up for reading; ok is false after WRONGTYPE.
func getString(c *command.Ctx, key []byte) (val []byte, exists, ok bool) {
	e, ok := c.ReadType(key, keyspace.TypeString)
	if !ok {
		return nil, false, false
	}
	if e == nil {
		return nil, false, true
	}
	return e.Bytes(), true, true
}

func cmdGet(c *command.Ctx) {
	e := c.LookupRead(c.Args[1])
	if e == nil {
		c.W.Null()
		return
	}
	if e.Type() != keyspace.TypeString {
		c.WrongType()
		return
	}
	c.W.Bulk(e.Bytes())
}

// Flags of SET and GETEX (parseExtendedStringArgumentsOrReply).
const (
	setNX = 1 << iota
	setXX
	setGet
	setKeepTTL
	setEX
	setPX
	setEXAT
	setPXAT
	setPersist
)

// parseExpireOptions parses SET/GETEX options from args. It returns the
// flags and the absolute expiry in ms (0 if none).
func parseSetOptions(c *command.Ctx, args [][]byte, getex bool) (flags int, at int64, ok bool) {
	flags, expireArg, ok := parseSetFlags(c, args, getex)
	if !ok {
		return 0, 0, false
	}
	at, ok = expireArgAt(c, flags, expireArg, getex)
	return flags, at, ok
}

// parseSetFlags is the syntax of SET's and GETEX's options; the expire
// argument is returned unparsed (GETEX checks it only once the key exists,
// as Redis does).
func parseSetFlags(c *command.Ctx, args [][]byte, getex bool) (flags int, expireArg []byte, ok bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := i+1 < len(args)
		switch {
		case !getex && command.EqFold(a, "nx") && flags&(setXX) == 0:
			flags |= setNX
		case !getex && command.EqFold(a, "xx") && flags&(setNX) == 0:
			flags |= setXX
		case !getex && command.EqFold(a, "get"):
			flags |= setGet
		case !getex && command.EqFold(a, "keepttl") && flags&(setEX|setPX|setEXAT|setPXAT) == 0:
			flags |= setKeepTTL
		case getex && command.EqFold(a, "persist") && flags&(setEX|setPX|setEXAT|setPXAT) == 0:
			flags |= setPersist
		case command.EqFold(a, "ex") && flags&(setKeepTTL|setPersist|setPX|setEXAT|setPXAT) == 0 && next:
			flags |= setEX
			expireArg = args[i+1]
			i++
		case command.EqFold(a, "px") && flags&(setKeepTTL|setPersist|setEX|setEXAT|setPXAT) == 0 && next:
			flags |= setPX
			expireArg = args[i+1]
			i++
		case command.EqFold(a, "exat") && flags&(setKeepTTL|setPersist|setEX|setPX|setPXAT) == 0 && next:
			flags |= setEXAT
			expireArg = args[i+1]
			i++
		case command.EqFold(a, "pxat") && flags&(setKeepTTL|setPersist|setEX|setPX|setEXAT) == 0 && next:
			flags |= setPXAT
			expireArg = args[i+1]
			i++
		default:
			c.Error(command.ErrSyntax)
			return 0, nil, false
		}
	}
	return flags, expireArg, true
}

// expireArgAt turns SET's or GETEX's expire argument into an absolute
// unix time in ms (0 without one), replying the error when it is invalid.
func expireArgAt(c *command.Ctx, flags int, expireArg []byte, getex bool) (at int64, ok bool) {
	if expireArg != nil {
		n, ok := c.ParseInt(expireArg)
		if !ok {
			return 0, false
		}
		name := "set"
		if getex {
			name = "getex"
		}
		if n <= 0 || (flags&(setEX|setEXAT) != 0 && n > math.MaxInt64/1000) {
			c.Error("ERR invalid expire time in '" + name + "' command")
			return 0, false
		}
		switch {
		case flags&setEX != 0:
			n *= 1000
			fallthrough
		case flags&setPX != 0:
			if n > math.MaxInt64-c.Now() {
				c.Error("ERR invalid expire time in '" + name + "' command")
				return 0, false
			}
			at = c.Now() + n
		case flags&setEXAT != 0:
			at = n * 1000
		default:
			at = n
		}
	}
	return at, true
}

// setGeneric is SET with parsed options. It returns false when NX/XX
// prevented the write.
func setGeneric(c *command.Ctx, key, val []byte, flags int, at int64) bool {
	if flags&(setNX|setXX) != 0 {
		exists := c.LookupWrite(key) != nil
		if (flags&setNX != 0 && exists) || (flags&setXX != 0 && !exists) {
			return false
		}
	}
	e := c.DB.SetString(key, val, flags&setKeepTTL != 0)
	if at != 0 {
		c.DB.SetExpire(e, at)
	}
	c.Modified(key)
	c.Notify(command.NotifyString, "set", key)
	if at != 0 {
		c.Notify(command.NotifyGeneric, "expire", key)
	}
	return true
}

func pxatArgs(key, val []byte, at int64) [][]byte {
	return [][]byte{[]byte("SET"), key, val, []byte("PXAT"), []byte(strconv.FormatInt(at, 10))}
}

func cmdSet(c *command.Ctx) {
	key, val := c.Args[1], c.Args[2]
	flags, at, ok := parseSetOptions(c, c.Args[3:], false)
	if !ok {
		return
	}
	if flags&setGet != 0 {
		old, exists, ok := getString(c, key)
		if !ok {
			return
		}
		var oldCopy []byte
		if exists {
			oldCopy = append([]byte(nil), old...)
		}
		if setGeneric(c, key, val, flags, at) && at != 0 && flags&setPXAT == 0 {
			c.Rewrite(pxatArgs(key, val, at)...)
		}
		if exists {
			c.W.Bulk(oldCopy)
		} else {
			c.W.Null()
		}
		return
	}
	if !setGeneric(c, key, val, flags, at) {
		c.W.Null()
		return
	}
	if at != 0 && flags&setPXAT == 0 {
		c.Rewrite(pxatArgs(key, val, at)...)
	}
	c.W.OK()
}

func cmdSetnx(c *command.Ctx) {
	if setGeneric(c, c.Args[1], c.Args[2], setNX, 0) {
		c.W.Int(1)
	} else {
		c.W.Int(0)
	}
}

func setexGeneric(c *command.Ctx, unit int64) {
	n, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	if n <= 0 || n > math.MaxInt64/unit || n*unit > math.MaxInt64-c.Now() {
		c.Error("ERR invalid expire time in '" + c.Cmd.Name + "' command")
		return
	}
	at := c.Now() + n*unit
	setGeneric(c, c.Args[1], c.Args[3], 0, at)
	c.Rewrite(pxatArgs(c.Args[1], c.Args[3], at)...)
	c.W.OK()
}

func cmdSetex(c *command.Ctx)  { setexGeneric(c, 1000) }
func cmdPsetex(c *command.Ctx) { setexGeneric(c, 1) }

func cmdGetex(c *command.Ctx) {
	key := c.Args[1]
	flags, expireArg, ok := parseSetFlags(c, c.Args[2:], true)
	if !ok {
		return
	}
	e, ok := c.ReadType(key, keyspace.TypeString)
	if !ok {
		return
	}
	if e == nil {
		c.W.Null()
		return
	}
	at, ok := expireArgAt(c, flags, expireArg, true)
	if !ok {
		return
	}
	c.W.Bulk(e.Bytes())
	switch {
	case at != 0 && at <= c.Now():
		c.DB.DeleteEntry(e)
		c.Modified(key)
		c.Rewrite([]byte("DEL"), key)
		c.Notify(command.NotifyGeneric, "del", key)
	case at != 0:
		c.DB.SetExpire(e, at)
		c.Modified(key)
		c.Rewrite([]byte("PEXPIREAT"), key, []byte(strconv.FormatInt(at, 10)))
		c.Notify(command.NotifyGeneric, "expire", key)
	case flags&setPersist != 0:
		if c.DB.Persist(e) {
			c.Modified(key)
			c.Rewrite([]byte("PERSIST"), key)
			c.Notify(command.NotifyGeneric, "persist", key)
		}
	}
}

func cmdGetdel(c *command.Ctx) {
	key := c.Args[1]
	e, ok := c.ReadType(key, keyspace.TypeString)
	if !ok {
		return
	}
	if e == nil {
		c.W.Null()
		return
	}
	c.W.Bulk(e.Bytes())
	c.DB.DeleteEntry(e)
	c.Modified(key)
	c.Rewrite([]byte("DEL"), key)
	c.Notify(command.NotifyGeneric, "del", key)
}

func cmdGetset(c *command.Ctx) {
	key := c.Args[1]
	old, exists, ok := getString(c, key)
	if !ok {
		return
	}
	if exists {
		c.W.Bulk(old) // copied into the reply before SetString reuses the buffer
	} else {
		c.W.Null()
	}
	c.DB.SetString(key, c.Args[2], false)
	c.Modified(key)
	c.Notify(command.NotifyString, "set", key)
}

func cmdMget(c *command.Ctx) {
	c.W.ArrayLen(len(c.Args) - 1)
	for _, k := range c.Args[1:] {
		e := c.LookupRead(k)
		if e == nil || e.Type() != keyspace.TypeString {
			c.W.Null()
			continue
		}
		c.W.Bulk(e.Bytes())
	}
}

func cmdMset(c *command.Ctx) {
	if len(c.Args)%2 == 0 {
		c.Error("ERR wrong number of arguments for '" + c.Cmd.Name + "' command")
		return
	}
	for i := 1; i < len(c.Args); i += 2 {
		c.DB.SetString(c.Args[i], c.Args[i+1], false)
		c.Modified(c.Args[i])
		c.Notify(command.NotifyString, "set", c.Args[i])
	}
	c.W.OK()
}

func cmdMsetnx(c *command.Ctx) {
	if len(c.Args)%2 == 0 {
		c.Error("ERR wrong number of arguments for '" + c.Cmd.Name + "' command")
		return
	}
	for i := 1; i < len(c.Args); i += 2 {
		if c.LookupWrite(c.Args[i]) != nil {
			c.W.Int(0)
			return
		}
	}
	for i := 1; i < len(c.Args); i += 2 {
		c.DB.SetString(c.Args[i], c.Args[i+1], false)
		c.Modified(c.Args[i])
		c.Notify(command.NotifyString, "set", c.Args[i])
	}
	c.W.Int(1)
}

func cmdAppend(c *command.Ctx) {
	key, val := c.Args[1], c.Args[2]
	e, ok := c.WriteType(key, keyspace.TypeString)
	if !ok {
		return
	}
	if e == nil {
		e = c.DB.AddString(key, val)
	} else {
		if int64(len(e.Bytes())+len(val)) > maxStringSize(c) {
			c.Error(command.ErrStringTooLong)
			return
		}
		e.SetBytes(append(e.Bytes(), val...))
	}
	c.Modified(key)
	c.Notify(command.NotifyString, "append", key)
	c.W.Int(int64(len(e.Bytes())))
}

func cmdStrlen(c *command.Ctx) {
	val, _, ok := getString(c, c.Args[1])
	if ok {
		c.W.Int(int64(len(val)))
	}
}

// incrGeneric adds by to the integer at key.
func incrGeneric(c *command.Ctx, by int64) {
	key := c.Args[1]
	e, ok := c.WriteType(key, keyspace.TypeString)
	if !ok {
		return
	}
	var cur int64
	if e != nil {
		n, ok := e.Int()
		if !ok {
			c.Error(command.ErrNotInteger)
			return
		}
		cur = n
	}
	if (by < 0 && cur < 0 && by < math.MinInt64-cur) || (by > 0 && cur > 0 && by > math.MaxInt64-cur) {
		c.Error(command.ErrOverflow)
		return
	}
	cur += by
	var tmp [20]byte
	digits := strconv.AppendInt(tmp[:0], cur, 10)
	if e == nil {
		c.DB.AddString(key, digits)
	} else {
		e.SetBytes(append(e.Bytes()[:0], digits...))
	}
	c.Modified(key)
	c.Notify(command.NotifyString, "incrby", key)
	c.W.Int(cur)
}

func cmdIncr(c *command.Ctx) { incrGeneric(c, 1) }
func cmdDecr(c *command.Ctx) { incrGeneric(c, -1) }

func cmdIncrby(c *command.Ctx) {
	if n, ok := c.ParseInt(c.Args[2]); ok {
		incrGeneric(c, n)
	}
}

func cmdDecrby(c *command.Ctx) {
	n, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	if n == math.MinInt64 {
		c.Error("ERR decrement would overflow")
		return
	}
	incrGeneric(c, -n)
}

// cmdIncrbyfloat computes in C long double like Redis (node/keyspace/
// longdouble), so results print identically, and propagates SET KEEPTTL.
func cmdIncrbyfloat(c *command.Ctx) {
	key := c.Args[1]
	e, ok := c.WriteType(key, keyspace.TypeString)
	if !ok {
		return
	}
	cur := longdouble.Zero()
	if e != nil {
		v, ok := longdouble.Parse(e.Bytes())
		if !ok {
			c.Error(command.ErrNotFloat)
			return
		}
		cur = v
	}
	by, ok := longdouble.Parse(c.Args[2])
	if !ok {
		c.Error(command.ErrNotFloat)
		return
	}
	sum, ok := longdouble.Add(cur, by)
	if !ok {
		c.Error(command.ErrNaN)
		return
	}
	s := longdouble.AppendHuman(nil, sum)
	if e == nil {
		c.DB.AddString(key, s)
	} else {
		e.SetBytes(s)
	}
	c.Modified(key)
	c.Notify(command.NotifyString, "incrbyfloat", key)
	c.Rewrite([]byte("SET"), key, s, []byte("KEEPTTL"))
	c.W.Bulk(s)
}

// strRange converts Redis start/end (negative from the end, inclusive)
// into a slice range; empty is true when nothing is selected.
func strRange(start, end, n int64) (int64, int64, bool) {
	if start < 0 && end < 0 && start > end {
		return 0, 0, true
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	if start < 0 {
		start = 0
	}
	if end < 0 {
		end = 0
	}
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		return 0, 0, true
	}
	return start, end, false
}

// fromEnd makes a negative index count from the end of n elements,
// clamped at 0.
func fromEnd(i, n int64) int64 {
	if i < 0 {
		return max(i+n, 0)
	}
	return i
}

func cmdGetrange(c *command.Ctx) {
	start, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	end, ok := c.ParseInt(c.Args[3])
	if !ok {
		return
	}
	val, _, ok := getString(c, c.Args[1])
	if !ok {
		return
	}
	s, e, empty := strRange(start, end, int64(len(val)))
	if empty {
		c.W.BulkString("")
		return
	}
	c.W.Bulk(val[s : e+1])
}

func cmdSetrange(c *command.Ctx) {
	key, val := c.Args[1], c.Args[3]
	off, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	if off < 0 {
		c.Error("ERR offset is out of range")
		return
	}
	e, ok := c.WriteType(key, keyspace.TypeString)
	if !ok {
		return
	}
	if len(val) == 0 {
		if e == nil {
			c.W.Int(0)
		} else {
			c.W.Int(int64(len(e.Bytes())))
		}
		return
	}
	if off > maxStringSize(c)-int64(len(val)) {
		c.Error(command.ErrStringTooLong)
		return
	}
	if e == nil {
		e = c.DB.AddString(key, nil)
	}
	b := e.Bytes()
	need := int(off) + len(val)
	if need > len(b) {
		b = append(b, make([]byte, need-len(b))...)
	}
	copy(b[off:], val)
	e.SetBytes(b)
	c.Modified(key)
	c.Notify(command.NotifyString, "setrange", key)
	c.W.Int(int64(len(b)))
}

func parseBitOffset(c *command.Ctx, arg []byte) (int64, bool) {
	n, ok := keyspace.ParseInt(arg)
	if !ok || n < 0 || n>>3 >= maxStringSize(c) {
		c.Error(command.ErrBitOffset)
		return 0, false
	}
	return n, true
}

func cmdSetbit(c *command.Ctx) {
	key := c.Args[1]
	off, ok := parseBitOffset(c, c.Args[2])
	if !ok {
		return
	}
	var on bool
	switch string(c.Args[3]) {
	case "1":
		on = true
	case "0":
	default:
		c.Error(command.ErrBitValue)
		return
	}
	e, ok := c.WriteType(key, keyspace.TypeString)
	if !ok {
		return
	}
	dirty := e == nil // created, grown or the bit changed: Redis's dirty
	if e == nil {
		e = c.DB.AddString(key, nil)
	}
	b := e.Bytes()
	idx := int(off >> 3)
	if idx >= len(b) {
		b = append(b, make([]byte, idx+1-len(b))...)
		dirty = true
	}
	mask := byte(1) << (7 - uint(off&7))
	old := b[idx]&mask != 0
	if on {
		b[idx] |= mask
	} else {
		b[idx] &^= mask
	}
	e.SetBytes(b)
	if dirty || old != on {
		c.Modified(key)
		c.Notify(command.NotifyString, "setbit", key)
	}
	if old {
		c.W.Int(1)
	} else {
		c.W.Int(0)
	}
}

func cmdGetbit(c *command.Ctx) {
	off, ok := parseBitOffset(c, c.Args[2])
	if !ok {
		return
	}
	val, _, ok := getString(c, c.Args[1])
	if !ok {
		return
	}
	idx := off >> 3
	if idx >= int64(len(val)) || val[idx]&(1<<(7-uint(off&7))) == 0 {
		c.W.Int(0)
		return
	}
	c.W.Int(1)
}

// parseBitUnit parses an optional BYTE|BIT argument.
func parseBitUnit(c *command.Ctx, args [][]byte, i int) (isBit, ok bool) {
	if i >= len(args) {
		return false, true
	}
	switch {
	case command.EqFold(args[i], "bit"):
		return true, true
	case command.EqFold(args[i], "byte"):
		return false, true
	}
	c.Error(command.ErrSyntax)
	return false, false
}

func popcount(b []byte) int64 {
	var n int
	for _, x := range b {
		n += bits.OnesCount8(x)
	}
	return int64(n)
}

func cmdBitcount(c *command.Ctx) {
	args := c.Args
	// As Redis: the key first (a missing key counts 0 whatever the
	// arguments), then the range.
	val, exists, ok := getString(c, args[1])
	if !ok {
		return
	}
	if !exists {
		c.W.Int(0)
		return
	}
	var start, end int64
	isBit := false
	if len(args) == 3 || len(args) > 5 {
		c.Error(command.ErrSyntax)
		return
	}
	if len(args) >= 4 {
		var ok bool
		if start, ok = c.ParseInt(args[2]); !ok {
			return
		}
		if end, ok = c.ParseInt(args[3]); !ok {
			return
		}
		if isBit, ok = parseBitUnit(c, args, 4); !ok {
			return
		}
	}
	if len(args) == 2 {
		c.W.Int(popcount(val))
		return
	}
	n := int64(len(val))
	if isBit {
		n *= 8
	}
	s, e, empty := strRange(start, end, n)
	if empty {
		c.W.Int(0)
		return
	}
	if !isBit {
		c.W.Int(popcount(val[s : e+1]))
		return
	}
	var cnt int64
	for i := s; i <= e; i++ {
		if val[i>>3]&(1<<(7-uint(i&7))) != 0 {
			cnt++
		}
	}
	c.W.Int(cnt)
}

func cmdBitpos(c *command.Ctx) {
	args := c.Args
	b, ok := c.ParseInt(args[2])
	if !ok {
		return
	}
	if b != 0 && b != 1 {
		c.Error("ERR The bit argument must be 1 or 0.")
		return
	}
	bit := byte(b)
	// As Redis: the bit, then the key (a missing one is all zeros
	// whatever the range), then the range.
	val, exists, ok := getString(c, args[1])
	if !ok {
		return
	}
	if !exists {
		c.W.Int(int64(bit) * -1)
		return
	}
	var start, end int64
	endGiven := false
	isBit := false
	if len(args) > 6 {
		c.Error(command.ErrSyntax)
		return
	}
	if len(args) >= 4 {
		if start, ok = c.ParseInt(args[3]); !ok {
			return
		}
	}
	if len(args) >= 5 {
		if end, ok = c.ParseInt(args[4]); !ok {
			return
		}
		endGiven = true
	}
	if isBit, ok = parseBitUnit(c, args, 5); !ok {
		return
	}
	n := int64(len(val))
	if isBit {
		n *= 8
	}
	if !endGiven {
		end = n - 1
	}
	// Unlike GETRANGE and BITCOUNT, Redis's BITPOS has no shortcut for a
	// negative start after a negative end: both are made absolute and
	// clamped at 0 first.
	start, end = fromEnd(start, n), fromEnd(end, n)
	s, e, empty := strRange(start, end, n)
	if empty {
		c.W.Int(-1)
		return
	}
	if !isBit {
		s, e = s*8, e*8+7
	}
	for i := s; i <= e; i++ {
		if (val[i>>3]>>(7-uint(i&7)))&1 == bit {
			c.W.Int(i)
			return
		}
	}
	// Looking for clear bits past the end of the string: Redis reports the
	// first bit after it, unless an explicit end was given.
	if bit == 0 && !endGiven && !isBit {
		c.W.Int(e + 1)
		return
	}
	c.W.Int(-1)
}

func cmdBitop(c *command.Ctx) {
	op := c.Args[1]
	dest := c.Args[2]
	srcKeys := c.Args[3:]
	var kind byte
	switch {
	case command.EqFold(op, "and"):
		kind = '&'
	case command.EqFold(op, "or"):
		kind = '|'
	case command.EqFold(op, "xor"):
		kind = '^'
	case command.EqFold(op, "not"):
		kind = '~'
		if len(srcKeys) != 1 {
			c.Error("ERR BITOP NOT must be called with a single source key.")
			return
		}
	default:
		c.Error(command.ErrSyntax)
		return
	}
	srcs := make([][]byte, len(srcKeys))
	maxLen := 0
	for i, k := range srcKeys {
		e := c.LookupRead(k)
		if e == nil {
			continue
		}
		if e.Type() != keyspace.TypeString {
			c.WrongType()
			return
		}
		srcs[i] = e.Bytes()
		if len(srcs[i]) > maxLen {
			maxLen = len(srcs[i])
		}
	}
	res := make([]byte, maxLen)
	for j := 0; j < maxLen; j++ {
		var out byte
		for i, s := range srcs {
			var x byte
			if j < len(s) {
				x = s[j]
			}
			switch {
			case kind == '~':
				out = ^x
			case i == 0:
				out = x
			case kind == '&':
				out &= x
			case kind == '|':
				out |= x
			default:
				out ^= x
			}
		}
		res[j] = out
	}
	if maxLen == 0 {
		if c.DB.Delete(dest) {
			c.Modified(dest)
			c.Notify(command.NotifyGeneric, "del", dest)
		}
		c.W.Int(0)
		return
	}
	c.DB.SetString(dest, res, false)
	c.Modified(dest)
	c.Notify(command.NotifyString, "set", dest)
	c.W.Int(int64(maxLen))
}
