package persistence

import (
	"errors"
	"fmt"

	"github.com/shoal-dev/shoal/node/keyspace/hash"
	"github.com/shoal-dev/shoal/node/keyspace/list"
	"github.com/shoal-dev/shoal/node/keyspace/set"
	"github.com/shoal-dev/shoal/node/keyspace/zset"
	"github.com/shoal-dev/shoal/node/persistence/rdb"
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

// countCheck reports a value whose iterator yielded a different number of
// elements than its length.
func countCheck(n, got int) error {
	if n != got {
		return fmt.Errorf("persistence: %d elements announced, %d given", n, got)
	}
	return nil
}

// decodeRDB decodes an RDB object (type byte, then the object) that must
// be of kind k. An empty collection is ErrEmptyValue: Redis skips such a
// key in a file and refuses it in a RESTORE.
func decodeRDB(b []byte, k rdb.Kind) (rdb.Object, error) {
	if len(b) == 0 {
		return rdb.Object{}, fmt.Errorf("%w: empty encoding", ErrBadValue)
	}
	o, err := rdb.DecodeObject(b[0], b[1:])
	if err != nil {
		if errors.Is(err, rdb.ErrEmpty) {
			return o, fmt.Errorf("%w: %w", ErrBadValue, ErrEmptyValue)
		}
		return o, fmt.Errorf("%w: %w", ErrBadValue, err)
	}
	if o.Kind != k {
		return o, fmt.Errorf("%w: a %s where a %s was expected", ErrBadValue, o.Kind, k)
	}
	return o, nil
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
	dst, got := rdb.AppendListObject(dst, l.Len(), l.All())
	return dst, countCheck(l.Len(), got)
}

// DecodeValue implements ValueCodec.
func (c ListCodec) DecodeValue(b []byte) (any, error) {
	o, err := decodeRDB(b, rdb.KindList)
	if err != nil {
		return nil, err
	}
	l := list.New(c.Fill())
	for _, e := range o.Elems {
		l.Push(list.Tail, e)
	}
	return l, nil
}

// DecodeLegacy implements ValueCodec. An empty list is corrupt: Redis never
// keeps one.
func (c ListCodec) DecodeLegacy(b []byte) (any, error) {
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
	dst, got := rdb.AppendHashObject(dst, h.Len(), h.All(), h.Encoding() == "listpack")
	return dst, countCheck(h.Len(), got)
}

// DecodeValue implements ValueCodec.
func (c HashCodec) DecodeValue(b []byte) (any, error) {
	o, err := decodeRDB(b, rdb.KindHash)
	if err != nil {
		return nil, err
	}
	lim := c.Limits()
	h := hash.New()
	for i := 0; i+1 < len(o.Elems); i += 2 {
		if !h.Set(o.Elems[i], o.Elems[i+1], lim) {
			return nil, fmt.Errorf("%w: duplicate hash field", ErrBadValue)
		}
	}
	return h, nil
}

// DecodeLegacy implements ValueCodec.
func (c HashCodec) DecodeLegacy(b []byte) (any, error) {
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
	dst, got := rdb.AppendSetObject(dst, s.Len(), s.All(), s.Encoding() == "intset")
	return dst, countCheck(s.Len(), got)
}

// DecodeValue implements ValueCodec.
func (c SetCodec) DecodeValue(b []byte) (any, error) {
	o, err := decodeRDB(b, rdb.KindSet)
	if err != nil {
		return nil, err
	}
	lim := c.Limits()
	s := set.New(lim, o.Elems[0], len(o.Elems))
	for _, m := range o.Elems {
		if !s.Add(lim, m) {
			return nil, fmt.Errorf("%w: duplicate set member", ErrBadValue)
		}
	}
	return s, nil
}

// DecodeLegacy implements ValueCodec.
func (c SetCodec) DecodeLegacy(b []byte) (any, error) {
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
	dst, got := rdb.AppendZSetObject(dst, z.Len(), z.All(), z.Encoding() == "listpack")
	return dst, countCheck(z.Len(), got)
}

// DecodeValue implements ValueCodec.
func (c ZSetCodec) DecodeValue(b []byte) (any, error) {
	o, err := decodeRDB(b, rdb.KindZSet)
	if err != nil {
		return nil, err
	}
	members, scores := o.SortedMembers()
	entries := make([]zset.Entry, len(members))
	for i, m := range members {
		entries[i] = zset.Entry{Member: m, Score: scores[i]}
	}
	seen := make(map[string]struct{}, len(members))
	for _, m := range members {
		if _, dup := seen[string(m)]; dup {
			return nil, fmt.Errorf("%w: duplicate sorted set member", ErrBadValue)
		}
		seen[string(m)] = struct{}{}
	}
	return zset.FromSorted(c.Limits(), entries), nil
}

// DecodeLegacy implements ValueCodec.
func (c ZSetCodec) DecodeLegacy(b []byte) (any, error) {
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
