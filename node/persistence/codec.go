package persistence

import (
	"errors"
	"fmt"

	"github.com/shoal-dev/shoal/node/persistence/rdb"
)

// ValueCodec encodes and decodes the values of one type. The keyspace's
// concrete types (string, list, hash, set, zset) plug in through one codec
// each, so this package owns the bytes and the type packages own the data
// structures. The encoding is Redis's RDB object: its type byte (which
// names the encoding too: a listpack hash is 16, a plain one 4), then the
// object (package rdb), as it appears in a dump.rdb and a DUMP payload.
type ValueCodec interface {
	// Type is the tag this codec handles.
	Type() ValueType
	// AppendValue appends the RDB encoding of v (type byte, object) to
	// dst. It fails when v is not of the codec's type.
	AppendValue(dst []byte, v any) ([]byte, error)
	// DecodeValue builds a value from its RDB encoding (type byte,
	// object). It may keep slices of b: callers hand over a buffer they no
	// longer use. Corrupt input is an error wrapping ErrBadValue, never a
	// panic.
	DecodeValue(b []byte) (any, error)
	// DecodeLegacy builds a value from the encoding of the snapshot
	// format of earlier shoal builds (value.go), so their files still load.
	DecodeLegacy(b []byte) (any, error)
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

// DecodeValue decodes a value of type t from its RDB encoding.
func (c *Codecs) DecodeValue(t ValueType, b []byte) (any, error) {
	vc := c.Codec(t)
	if vc == nil {
		return nil, noCodec(t)
	}
	return vc.DecodeValue(b)
}

// DecodeLegacy decodes a value of type t from an older shoal snapshot.
func (c *Codecs) DecodeLegacy(t ValueType, b []byte) (any, error) {
	vc := c.Codec(t)
	if vc == nil {
		return nil, noCodec(t)
	}
	return vc.DecodeLegacy(b)
}

// ErrStreamUnsupported is the error of loading a stream (from a file, a
// replication stream or a RESTORE) while no stream codec is registered.
var ErrStreamUnsupported = errors.New("stream type not supported")

func noCodec(t ValueType) error {
	if t == TypeStream {
		return fmt.Errorf("%w: %w", ErrBadValue, ErrStreamUnsupported)
	}
	return fmt.Errorf("%w: no codec for type %s", ErrBadValue, t)
}

// BytesStringCodec is the string codec for values held as []byte. The
// decoded value aliases the input when the string is stored as its bytes.
type BytesStringCodec struct{}

// Type implements ValueCodec.
func (BytesStringCodec) Type() ValueType { return TypeString }

// AppendValue implements ValueCodec.
func (BytesStringCodec) AppendValue(dst []byte, v any) ([]byte, error) {
	switch s := v.(type) {
	case []byte:
		return rdb.AppendStringObject(dst, s), nil
	case string:
		return rdb.AppendStringObject(dst, []byte(s)), nil
	}
	return dst, fmt.Errorf("persistence: string codec given %T", v)
}

// DecodeValue implements ValueCodec.
func (BytesStringCodec) DecodeValue(b []byte) (any, error) {
	return decodeRDBString(b)
}

// DecodeLegacy implements ValueCodec: a string was its bytes.
func (BytesStringCodec) DecodeLegacy(b []byte) (any, error) { return b, nil }

// decodeRDBString decodes a string object (type byte 0, then the string).
func decodeRDBString(b []byte) ([]byte, error) {
	return appendRDBString(nil, b)
}

// appendRDBString decodes a string object, expanding an encoded string
// (integer, LZF) into dst.
func appendRDBString(dst, b []byte) ([]byte, error) {
	if len(b) == 0 || b[0] != rdb.TypeString {
		return nil, fmt.Errorf("%w: not a string", ErrBadValue)
	}
	if s, err := rdb.AppendDecodedString(dst, b[1:]); err == nil {
		return s, nil
	}
	r := rdb.NewReader(b[1:])
	s := r.String()
	if r.Err() == nil && r.Left() != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the string", ErrBadValue, r.Left())
	}
	if r.Err() != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadValue, r.Err())
	}
	return s, nil
}

// StringValue is the encoding of the string s (what SnapshotWriter.Key
// takes for a string).
func StringValue(s []byte) []byte { return rdb.AppendStringObject(nil, s) }
