package set

import (
	"bytes"
	"encoding/binary"
)

// The "listpack" encoding: members in insertion order, each as
// uvarint(len) followed by the bytes, in one byte slice.

func lpNext(buf []byte, off int) (member []byte, next int) {
	var l uint64
	if c := buf[off]; c < 0x80 {
		l = uint64(c)
		off++
	} else {
		var k int
		l, k = binary.Uvarint(buf[off:])
		off += k
	}
	end := off + int(l)
	return buf[off:end:end], end
}

func lpFind(buf []byte, member []byte) (off, next int, ok bool) {
	for off < len(buf) {
		m, nx := lpNext(buf, off)
		if bytes.Equal(m, member) {
			return off, nx, true
		}
		off = nx
	}
	return 0, 0, false
}

func lpAppend(buf []byte, member []byte) []byte {
	need := binary.MaxVarintLen64 + len(member)
	if cap(buf)-len(buf) < need {
		nb := make([]byte, len(buf), growCap(cap(buf), len(buf)+need))
		copy(nb, buf)
		buf = nb
	}
	buf = binary.AppendUvarint(buf, uint64(len(member)))
	return append(buf, member...)
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

// growCap grows small encodings by a quarter rather than doubling: they are
// many and small, and memory is what they are for.
func growCap(old, need int) int {
	return max(old+old/4, need, 16)
}
