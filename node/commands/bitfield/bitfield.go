package bitfield

import (
	"bytes"

	"github.com/shoal-dev/shoal/node/command"
	"github.com/shoal-dev/shoal/node/keyspace"
)

const (
	errBadType     = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
	errBadOverflow = "ERR Invalid OVERFLOW type specified"
	errROWrite     = "ERR BITFIELD_RO only supports the GET subcommand"
)

// opcode is a BITFIELD subcommand.
type opcode uint8

const (
	opGet opcode = iota
	opSet
	opIncrby
)

// overflow is an OVERFLOW policy.
type overflow uint8

const (
	overflowWrap overflow = iota
	overflowSat
	overflowFail
)

// op is one parsed subcommand (Redis's struct bitfieldOp).
type op struct {
	offset uint64
	value  int64 // SET's value or INCRBY's increment
	code   opcode
	ow     overflow
	bits   uint
	signed bool
}

func cmdBitfield(c *command.Ctx)    { bitfieldGeneric(c, false) }
func cmdBitfield_ro(c *command.Ctx) { bitfieldGeneric(c, true) }

// bitfieldGeneric parses every subcommand first (any error replies before
// the key is touched), then looks the key up, for writing (growing it to
// the farthest bit written) when any subcommand writes.
func bitfieldGeneric(c *command.Ctx, readOnly bool) {
	ops, highest, writes, ok := parseOps(c, c.Args[2:])
	if !ok {
		return
	}
	key := c.Args[1]
	var val []byte
	if !writes {
		e, ok := c.ReadType(key, keyspace.TypeString)
		if !ok {
			return
		}
		if e != nil {
			val = e.Bytes()
		}
		c.W.ArrayLen(len(ops))
		for i := range ops {
			replyGet(c, val, &ops[i])
		}
		return
	}
	if readOnly {
		c.Error(errROWrite)
		return
	}
	e, ok := c.WriteType(key, keyspace.TypeString)
	if !ok {
		return
	}
	if e == nil {
		e = c.DB.AddString(key, nil)
	}
	// lookupStringForBitCommand: the string covers the farthest bit
	// written, even when an overflow then fails the write.
	val = e.Bytes()
	if need := highest>>3 + 1; uint64(len(val)) < need {
		val = append(val, make([]byte, need-uint64(len(val)))...)
		e.SetBytes(val)
	}
	c.W.ArrayLen(len(ops))
	changes := 0
	for i := range ops {
		o := &ops[i]
		if o.code == opGet {
			replyGet(c, val, o)
			continue
		}
		changes++
		newVal, reply, failed := apply(val, o)
		if failed {
			c.W.Null()
			continue
		}
		c.W.Int(reply)
		setBits(val, o.offset, o.bits, newVal)
	}
	if changes > 0 {
		c.Modified(key)
		c.Notify(command.NotifyString, "setbit", key)
		c.AddDirty(int64(changes - 1))
	}
}

// parseOps parses the subcommands, replying the error itself. highest is
// the farthest bit a SET or INCRBY reaches; writes says whether any does.
func parseOps(c *command.Ctx, args [][]byte) (ops []op, highest uint64, writes, ok bool) {
	ow := overflowWrap
	for j := 0; j < len(args); j++ {
		rem := len(args) - j - 1
		var code opcode
		switch {
		case command.EqFold(args[j], "get") && rem >= 2:
			code = opGet
		case command.EqFold(args[j], "set") && rem >= 3:
			code = opSet
		case command.EqFold(args[j], "incrby") && rem >= 3:
			code = opIncrby
		case command.EqFold(args[j], "overflow") && rem >= 1:
			j++
			switch {
			case command.EqFold(args[j], "wrap"):
				ow = overflowWrap
			case command.EqFold(args[j], "sat"):
				ow = overflowSat
			case command.EqFold(args[j], "fail"):
				ow = overflowFail
			default:
				c.Error(errBadOverflow)
				return nil, 0, false, false
			}
			continue
		default:
			c.Error(command.ErrSyntax)
			return nil, 0, false, false
		}
		signed, bits, okType := parseType(args[j+1])
		if !okType {
			c.Error(errBadType)
			return nil, 0, false, false
		}
		offset, okOff := parseOffset(args[j+2], bits, c.Limits().ProtoMaxBulkLen)
		if !okOff {
			c.Error(command.ErrBitOffset)
			return nil, 0, false, false
		}
		o := op{offset: offset, code: code, ow: ow, bits: bits, signed: signed}
		if code != opGet {
			writes = true
			highest = max(highest, offset+uint64(bits)-1)
			v, okVal := c.ParseInt(args[j+3])
			if !okVal {
				return nil, 0, false, false
			}
			o.value = v
			j++
		}
		ops = append(ops, o)
		j += 2
	}
	return ops, highest, writes, true
}

// cString is arg up to its first NUL byte, as Redis's C string functions
// see it.
func cString(arg []byte) []byte {
	if i := bytes.IndexByte(arg, 0); i >= 0 {
		return arg[:i]
	}
	return arg
}

// parseType parses i1..i64 or u1..u63 (lower case only, as Redis).
func parseType(arg []byte) (signed bool, bits uint, ok bool) {
	if len(arg) == 0 {
		return false, 0, false
	}
	switch arg[0] {
	case 'i':
		signed = true
	case 'u':
	default:
		return false, 0, false
	}
	n, ok := keyspace.ParseInt(cString(arg[1:]))
	if !ok || n < 1 || (signed && n > 64) || (!signed && n > 63) {
		return false, 0, false
	}
	return signed, uint(n), true
}

