package lualib

import (
	"encoding/binary"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// cmsgpackMaxNesting is LUACMSGPACK_MAX_NESTING: a table deeper than this
// packs as nil, so that circular tables terminate.
const cmsgpackMaxNesting = 16

// newCmsgpackLib returns Redis's cmsgpack table (lua-cmsgpack 0.4.0).
func newCmsgpackLib(L *lua.LState) *lua.LTable {
	t := newLib(L, map[string]lua.LGFunction{
		"pack":         mpPack,
		"unpack":       mpUnpack,
		"unpack_one":   mpUnpackOne,
		"unpack_limit": mpUnpackLimit,
	})
	t.RawSetString("_NAME", lua.LString("cmsgpack"))
	t.RawSetString("_VERSION", lua.LString("lua-cmsgpack 0.4.0"))
	t.RawSetString("_COPYRIGHT", lua.LString("Copyright (C) 2012, Salvatore Sanfilippo"))
	t.RawSetString("_DESCRIPTION", lua.LString("MessagePack C implementation for Lua"))
	return t
}

// mpPack is cmsgpack.pack(v1, v2, ...): the values packed one after the
// other.
func mpPack(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		argError(L, 0, "MessagePack pack needs input.")
	}
	if 2*n > luaCStackMax {
		argError(L, 0, "Too many arguments for MessagePack pack.")
	}
	var buf []byte
	for i := 1; i <= n; i++ {
		buf = mpEncode(buf, L.Get(i), 0)
	}
	L.Push(lua.LString(buf))
	return 1
}

// mpEncode is mp_encode_lua_type: v appended to buf as MessagePack.
func mpEncode(buf []byte, v lua.LValue, level int) []byte {
	switch v := v.(type) {
	case lua.LString:
		return mpAppendBytes(buf, string(v))
	case lua.LBool:
		if v {
			return append(buf, 0xc3)
		}
		return append(buf, 0xc2)
	case lua.LNumber:
		f := float64(v)
		if isInt64Equivalent(f) {
			return mpAppendInt(buf, int64(f))
		}
		return mpAppendDouble(buf, f)
	case *lua.LTable:
		if level == cmsgpackMaxNesting {
			return append(buf, 0xc0)
		}
		if n, ok := mpTableIsArray(v); ok {
			buf = mpAppendHeader(buf, 0x90, 0xdc, 0xdd, uint64(n))
			for i := 1; i <= n; i++ {
				buf = mpEncode(buf, v.RawGetInt(i), level+1)
			}
			return buf
		}
		n := 0
		for k, _ := v.Next(lua.LNil); k != lua.LNil; k, _ = v.Next(k) {
			n++
		}
		buf = mpAppendHeader(buf, 0x80, 0xde, 0xdf, uint64(n))
		for k, x := v.Next(lua.LNil); k != lua.LNil; k, x = v.Next(k) {
			buf = mpEncode(buf, k, level+1)
			buf = mpEncode(buf, x, level+1)
		}
		return buf
	}
	return append(buf, 0xc0) // nil, functions, userdata, threads
}

// isInt64Equivalent is IS_INT64_EQUIVALENT: (int64_t)x == x, where the C
// conversion of an out-of-range double yields INT64_MIN.
func isInt64Equivalent(f float64) bool {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return false
	}
	if f < -9223372036854775808.0 || f >= 9223372036854775808.0 {
		return f == -9223372036854775808.0
	}
	return float64(int64(f)) == f
}

// mpTableIsArray is table_is_an_array: every key an integer >= 1 (that
// fits a C int) and no hole; it returns the length.
func mpTableIsArray(t *lua.LTable) (int, bool) {
	count, max := 0, 0
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		n, ok := k.(lua.LNumber)
		if !ok || n <= 0 || float64(cInt(float64(n))) != float64(n) {
			return 0, false
		}
		if int(n) > max {
			max = int(n)
		}
		count++
	}
	return count, max == count
}

func mpAppendBytes(buf []byte, s string) []byte {
	n := len(s)
	switch {
	case n < 32:
		buf = append(buf, 0xa0|byte(n))
	case n <= 0xff:
		buf = append(buf, 0xd9, byte(n))
	case n <= 0xffff:
		buf = append(buf, 0xda, byte(n>>8), byte(n))
	default:
		buf = append(buf, 0xdb)
		buf = binary.BigEndian.AppendUint32(buf, uint32(n))
	}
	return append(buf, s...)
}

// mpAppendHeader is mp_encode_array / mp_encode_map: a fix form (fix|n),
// a 16-bit or a 32-bit count.
func mpAppendHeader(buf []byte, fix, b16, b32 byte, n uint64) []byte {
	switch {
	case n <= 15:
		return append(buf, fix|byte(n))
	case n <= 0xffff:
		return append(buf, b16, byte(n>>8), byte(n))
	}
	return binary.BigEndian.AppendUint32(append(buf, b32), uint32(n))
}

