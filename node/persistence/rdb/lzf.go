package rdb

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// LZF, the compression of Redis's strings in RDB files (lzf_c.c, lzf_d.c):
// a sequence of literal runs (control byte 000LLLLL, then L+1 bytes) and
// back references (control byte LLLooooo, an extra length byte when LLL is
// 7, then the low byte of the offset: copy length+2 bytes from offset+1
// bytes back).

const (
	lzfHashLog    = 13 // the table's size for inputs of 4 kB or more
	lzfMinHashLog = 8  // and for inputs of up to 128 bytes
	lzfMaxLit     = 32
	lzfMaxOff     = 1 << 13
	lzfMaxRef     = 7 + 255 + 2 // the longest back reference, in bytes
	// lzfMinCompress is the length from which Redis compresses a string
	// (rdbcompression yes: longer than 20 bytes).
	lzfMinCompress = 21
)

// LZF compresses strings for an RDB writer. It keeps its hash table from
// one call to the next, so compressing many short strings costs no table
// clearing: an entry counts only when it was stored by the current call
// (positions are offset by a base that every call moves past). A short
// input uses only the start of the table, which then stays in the CPU's
// cache. It allocates nothing. Not for concurrent use.
type LZF struct {
	htab [1 << lzfHashLog]uint32
	base uint32
}

// lzfHashLogFor is the number of hash bits for an input of n bytes: about
// two slots per position, within [lzfMinHashLog, lzfHashLog].
func lzfHashLogFor(n int) uint {
	return uint(min(max(bits.Len(uint(n))+1, lzfMinHashLog), lzfHashLog))
}

// Compress appends the LZF form of in to dst when it is at most limit
// bytes long; otherwise it returns dst unchanged and false. dst grows
// once, by limit bytes, when it has not the room.
func (z *LZF) Compress(dst, in []byte, limit int) ([]byte, bool) {
	if len(in) < 4 || limit <= 0 {
		return dst, false
	}
	start := len(dst)
	limit = min(limit, len(in)+len(in)/lzfMaxLit+1) // more is never needed
	if cap(dst)-start < limit {
		grown := make([]byte, start, start+limit)
		copy(grown, dst)
		dst = grown
	}
	n, ok := z.compress(dst[start:start+limit], in)
	if !ok {
		return dst, false
	}
	return dst[:start+n], true
}

// compress writes the LZF form of in into out and returns its length, or
// false when it does not fit.
func (z *LZF) compress(out, in []byte) (int, bool) {
	if uint64(z.base)+uint64(len(in))+1 >= math.MaxUint32 || z.base == 0 {
		clear(z.htab[:])
		z.base = 1
	}
	base := z.base
	z.base += uint32(len(in)) + 1
	shift := 32 - lzfHashLogFor(len(in))
	htab := &z.htab
	op := 0
	lit := 0 // the start of the pending literal run in in
	ip := 0
	// Positions with 4 bytes to read: a 32-bit load gives the 3-byte
	// sequence (the last position that starts one is len(in)-3).
	for ip+4 <= len(in) {
		if op+ip-lit >= len(out) { // the pending literals alone do not fit
			return 0, false
		}
		v := binary.LittleEndian.Uint32(in[ip:]) & 0xffffff
		h := (v * 2654435761) >> shift & (1<<lzfHashLog - 1)
		stored := htab[h]
		htab[h] = base + uint32(ip)
		if stored < base {
			ip++
			continue
		}
		ref := int(stored - base)
		off := ip - ref - 1
		if off >= lzfMaxOff || binary.LittleEndian.Uint32(in[ref:])&0xffffff != v {
			ip++
			continue
		}
		m := lzfMatchLen(in, ref, ip)
		if op = lzfLiterals(out, op, in[lit:ip]); op < 0 {
			return 0, false
		}
		if op+3 > len(out) {
			return 0, false
		}
		if l := m - 2; l < 7 {
			out[op] = byte(l<<5 | off>>8)
			out[op+1] = byte(off)
			op += 2
		} else {
			out[op] = byte(7<<5 | off>>8)
			out[op+1] = byte(l - 7)
			out[op+2] = byte(off)
			op += 3
		}
		ip += m
		lit = ip
		// Index the last two positions of the match, as lzf does.
		for p := ip - 2; p < ip && p+4 <= len(in); p++ {
			w := binary.LittleEndian.Uint32(in[p:]) & 0xffffff
			htab[(w*2654435761)>>shift&(1<<lzfHashLog-1)] = base + uint32(p)
		}
	}
	if ip+3 == len(in) { // the last 3-byte sequence, read bytewise
		v := uint32(in[ip]) | uint32(in[ip+1])<<8 | uint32(in[ip+2])<<16
		h := (v * 2654435761) >> shift & (1<<lzfHashLog - 1)
		if stored := htab[h]; stored >= base {
			ref := int(stored - base)
			off := ip - ref - 1
			if off < lzfMaxOff && in[ref] == in[ip] && in[ref+1] == in[ip+1] && in[ref+2] == in[ip+2] {
				if op = lzfLiterals(out, op, in[lit:ip]); op < 0 || op+2 > len(out) {
					return 0, false
				}
				out[op] = byte(1<<5 | off>>8)
				out[op+1] = byte(off)
				return op + 2, true
			}
		}
	}
	if op = lzfLiterals(out, op, in[lit:]); op < 0 {
		return 0, false
	}
	return op, true
}

