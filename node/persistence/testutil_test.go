package persistence

import (
	"fmt"
	"iter"
	"maps"
	"slices"

	"github.com/shoal-dev/shoal/node/persistence/rdb"
)

// bs turns strings into byte slices.
func bs(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// pairsOf yields alternating field/value strings.
func pairsOf(kv ...string) iter.Seq2[[]byte, []byte] {
	return func(yield func([]byte, []byte) bool) {
		for i := 0; i+1 < len(kv); i += 2 {
			if !yield([]byte(kv[i]), []byte(kv[i+1])) {
				return
			}
		}
	}
}

type scored struct {
	member string
	score  float64
}

func scoredOf(ms ...scored) iter.Seq2[[]byte, float64] {
	return func(yield func([]byte, float64) bool) {
		for _, m := range ms {
			if !yield([]byte(m.member), m.score) {
				return
			}
		}
	}
}

// must returns v, panicking on err: for building test inputs that cannot fail.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Plain-Go codecs for tests: the real ones adapt the keyspace's types.
// They encode RDB objects and decode both RDB objects and the legacy
// encodings.

func decodeTestObject(b []byte) (rdb.Object, error) {
	if len(b) == 0 {
		return rdb.Object{}, fmt.Errorf("%w: empty", ErrBadValue)
	}
	o, err := rdb.DecodeObject(b[0], b[1:])
	if err != nil {
		return o, fmt.Errorf("%w: %w", ErrBadValue, err)
	}
	return o, nil
}

type sliceListCodec struct{}

func (sliceListCodec) Type() ValueType { return TypeList }
func (sliceListCodec) AppendValue(dst []byte, v any) ([]byte, error) {
	l := v.([][]byte)
	dst, _ = rdb.AppendListObject(dst, len(l), slices.Values(l))
	return dst, nil
}
func (sliceListCodec) DecodeValue(b []byte) (any, error) {
	o, err := decodeTestObject(b)
	return o.Elems, err
}
func (sliceListCodec) DecodeLegacy(b []byte) (any, error) {
	var l [][]byte
	err := DecodeElements(b, func(n int) { l = make([][]byte, 0, n) }, func(e []byte) error {
		l = append(l, e)
		return nil
	})
	return l, err
}

type mapSetCodec struct{}

func (mapSetCodec) Type() ValueType { return TypeSet }
func (mapSetCodec) AppendValue(dst []byte, v any) ([]byte, error) {
	s := v.(map[string]struct{})
	dst, _ = rdb.AppendSetObject(dst, len(s), func(yield func([]byte) bool) {
		for _, m := range slices.Sorted(maps.Keys(s)) {
			if !yield([]byte(m)) {
				return
			}
		}
	}, false)
	return dst, nil
}
func (mapSetCodec) DecodeValue(b []byte) (any, error) {
	o, err := decodeTestObject(b)
	if err != nil {
		return nil, err
	}
	s := map[string]struct{}{}
	for _, e := range o.Elems {
		if _, dup := s[string(e)]; dup {
			return nil, fmt.Errorf("%w: duplicate set member", ErrBadValue)
		}
		s[string(e)] = struct{}{}
	}
	return s, nil
}
func (mapSetCodec) DecodeLegacy(b []byte) (any, error) {
	s := map[string]struct{}{}
	err := DecodeElements(b, nil, func(e []byte) error {
		if _, dup := s[string(e)]; dup {
			return fmt.Errorf("%w: duplicate set member", ErrBadValue)
		}
		s[string(e)] = struct{}{}
		return nil
	})
	return s, err
}

type mapHashCodec struct{}

func (mapHashCodec) Type() ValueType { return TypeHash }
func (mapHashCodec) AppendValue(dst []byte, v any) ([]byte, error) {
	h := v.(map[string]string)
	dst, _ = rdb.AppendHashObject(dst, len(h), func(yield func([]byte, []byte) bool) {
		for _, f := range slices.Sorted(maps.Keys(h)) {
			if !yield([]byte(f), []byte(h[f])) {
				return
			}
		}
	}, false)
	return dst, nil
}
func (mapHashCodec) DecodeValue(b []byte) (any, error) {
	o, err := decodeTestObject(b)
	if err != nil {
		return nil, err
	}
	h := map[string]string{}
	for i := 0; i+1 < len(o.Elems); i += 2 {
		if _, dup := h[string(o.Elems[i])]; dup {
			return nil, fmt.Errorf("%w: duplicate hash field", ErrBadValue)
		}
		h[string(o.Elems[i])] = string(o.Elems[i+1])
	}
	return h, nil
}
func (mapHashCodec) DecodeLegacy(b []byte) (any, error) {
	h := map[string]string{}
	err := DecodePairs(b, nil, func(f, v []byte) error {
		if _, dup := h[string(f)]; dup {
			return fmt.Errorf("%w: duplicate hash field", ErrBadValue)
		}
		h[string(f)] = string(v)
		return nil
	})
	return h, err
}

type sliceZSetCodec struct{}

func (sliceZSetCodec) Type() ValueType { return TypeZSet }
func (sliceZSetCodec) AppendValue(dst []byte, v any) ([]byte, error) {
	z := v.([]scored)
	dst, _ = rdb.AppendZSetObject(dst, len(z), scoredOf(z...), false)
	return dst, nil
}
func (sliceZSetCodec) DecodeValue(b []byte) (any, error) {
	o, err := decodeTestObject(b)
	if err != nil {
		return nil, err
	}
	ms, ss := o.SortedMembers()
	var z []scored
	for i, m := range ms {
		if i > 0 && string(m) == z[i-1].member {
			return nil, fmt.Errorf("%w: duplicate member", ErrBadValue)
		}
		z = append(z, scored{string(m), ss[i]})
	}
	return z, nil
}
func (sliceZSetCodec) DecodeLegacy(b []byte) (any, error) {
	var z []scored
	err := DecodeScored(b, nil, func(m []byte, s float64) error {
		z = append(z, scored{string(m), s})
		return nil
	})
	return z, err
}

func allTestCodecs() *Codecs {
	return must(NewCodecs(BytesStringCodec{}, sliceListCodec{}, mapSetCodec{}, mapHashCodec{}, sliceZSetCodec{}))
}