// mpAppendDouble is mp_encode_double: a float when the value survives the
// round trip through float, else a double.
func mpAppendDouble(buf []byte, d float64) []byte {
	if f := float32(d); float64(f) == d {
		return binary.BigEndian.AppendUint32(append(buf, 0xca), math.Float32bits(f))
	}
	return binary.BigEndian.AppendUint64(append(buf, 0xcb), math.Float64bits(d))
}

// mpAppendInt is mp_encode_int: the smallest form for n.
func mpAppendInt(buf []byte, n int64) []byte {
	if n >= 0 {
		switch {
		case n <= 127:
			return append(buf, byte(n))
		case n <= 0xff:
			return append(buf, 0xcc, byte(n))
		case n <= 0xffff:
			return append(buf, 0xcd, byte(n>>8), byte(n))
		case n <= 0xffffffff:
			return binary.BigEndian.AppendUint32(append(buf, 0xce), uint32(n))
		}
		return binary.BigEndian.AppendUint64(append(buf, 0xcf), uint64(n))
	}
	switch {
	case n >= -32:
		return append(buf, byte(n))
	case n >= -128:
		return append(buf, 0xd0, byte(n))
	case n >= -32768:
		return append(buf, 0xd1, byte(n>>8), byte(n))
	case n >= -2147483648:
		return binary.BigEndian.AppendUint32(append(buf, 0xd2), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(buf, 0xd3), uint64(n))
}

// ===== decoding =====

// mpDecoder is one unpack call: a cursor on the input, and the Lua stack
// slots the C decoder would hold (luaL_checkstack refuses past
// luaCStackMax; the errors are Redis's).
type mpDecoder struct {
	L     *lua.LState
	s     string
	pos   int
	err   int // mpErrNone, mpErrEOF, mpErrBadFmt
	slots int
}

const (
	mpErrNone = iota
	mpErrEOF
	mpErrBadFmt
)

// need is mp_cur_need: false (and EOF) when fewer than n bytes are left.
func (d *mpDecoder) need(n uint64) bool {
	if uint64(len(d.s)-d.pos) < n {
		d.err = mpErrEOF
		return false
	}
	return true
}

func (d *mpDecoder) checkStack(n int, msg string) {
	if d.slots+n > luaCStackMax {
		raise(d.L, "stack overflow (%s)", msg)
	}
}

func (d *mpDecoder) be(off, n int) uint64 {
	var v uint64
	for i := 0; i < n; i++ {
		v = v<<8 | uint64(d.s[d.pos+off+i])
	}
	return v
}

// decode is mp_decode_to_lua_type: one value, or nil with d.err set.
func (d *mpDecoder) decode() lua.LValue {
	if !d.need(1) {
		return nil
	}
	d.checkStack(1, "too many return values at once; use unpack_one or unpack_limit instead.")
	c := d.s[d.pos]
	fixed := func(n int, v lua.LValue) lua.LValue {
		if !d.need(uint64(n)) {
			return nil
		}
		d.pos += n
		d.slots++
		return v
	}
	switch c {
	case 0xcc:
		if !d.need(2) {
			return nil
		}
		return fixed(2, lua.LNumber(d.s[d.pos+1]))
	case 0xd0:
		if !d.need(2) {
			return nil
		}
		return fixed(2, lua.LNumber(int8(d.s[d.pos+1])))
	case 0xcd, 0xd1:
		if !d.need(3) {
			return nil
		}
		v := d.be(1, 2)
		if c == 0xd1 {
			return fixed(3, lua.LNumber(int16(v)))
		}
		return fixed(3, lua.LNumber(v))
	case 0xce, 0xd2, 0xca:
		if !d.need(5) {
			return nil
		}
		v := d.be(1, 4)
		switch c {
		case 0xd2:
			return fixed(5, lua.LNumber(int32(v)))
		case 0xca:
			return fixed(5, lua.LNumber(math.Float32frombits(uint32(v))))
		}
		return fixed(5, lua.LNumber(v))
	case 0xcf, 0xd3, 0xcb:
		if !d.need(9) {
			return nil
		}
		v := d.be(1, 8)
		if c == 0xcb {
			return fixed(9, lua.LNumber(math.Float64frombits(v)))
		}
		return fixed(9, lua.LNumber(int64(v))) // uint64 too: lua_pushinteger
	case 0xc0:
		return fixed(1, lua.LNil)
	case 0xc3:
		return fixed(1, lua.LTrue)
	case 0xc2:
		return fixed(1, lua.LFalse)
	case 0xd9:
		return d.str(1)
	case 0xda:
		return d.str(2)
	case 0xdb:
		return d.str(4)
	case 0xdc, 0xdd, 0xde, 0xdf:
		w := 2
		if c == 0xdd || c == 0xdf {
			w = 4
		}
		if !d.need(uint64(1 + w)) {
			return nil
		}
		n := d.be(1, w)
		d.pos += 1 + w
		if c == 0xdc || c == 0xdd {
			return d.array(n)
		}
		return d.hash(n)
	}
	switch {
	case c&0x80 == 0:
		return fixed(1, lua.LNumber(c))
	case c&0xe0 == 0xe0:
		return fixed(1, lua.LNumber(int8(c)))
	case c&0xe0 == 0xa0:
		n := uint64(c & 0x1f)
		if !d.need(1 + n) {
			return nil
		}
		return fixed(1+int(n), lua.LString(d.s[d.pos+1:d.pos+1+int(n)]))
	case c&0xf0 == 0x90:
		d.pos++
		return d.array(uint64(c & 0xf))
	case c&0xf0 == 0x80:
		d.pos++
		return d.hash(uint64(c & 0xf))
	}
	d.err = mpErrBadFmt
	return nil
}

// str decodes a string whose length is a w-byte big-endian count.
func (d *mpDecoder) str(w int) lua.LValue {
	if !d.need(uint64(1 + w)) {
		return nil
	}
	n := d.be(1, w)
	if !d.need(uint64(1+w) + n) {
		return nil
	}
	start := d.pos + 1 + w
	d.pos = start + int(n)
	d.slots++
	return lua.LString(d.s[start:d.pos])
}

// array is mp_decode_to_lua_array: n values at indexes 1..n (lua_settable,
// so a nil leaves a hole).
func (d *mpDecoder) array(n uint64) lua.LValue {
	t := d.L.NewTable()
	d.slots++
	d.checkStack(1, "in function mp_decode_to_lua_array")
	for i := uint64(1); i <= n; i++ {
		d.slots++ // the index
		v := d.decode()
		if d.err != mpErrNone {
			return nil
		}
		if v != lua.LNil {
			t.RawSetInt(int(i), v)
		}
		d.slots -= 2
	}
	return t
}

// hash is mp_decode_to_lua_hash: n key/value pairs, set with lua_settable
// (a nil or NaN key is Lua's error).
func (d *mpDecoder) hash(n uint64) lua.LValue {
	t := d.L.NewTable()
	d.slots++
	for i := uint64(0); i < n; i++ {
		k := d.decode()
		if d.err != mpErrNone {
			return nil
		}
		v := d.decode()
		if d.err != mpErrNone {
			return nil
		}
		switch k := k.(type) {
		case *lua.LNilType:
			raiseRuntime(d.L, "table index is nil")
		case lua.LNumber:
			if math.IsNaN(float64(k)) {
				raiseRuntime(d.L, "table index is NaN")
			}
		}
		t.RawSet(k, v)
		d.slots -= 2
	}
	return t
}

func mpUnpack(L *lua.LState) int { return mpUnpackFull(L, 0, 0) }

func mpUnpackOne(L *lua.LState) int {
	offset := optInteger(L, 2)
	L.SetTop(1)
	return mpUnpackFull(L, 1, offset)
}

func mpUnpackLimit(L *lua.LState) int {
	limit := int64(checkNumber(L, 2))
	offset := optInteger(L, 3)
	L.SetTop(1)
	return mpUnpackFull(L, limit, offset)
}

// optInteger is luaL_optinteger(L, n, 0).
func optInteger(L *lua.LState, n int) int64 {
	if L.Get(n) == lua.LNil {
		return 0
	}
	return int64(checkNumber(L, n))
}

// mpUnpackFull is mp_unpack_full: up to limit values from offset (all of
// them when both are 0); with a limit or an offset the first result is
// the next offset, -1 at the end of the input.
func mpUnpackFull(L *lua.LState, limit, offset int64) int {
	s := checkString(L, 1)
	decodeAll := limit == 0 && offset == 0
	if offset < 0 || limit < 0 {
		raise(L, "Invalid request to unpack with offset of %d and limit of %d.", int32(offset), int32(len(s)))
	} else if offset > int64(len(s)) {
		raise(L, "Start offset %d greater than input length %d.", int32(offset), int32(len(s)))
	}
	if decodeAll {
		limit = math.MaxInt32
	}
	d := &mpDecoder{L: L, s: s, pos: int(offset), slots: 1}
	var out []lua.LValue
	for cnt := int64(0); d.pos < len(s) && cnt < limit; cnt++ {
		v := d.decode()
		switch d.err {
		case mpErrEOF:
			raise(L, "Missing bytes in input.")
		case mpErrBadFmt:
			raise(L, "Bad data format in input.")
		}
		out = append(out, v)
	}
	if !decodeAll {
		d.checkStack(1, "in function mp_unpack_full")
		next := int64(d.pos)
		if d.pos == len(s) {
			next = -1
		}
		L.Push(lua.LNumber(next))
	}
	for _, v := range out {
		L.Push(v)
	}
	if decodeAll {
		return len(out)
	}
	return len(out) + 1
}
