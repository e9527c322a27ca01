package persistence

import (
	"fmt"

	"github.com/shoal-dev/shoal/node/keyspace/hash"
	"github.com/shoal-dev/shoal/node/keyspace/list"
	"github.com/shoal-dev/shoal/node/keyspace/set"
	"github.com/shoal-dev/shoal/node/keyspace/zset"
)

// Codecs for the keyspace's value types. Each decodes into the type's
// normal encoding for the current limits (read through the getter on every
// decode, so CONFIG SET of *-max-listpack-* applies to later loads and
// RESTOREs), and rejects duplicates the encoding forbids.

// KeyspaceCodecs returns the codec set for the keyspace's types: strings as
// []byte, *list.List, *hash.Hash, *set.Set, *zset.ZSet,
// *stream.Stream. Nil getters use the
// types' defaults (and list-max-listpack-size -2).
func KeyspaceCodecs(listFill func() int, hashLim func() hash.Limits, setLim func() set.Limits, zsetLim func() zset.Limits) *Codecs {
	if listFill == nil {
		listFill = func() int { return -2 }
	}
	if hashLim == nil {
		hashLim = hash.DefaultLimits
	}
	if setLim == nil {
		setLim = set.DefaultLimits
	}
	if zsetLim == nil {
		zsetLim = zset.DefaultLimits
	}
	c, err := NewCodecs(BytesStringCodec{}, ListCodec{listFill}, HashCodec{hashLim}, SetCodec{setLim}, ZSetCodec{zsetLim}, StreamCodec{})
	if err != nil {
		panic(err) // six distinct types: cannot happen
	}
	return c
}

func wrongValue(codec string, v any) error {
	return fmt.Errorf("persistence: %s codec given %T", codec, v)
}

// ListCodec encodes *list.List.
type ListCodec struct{ Fill func() int }

// Type implements ValueCodec.
func (ListCodec) Type() ValueType { return TypeList }

// AppendValue implements ValueCodec.
func (ListCodec) AppendValue(dst []byte, v any) ([]byte, error) {
	l, ok := v.(*list.List)
	if !ok {
		return dst, wrongValue("list", v)
	}
	return AppendElements(dst, l.Len(), l.All())
}

// DecodeValue implements ValueCodec. An empty list is corrupt: Redis never
// keeps one.
func (c ListCodec) DecodeValue(b []byte) (any, error) {
	l := list.New(c.Fill())
	err := DecodeElements(b, nil, func(e []byte) error {
		l.Push(list.Tail, e)
		return nil
	})
	if err == nil && l.Len() == 0 {
		err = fmt.Errorf("%w: empty list", ErrBadValue)
	}
	return l, err
}

// HashCodec encodes *hash.Hash.
type HashCodec struct{ Limits func() hash.Limits }

// Type implements ValueCodec.
func (HashCodec) Type() ValueType { return TypeHash }

// AppendValue implements ValueCodec.
func (HashCodec) AppendValue(dst []byte, v any) ([]byte, error) {
	h, ok := v.(*hash.Hash)
	if !ok {
		return dst, wrongValue("hash", v)
	}
	return AppendPairs(dst, h.Len(), h.All())
}

// DecodeValue implements ValueCodec.
func (c HashCodec) DecodeValue(b []byte) (any, error) {
	lim := c.Limits()
	h := hash.New()
	err := DecodePairs(b, nil, func(f, v []byte) error {
		if !h.Set(f, v, lim) {
			return fmt.Errorf("%w: duplicate hash field", ErrBadValue)
		}
		return nil
	})
	if err == nil && h.Len() == 0 {
		err = fmt.Errorf("%w: empty hash", ErrBadValue)
	}
	return h, err
}

// SetCodec encodes *set.Set.
type SetCodec struct{ Limits func() set.Limits }

// Type implements ValueCodec.
func (SetCodec) Type() ValueType { return TypeSet }

// AppendValue implements ValueCodec.
func (SetCodec) AppendValue(dst []byte, v any) ([]byte, error) {
	s, ok := v.(*set.Set)
	if !ok {
		return dst, wrongValue("set", v)
	}
	return AppendElements(dst, s.Len(), s.All())
}

// DecodeValue implements ValueCodec.
func (c SetCodec) DecodeValue(b []byte) (any, error) {
	lim := c.Limits()
	var s *set.Set
	n := 0
	err := DecodeElements(b, func(count int) { n = count }, func(m []byte) error {
		if s == nil {
			s = set.New(lim, m, n)
		}
		if !s.Add(lim, m) {
			return fmt.Errorf("%w: duplicate set member", ErrBadValue)
		}
		return nil
	})
	if err == nil && s == nil {
		err = fmt.Errorf("%w: empty set", ErrBadValue)
	}
	return s, err
}

// ZSetCodec encodes *zset.ZSet.
type ZSetCodec struct{ Limits func() zset.Limits }

// Type implements ValueCodec.
func (ZSetCodec) Type() ValueType { return TypeZSet }

// AppendValue implements ValueCodec.
func (ZSetCodec) AppendValue(dst []byte, v any) ([]byte, error) {
	z, ok := v.(*zset.ZSet)
	if !ok {
		return dst, wrongValue("zset", v)
	}
	return AppendScored(dst, z.Len(), z.All())
}

// DecodeValue implements ValueCodec.
func (c ZSetCodec) DecodeValue(b []byte) (any, error) {
	var entries []zset.Entry
	seen := map[string]struct{}{}
	err := DecodeScored(b, func(n int) { entries = make([]zset.Entry, 0, n) }, func(m []byte, s float64) error {
		if _, dup := seen[string(m)]; dup {
			return fmt.Errorf("%w: duplicate sorted set member", ErrBadValue)
		}
		seen[string(m)] = struct{}{}
		entries = append(entries, zset.Entry{Member: m, Score: s})
		return nil
	})
	if err == nil && len(entries) == 0 {
		err = fmt.Errorf("%w: empty sorted set", ErrBadValue)
	}
	if err != nil {
		return nil, err
	}
	return zset.FromSorted(c.Limits(), entries), nil
}
