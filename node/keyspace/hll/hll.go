package hll

import (
	"errors"
	"math"
	"math/bits"
)

// The layout constants of Redis's hyperloglog.c.
const (
	P            = 14     // HLL_P: register index bits
	Q            = 64 - P // HLL_Q: hash bits left for the run of zeroes
	Registers    = 1 << P // HLL_REGISTERS
	RegisterBits = 6      // HLL_BITS
	RegisterMax  = 1<<RegisterBits - 1
	HeaderSize   = 16 // HLL_HDR_SIZE
	DenseSize    = HeaderSize + (Registers*RegisterBits+7)/8
	EncDense     = 0          // HLL_DENSE
	EncSparse    = 1          // HLL_SPARSE
	maxEncoding  = EncSparse  // HLL_MAX_ENCODING
	seed         = 0xadc83b19 // the seed hllPatLen hashes with
	denseRegs    = DenseSize - HeaderSize

	sparseValMaxValue = 32
	sparseValMaxLen   = 4
	sparseZeroMaxLen  = 64
	sparseXZeroMaxLen = 16384
	alphaInf          = 0.721347520444481703680 // 0.5/ln(2)
)

// ErrInvalid is Redis's invalid_hll_err (a sparse value whose opcodes do
// not cover exactly the 16384 registers).
var ErrInvalid = errors.New("INVALIDOBJ Corrupted HLL object detected")

// New returns an empty HyperLogLog as PFADD creates it (createHLLObject):
// the sparse header and one XZERO opcode covering every register.
func New() []byte {
	h := make([]byte, HeaderSize+2)
	copy(h, "HYLL")
	h[4] = EncSparse
	setXZero(h[HeaderSize:], Registers)
	return h
}

// IsHLL reports whether a string value is a HyperLogLog PF* commands
// accept (isHLLObjectOrReply): the magic, a known encoding, and the exact
// length for a dense one. Sparse opcodes are checked when walked.
func IsHLL(h []byte) bool {
	if len(h) < HeaderSize || string(h[:4]) != "HYLL" || h[4] > maxEncoding {
		return false
	}
	return h[4] != EncDense || len(h) == DenseSize
}

// Encoding is the header's encoding byte (EncDense or EncSparse).
func Encoding(h []byte) byte { return h[4] }

// CachedCount returns the cached cardinality and whether it is valid.
func CachedCount(h []byte) (uint64, bool) {
	if h[15]&0x80 != 0 {
		return 0, false
	}
	var c uint64
	for i := 7; i >= 0; i-- {
		c = c<<8 | uint64(h[8+i])
	}
	return c, true
}

// SetCachedCount stores card in the header (little endian), as PFCOUNT
// does after computing it.
func SetCachedCount(h []byte, card uint64) {
	for i := 0; i < 8; i++ {
		h[8+i] = byte(card >> (8 * i))
	}
}

// InvalidateCache marks the cached cardinality stale (HLL_INVALIDATE_CACHE).
func InvalidateCache(h []byte) { h[15] |= 0x80 }

