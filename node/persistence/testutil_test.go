package persistence

import (
	"fmt"
	"iter"
	"maps"
	"slices"
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

type sliceListCodec struct{}

func (sliceListCodec) Type() ValueType { return TypeList }
func (sliceListCodec) AppendValue(dst []byte, v any) ([]byte, error) {
	l := v.([][]byte)
	return AppendElements(dst, len(l), slices.Values(l))
}
func (sliceListCodec) DecodeValue(b []byte) (any, error) {
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
	return AppendElements(dst, len(s), func(yield func([]byte) bool) {
		for _, m := range slices.Sorted(maps.Keys(s)) {
			if !yield([]byte(m)) {
				return
			}
		}
	})
}
func (mapSetCodec) DecodeValue(b []byte) (any, error) {
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
	return AppendPairs(dst, len(h), func(yield func([]byte, []byte) bool) {
		for _, f := range slices.Sorted(maps.Keys(h)) {
			if !yield([]byte(f), []byte(h[f])) {
				return
			}
		}
	})
}
func (mapHashCodec) DecodeValue(b []byte) (any, error) {
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
	return AppendScored(dst, len(z), scoredOf(z...))
}
func (sliceZSetCodec) DecodeValue(b []byte) (any, error) {
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