// lzfMatchLen is the length of the match of in at ip with in at ref (its
// first 3 bytes are known equal), at most lzfMaxRef and the end of in.
func lzfMatchLen(in []byte, ref, ip int) int {
	maxLen := min(len(in)-ip, lzfMaxRef)
	m := 3
	for m+8 <= maxLen {
		x := binary.LittleEndian.Uint64(in[ref+m:]) ^ binary.LittleEndian.Uint64(in[ip+m:])
		if x != 0 {
			return m + bits.TrailingZeros64(x)/8
		}
		m += 8
	}
	for m < maxLen && in[ref+m] == in[ip+m] {
		m++
	}
	return m
}

// lzfLiterals writes lit as literal runs of up to 32 bytes into out at
// op, returning the new op, or -1 when they do not fit.
func lzfLiterals(out []byte, op int, lit []byte) int {
	if len(lit) == 0 {
		return op
	}
	if op+len(lit)+(len(lit)+lzfMaxLit-1)/lzfMaxLit > len(out) {
		return -1
	}
	for len(lit) > 0 {
		n := min(len(lit), lzfMaxLit)
		out[op] = byte(n - 1)
		copy(out[op+1:], lit[:n])
		op += 1 + n
		lit = lit[n:]
	}
	return op
}

// lenSize is the number of bytes AppendLen takes for n.
func lenSize(n uint64) int {
	switch {
	case n < 1<<6:
		return 1
	case n < 1<<14:
		return 2
	case n <= math.MaxUint32:
		return 5
	}
	return 9
}

// AppendString is AppendString with Redis's rdbcompression: a string
// longer than 20 bytes that is not an integer is written LZF-compressed
// when that saves at least 4 bytes (rdbSaveLzfStringObject), else as is.
// It compresses in place, behind a header sized for the longest result.
func (z *LZF) AppendString(dst, s []byte) []byte {
	if len(s) < lzfMinCompress || z == nil {
		return AppendString(dst, s)
	}
	limit := len(s) - 4
	start := len(dst)
	room := 1 + lenSize(uint64(limit)) + lenSize(uint64(len(s)))
	need := len(s) + 16 // the header and the compressed form, or the plain form
	if cap(dst)-start < need {
		grown := make([]byte, start, start+need)
		copy(grown, dst)
		dst = grown
	}
	clen, ok := z.compress(dst[start+room:start+room+limit], s)
	if !ok {
		return AppendString(dst, s)
	}
	dst = dst[:start+room+clen]
	b := append(dst[:start], 0xC0|encLZF)
	b = AppendLen(b, uint64(clen))
	b = AppendLen(b, uint64(len(s)))
	if len(b) < start+room { // a shorter header: move the data down
		copy(dst[len(b):], dst[start+room:start+room+clen])
	}
	return dst[:len(b)+clen]
}

