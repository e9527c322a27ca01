package set

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/shoal-dev/shoal/node/keyspace/internal/number"
)

// The "intset" encoding: n little-endian integers of the same width (2, 4
// or 8 bytes), sorted ascending, in one byte slice. The width grows to fit
// the widest member and never shrinks (as Redis's intset).

// parseInt is Redis's string2ll.
func parseInt(b []byte) (int64, bool) { return number.ParseLongLong(b) }

func widthOf(v int64) uint8 {
	switch {
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return 2
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return 4
	}
	return 8
}

func isGet(data []byte, width uint8, i int) int64 {
	switch width {
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(data[2*i:])))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(data[4*i:])))
	}
	return int64(binary.LittleEndian.Uint64(data[8*i:]))
}

func isPut(data []byte, width uint8, i int, v int64) {
	switch width {
	case 2:
		binary.LittleEndian.PutUint16(data[2*i:], uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(data[4*i:], uint32(v))
	default:
		binary.LittleEndian.PutUint64(data[8*i:], uint64(v))
	}
}

// isSearch returns the position of v, or where it would be inserted.
func (s *Set) isSearch(v int64) (int, bool) {
	lo, hi := 0, s.n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if isGet(s.data, s.width, mid) < v {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < s.n && isGet(s.data, s.width, lo) == v
}

// isAdd inserts v; it reports false if present.
func (s *Set) isAdd(v int64) bool {
	if s.width == 0 {
		s.width = 2
	}
	if w := widthOf(v); w > s.width {
		s.isUpgrade(w)
	}
	i, found := s.isSearch(v)
	if found {
		return false
	}
	w := int(s.width)
	s.data = grow(s.data, w)
	copy(s.data[(i+1)*w:], s.data[i*w:s.n*w])
	isPut(s.data, s.width, i, v)
	s.n++
	return true
}

// isUpgrade re-encodes the members at a wider width.
func (s *Set) isUpgrade(w uint8) {
	nd := make([]byte, s.n*int(w), growCap(0, (s.n+1)*int(w)))
	for i := 0; i < s.n; i++ {
		isPut(nd, w, i, isGet(s.data, s.width, i))
	}
	s.data, s.width = nd, w
}

func (s *Set) isRemove(v int64) bool {
	i, found := s.isSearch(v)
	if !found {
		return false
	}
	w := int(s.width)
	copy(s.data[i*w:], s.data[(i+1)*w:s.n*w])
	s.data = s.data[:(s.n-1)*w]
	s.n--
	return true
}

func appendInt(dst []byte, v int64) []byte { return strconv.AppendInt(dst, v, 10) }

// digits10 is the length of v in decimal, sign included (sdigits10).
func digits10(v int64) int { return len(appendInt(make([]byte, 0, 20), v)) }
