package rdb

import "math"

// LZF, the compression of Redis's strings in RDB files (lzf_c.c, lzf_d.c):
// a sequence of literal runs (control byte 000LLLLL, then L+1 bytes) and
// back references (control byte LLLooooo, an extra length byte when LLL is
// 7, then the low byte of the offset: copy length+2 bytes from offset+1
// bytes back).

const (
	lzfHashLog = 13
	lzfMaxLit  = 32
	lzfMaxOff  = 1 << 13
	lzfMaxRef  = 7 + 255 + 2 // the longest back reference, in bytes
	// lzfMinCompress is the length from which Redis compresses a string
	// (rdbcompression yes: longer than 20 bytes).
	lzfMinCompress = 21
)

// LZF compresses strings for an RDB writer. It keeps its hash table from
// one call to the next, so compressing many short strings costs no table
// clearing: an entry counts only when it was stored by the current call
// (positions are offset by a base that every call moves past). Not for
// concurrent use.
type LZF struct {
	htab [1 << lzfHashLog]uint32
	base uint32
}

func lzfHash(in []byte, i int) uint32 {
	v := uint32(in[i])<<16 | uint32(in[i+1])<<8 | uint32(in[i+2])
	return (v * 2654435761) >> (32 - lzfHashLog)
}

// Compress appends the LZF form of in to dst when it is at most limit
// bytes long; otherwise it returns dst unchanged and false.
func (z *LZF) Compress(dst, in []byte, limit int) ([]byte, bool) {
	if len(in) < 4 || limit <= 0 {
		return dst, false
	}
	if uint64(z.base)+uint64(len(in))+1 >= math.MaxUint32 || z.base == 0 {
		clear(z.htab[:])
		z.base = 1
	}
	base := z.base
	z.base += uint32(len(in)) + 1
	start := len(dst)
	end := start + limit
	dst = append(dst, 0) // the control byte of the current literal run
	lit := 0
	ip := 0
	for ip < len(in)-2 {
		h := lzfHash(in, ip)
		stored := z.htab[h]
		z.htab[h] = base + uint32(ip)
		if stored >= base {
			ref := int(stored - base)
			off := ip - ref - 1
			if off < lzfMaxOff && in[ref] == in[ip] && in[ref+1] == in[ip+1] && in[ref+2] == in[ip+2] {
				maxLen := min(len(in)-ip, lzfMaxRef)
				m := 3
				for m < maxLen && in[ref+m] == in[ip+m] {
					m++
				}
				// Close the literal run (drop its control byte when empty).
				if lit > 0 {
					dst[len(dst)-lit-1] = byte(lit - 1)
				} else {
					dst = dst[:len(dst)-1]
				}
				if len(dst)+4 > end {
					return dst[:start], false
				}
				l := m - 2
				if l < 7 {
					dst = append(dst, byte(l<<5|off>>8))
				} else {
					dst = append(dst, byte(7<<5|off>>8), byte(l-7))
				}
				dst = append(dst, byte(off), 0)
				lit = 0
				ip += m
				// Index the last two positions of the match, as lzf does.
				for p := ip - 2; p < ip && p < len(in)-2; p++ {
					z.htab[lzfHash(in, p)] = base + uint32(p)
				}
				continue
			}
		}
		dst = append(dst, in[ip])
		ip++
		lit++
		if lit == lzfMaxLit {
			dst[len(dst)-lit-1] = byte(lit - 1)
			dst = append(dst, 0)
			lit = 0
		}
		if len(dst) > end {
			return dst[:start], false
		}
	}
	for ; ip < len(in); ip++ {
		dst = append(dst, in[ip])
		lit++
		if lit == lzfMaxLit {
			dst[len(dst)-lit-1] = byte(lit - 1)
			dst = append(dst, 0)
			lit = 0
		}
	}
	if lit > 0 {
		dst[len(dst)-lit-1] = byte(lit - 1)
	} else {
		dst = dst[:len(dst)-1]
	}
	if len(dst) > end {
		return dst[:start], false
	}
	return dst, true
}

// AppendString is AppendString with Redis's rdbcompression: a string
// longer than 20 bytes that is not an integer is written LZF-compressed
// when that saves at least 4 bytes (rdbSaveLzfStringObject), else as is.
func (z *LZF) AppendString(dst, s []byte) []byte {
	if len(s) < lzfMinCompress || z == nil {
		return AppendString(dst, s)
	}
	// Header: the encoding byte, compressed length, raw length. The
	// compressed length is known only afterwards: compress behind room
	// for the longest header, then move the data down.
	start := len(dst)
	const room = 1 + 5 + 9
	dst = append(dst, make([]byte, room)...)
	out, ok := z.Compress(dst, s, len(s)-4)
	if !ok {
		return AppendString(dst[:start], s)
	}
	clen := len(out) - start - room
	var hdr [room]byte
	h := append(hdr[:0], 0xC0|encLZF)
	h = AppendLen(h, uint64(clen))
	h = AppendLen(h, uint64(len(s)))
	copy(out[start:], h)
	n := copy(out[start+len(h):], out[start+room:])
	return out[:start+len(h)+n]
}

// lzfDecompress expands LZF data (Redis's lzf_d.c) into exactly ulen
// bytes, appended to dst. LZF expands at most about 88 times (a 3-byte
// back reference yields 264 bytes), so a larger claim is corrupt and not
// reserved.
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
			if ip+n > len(in) || op+n > n0 {
				return dst[:start], corrupt("LZF literal run past the end")
			}
			copy(out[op:], in[ip:ip+n])
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
		if ref < 0 || op+n > n0 {
			return dst[:start], corrupt("LZF back reference out of range")
		}
		if op-ref >= n {
			copy(out[op:op+n], out[ref:ref+n])
			op += n
			continue
		}
		for i := 0; i < n; i++ { // overlapping: a repeated pattern
			out[op] = out[ref+i]
			op++
		}
	}
	if op != n0 {
		return dst[:start], corrupt("LZF expanded to %d bytes, %d announced", op, n0)
	}
	return dst[:start+n0], nil
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