// parseOffset parses a bit offset, or #n meaning n*bits: not negative, and
// its byte below proto-max-bulk-len (getBitOffsetFromArgument). n*bits
// wraps as Redis's long long product does, and is then range checked.
func parseOffset(arg []byte, bits uint, maxBulk int64) (uint64, bool) {
	hash := len(arg) > 0 && arg[0] == '#'
	if hash {
		arg = arg[1:]
	}
	n, ok := keyspace.ParseInt(arg)
	if !ok {
		return 0, false
	}
	if hash {
		n *= int64(bits)
	}
	if n < 0 || n>>3 >= maxBulk {
		return 0, false
	}
	return uint64(n), true
}

// replyGet answers a GET: bits past the end of the string read as zero.
func replyGet(c *command.Ctx, val []byte, o *op) {
	var buf [9]byte
	byteOff := o.offset >> 3
	if byteOff < uint64(len(val)) {
		copy(buf[:], val[byteOff:])
	}
	u := getBits(buf[:], o.offset&7, o.bits)
	if o.signed {
		c.W.Int(signExtend(u, o.bits))
	} else {
		c.W.Int(int64(u))
	}
}

// apply computes a SET or INCRBY on the current value: the value to store,
// the reply (SET: the old value, INCRBY: the new one) and whether an
// overflow under FAIL cancels the write.
func apply(val []byte, o *op) (newVal uint64, reply int64, failed bool) {
	old := getBits(val, o.offset, o.bits)
	if o.signed {
		oldS := signExtend(old, o.bits)
		var v, incr int64
		if o.code == opIncrby {
			v, incr = oldS, o.value
		} else {
			v = o.value
		}
		res, over := signedOverflow(v, incr, o.bits, o.ow)
		if !over {
			res = v + incr
		}
		if over && o.ow == overflowFail {
			return 0, 0, true
		}
		if o.code == opIncrby {
			return uint64(res), res, false
		}
		return uint64(res), oldS, false
	}
	var v uint64
	var incr int64
	if o.code == opIncrby {
		v, incr = old, o.value
	} else {
		v = uint64(o.value)
	}
	res, over := unsignedOverflow(v, incr, o.bits, o.ow)
	if !over {
		res = v + uint64(incr)
	}
	if over && o.ow == overflowFail {
		return 0, 0, true
	}
	if o.code == opIncrby {
		return res, int64(res), false
	}
	return res, int64(old), false
}

// unsignedOverflow is checkUnsignedBitfieldOverflow: whether value+incr
// leaves [0, 2^bits-1], and then the value WRAP or SAT stores.
func unsignedOverflow(value uint64, incr int64, bits uint, ow overflow) (uint64, bool) {
	maxV := uint64(1)<<bits - 1
	maxIncr := int64(maxV - value)
	minIncr := -int64(value)
	switch {
	case value > maxV || (incr > 0 && incr > maxIncr):
		if ow == overflowSat {
			return maxV, true
		}
	case incr < 0 && incr < minIncr:
		if ow == overflowSat {
			return 0, true
		}
	default:
		return 0, false
	}
	return (value + uint64(incr)) & maxV, true
}

// signedOverflow is checkSignedBitfieldOverflow: whether value+incr leaves
// [-2^(bits-1), 2^(bits-1)-1], and then the value WRAP or SAT stores.
func signedOverflow(value, incr int64, bits uint, ow overflow) (int64, bool) {
	maxV := int64(uint64(1)<<(bits-1) - 1)
	minV := -maxV - 1
	maxIncr := int64(uint64(maxV) - uint64(value))
	minIncr := minV - value
	switch {
	case value > maxV || (bits != 64 && incr > maxIncr) || (value >= 0 && incr > 0 && incr > maxIncr):
		if ow == overflowSat {
			return maxV, true
		}
	case value < minV || (bits != 64 && incr < minIncr) || (value < 0 && incr < 0 && incr < minIncr):
		if ow == overflowSat {
			return minV, true
		}
	default:
		return 0, false
	}
	return signExtend(uint64(value)+uint64(incr), bits), true
}

// signExtend reads the low bits of u as a two's complement integer (the
// bits above are ignored).
func signExtend(u uint64, bits uint) int64 {
	if bits == 64 {
		return int64(u)
	}
	high := ^uint64(0) << bits
	if u&(1<<(bits-1)) != 0 {
		return int64(u | high)
	}
	return int64(u &^ high)
}

// getBits reads bits bits at bit offset off, most significant first.
// p must cover them.
func getBits(p []byte, off uint64, bits uint) uint64 {
	var v uint64
	for i := uint(0); i < bits; i++ {
		b := p[off>>3] >> (7 - off&7) & 1
		v = v<<1 | uint64(b)
		off++
	}
	return v
}

// setBits writes the low bits bits of v at bit offset off, most
// significant first. p must cover them.
func setBits(p []byte, off uint64, bits uint, v uint64) {
	for i := uint(0); i < bits; i++ {
		mask := byte(1) << (7 - off&7)
		if v>>(bits-1-i)&1 != 0 {
			p[off>>3] |= mask
		} else {
			p[off>>3] &^= mask
		}
		off++
	}
}
