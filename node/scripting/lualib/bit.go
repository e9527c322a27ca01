package lualib

import (
	"math"

	lua "github.com/yuin/gopher-lua"
)

// newBitLib returns LuaBitOp's bit table (Redis's deps/lua/src/lua_bit.c).
func newBitLib(L *lua.LState) *lua.LTable {
	return newLib(L, map[string]lua.LGFunction{
		"tobit":   bitTobit,
		"bnot":    bitBnot,
		"band":    bitBand,
		"bor":     bitBor,
		"bxor":    bitBxor,
		"lshift":  bitLshift,
		"rshift":  bitRshift,
		"arshift": bitArshift,
		"rol":     bitRol,
		"ror":     bitRor,
		"bswap":   bitBswap,
		"tohex":   bitTohex,
	})
}

// toBits converts a Lua number to 32 bits as LuaBitOp's barg does: adding
// 2^52+2^51 and keeping the low word of the double's bits, which rounds to
// nearest-even and wraps modulo 2^32 exactly as the C library does.
func toBits(n float64) uint32 {
	return uint32(math.Float64bits(n + 6755399441055744.0))
}

// barg is LuaBitOp's barg: argument idx as 32 bits; a non-number (and not a
// numeric string) is a "number expected" argument error.
func barg(L *lua.LState, idx int) uint32 {
	v := L.Get(idx)
	n, ok := toNumber(v)
	b := toBits(n)
	if b == 0 && !ok {
		typeError(L, idx, "number")
	}
	return b
}

// toNumber is lua_tonumber: numbers and numeric strings convert, anything
// else is 0 and false.
func toNumber(v lua.LValue) (float64, bool) {
	switch v := v.(type) {
	case lua.LNumber:
		return float64(v), true
	case lua.LString:
		n, err := parseLuaNumber(string(v))
		if err != nil {
			return 0, false
		}
		return n, true
	}
	return 0, false
}

// bret pushes b as LuaBitOp's BRET does: a signed 32-bit number.
func bret(L *lua.LState, b uint32) int {
	L.Push(lua.LNumber(float64(int32(b))))
	return 1
}

func bitTobit(L *lua.LState) int { return bret(L, barg(L, 1)) }
func bitBnot(L *lua.LState) int  { return bret(L, ^barg(L, 1)) }

func bitBand(L *lua.LState) int {
	b := barg(L, 1)
	for i := L.GetTop(); i > 1; i-- {
		b &= barg(L, i)
	}
	return bret(L, b)
}

func bitBor(L *lua.LState) int {
	b := barg(L, 1)
	for i := L.GetTop(); i > 1; i-- {
		b |= barg(L, i)
	}
	return bret(L, b)
}

func bitBxor(L *lua.LState) int {
	b := barg(L, 1)
	for i := L.GetTop(); i > 1; i-- {
		b ^= barg(L, i)
	}
	return bret(L, b)
}

// shiftArgs reads the value and the shift count (masked to 0..31).
func shiftArgs(L *lua.LState) (uint32, uint32) {
	b := barg(L, 1)
	n := barg(L, 2) & 31
	return b, n
}

func bitLshift(L *lua.LState) int { b, n := shiftArgs(L); return bret(L, b<<n) }
func bitRshift(L *lua.LState) int { b, n := shiftArgs(L); return bret(L, b>>n) }
func bitArshift(L *lua.LState) int {
	b, n := shiftArgs(L)
	return bret(L, uint32(int32(b)>>n))
}
func bitRol(L *lua.LState) int { b, n := shiftArgs(L); return bret(L, b<<n|b>>(32-n)) }
func bitRor(L *lua.LState) int { b, n := shiftArgs(L); return bret(L, b>>n|b<<(32-n)) }

func bitBswap(L *lua.LState) int {
	b := barg(L, 1)
	b = b>>24 | (b>>8)&0xff00 | (b&0xff00)<<8 | b<<24
	return bret(L, b)
}

// bitTohex is bit.tohex(x [,n]): n hex digits (8 by default), upper case
// when n is negative, at most 8.
func bitTohex(L *lua.LState) int {
	b := barg(L, 1)
	n := int32(8)
	if L.GetTop() >= 2 {
		n = int32(barg(L, 2))
	}
	digits := "0123456789abcdef"
	if n < 0 {
		n = -n
		digits = "0123456789ABCDEF"
	}
	if n > 8 {
		n = 8
	}
	if n < 0 { // -(-2^31) overflows; Redis's build prints 8 digits
		n = 8
	}
	buf := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		buf[i] = digits[b&15]
		b >>= 4
	}
	L.Push(lua.LString(buf))
	return 1
}