// MurmurHash64A is Redis's endian-neutral 64-bit MurmurHash2.
func MurmurHash64A(key []byte, seed uint64) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	h := seed ^ uint64(len(key))*m
	n := len(key) &^ 7
	for i := 0; i < n; i += 8 {
		k := uint64(key[i]) | uint64(key[i+1])<<8 | uint64(key[i+2])<<16 | uint64(key[i+3])<<24 |
			uint64(key[i+4])<<32 | uint64(key[i+5])<<40 | uint64(key[i+6])<<48 | uint64(key[i+7])<<56
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
	}
	tail := key[n:]
	if len(tail) > 0 {
		for i := len(tail) - 1; i >= 0; i-- {
			h ^= uint64(tail[i]) << (8 * i)
		}
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// PatLen is hllPatLen: the register an element maps to and the length of
// the 000..1 pattern of its hash (1..Q+1).
func PatLen(ele []byte) (index int, count uint8) {
	hash := MurmurHash64A(ele, seed)
	index = int(hash & (Registers - 1))
	hash >>= P
	hash |= 1 << Q
	return index, uint8(bits.TrailingZeros64(hash) + 1)
}

// denseGet is HLL_DENSE_GET_REGISTER over the register bytes r (the byte
// past the end reads as the sds terminator, 0).
func denseGet(r []byte, regnum int) uint8 {
	b := regnum * RegisterBits / 8
	fb := uint(regnum * RegisterBits & 7)
	b0 := uint(r[b])
	var b1 uint
	if b+1 < len(r) {
		b1 = uint(r[b+1])
	}
	return uint8((b0>>fb | b1<<(8-fb)) & RegisterMax)
}

// denseSetReg is HLL_DENSE_SET_REGISTER.
func denseSetReg(r []byte, regnum int, val uint8) {
	b := regnum * RegisterBits / 8
	fb := uint(regnum * RegisterBits & 7)
	v := uint(val)
	r[b] &^= byte(RegisterMax << fb)
	r[b] |= byte(v << fb)
	if b+1 < len(r) {
		r[b+1] &^= byte(RegisterMax >> (8 - fb))
		r[b+1] |= byte(v >> (8 - fb))
	}
}

// denseSet is hllDenseSet: raise register index to count; true if changed.
func denseSet(r []byte, index int, count uint8) bool {
	if count > denseGet(r, index) {
		denseSetReg(r, index, count)
		return true
	}
	return false
}

// Sparse opcode helpers (HLL_SPARSE_*). at reads a byte, 0 past the end
// (the sds terminator Redis's macros may read).
func at(s []byte, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}
func isZero(op byte) bool  { return op&0xc0 == 0 }
func isXZero(op byte) bool { return op&0xc0 == 0x40 }
func isVal(op byte) bool   { return op&0x80 != 0 }
func zeroLen(op byte) int  { return int(op&0x3f) + 1 }
func xzeroLen(s []byte, i int) int {
	return (int(s[i]&0x3f)<<8 | int(at(s, i+1))) + 1
}
func valValue(op byte) int { return int(op>>2&0x1f) + 1 }
func valLen(op byte) int   { return int(op&3) + 1 }
func valOp(val, n int) byte {
	return byte((val-1)<<2|(n-1)) | 0x80
}
func setXZero(p []byte, n int) {
	n--
	p[0] = byte(n>>8) | 0x40
	p[1] = byte(n)
}

// ToDense converts a sparse value to dense (hllSparseToDense); a dense
// value is returned as is. The header (magic, reserved bytes, cached
// cardinality) is kept.
func ToDense(h []byte) ([]byte, error) {
	if h[4] == EncDense {
		return h, nil
	}
	d := make([]byte, DenseSize)
	copy(d, h[:HeaderSize])
	d[4] = EncDense
	r := d[HeaderSize:]
	idx := 0
	for p := HeaderSize; p < len(h); {
		op := h[p]
		switch {
		case isZero(op):
			n := zeroLen(op)
			if idx+n > Registers {
				return nil, ErrInvalid
			}
			idx += n
			p++
		case isXZero(op):
			n := xzeroLen(h, p)
			if idx+n > Registers {
				return nil, ErrInvalid
			}
			idx += n
			p += 2
		default:
			n, v := valLen(op), valValue(op)
			if idx+n > Registers {
				return nil, ErrInvalid
			}
			for ; n > 0; n-- {
				denseSetReg(r, idx, uint8(v))
				idx++
			}
			p++
		}
	}
	if idx != Registers {
		return nil, ErrInvalid
	}
	return d, nil
}

// Add is hllAdd: it counts ele in h, whose encoding is checked by IsHLL,
// and returns the value (a new slice when it grew or turned dense) and
// whether a register changed. maxSparse is hll-sparse-max-bytes.
func Add(h, ele []byte, maxSparse int) ([]byte, bool, error) {
	index, count := PatLen(ele)
	return Set(h, index, count, maxSparse)
}

// Set raises register index to count (hllDenseSet or hllSparseSet).
func Set(h []byte, index int, count uint8, maxSparse int) ([]byte, bool, error) {
	switch h[4] {
	case EncDense:
		return h, denseSet(h[HeaderSize:], index, count), nil
	case EncSparse:
		return sparseSet(h, index, count, maxSparse)
	}
	return h, false, ErrInvalid
}

// sparseSet is hllSparseSet: find the opcode covering index, split it into
// at most XZERO-VAL-XZERO, merge adjacent equal VALs, or promote the value
// to dense when count does not fit a VAL or the value would pass maxSparse.
func sparseSet(h []byte, index int, count uint8, maxSparse int) ([]byte, bool, error) {
	if count > sparseValMaxValue {
		return promote(h, index, count)
	}
	p, end := HeaderSize, len(h)
	first, span, prev := 0, 0, -1
	for p < end {
		oplen := 1
		op := h[p]
		switch {
		case isZero(op):
			span = zeroLen(op)
		case isVal(op):
			span = valLen(op)
		default:
			span = xzeroLen(h, p)
			oplen = 2
		}
		if index <= first+span-1 {
			break
		}
		prev = p
		p += oplen
		first += span
	}
	if span == 0 || p >= end {
		return h, false, ErrInvalid
	}
	op := h[p]
	runlen := 0
	zero, xzero := isZero(op), isXZero(op)
	switch {
	case zero:
		runlen = zeroLen(op)
	case xzero:
		runlen = xzeroLen(h, p)
	default:
		runlen = valLen(op)
		if valValue(op) >= int(count) {
			return h, false, nil
		}
		if runlen == 1 {
			h[p] = valOp(int(count), 1)
			return merged(h, prev), true, nil
		}
	}
	if zero && runlen == 1 {
		h[p] = valOp(int(count), 1)
		return merged(h, prev), true, nil
	}
	var seq [5]byte
	n := 0
	last := first + span - 1
	if zero || xzero {
		putZeros := func(l int) {
			if l > sparseZeroMaxLen {
				setXZero(seq[n:], l)
				n += 2
			} else {
				seq[n] = byte(l - 1)
				n++
			}
		}
		if index != first {
			putZeros(index - first)
		}
		seq[n] = valOp(int(count), 1)
		n++
		if index != last {
			putZeros(last - index)
		}
	} else {
		cur := valValue(op)
		if index != first {
			seq[n] = valOp(cur, index-first)
			n++
		}
		seq[n] = valOp(int(count), 1)
		n++
		if index != last {
			seq[n] = valOp(cur, last-index)
			n++
		}
	}
	oldlen := 1
	if xzero {
		oldlen = 2
	}
	delta := n - oldlen
	if delta > 0 && len(h)+delta > maxSparse {
		return promote(h, index, count)
	}
	newLen := len(h) + delta
	out := make([]byte, 0, newLen+3)
	out = append(out, h[:p]...)
	out = append(out, seq[:n]...)
	if p+oldlen <= len(h) {
		out = append(out, h[p+oldlen:]...)
	}
	out = out[:min(len(out), newLen)]
	return merged(out, prev), true, nil
}

// merged is step 4 of hllSparseSet: merge adjacent VAL opcodes of equal
// value, scanning up to 5 opcodes from prev, then invalidate the cache.
func merged(h []byte, prev int) []byte {
	p := prev
	if p < 0 {
		p = HeaderSize
	}
	for scan := 5; p < len(h) && scan > 0; scan-- {
		op := h[p]
		if isXZero(op) {
			p += 2
			continue
		} else if isZero(op) {
			p++
			continue
		}
		if p+1 < len(h) && isVal(h[p+1]) {
			v1, v2 := valValue(op), valValue(h[p+1])
			if v1 == v2 {
				if l := valLen(op) + valLen(h[p+1]); l <= sparseValMaxLen {
					h[p+1] = valOp(v1, l)
					h = append(h[:p], h[p+1:]...)
					continue
				}
			}
		}
		p++
	}
	InvalidateCache(h)
	return h
}

func promote(h []byte, index int, count uint8) ([]byte, bool, error) {
	d, err := ToDense(h)
	if err != nil {
		return h, false, err
	}
	denseSet(d[HeaderSize:], index, count)
	return d, true, nil
}

// histo is a register histogram (reghisto), sized for any 6-bit value.
type histo [64]int

func denseHisto(r []byte, rh *histo) {
	for j := 0; j+12 <= len(r) && j < 12*1024; j += 12 {
		b := r[j : j+12 : j+12]
		rh[b[0]&63]++
		rh[(b[0]>>6|b[1]<<2)&63]++
		rh[(b[1]>>4|b[2]<<4)&63]++
		rh[(b[2]>>2)&63]++
		rh[b[3]&63]++
		rh[(b[3]>>6|b[4]<<2)&63]++
		rh[(b[4]>>4|b[5]<<4)&63]++
		rh[(b[5]>>2)&63]++
		rh[b[6]&63]++
		rh[(b[6]>>6|b[7]<<2)&63]++
		rh[(b[7]>>4|b[8]<<4)&63]++
		rh[(b[8]>>2)&63]++
		rh[b[9]&63]++
		rh[(b[9]>>6|b[10]<<2)&63]++
		rh[(b[10]>>4|b[11]<<4)&63]++
		rh[(b[11]>>2)&63]++
	}
}

func sparseHisto(s []byte, rh *histo) bool {
	idx := 0
	for p := 0; p < len(s); {
		op := s[p]
		switch {
		case isZero(op):
			n := zeroLen(op)
			idx += n
			rh[0] += n
			p++
		case isXZero(op):
			n := xzeroLen(s, p)
			idx += n
			rh[0] += n
			p += 2
		default:
			n := valLen(op)
			idx += n
			rh[valValue(op)] += n
			p++
		}
	}
	return idx == Registers
}

// sigma and tau are the helper functions of Ertl's "New cardinality
// estimation algorithms for HyperLogLog sketches" (hllSigma, hllTau).
func sigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		zp := z
		z += x * y
		y += y
		if zp == z {
			return z
		}
	}
}

