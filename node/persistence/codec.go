package persistence

import (
	"fmt"
)

// ValueCodec encodes and decodes the values of one type. The keyspace's
// concrete types (string, list, hash, set, zset) plug in through one codec
// each, so this package owns the bytes and the type packages own the data
// structures.
type ValueCodec interface {
	// Type is the tag this codec handles.
	Type() ValueType
	// AppendValue appends the encoding of v to dst. It fails when v is not of
	// the codec's type.
	AppendValue(dst []byte, v any) ([]byte, error)
	// DecodeValue builds a value from its encoding. It may keep slices of b:
	// callers hand over a buffer they no longer use. Corrupt input is an
	// error wrapping ErrBadValue, never a panic.
	DecodeValue(b []byte) (any, error)
}

// Codecs is the set of value codecs a server uses, one per type tag. Build it
// once at start-up with NewCodecs; it is read-only afterwards.
type Codecs struct {
	byType [numValueTypes]ValueCodec
}

// NewCodecs returns a codec set. Each type may be given at most once.
func NewCodecs(codecs ...ValueCodec) (*Codecs, error) {
	var c Codecs
	for _, vc := range codecs {
		t := vc.Type()
		if !t.Valid() {
			return nil, fmt.Errorf("persistence: codec for unknown type tag 0x%02x", byte(t))
		}
		if c.byType[t] != nil {
			return nil, fmt.Errorf("persistence: two codecs for type %s", t)
		}
		c.byType[t] = vc
	}
	return &c, nil
}

// Codec returns the codec of t, or nil when none is registered.
func (c *Codecs) Codec(t ValueType) ValueCodec {
	if !t.Valid() {
		return nil
	}
	return c.byType[t]
}

// RawStrings reports whether strings are encoded as their bytes
// (BytesStringCodec), so a caller may copy a string's bytes in and out
// without the codec and without boxing them in an interface, which costs
// an allocation per key.
func (c *Codecs) RawStrings() bool {
	_, ok := c.byType[TypeString].(BytesStringCodec)
	return ok
}

// AppendValue appends the encoding of v, a value of type t, to dst.
func (c *Codecs) AppendValue(dst []byte, t ValueType, v any) ([]byte, error) {
	vc := c.Codec(t)
	if vc == nil {
		return dst, fmt.Errorf("persistence: no codec for type %s", t)
	}
	return vc.AppendValue(dst, v)
}

// DecodeValue decodes a value of type t.
func (c *Codecs) DecodeValue(t ValueType, b []byte) (any, error) {
	vc := c.Codec(t)
	if vc == nil {
		return nil, fmt.Errorf("%w: no codec for type %s", ErrBadValue, t)
	}
	return vc.DecodeValue(b)
}

// BytesStringCodec is the string codec for values held as []byte. The
// decoded value aliases the input.
type BytesStringCodec struct{}

// Type implements ValueCodec.
func (BytesStringCodec) Type() ValueType { return TypeString }

// AppendValue implements ValueCodec.
func (BytesStringCodec) AppendValue(dst []byte, v any) ([]byte, error) {
	switch s := v.(type) {
	case []byte:
		return append(dst, s...), nil
	case string:
		return append(dst, s...), nil
	}
	return dst, fmt.Errorf("persistence: string codec given %T", v)
}

// DecodeValue implements ValueCodec.
func (BytesStringCodec) DecodeValue(b []byte) (any, error) { return b, nil }
