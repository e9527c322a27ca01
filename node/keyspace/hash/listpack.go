package hash

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"slices"
)

// The listpack encoding is one byte slice of entries, each uvarint(len)
// followed by the bytes, alternating field and value, in insertion order.

func uvarintLen(n int) int {
	return (bits.Len64(uint64(n)|1) + 6) / 7
}

// lpEntrySize is the number of bytes an entry of n bytes takes.
func lpEntrySize(n int) int { return uvarintLen(n) + n }

// lpRead decodes the entry at off and returns its bytes and the offset of
// the next entry.
func lpRead(lp []byte, off int) ([]byte, int) {
	if b := lp[off]; b < 0x80 {
		end := off + 1 + int(b)
		return lp[off+1 : end : end], end
	}
	n, h := binary.Uvarint(lp[off:])
	start := off + h
	end := start + int(n)
	return lp[start:end:end], end
}

// lpPut writes v as an entry into b, which is exactly lpEntrySize(len(v)).
func lpPut(b, v []byte) {
	h := binary.PutUvarint(b, uint64(len(v)))
	copy(b[h:], v)
}

func lpAppend(lp, v []byte) []byte {
	lp = binary.AppendUvarint(lp, uint64(len(v)))
	return append(lp, v...)
}

// lpLen decodes the length header at off: the entry's data length and
// the header's size.
func lpLen(lp []byte, off int) (n, h int) {
	if b := lp[off]; b < 0x80 {
		return int(b), 1
	}
	u, h := binary.Uvarint(lp[off:])
	return int(u), h
}

// lpFind returns the offsets of the field entry equal to field and of its
// value entry, or -1, -1. Only fields of the right length are compared.
func lpFind(lp, field []byte) (foff, voff int) {
	for off := 0; off < len(lp); {
		n, h := lpLen(lp, off)
		end := off + h + n
		if n == len(field) && bytes.Equal(lp[off+h:end], field) {
			return off, end
		}
		n, h = lpLen(lp, end)
		off = end + h + n
	}
	return -1, -1
}

// lpReplace replaces the entry at off with v and returns the listpack.
func lpReplace(lp []byte, off int, v []byte) []byte {
	_, end := lpRead(lp, off)
	oldSz, newSz := end-off, lpEntrySize(len(v))
	switch d := newSz - oldSz; {
	case d > 0:
		n := len(lp)
		lp = slices.Grow(lp, d)[:n+d]
		copy(lp[off+newSz:], lp[end:n])
	case d < 0:
		copy(lp[off+newSz:], lp[end:])
		lp = lp[:len(lp)+d]
	}
	lpPut(lp[off:off+newSz], v)
	return lp
}

// lpDeletePair removes the field at foff and the value after it.
func lpDeletePair(lp []byte, foff int) []byte {
	_, voff := lpRead(lp, foff)
	_, end := lpRead(lp, voff)
	n := copy(lp[foff:], lp[end:])
	return lp[:foff+n]
}