// lzfDecompress expands LZF data (Redis's lzf_d.c) into exactly ulen
// bytes, appended to dst; it allocates only when dst has not the room.
// LZF expands at most about 88 times (a 3-byte back reference yields 264
// bytes), so a larger claim is corrupt and not reserved. Every length and
// offset is checked against the input and the announced size before use.
func lzfDecompress(dst, in []byte, ulen uint64) ([]byte, error) {
	if ulen == 0 || ulen > uint64(len(in))*100+64 {
		return dst, corrupt("LZF length %d for %d compressed bytes", ulen, len(in))
	}
	start := len(dst)
	n0 := int(ulen)
	if cap(dst)-start < n0 {
		grown := make([]byte, start, start+n0)
		copy(grown, dst)
		dst = grown
	}
	out := dst[start : start+n0]
	op, ip := 0, 0
	for ip < len(in) {
		ctrl := int(in[ip])
		ip++
		if ctrl < 32 {
			n := ctrl + 1
			if n > len(in)-ip || n > n0-op {
				return dst[:start], corrupt("LZF literal run past the end")
			}
			copy(out[op:op+n], in[ip:ip+n])
			op += n
			ip += n
			continue
		}
		n := ctrl >> 5
		if n == 7 {
			if ip >= len(in) {
				return dst[:start], corrupt("LZF truncated")
			}
			n += int(in[ip])
			ip++
		}
		if ip >= len(in) {
			return dst[:start], corrupt("LZF truncated")
		}
		ref := op - (ctrl&0x1f)<<8 - 1 - int(in[ip])
		ip++
		n += 2
		if ref < 0 || n > n0-op {
			return dst[:start], corrupt("LZF back reference out of range")
		}
		lzfCopyBack(out, op, ref, n)
		op += n
	}
	if op != n0 {
		return dst[:start], corrupt("LZF expanded to %d bytes, %d announced", op, n0)
	}
	return dst[:start+n0], nil
}

// lzfCopyBack copies n bytes from out[ref:] to out[op:] byte after byte
// as LZF means it (ref < op: when they overlap, the copy repeats the
// pattern out[ref:op]), a non-overlapping piece at a time.
func lzfCopyBack(out []byte, op, ref, n int) {
	dst := out[op : op+n]
	for len(dst) > 0 {
		k := copy(dst, out[ref:op]) // at most op-ref bytes: no overlap
		dst = dst[k:]
		op += k
	}
}

// AppendObjectBody appends the object obj (type byte, then the object as
// the Append*Object functions write it) without its type byte (which a
// file writes before the key), with its strings LZF-compressed as
// Redis writes them with rdbcompression yes: a string value, the blob of
// a listpack or intset, each node of a quicklist, the members and fields
// of the plain forms. Streams, and anything it does not recognise, are
// copied as they are (a loader takes both forms).
func (z *LZF) AppendObjectBody(dst, obj []byte) []byte {
	if len(obj) < 1+lzfMinCompress {
		return append(dst, obj[1:]...)
	}
	start := len(dst)
	r := Reader{b: obj[1:]}
	str := func() {
		s := r.String()
		if r.err == nil {
			dst = z.AppendString(dst, s)
		}
	}
	switch obj[0] {
	case TypeString, TypeSetIntset, TypeHashListpack, TypeZSetListpack, TypeListZiplist,
		TypeZSetZiplist, TypeHashZiplist, TypeHashZipmap, TypeSetListpack:
		str()
	case TypeListQuicklist2:
		n := r.Count(2)
		dst = AppendLen(dst, uint64(n))
		for i := 0; i < n && r.err == nil; i++ {
			dst = AppendLen(dst, r.Len())
			str()
		}
	case TypeSet, TypeList, TypeHash, TypeZSet2:
		n := r.Count(1)
		dst = AppendLen(dst, uint64(n))
		for i := 0; i < n && r.err == nil; i++ {
			switch obj[0] {
			case TypeHash:
				str()
				str()
			case TypeZSet2:
				str()
				dst = append(dst, r.Raw(8)...)
			default:
				str()
			}
		}
	default:
		return append(dst[:start], obj[1:]...)
	}
	if r.err != nil || r.Left() != 0 {
		return append(dst[:start], obj[1:]...)
	}
	return dst
}
