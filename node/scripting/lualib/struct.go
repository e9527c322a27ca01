package lualib

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The struct library (Roberto Ierusalimschy's struct.c as Redis embeds it,
// on x86-64: short 2, int 4, long and size_t 8 bytes, native little
// endian, maximum alignment 8).
const (
	structMaxIntSize = 32
	structMaxAlign   = 8
)

func newStructLib(L *lua.LState) *lua.LTable {
	return newLib(L, map[string]lua.LGFunction{
		"pack":   structPack,
		"unpack": structUnpack,
		"size":   structSize,
	})
}

// structHeader is the format's current endianness and alignment.
type structHeader struct {
	little bool
	align  int
}

func defaultStructHeader() structHeader { return structHeader{little: true, align: 1} }

// structFormat walks a format string as the C code does (a C string: it
// ends at the first NUL).
type structFormat struct {
	L   *lua.LState
	fmt string
	i   int
}

func newStructFormat(L *lua.LState, f string) *structFormat {
	if n := strings.IndexByte(f, 0); n >= 0 {
		f = f[:n]
	}
	return &structFormat{L: L, fmt: f}
}

func (f *structFormat) more() bool { return f.i < len(f.fmt) }
func (f *structFormat) next() byte { c := f.fmt[f.i]; f.i++; return c }

// getnum reads the optional decimal count after an option.
func (f *structFormat) getnum(df int) int {
	if !f.more() || !isDigit(f.fmt[f.i]) {
		return df
	}
	a := 0
	for f.more() && isDigit(f.fmt[f.i]) {
		d := int(f.fmt[f.i] - '0')
		if a > math.MaxInt32/10 || a*10 > math.MaxInt32-d {
			raise(f.L, "integral size overflow")
		}
		a = a*10 + d
		f.i++
	}
	return a
}

// optsize is the size of option opt (0 for those that take no room).
func (f *structFormat) optsize(opt byte) int {
	switch opt {
	case 'B', 'b':
		return 1
	case 'H', 'h':
		return 2
	case 'L', 'l', 'T', 'd':
		return 8
	case 'f':
		return 4
	case 'x':
		return 1
	case 'c':
		return f.getnum(1)
	case 'i', 'I':
		sz := f.getnum(4)
		if sz > structMaxIntSize {
			raise(f.L, "integral size %d is larger than limit of %d", sz, structMaxIntSize)
		}
		return sz
	}
	return 0
}

// gettoalign is the padding before an item of size at position pos.
func gettoalign(pos int, h *structHeader, opt byte, size int) int {
	if size == 0 || opt == 'c' {
		return 0
	}
	if size > h.align {
		size = h.align
	}
	return (size - (pos & (size - 1))) & (size - 1)
}

// controloptions handles ' ', '>', '<' and '!n'; anything else is an
// invalid option.
func (f *structFormat) controloptions(opt byte, h *structHeader) {
	switch opt {
	case ' ':
	case '>':
		h.little = false
	case '<':
		h.little = true
	case '!':
		a := f.getnum(structMaxAlign)
		if a <= 0 || a&(a-1) != 0 {
			raise(f.L, "alignment %d is not a power of 2", a)
		}
		h.align = a
	default:
		argError(f.L, 1, "invalid format option '"+string([]byte{opt})+"'")
	}
}

func isIntOption(opt byte) bool {
	return strings.IndexByte("bBhHlLTiI", opt) >= 0
}

// cUint64 is C's conversion of a double to an unsigned 64-bit integer as
// putinteger does it (through long for negative values); out-of-range
// values give what x86-64's conversion gives.
func cUint64(n float64) uint64 {
	if n < 0 {
		if n < -9223372036854775808.0 {
			return 1 << 63
		}
		return uint64(int64(n))
	}
	switch {
	case n < 9223372036854775808.0:
		return uint64(int64(n))
	case n < 18446744073709551616.0:
		return uint64(int64(n-9223372036854775808.0)) ^ 1<<63
	case math.IsNaN(n):
		return 1 << 63
	}
	return 0
}

func putinteger(buf []byte, n float64, little bool, size int) []byte {
	v := cUint64(n)
	b := make([]byte, size)
	if little {
		for i := 0; i < size; i++ {
			b[i] = byte(v)
			v >>= 8
		}
	} else {
		for i := size - 1; i >= 0; i-- {
			b[i] = byte(v)
			v >>= 8
		}
	}
	return append(buf, b...)
}

// structPack is struct.pack(fmt, ...).
func structPack(L *lua.LState) int {
	f := newStructFormat(L, checkString(L, 1))
	L.Push(lua.LNil) // the C code's mark after the arguments: a missing one reads as nil
	h := defaultStructHeader()
	arg := 2
	var buf []byte
	total := 0
	for f.more() {
		opt := f.next()
		size := f.optsize(opt)
		pad := gettoalign(total, &h, opt, size)
		total += pad
		buf = append(buf, make([]byte, pad)...)
		switch {
		case isIntOption(opt):
			buf = putinteger(buf, checkNumber(L, arg), h.little, size)
			arg++
		case opt == 'x':
			buf = append(buf, 0)
		case opt == 'f':
			bits := math.Float32bits(float32(checkNumber(L, arg)))
			arg++
			buf = appendOrder(buf, uint64(bits), 4, h.little)
		case opt == 'd':
			bits := math.Float64bits(checkNumber(L, arg))
			arg++
			buf = appendOrder(buf, bits, 8, h.little)
		case opt == 'c' || opt == 's':
			s := checkString(L, arg)
			arg++
			if size == 0 {
				size = len(s)
			}
			if len(s) < size {
				argError(L, arg, "string too short")
			}
			buf = append(buf, s[:size]...)
			if opt == 's' {
				buf = append(buf, 0)
				size++
			}
		default:
			f.controloptions(opt, &h)
		}
		total += size
	}
	L.Push(lua.LString(buf))
	return 1
}

func appendOrder(buf []byte, v uint64, size int, little bool) []byte {
	if little {
		for i := 0; i < size; i++ {
			buf = append(buf, byte(v>>(8*i)))
		}
		return buf
	}
	for i := size - 1; i >= 0; i-- {
		buf = append(buf, byte(v>>(8*i)))
	}
	return buf
}

// getinteger reads size bytes as an integer (the low 64 bits of it, with
// the sign bit of a wider signed field found where x86's shift puts it).
func getinteger(b string, little, signed bool, size int) float64 {
	var l uint64
	if little {
		for i := size - 1; i >= 0; i-- {
			l = l<<8 | uint64(b[i])
		}
	} else {
		for i := 0; i < size; i++ {
			l = l<<8 | uint64(b[i])
		}
	}
	if !signed {
		return float64(l)
	}
	mask := ^uint64(0) << (uint(size*8-1) & 63)
	if l&mask != 0 {
		l |= mask
	}
	return float64(int64(l))
}

// structUnpack is struct.unpack(fmt, data [, pos]): the values, then the
// position after them.
func structUnpack(L *lua.LState) int {
	f := newStructFormat(L, checkString(L, 1))
	data := checkString(L, 2)
	ld := uint64(len(data))
	pos := uint64(1)
	if L.Get(3) != lua.LNil {
		pos = uint64(int64(checkNumber(L, 3)))
	}
	if pos == 0 {
		argError(L, 3, "offset must be 1 or greater")
	}
	pos--
	h := defaultStructHeader()
	base := L.GetTop()
	var out []lua.LValue
	tooShort := func(size uint64) {
		if !(size <= ld && pos <= ld-size) {
			argError(L, 2, "data string too short")
		}
	}
	for f.more() {
		opt := f.next()
		size := uint64(f.optsize(opt))
		pos += uint64(gettoalign(int(pos), &h, opt, int(size)))
		tooShort(size)
		if base+len(out)+2 > luaCStackMax {
			raise(L, "stack overflow (too many results)")
		}
		switch {
		case isIntOption(opt):
			out = append(out, lua.LNumber(getinteger(data[pos:], h.little, opt >= 'a', int(size))))
		case opt == 'x':
		case opt == 'f':
			bits := binary.LittleEndian.Uint32([]byte(data[pos : pos+4]))
			if !h.little {
				bits = binary.BigEndian.Uint32([]byte(data[pos : pos+4]))
			}
			out = append(out, lua.LNumber(math.Float32frombits(bits)))
		case opt == 'd':
			bits := binary.LittleEndian.Uint64([]byte(data[pos : pos+8]))
			if !h.little {
				bits = binary.BigEndian.Uint64([]byte(data[pos : pos+8]))
			}
			out = append(out, lua.LNumber(math.Float64frombits(bits)))
		case opt == 'c':
			if size == 0 {
				var prev float64
				ok := false
				if len(out) > 0 {
					prev, ok = toNumber(out[len(out)-1])
				}
				if !ok {
					raise(L, "format 'c0' needs a previous size")
				}
				size = cUint64(prev)
				out = out[:len(out)-1]
				tooShort(size)
			}
			out = append(out, lua.LString(data[pos:pos+size]))
		case opt == 's':
			e := bytes.IndexByte([]byte(data[pos:]), 0)
			if e < 0 {
				raise(L, "unfinished string in data")
			}
			size = uint64(e) + 1
			out = append(out, lua.LString(data[pos:pos+size-1]))
		default:
			f.controloptions(opt, &h)
		}
		pos += size
	}
	for _, v := range out {
		L.Push(v)
	}
	L.Push(lua.LNumber(float64(pos + 1)))
	return len(out) + 1
}

// structSize is struct.size(fmt): the bytes a fixed-size format takes.
func structSize(L *lua.LState) int {
	f := newStructFormat(L, checkString(L, 1))
	h := defaultStructHeader()
	pos := 0
	for f.more() {
		opt := f.next()
		size := f.optsize(opt)
		pos += gettoalign(pos, &h, opt, size)
		if opt == 's' {
			argError(L, 1, "option 's' has no fixed size")
		} else if opt == 'c' && size == 0 {
			argError(L, 1, "option 'c0' has no fixed size")
		}
		if !isAlnum(opt) {
			f.controloptions(opt, &h)
		}
		pos += size
	}
	L.Push(lua.LNumber(pos))
	return 1
}