func tau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		zp := z
		y *= 0.5
		d := 1 - x
		z -= d * d * y
		if zp == z {
			return z / 3
		}
	}
}

// estimate is the tail of hllCount: the cardinality from a histogram,
// converted as Redis converts it (llroundl, then to uint64).
func estimate(rh *histo) uint64 {
	const m = float64(Registers)
	z := m * tau((m-float64(rh[Q+1]))/m)
	for j := Q; j >= 1; j-- {
		z += float64(rh[j])
		z *= 0.5
	}
	z += m * sigma(float64(rh[0])/m)
	e := alphaInf * m * m / z
	r := math.Round(e)
	if !(r >= -9.223372036854775808e18 && r < 9.223372036854775808e18) {
		return 1 << 63 // llroundl's out-of-range result, LLONG_MIN
	}
	return uint64(int64(r))
}

// Count is hllCount of one value (dense or sparse), ignoring the cache.
func Count(h []byte) (uint64, error) {
	var rh histo
	switch h[4] {
	case EncDense:
		denseHisto(h[HeaderSize:], &rh)
	case EncSparse:
		if !sparseHisto(h[HeaderSize:], &rh) {
			return 0, ErrInvalid
		}
	default:
		return 0, ErrInvalid
	}
	return estimate(&rh), nil
}

