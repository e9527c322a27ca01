package rdb

import (
	"encoding/binary"
	"iter"
	"math"
	"slices"
	"strconv"
)

// Writers of the forms Redis 7.0 writes and loads. Each Append*Object
// appends the type byte and the object; counts and lengths whose value is
// known only after the content is written use the 32-bit length form,
// which every RDB reader accepts.

// AppendLen appends an RDB length.
func AppendLen(dst []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(dst, byte(n))
	case n < 1<<14:
		return append(dst, byte(n>>8)|0x40, byte(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(dst, len32), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(dst, len64), n)
}

// reserveLen32 appends a placeholder for a length patched by patchLen32.
func reserveLen32(dst []byte) ([]byte, int) {
	return append(dst, len32, 0, 0, 0, 0), len(dst)
}

func patchLen32(dst []byte, at int, n uint64) {
	binary.BigEndian.PutUint32(dst[at+1:], uint32(n))
}

// canonicalInt parses s when it is an integer in its canonical decimal
// form (what Redis stores as an integer in its packed encodings: no sign
// but '-', no leading zero, no "-0", within int64). It does not allocate:
// it runs for every key a snapshot writes.
func canonicalInt(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	neg := s[0] == '-'
	d := s
	if neg {
		d = s[1:]
	}
	if len(d) == 0 || d[0] == '0' && (len(d) > 1 || neg) {
		return 0, false
	}
	var u uint64
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
		if u > (math.MaxUint64-9)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	switch {
	case !neg && u <= math.MaxInt64:
		return int64(u), true
	case neg && u <= 1<<63:
		return int64(-u), true
	}
	return 0, false
}

// AppendString appends a string, as an integer when it is one that fits
// 32 bits (Redis's rdbTryIntegerEncoding), else as its bytes.
func AppendString(dst, s []byte) []byte {
	if len(s) <= 11 && len(s) > 0 && (s[0] >= '0' && s[0] <= '9' || s[0] == '-') {
		if v, ok := canonicalInt(s); ok {
			switch {
			case v >= math.MinInt8 && v <= math.MaxInt8:
				return append(dst, 0xC0|encInt8, byte(v))
			case v >= math.MinInt16 && v <= math.MaxInt16:
				return binary.LittleEndian.AppendUint16(append(dst, 0xC0|encInt16), uint16(v))
			case v >= math.MinInt32 && v <= math.MaxInt32:
				return binary.LittleEndian.AppendUint32(append(dst, 0xC0|encInt32), uint32(v))
			}
		}
	}
	dst = AppendLen(dst, uint64(len(s)))
	return append(dst, s...)
}

// AppendStringObject appends a string value.
func AppendStringObject(dst, s []byte) []byte {
	return AppendString(append(dst, TypeString), s)
}

// AppendBinaryDouble appends an 8-byte little-endian double.
func AppendBinaryDouble(dst []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
}

// listNodeBytes is the size at which a list's listpack node is closed:
// list-max-listpack-size -2 (8 kB), Redis's default.
const listNodeBytes = 8 << 10

// AppendListObject appends a list of n elements (head to tail) as a
// quicklist of listpacks (RDB_TYPE_LIST_QUICKLIST_2), as Redis 7.0 does.
func AppendListObject(dst []byte, n int, elems iter.Seq[[]byte]) ([]byte, int) {
	dst = append(dst, TypeListQuicklist2)
	dst, countAt := reserveLen32(dst)
	nodes, got := 0, 0
	lp := -1
	var lpLenAt, lpCount int
	closeNode := func() {
		dst = finishListpack(dst, lp, lpCount)
		patchLen32(dst, lpLenAt, uint64(len(dst)-lp))
		lp = -1
	}
	for e := range elems {
		if lp >= 0 && (len(dst)-lp+len(e) > listNodeBytes) {
			closeNode()
		}
		if lp < 0 {
			dst = AppendLen(dst, containerPacked)
			dst, lpLenAt = reserveLen32(dst)
			lp = len(dst)
			dst = startListpack(dst)
			lpCount = 0
			nodes++
		}
		dst = appendLpEntry(dst, e)
		lpCount++
		got++
	}
	if lp >= 0 {
		closeNode()
	}
	patchLen32(dst, countAt, uint64(nodes))
	return dst, got
}

// AppendSetObject appends a set: an intset when intset is asked and every
// member is an integer, else the plain form.
func AppendSetObject(dst []byte, n int, members iter.Seq[[]byte], intset bool) ([]byte, int) {
	if intset {
		ints := make([]int64, 0, n)
		for m := range members {
			v, ok := canonicalInt(m)
			if !ok {
				ints = nil
				break
			}
			ints = append(ints, v)
		}
		if ints != nil {
			return appendIntset(append(dst, TypeSetIntset), ints), len(ints)
		}
	}
	dst = AppendLen(append(dst, TypeSet), uint64(n))
	got := 0
	for m := range members {
		dst = AppendString(dst, m)
		got++
	}
	return dst, got
}

func appendIntset(dst []byte, ints []int64) []byte {
	slices.Sort(ints)
	w := 2
	for _, v := range ints {
		if v < math.MinInt32 || v > math.MaxInt32 {
			w = 8
			break
		}
		if v < math.MinInt16 || v > math.MaxInt16 {
			w = 4
		}
	}
	dst = AppendLen(dst, uint64(8+w*len(ints)))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(w))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(ints)))
	for _, v := range ints {
		switch w {
		case 2:
			dst = binary.LittleEndian.AppendUint16(dst, uint16(v))
		case 4:
			dst = binary.LittleEndian.AppendUint32(dst, uint32(v))
		default:
			dst = binary.LittleEndian.AppendUint64(dst, uint64(v))
		}
	}
	return dst
}

