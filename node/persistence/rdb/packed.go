package rdb

import (
	"encoding/binary"
	"strconv"
)

// The packed encodings Redis stores as one RDB string: listpack, ziplist,
// intset and zipmap. Each walker calls fn with every element in order;
// integers are handed over in their decimal form. The walkers check every
// header field against the bytes they have, and stop at the first error.

// Listpack layout: uint32 total bytes, uint16 count (65535: unknown),
// entries (encoding, data, backlen), 0xFF.
func walkListpack(lp []byte, fn func(e []byte) error) error {
	if len(lp) < 7 {
		return corrupt("listpack of %d bytes", len(lp))
	}
	if int(binary.LittleEndian.Uint32(lp)) != len(lp) {
		return corrupt("listpack length header %d, string of %d", binary.LittleEndian.Uint32(lp), len(lp))
	}
	count := int(binary.LittleEndian.Uint16(lp[4:]))
	pos, n := 6, 0
	for {
		if pos >= len(lp) {
			return corrupt("listpack without its end byte")
		}
		c := lp[pos]
		if c == 0xFF {
			if pos != len(lp)-1 {
				return corrupt("listpack end byte before its end")
			}
			break
		}
		var hdr, dlen int
		var iv int64
		isInt := true
		switch {
		case c&0x80 == 0:
			hdr, iv = 1, int64(c)
		case c&0xC0 == 0x80:
			hdr, dlen, isInt = 1, int(c&0x3f), false
		case c&0xE0 == 0xC0:
			if pos+1 >= len(lp) {
				return corrupt("listpack entry past the end")
			}
			v := int64(c&0x1f)<<8 | int64(lp[pos+1])
			if v >= 1<<12 {
				v -= 1 << 13
			}
			hdr, iv = 2, v
		case c&0xF0 == 0xE0:
			if pos+1 >= len(lp) {
				return corrupt("listpack entry past the end")
			}
			hdr, dlen, isInt = 2, int(c&0x0f)<<8|int(lp[pos+1]), false
		case c == 0xF0:
			if pos+5 > len(lp) {
				return corrupt("listpack entry past the end")
			}
			l := binary.LittleEndian.Uint32(lp[pos+1:])
			if uint64(l) > uint64(len(lp)) {
				return corrupt("listpack entry past the end")
			}
			hdr, dlen, isInt = 5, int(l), false
		case c >= 0xF1 && c <= 0xF4:
			w := [...]int{2, 3, 4, 8}[c-0xF1]
			if pos+1+w > len(lp) {
				return corrupt("listpack entry past the end")
			}
			var u uint64
			for i := w - 1; i >= 0; i-- {
				u = u<<8 | uint64(lp[pos+1+i])
			}
			shift := 64 - 8*uint(w)
			hdr, iv = 1+w, int64(u<<shift)>>shift
		default:
			return corrupt("listpack entry encoding 0x%02x", c)
		}
		elen := hdr + dlen
		if isInt {
			elen = hdr
		}
		if pos+elen > len(lp) {
			return corrupt("listpack entry past the end")
		}
		var e []byte
		if isInt {
			e = strconv.AppendInt(nil, iv, 10)
		} else {
			e = lp[pos+hdr : pos+elen : pos+elen]
		}
		pos += elen + backlenSize(elen)
		if pos > len(lp) {
			return corrupt("listpack entry past the end")
		}
		n++
		if err := fn(e); err != nil {
			return err
		}
	}
	if count != 65535 && count != n {
		return corrupt("listpack count %d, %d entries", count, n)
	}
	return nil
}

// backlenSize is the size of a listpack entry's back length for an entry
// of l bytes.
func backlenSize(l int) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

