package persistence

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"
)

// ValueType is the one-byte type tag in front of every encoded value, in the
// snapshot file and in DUMP payloads. The numbers are part of the frozen
// format: never renumber them, only add new ones.
type ValueType byte

// The value types, named after what the TYPE command replies.
const (
	TypeString ValueType = 0
	TypeList   ValueType = 1
	TypeSet    ValueType = 2
	TypeZSet   ValueType = 3
	TypeHash   ValueType = 4
	TypeStream ValueType = 5

	numValueTypes = 6
)

// String returns the name TYPE replies for t.
func (t ValueType) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeList:
		return "list"
	case TypeSet:
		return "set"
	case TypeZSet:
		return "zset"
	case TypeHash:
		return "hash"
	case TypeStream:
		return "stream"
	}
	return fmt.Sprintf("unknown(0x%02x)", byte(t))
}

// Valid reports whether t is a type tag this version knows.
func (t ValueType) Valid() bool { return t < numValueTypes }

// ValueEncodingVersion is the version of the value encodings below. It is
// written in the snapshot header (together with the file layout) and in the
// trailer of DUMP payloads. Bump it when an encoding changes; loaders accept
// every version up to their own.
const ValueEncodingVersion = 1

// Value encodings, version 1. Lengths and counts are unsigned LEB128 varints
// (encoding/binary Uvarint); "bytes" is a varint length then the bytes.
//
//	string: the raw bytes (the container gives the length)
//	list:   count, then count x bytes, head to tail
//	set:    count, then count x bytes (members, any order, no duplicates)
//	zset:   count, then count x (bytes member, 8-byte little-endian IEEE-754 score),
//	        ascending by (score, member); no NaN, no duplicate members
//	hash:   count, then count x (bytes field, bytes value), no duplicate fields
//	stream: see codec_stream.go
//
// Decoders check that counts fit the remaining input and that the input is
// consumed exactly, so corrupt input is an error, never a huge allocation.

// ErrBadValue wraps every value decoding failure.
var ErrBadValue = errors.New("bad value encoding")

// AppendElements appends a list or set encoding of n elements to dst.
// It fails when elems yields a different number of elements than n.
func AppendElements(dst []byte, n int, elems iter.Seq[[]byte]) ([]byte, error) {
	dst = binary.AppendUvarint(dst, uint64(n))
	got := 0
	for e := range elems {
		dst = appendBytes(dst, e)
		got++
	}
	if got != n {
		return dst, fmt.Errorf("persistence: %d elements announced, %d given", n, got)
	}
	return dst, nil
}

// AppendPairs appends a hash encoding of n field/value pairs to dst.
func AppendPairs(dst []byte, n int, pairs iter.Seq2[[]byte, []byte]) ([]byte, error) {
	dst = binary.AppendUvarint(dst, uint64(n))
	got := 0
	for f, v := range pairs {
		dst = appendBytes(dst, f)
		dst = appendBytes(dst, v)
		got++
	}
	if got != n {
		return dst, fmt.Errorf("persistence: %d pairs announced, %d given", n, got)
	}
	return dst, nil
}

// AppendScored appends a sorted set encoding of n members to dst. members
// must yield in ascending (score, member) order, as ZRANGE does.
func AppendScored(dst []byte, n int, members iter.Seq2[[]byte, float64]) ([]byte, error) {
	dst = binary.AppendUvarint(dst, uint64(n))
	got := 0
	for m, s := range members {
		dst = appendBytes(dst, m)
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(s))
		got++
	}
	if got != n {
		return dst, fmt.Errorf("persistence: %d members announced, %d given", n, got)
	}
	return dst, nil
}

// DecodeElements calls fn for each element of a list or set encoding, in
// order. The slices alias b. n is the count, given first to fn's caller via
// sizeHint (may be nil) so it can preallocate.
func DecodeElements(b []byte, sizeHint func(n int), fn func(elem []byte) error) error {
	d := decoder{b: b}
	n := d.count(1)
	if sizeHint != nil && d.err == nil {
		sizeHint(n)
	}
	for i := 0; i < n && d.err == nil; i++ {
		e := d.bytes()
		if d.err == nil {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return d.finish()
}

// DecodePairs calls fn for each field/value pair of a hash encoding.
func DecodePairs(b []byte, sizeHint func(n int), fn func(field, value []byte) error) error {
	d := decoder{b: b}
	n := d.count(2)
	if sizeHint != nil && d.err == nil {
		sizeHint(n)
	}
	for i := 0; i < n && d.err == nil; i++ {
		f := d.bytes()
		v := d.bytes()
		if d.err == nil {
			if err := fn(f, v); err != nil {
				return err
			}
		}
	}
	return d.finish()
}

// DecodeScored calls fn for each member/score of a sorted set encoding. It
// rejects NaN scores and members out of (score, member) order.
func DecodeScored(b []byte, sizeHint func(n int), fn func(member []byte, score float64) error) error {
	d := decoder{b: b}
	n := d.count(9)
	if sizeHint != nil && d.err == nil {
		sizeHint(n)
	}
	var prevM []byte
	prevS := math.Inf(-1)
	for i := 0; i < n && d.err == nil; i++ {
		m := d.bytes()
		s := d.float64()
		if d.err != nil {
			break
		}
		if math.IsNaN(s) {
			return fmt.Errorf("%w: NaN score", ErrBadValue)
		}
		if i > 0 && (s < prevS || s == prevS && string(m) <= string(prevM)) {
			return fmt.Errorf("%w: sorted set members out of order", ErrBadValue)
		}
		prevM, prevS = m, s
		if err := fn(m, s); err != nil {
			return err
		}
	}
	return d.finish()
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// decoder reads a value encoding from memory; the first error sticks.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w at byte %d: %s", ErrBadValue, d.off, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.off += n
	return v
}

// count reads an element count; every element takes at least minSize bytes,
// so a count larger than the remaining input divided by minSize is corrupt.
// varint reads a signed varint.
func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) count(minSize int) int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)-d.off)/uint64(minSize) {
		d.fail("count %d larger than the input", n)
		return 0
	}
	return int(n)
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)-d.off) {
		d.fail("length %d past the end", n)
		return nil
	}
	s := d.b[d.off : d.off+int(n) : d.off+int(n)]
	d.off += int(n)
	return s
}

func (d *decoder) float64() float64 {
	if d.err != nil {
		return 0
	}
	if len(d.b)-d.off < 8 {
		d.fail("score past the end")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b[d.off:]))
	d.off += 8
	return v
}

func (d *decoder) finish() error {
	if d.err == nil && d.off != len(d.b) {
		d.fail("%d trailing bytes", len(d.b)-d.off)
	}
	return d.err
}
