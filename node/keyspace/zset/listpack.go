package zset

import (
	"bytes"
	"encoding/binary"
	"math"
)

// The "listpack" encoding: entries in (score, member) order, each
//
//	uvarint(len(member)<<1 | intScore) member score
//
// where score is a zigzag varint when intScore is set (integral scores of
// magnitude <= 2^53, the common case) and 8 little-endian bytes of the
// float64 otherwise. Like Redis's listpack, an integral -0 is stored as 0.

const maxExactInt = 1 << 53

func lpIntScore(score float64) bool {
	return score == math.Trunc(score) && score >= -maxExactInt && score <= maxExactInt
}

// lpEntrySize is the encoded size of an entry.
func lpEntrySize(member []byte, score float64) int {
	h := uint64(len(member)) << 1
	if lpIntScore(score) {
		return uvarintLen(h|1) + len(member) + varintLen(int64(score))
	}
	return uvarintLen(h) + len(member) + 8
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func varintLen(x int64) int {
	ux := uint64(x) << 1
	if x < 0 {
		ux = ^ux
	}
	return uvarintLen(ux)
}

// lpPut writes an entry at dst[0:] (which has room for it) and returns its
// size.
func lpPut(dst []byte, member []byte, score float64) int {
	h := uint64(len(member)) << 1
	if lpIntScore(score) {
		n := binary.PutUvarint(dst, h|1)
		n += copy(dst[n:], member)
		return n + binary.PutVarint(dst[n:], int64(score))
	}
	n := binary.PutUvarint(dst, h)
	n += copy(dst[n:], member)
	binary.LittleEndian.PutUint64(dst[n:], math.Float64bits(score))
	return n + 8
}

func lpAppend(dst []byte, member []byte, score float64) []byte {
	n := len(dst)
	dst = grow(dst, lpEntrySize(member, score))
	lpPut(dst[n:], member, score)
	return dst
}

// grow extends b by n bytes (contents of the new bytes unspecified).
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, growCap(cap(b), len(b)+n))
	copy(nb, b)
	return nb
}

// growCap grows small listpacks by a quarter rather than doubling: they are
// many and small, and memory is what they are for.
func growCap(old, need int) int {
	c := old + old/4
	if c < need {
		c = need
	}
	if c < 16 {
		c = 16
	}
	return c
}

// lpDecode decodes the entry at off and returns its member (aliasing buf),
// its score and the offset of the next entry.
func lpDecode(buf []byte, off int) (member []byte, score float64, next int) {
	var h uint64
	if c := buf[off]; c < 0x80 {
		h = uint64(c)
		off++
	} else {
		var k int
		h, k = binary.Uvarint(buf[off:])
		off += k
	}
	end := off + int(h>>1)
	member = buf[off:end:end]
	if h&1 != 0 {
		if c := buf[end]; c < 0x80 {
			// one-byte zigzag varint
			return member, float64(int64(c>>1) ^ -int64(c&1)), end + 1
		}
		v, k := binary.Varint(buf[end:])
		return member, float64(v), end + k
	}
	return member, math.Float64frombits(binary.LittleEndian.Uint64(buf[end:])), end + 8
}

// lpFind returns the offset and score of member, or ok=false.
func lpFind(buf []byte, member []byte) (off int, score float64, ok bool) {
	for off < len(buf) {
		m, s, next := lpDecode(buf, off)
		if bytes.Equal(m, member) {
			return off, s, true
		}
		off = next
	}
	return 0, 0, false
}

// lpInsert inserts (member, score), which is not present, in order.
func lpInsert(buf []byte, member []byte, score float64) []byte {
	off := 0
	for off < len(buf) {
		m, s, next := lpDecode(buf, off)
		if s > score || (s == score && bytes.Compare(m, member) > 0) {
			break
		}
		off = next
	}
	size := lpEntrySize(member, score)
	n := len(buf)
	buf = grow(buf, size)
	copy(buf[off+size:], buf[off:n])
	lpPut(buf[off:], member, score)
	return buf
}

// lpDelete removes the bytes [off, next) in place.
func lpDelete(buf []byte, off, next int) []byte {
	n := copy(buf[off:], buf[next:])
	return buf[:off+n]
}

// lpOffsets appends the offset of every entry and, last, len(buf).
func lpOffsets(dst []int, buf []byte) []int {
	for off := 0; off < len(buf); {
		dst = append(dst, off)
		_, _, off = lpDecode(buf, off)
	}
	return append(dst, len(buf))
}