// Raw is the internal HLL_RAW representation: one byte per register, the
// target of merges (PFCOUNT of many keys, PFMERGE).
type Raw [Registers]uint8

// Merge raises every register of max to the value's (hllMerge).
func (max *Raw) Merge(h []byte) error {
	if h[4] == EncDense {
		r := h[HeaderSize:]
		for i := 0; i < Registers; i++ {
			if v := denseGet(r, i); v > max[i] {
				max[i] = v
			}
		}
		return nil
	}
	i := 0
	for p := HeaderSize; p < len(h); {
		op := h[p]
		switch {
		case isZero(op):
			n := zeroLen(op)
			if i+n > Registers {
				return ErrInvalid
			}
			i += n
			p++
		case isXZero(op):
			n := xzeroLen(h, p)
			if i+n > Registers {
				return ErrInvalid
			}
			i += n
			p += 2
		default:
			n, v := valLen(op), uint8(valValue(op))
			if i+n > Registers {
				return ErrInvalid
			}
			for ; n > 0; n-- {
				if v > max[i] {
					max[i] = v
				}
				i++
			}
			p++
		}
	}
	if i != Registers {
		return ErrInvalid
	}
	return nil
}

// Count is hllCount of the raw registers.
func (max *Raw) Count() uint64 {
	var rh histo
	for _, v := range max {
		rh[v&63]++
	}
	return estimate(&rh)
}

// Registers returns every register of a dense value (PFDEBUG GETREG).
func DenseRegisters(h []byte) []uint8 {
	out := make([]uint8, Registers)
	for i := range out {
		out[i] = denseGet(h[HeaderSize:], i)
	}
	return out
}

// Decode is PFDEBUG DECODE of a sparse value: its opcodes as
// "z:<len>", "Z:<len>" and "v:<value>,<len>" separated by spaces.
func Decode(h []byte) string {
	b := make([]byte, 0, 4*(len(h)-HeaderSize))
	for p := HeaderSize; p < len(h); {
		op := h[p]
		switch {
		case isZero(op):
			b = append(b, "z:"...)
			b = appendInt(b, zeroLen(op))
			p++
		case isXZero(op):
			b = append(b, "Z:"...)
			b = appendInt(b, xzeroLen(h, p))
			p += 2
		default:
			b = append(b, "v:"...)
			b = appendInt(b, valValue(op))
			b = append(b, ',')
			b = appendInt(b, valLen(op))
			p++
		}
		b = append(b, ' ')
	}
	if len(b) > 0 {
		b = b[:len(b)-1]
	}
	return string(b)
}

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}
