package lualib

import "testing"

// bitDiffCases: negative numbers, 2^31/2^32 wraparound, fractions and
// huge values, compared with Redis's.
var bitDiffCases = []string{
	`return bit.tobit(0xffffffff), bit.tobit(2^31), bit.tobit(2^32), bit.tobit(2^32 + 5), bit.tobit(-2^31 - 1)`,
	`return bit.tobit(1.5), bit.tobit(2.5), bit.tobit(-1.5), bit.tobit(-2.5), bit.tobit(0.4999999)`,
	`return bit.tobit(2^52), bit.tobit(2^53 + 2), bit.tobit(2^60 + 12345), bit.tobit(1e300), bit.tobit(-1e300)`,
	`return bit.tobit(1/0), bit.tobit(-1/0), bit.tobit(0/0)`,
	`return bit.tobit('0x10'), bit.tobit(' 12 '), bit.tobit('1e3')`,
	`return bit.tobit('abc')`,
	`return bit.tobit()`,
	`return bit.tobit({})`,
	`return bit.tohex(1), bit.tohex(-1), bit.tohex(0x12345678, 4), bit.tohex(0x12345678, -4), bit.tohex(255, 0)`,
	`return bit.tohex(255, 9), bit.tohex(255, -9), bit.tohex(255, -2^31), bit.tohex(255, 2^32 + 3), bit.tohex(2^40 + 255)`,
	`return bit.bnot(0), bit.bnot(-1), bit.bnot(2^31), bit.bnot(2^32)`,
	`return bit.band(-1, 0xff), bit.band(0xf0f0, 0xff00, 0x0ff0), bit.band(2^32 + 3, 1)`,
	`return bit.bor(-2^31, 1), bit.bor(1, 2, 4, 8, 16), bit.bor(5)`,
	`return bit.bxor(-1, 2^31), bit.bxor(0xaa, 0x55, 0xff)`,
	`return bit.band()`,
	`return bit.bor(1, 'x')`,
	`return bit.lshift(1, 31), bit.lshift(1, 32), bit.lshift(1, 33), bit.lshift(-1, 4), bit.lshift(1, -1)`,
	`return bit.rshift(-1, 1), bit.rshift(-1, 31), bit.rshift(-1, 32), bit.rshift(2^31, 31), bit.rshift(1, -31)`,
	`return bit.arshift(-1, 31), bit.arshift(-256, 4), bit.arshift(2^31, 31), bit.arshift(0x7fffffff, 30)`,
	`return bit.rol(0x12345678, 4), bit.rol(-1, 17), bit.rol(0x80000001, 1), bit.rol(5, 0), bit.rol(5, 32)`,
	`return bit.ror(0x12345678, 4), bit.ror(1, 1), bit.ror(0x80000001, 33), bit.ror(5, 0)`,
	`return bit.bswap(0x12345678), bit.bswap(-1), bit.bswap(0xff), bit.bswap(2^31)`,
	`return bit.lshift(1)`,
}

func TestBitDifferential(t *testing.T) { diffCases(t, bitDiffCases) }