// Ziplist layout: uint32 total bytes, uint32 tail offset, uint16 count,
// entries (prevlen, encoding, data), 0xFF.
func walkZiplist(zl []byte, fn func(e []byte) error) error {
	if len(zl) < 11 {
		return corrupt("ziplist of %d bytes", len(zl))
	}
	if int(binary.LittleEndian.Uint32(zl)) != len(zl) {
		return corrupt("ziplist length header")
	}
	count := int(binary.LittleEndian.Uint16(zl[8:]))
	pos, n := 10, 0
	for {
		if pos >= len(zl) {
			return corrupt("ziplist without its end byte")
		}
		if zl[pos] == 0xFF {
			if pos != len(zl)-1 {
				return corrupt("ziplist end byte before its end")
			}
			break
		}
		// prevlen
		if zl[pos] == 0xFE {
			pos += 5
		} else {
			pos++
		}
		if pos >= len(zl) {
			return corrupt("ziplist entry past the end")
		}
		c := zl[pos]
		var e []byte
		need := func(k int) bool { return pos+k <= len(zl) }
		switch {
		case c>>6 == 0:
			l := int(c & 0x3f)
			if !need(1 + l) {
				return corrupt("ziplist entry past the end")
			}
			e = zl[pos+1 : pos+1+l : pos+1+l]
			pos += 1 + l
		case c>>6 == 1:
			if !need(2) {
				return corrupt("ziplist entry past the end")
			}
			l := int(c&0x3f)<<8 | int(zl[pos+1])
			if !need(2 + l) {
				return corrupt("ziplist entry past the end")
			}
			e = zl[pos+2 : pos+2+l : pos+2+l]
			pos += 2 + l
		case c == 0x80:
			if !need(5) {
				return corrupt("ziplist entry past the end")
			}
			l := uint64(binary.BigEndian.Uint32(zl[pos+1:]))
			if l > uint64(len(zl)-pos-5) {
				return corrupt("ziplist entry past the end")
			}
			e = zl[pos+5 : pos+5+int(l) : pos+5+int(l)]
			pos += 5 + int(l)
		default:
			var w int
			switch c {
			case 0xC0:
				w = 2
			case 0xD0:
				w = 4
			case 0xE0:
				w = 8
			case 0xF0:
				w = 3
			case 0xFE:
				w = 1
			default:
				if c >= 0xF1 && c <= 0xFD {
					e = strconv.AppendInt(nil, int64(c&0x0f)-1, 10)
					pos++
				} else {
					return corrupt("ziplist entry encoding 0x%02x", c)
				}
			}
			if w > 0 {
				if !need(1 + w) {
					return corrupt("ziplist entry past the end")
				}
				var u uint64
				for i := w - 1; i >= 0; i-- {
					u = u<<8 | uint64(zl[pos+1+i])
				}
				shift := 64 - 8*uint(w)
				e = strconv.AppendInt(nil, int64(u<<shift)>>shift, 10)
				pos += 1 + w
			}
		}
		n++
		if err := fn(e); err != nil {
			return err
		}
	}
	if count != 65535 && count != n {
		return corrupt("ziplist count %d, %d entries", count, n)
	}
	return nil
}

// Intset layout: uint32 width (2, 4 or 8), uint32 count, count sorted
// little-endian integers of that width.
func walkIntset(is []byte, fn func(e []byte) error) error {
	if len(is) < 8 {
		return corrupt("intset of %d bytes", len(is))
	}
	w := binary.LittleEndian.Uint32(is)
	n := binary.LittleEndian.Uint32(is[4:])
	if w != 2 && w != 4 && w != 8 || uint64(len(is)-8) != uint64(w)*uint64(n) {
		return corrupt("intset header (width %d, count %d) for %d bytes", w, n, len(is))
	}
	var prev int64
	for i := 0; i < int(n); i++ {
		p := is[8+i*int(w):]
		var v int64
		switch w {
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(p)))
		case 4:
			v = int64(int32(binary.LittleEndian.Uint32(p)))
		default:
			v = int64(binary.LittleEndian.Uint64(p))
		}
		if i > 0 && v <= prev {
			return corrupt("intset not sorted")
		}
		prev = v
		if err := fn(strconv.AppendInt(nil, v, 10)); err != nil {
			return err
		}
	}
	return nil
}

// Zipmap layout (Redis before 2.6): uint8 count, then key, value pairs
// (length, [free,] bytes), 0xFF.
func walkZipmap(zm []byte, fn func(e []byte) error) error {
	if len(zm) < 2 {
		return corrupt("zipmap of %d bytes", len(zm))
	}
	pos, n := 1, 0
	readLen := func() (int, bool) {
		if pos >= len(zm) {
			return 0, false
		}
		c := zm[pos]
		if c < 254 {
			pos++
			return int(c), true
		}
		if c == 254 && pos+5 <= len(zm) {
			l := binary.LittleEndian.Uint32(zm[pos+1:])
			pos += 5
			return int(l), uint64(l) <= uint64(len(zm))
		}
		return 0, false
	}
	for {
		if pos >= len(zm) {
			return corrupt("zipmap without its end byte")
		}
		if zm[pos] == 0xFF {
			if pos != len(zm)-1 {
				return corrupt("zipmap end byte before its end")
			}
			break
		}
		kl, ok := readLen()
		if !ok || pos+kl > len(zm) {
			return corrupt("zipmap key past the end")
		}
		k := zm[pos : pos+kl : pos+kl]
		pos += kl
		vl, ok := readLen()
		if !ok || pos >= len(zm) {
			return corrupt("zipmap value past the end")
		}
		free := int(zm[pos])
		pos++
		if pos+vl+free > len(zm) {
			return corrupt("zipmap value past the end")
		}
		v := zm[pos : pos+vl : pos+vl]
		pos += vl + free
		n++
		if err := fn(k); err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}
