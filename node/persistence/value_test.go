package persistence

import (
	"errors"
	"math"
	"reflect"
	"testing"
)

func TestValueCodecsRoundTrip(t *testing.T) {
	c := allTestCodecs()
	values := []struct {
		t ValueType
		v any
	}{
		{TypeString, []byte("hello")},
		{TypeList, bs("a", "", "ccc")},
		{TypeSet, map[string]struct{}{"x": {}, "y": {}}},
		{TypeHash, map[string]string{"f1": "v1", "f2": ""}},
		{TypeZSet, []scored{{"a", math.Inf(-1)}, {"b", -1.5}, {"c", -1.5}, {"d", 0}, {"e", math.Inf(1)}}},
	}
	for _, tc := range values {
		enc, err := c.AppendValue(nil, tc.t, tc.v)
		if err != nil {
			t.Fatalf("%s: %v", tc.t, err)
		}
		got, err := c.DecodeValue(tc.t, enc)
		if err != nil {
			t.Fatalf("%s: %v", tc.t, err)
		}
		if !reflect.DeepEqual(got, tc.v) {
			t.Fatalf("%s: got %v, want %v", tc.t, got, tc.v)
		}
		// The same value survives a DUMP/RESTORE.
		typ, back, err := c.Restore(must(c.Dump(tc.t, tc.v)))
		if err != nil || typ != tc.t || !reflect.DeepEqual(back, tc.v) {
			t.Fatalf("%s: restore got %v %v %v", tc.t, typ, back, err)
		}
	}
}

func TestValueDecodeRejectsCorruptInput(t *testing.T) {
	c := allTestCodecs()
	list := must(c.AppendValue(nil, TypeList, bs("a", "bb")))
	zset := must(c.AppendValue(nil, TypeZSet, []scored{{"a", 1}, {"b", 2}}))
	nanZSet := must(AppendScored(nil, 1, scoredOf(scored{"a", math.NaN()})))
	unordered := must(AppendScored(nil, 2, scoredOf(scored{"b", 2}, scored{"a", 1})))
	dupSet := must(AppendElements(nil, 2, func(yield func([]byte) bool) { yield([]byte("m")); yield([]byte("m")) }))
	cases := []struct {
		name string
		t    ValueType
		b    []byte
	}{
		{"empty list", TypeList, nil},
		{"count larger than input", TypeList, []byte{0xff, 0x01, 0x01, 'a'}},
		{"cut list", TypeList, list[:len(list)-1]},
		{"trailing byte", TypeList, append(list, 0)},
		{"varint overflow", TypeHash, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"cut score", TypeZSet, zset[:len(zset)-3]},
		{"NaN score", TypeZSet, nanZSet},
		{"members out of order", TypeZSet, unordered},
		{"duplicate set member", TypeSet, dupSet},
	}
	for _, tc := range cases {
		if _, err := c.DecodeValue(tc.t, tc.b); !errors.Is(err, ErrBadValue) {
			t.Errorf("%s: err = %v, want ErrBadValue", tc.name, err)
		}
	}
}

func TestAppendRejectsWrongCounts(t *testing.T) {
	if _, err := AppendElements(nil, 3, func(yield func([]byte) bool) { yield(nil) }); err == nil {
		t.Fatal("a short iterator was accepted")
	}
	if _, err := AppendPairs(nil, 0, pairsOf("f", "v")); err == nil {
		t.Fatal("a long iterator was accepted")
	}
}

func TestNewCodecsRejectsDuplicates(t *testing.T) {
	if _, err := NewCodecs(BytesStringCodec{}, BytesStringCodec{}); err == nil {
		t.Fatal("two string codecs accepted")
	}
}
