package rdb

import (
	"encoding/binary"
	"math"
	"strconv"
)

// Reader decodes RDB encodings from memory. The first error sticks; the
// slices it returns alias the input unless the encoding had to be expanded
// (integers, LZF).
type Reader struct {
	b   []byte
	off int
	err error
}

// NewReader returns a reader over b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Err is the first error met.
func (r *Reader) Err() error { return r.err }

// Offset is the number of bytes consumed.
func (r *Reader) Offset() int { return r.off }

// Left is the number of bytes not yet consumed.
func (r *Reader) Left() int { return len(r.b) - r.off }

func (r *Reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = corrupt("at byte %d: %s", r.off, sprintf(format, args...))
	}
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.fail("unexpected end")
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

// Raw reads n bytes.
func (r *Reader) Raw(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.off) {
		r.fail("length %d past the end", n)
		return nil
	}
	s := r.b[r.off : r.off+int(n) : r.off+int(n)]
	r.off += int(n)
	return s
}

// lenOrEnc reads a length; enc says the value is a special string
// encoding (encInt8, encInt16, encInt32, encLZF) instead.
func (r *Reader) lenOrEnc() (n uint64, enc bool) {
	c := r.Byte()
	if r.err != nil {
		return 0, false
	}
	switch c >> 6 {
	case 0:
		return uint64(c & 0x3f), false
	case 1:
		return uint64(c&0x3f)<<8 | uint64(r.Byte()), false
	case 2:
		switch c {
		case len32:
			b := r.Raw(4)
			if b == nil {
				return 0, false
			}
			return uint64(binary.BigEndian.Uint32(b)), false
		case len64:
			b := r.Raw(8)
			if b == nil {
				return 0, false
			}
			return binary.BigEndian.Uint64(b), false
		}
		r.fail("bad length prefix 0x%02x", c)
		return 0, false
	}
	return uint64(c & 0x3f), true
}

// Len reads a length (or a count, or a db number).
func (r *Reader) Len() uint64 {
	n, enc := r.lenOrEnc()
	if enc {
		r.fail("encoded value where a length was expected")
		return 0
	}
	return n
}

// Count reads an element count; every element takes at least minSize bytes
// of what is left, so a larger count is corrupt and nothing is reserved
// for it.
func (r *Reader) Count(minSize int) int {
	n := r.Len()
	if r.err == nil && n > uint64(r.Left())/uint64(minSize) {
		r.fail("count %d larger than the input", n)
		return 0
	}
	return int(n)
}

const (
	len32    = 0x80
	len64    = 0x81
	encInt8  = 0
	encInt16 = 1
	encInt32 = 2
	encLZF   = 3
)

// String reads a string in any of its encodings.
func (r *Reader) String() []byte {
	n, enc := r.lenOrEnc()
	if r.err != nil {
		return nil
	}
	if !enc {
		return r.Raw(n)
	}
	switch n {
	case encInt8:
		b := r.Raw(1)
		if b == nil {
			return nil
		}
		return strconv.AppendInt(nil, int64(int8(b[0])), 10)
	case encInt16:
		b := r.Raw(2)
		if b == nil {
			return nil
		}
		return strconv.AppendInt(nil, int64(int16(binary.LittleEndian.Uint16(b))), 10)
	case encInt32:
		b := r.Raw(4)
		if b == nil {
			return nil
		}
		return strconv.AppendInt(nil, int64(int32(binary.LittleEndian.Uint32(b))), 10)
	case encLZF:
		clen := r.Len()
		ulen := r.Len()
		c := r.Raw(clen)
		if r.err != nil {
			return nil
		}
		out, err := lzfDecompress(nil, c, ulen)
		if err != nil {
			r.fail("%v", err)
			return nil
		}
		return out
	}
	r.fail("unknown string encoding %d", n)
	return nil
}

// Double reads the string form of a double (sorted sets of type 3).
func (r *Reader) Double() float64 {
	n := r.Byte()
	switch n {
	case 253:
		r.fail("NaN score")
		return 0
	case 254:
		return math.Inf(1)
	case 255:
		return math.Inf(-1)
	}
	b := r.Raw(uint64(n))
	if r.err != nil {
		return 0
	}
	f, ok := parseScore(b)
	if !ok {
		r.fail("bad double %q", b)
	}
	return f
}

// BinaryDouble reads an 8-byte little-endian IEEE 754 double.
func (r *Reader) BinaryDouble() float64 {
	b := r.Raw(8)
	if b == nil {
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(b))
	if math.IsNaN(f) {
		r.fail("NaN score")
	}
	return f
}

// Millis reads an 8-byte little-endian millisecond time.
func (r *Reader) Millis() int64 {
	b := r.Raw(8)
	if b == nil {
		return 0
	}
	return int64(binary.LittleEndian.Uint64(b))
}

// parseScore parses a score written as text (ziplists, listpacks, type 3).
func parseScore(b []byte) (float64, bool) {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	return f, !math.IsNaN(f)
}

// AppendDecodedString decodes b, exactly one encoded string, appending
// what it expands to (an integer's digits, an LZF string) to dst; a
// plain string is returned as a slice of b without a copy.
func AppendDecodedString(dst, b []byte) ([]byte, error) {
	if len(b) > 0 && b[0]>>6 == 3 && b[0]&0x3f == encLZF {
		clen, ulen, n, ok := lzfHeader(b[1:])
		if !ok || clen != uint64(len(b)-1-n) {
			return DecodeString(b)
		}
		return lzfDecompress(dst, b[1+n:], ulen)
	}
	return DecodeString(b)
}

// lzfHeader reads the two lengths of an LZF string after its encoding
// byte, and how many bytes they took.
func lzfHeader(b []byte) (clen, ulen uint64, n int, ok bool) {
	r := Reader{b: b}
	clen = r.Len()
	ulen = r.Len()
	return clen, ulen, r.off, r.err == nil
}

// DecodeString decodes b, exactly one encoded string.
func DecodeString(b []byte) ([]byte, error) {
	r := Reader{b: b}
	s := r.String()
	if r.err == nil && r.off != len(b) {
		r.fail("%d bytes after the string", len(b)-r.off)
	}
	return s, r.err
}