// AppendHashObject appends a hash: a listpack when asked (small hashes),
// else the plain form.
func AppendHashObject(dst []byte, n int, pairs iter.Seq2[[]byte, []byte], listpack bool) ([]byte, int) {
	got := 0
	if listpack {
		dst = append(dst, TypeHashListpack)
		dst, at := reserveLen32(dst)
		lp := len(dst)
		dst = startListpack(dst)
		for f, v := range pairs {
			dst = appendLpEntry(dst, f)
			dst = appendLpEntry(dst, v)
			got++
		}
		dst = finishListpack(dst, lp, 2*got)
		patchLen32(dst, at, uint64(len(dst)-lp))
		return dst, got
	}
	dst = AppendLen(append(dst, TypeHash), uint64(n))
	for f, v := range pairs {
		dst = AppendString(dst, f)
		dst = AppendString(dst, v)
		got++
	}
	return dst, got
}

// AppendZSetObject appends a sorted set whose members come in ascending
// (score, member) order: a listpack when asked, else RDB_TYPE_ZSET_2.
func AppendZSetObject(dst []byte, n int, members iter.Seq2[[]byte, float64], listpack bool) ([]byte, int) {
	got := 0
	if listpack {
		dst = append(dst, TypeZSetListpack)
		dst, at := reserveLen32(dst)
		lp := len(dst)
		dst = startListpack(dst)
		var buf [32]byte
		for m, s := range members {
			dst = appendLpEntry(dst, m)
			dst = appendLpEntry(dst, appendScore(buf[:0], s))
			got++
		}
		dst = finishListpack(dst, lp, 2*got)
		patchLen32(dst, at, uint64(len(dst)-lp))
		return dst, got
	}
	dst = AppendLen(append(dst, TypeZSet2), uint64(n))
	for m, s := range members {
		dst = AppendString(dst, m)
		dst = AppendBinaryDouble(dst, s)
		got++
	}
	return dst, got
}

// appendScore formats a score as Redis's d2string does for listpacks:
// integers as integers, infinities as inf and -inf, others exactly.
func appendScore(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case f == 0 && math.Signbit(f):
		return append(dst, "-0"...)
	case f == math.Trunc(f) && math.Abs(f) < 1<<53:
		return strconv.AppendInt(dst, int64(f), 10)
	}
	return strconv.AppendFloat(dst, f, 'g', 17, 64)
}

// startListpack appends a listpack header to be completed by
// finishListpack.
func startListpack(dst []byte) []byte {
	return append(dst, 0, 0, 0, 0, 0, 0)
}

// finishListpack appends the end byte and fills the header of the
// listpack starting at lp with count entries.
func finishListpack(dst []byte, lp, count int) []byte {
	dst = append(dst, 0xFF)
	binary.LittleEndian.PutUint32(dst[lp:], uint32(len(dst)-lp))
	binary.LittleEndian.PutUint16(dst[lp+4:], uint16(min(count, 65535)))
	return dst
}

// appendLpEntry appends one listpack entry: integers in their smallest
// integer encoding, strings with their length, then the back length.
func appendLpEntry(dst, e []byte) []byte {
	start := len(dst)
	if v, ok := canonicalInt(e); ok {
		switch {
		case v >= 0 && v <= 127:
			dst = append(dst, byte(v))
		case v >= -4096 && v <= 4095:
			u := uint16(v) & 0x1fff
			dst = append(dst, 0xC0|byte(u>>8), byte(u))
		case v >= math.MinInt16 && v <= math.MaxInt16:
			dst = binary.LittleEndian.AppendUint16(append(dst, 0xF1), uint16(v))
		case v >= -(1<<23) && v < 1<<23:
			u := uint32(v)
			dst = append(dst, 0xF2, byte(u), byte(u>>8), byte(u>>16))
		case v >= math.MinInt32 && v <= math.MaxInt32:
			dst = binary.LittleEndian.AppendUint32(append(dst, 0xF3), uint32(v))
		default:
			dst = binary.LittleEndian.AppendUint64(append(dst, 0xF4), uint64(v))
		}
	} else {
		switch l := len(e); {
		case l < 64:
			dst = append(dst, 0x80|byte(l))
		case l < 4096:
			dst = append(dst, 0xE0|byte(l>>8), byte(l))
		default:
			dst = binary.LittleEndian.AppendUint32(append(dst, 0xF0), uint32(l))
		}
		dst = append(dst, e...)
	}
	return appendBacklen(dst, len(dst)-start)
}

// appendBacklen appends a listpack entry's back length (Redis's
// lpEncodeBacklen): the high-order group first, without its top bit, the
// lower 7-bit groups after it with their top bit set.
func appendBacklen(dst []byte, l int) []byte {
	size := backlenSize(l)
	if size == 1 {
		return append(dst, byte(l))
	}
	dst = append(dst, byte(l>>(7*(size-1))))
	for i := size - 2; i >= 0; i-- {
		dst = append(dst, byte(l>>(7*i))&127|128)
	}
	return dst
}
