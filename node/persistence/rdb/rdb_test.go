package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strings"
	"testing"
)

func bs(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func strs(b [][]byte) []string {
	out := make([]string, len(b))
	for i, e := range b {
		out[i] = string(e)
	}
	return out
}

func pairs(kv ...string) iter.Seq2[[]byte, []byte] {
	return func(yield func([]byte, []byte) bool) {
		for i := 0; i+1 < len(kv); i += 2 {
			if !yield([]byte(kv[i]), []byte(kv[i+1])) {
				return
			}
		}
	}
}

func decode(t *testing.T, b []byte) Object {
	t.Helper()
	o, err := DecodeObject(b[0], b[1:])
	if err != nil {
		t.Fatalf("decode %x: %v", b[:min(len(b), 64)], err)
	}
	return o
}

// Every element form a listpack has: small and large integers of each
// width, strings of each length class.
var lpElems = []string{"0", "127", "128", "-1", "-4096", "4095", "4096", "-32768", "32767", "32768",
	"-8388608", "8388607", "8388608", "2147483647", "-2147483648", "2147483648", "9223372036854775807",
	"-9223372036854775808", "", "a", "007", "-0", "1.5", strings.Repeat("s", 63), strings.Repeat("m", 64),
	strings.Repeat("m", 4095), strings.Repeat("L", 4096), strings.Repeat("L", 70000)}

func TestWritersRoundTrip(t *testing.T) {
	elems := bs(lpElems...)
	l, n := AppendListObject(nil, len(elems), slices.Values(elems))
	if o := decode(t, l); n != len(elems) || o.Kind != KindList || !slices.Equal(strs(o.Elems), lpElems) {
		t.Fatalf("list: %q", strs(o.Elems))
	}
	h, _ := AppendHashObject(nil, 2, pairs("f", "1", "g", strings.Repeat("v", 300)), true)
	if o := decode(t, h); o.Type != TypeHashListpack || fmt.Sprint(strs(o.Elems)) != fmt.Sprint([]string{"f", "1", "g", strings.Repeat("v", 300)}) {
		t.Fatalf("hash: %q", strs(o.Elems))
	}
	h, _ = AppendHashObject(nil, 1, pairs("123", "x"), false)
	if o := decode(t, h); o.Type != TypeHash || fmt.Sprint(strs(o.Elems)) != "[123 x]" {
		t.Fatalf("plain hash: %q", strs(o.Elems))
	}
	ints := bs("5", "-70000", "3", "9000000000")
	s, _ := AppendSetObject(nil, len(ints), slices.Values(ints), true)
	if o := decode(t, s); o.Type != TypeSetIntset || fmt.Sprint(strs(o.Elems)) != "[-70000 3 5 9000000000]" {
		t.Fatalf("intset: %v %q", o.Type, strs(o.Elems))
	}
	s, _ = AppendSetObject(nil, 2, slices.Values(bs("5", "x")), true)
	if o := decode(t, s); o.Type != TypeSet || fmt.Sprint(strs(o.Elems)) != "[5 x]" {
		t.Fatalf("set falling back to plain: %v %q", o.Type, strs(o.Elems))
	}
	scores := []float64{math.Inf(-1), -2.5, math.Copysign(0, -1), 0, 1, 0.1, 1e300, math.Inf(1)}
	for _, lp := range []bool{true, false} {
		z, _ := AppendZSetObject(nil, len(scores), func(yield func([]byte, float64) bool) {
			for i, f := range scores {
				if !yield([]byte(fmt.Sprint("m", i)), f) {
					return
				}
			}
		}, lp)
		o := decode(t, z)
		if !slices.Equal(o.Scores, scores) || len(o.Elems) != len(scores) {
			t.Fatalf("zset (listpack %v): %v", lp, o.Scores)
		}
	}
	for _, v := range lpElems {
		o := decode(t, AppendStringObject(nil, []byte(v)))
		if string(o.Str) != v {
			t.Fatalf("string %q came back %q", v, o.Str)
		}
	}
}

// ziplist builds a ziplist of entries (the form of Redis before 7.0).
func ziplist(entries ...string) []byte {
	b := make([]byte, 10)
	prev := 0
	for _, e := range entries {
		start := len(b)
		if prev < 254 {
			b = append(b, byte(prev))
		} else {
			b = binary.LittleEndian.AppendUint32(append(b, 0xFE), uint32(prev))
		}
		var v int64
		_, err := fmt.Sscan(e, &v)
		isInt := err == nil && fmt.Sprint(v) == e
		switch {
		case isInt && v >= 0 && v <= 12:
			b = append(b, 0xF1+byte(v))
		case isInt && v >= -128 && v <= 127:
			b = append(b, 0xFE, byte(v))
		case isInt && v >= -32768 && v <= 32767:
			b = binary.LittleEndian.AppendUint16(append(b, 0xC0), uint16(v))
		case isInt && v >= -(1<<23) && v < 1<<23:
			b = append(b, 0xF0, byte(v), byte(v>>8), byte(v>>16))
		case isInt && v >= math.MinInt32 && v <= math.MaxInt32:
			b = binary.LittleEndian.AppendUint32(append(b, 0xD0), uint32(v))
		case isInt:
			b = binary.LittleEndian.AppendUint64(append(b, 0xE0), uint64(v))
		case len(e) < 64:
			b = append(append(b, byte(len(e))), e...)
		case len(e) < 16384:
			b = append(append(b, 0x40|byte(len(e)>>8), byte(len(e))), e...)
		default:
			b = append(binary.BigEndian.AppendUint32(append(b, 0x80), uint32(len(e))), e...)
		}
		prev = len(b) - start
	}
	b = append(b, 0xFF)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	binary.LittleEndian.PutUint16(b[8:], uint16(len(entries)))
	return b
}

func TestOlderEncodings(t *testing.T) {
	zlElems := []string{"a", "0", "12", "13", "-1", "300", "-70000", "8000000", "3000000000", strings.Repeat("x", 300), strings.Repeat("y", 20000), "1.5"}
	zl := ziplist(zlElems...)
	str := func(b []byte) []byte { return AppendString(nil, b) }
	cases := []struct {
		name string
		obj  []byte
		want string
	}{
		{"list ziplist", append([]byte{TypeListZiplist}, str(zl)...), fmt.Sprint(zlElems)},
		{"quicklist of ziplists", append(append([]byte{TypeListQuicklist, 2}, str(ziplist("a", "b"))...), str(ziplist("7"))...), "[a b 7]"},
		{"linked list", append([]byte{TypeList, 2}, append(str([]byte("x")), str([]byte("42"))...)...), "[x 42]"},
		{"hash ziplist", append([]byte{TypeHashZiplist}, str(ziplist("f", "v", "n", "5"))...), "[f v n 5]"},
		{"zset ziplist", append([]byte{TypeZSetZiplist}, str(ziplist("a", "1", "b", "2.5"))...), "[a b] [1 2.5]"},
		{"zset type 3", append([]byte{TypeZSet, 3}, append(append(append(str([]byte("a")), 3, '1', '.', '5'), append(str([]byte("b")), 254)...), append(str([]byte("c")), 255)...)...), "[a b c] [1.5 +Inf -Inf]"},
		{"zipmap", append([]byte{TypeHashZipmap}, str([]byte("\x02\x01f\x01\x00v\x02ab\x03\x02xyz..\xff"))...), "[f v ab xyz]"},
		{"intset", append([]byte{TypeSetIntset}, str([]byte("\x02\x00\x00\x00\x02\x00\x00\x00\xff\xff\x05\x00"))...), "[-1 5]"},
	}
	for _, tc := range cases {
		o, err := DecodeObject(tc.obj[0], tc.obj[1:])
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		got := fmt.Sprint(strs(o.Elems))
		if o.Scores != nil {
			got += " " + fmt.Sprint(o.Scores)
		}
		if got != tc.want {
			t.Errorf("%s: %.200s, want %.200s", tc.name, got, tc.want)
		}
	}
}

func TestLZFAndIntegerStrings(t *testing.T) {
	cases := map[string][]byte{
		"-7":          {0xC0, 0xF9},
		"300":         {0xC1, 0x2C, 0x01},
		"-2000000000": {0xC2, 0x00, 0x6C, 0xCA, 0x88},
	}
	for want, enc := range cases {
		s, err := DecodeString(enc)
		if err != nil || string(s) != want {
			t.Errorf("%x: %q %v", enc, s, err)
		}
	}
	// A literal run of one 'a', then a back reference of 24 bytes at
	// distance 1: ctrl = (7<<5)|0, extra len 24-2-7=15, offset 0.
	enc := []byte{0xC3, 0x05, 25, 0x00, 'a', 0xE0, 15, 0x00}
	s, err := DecodeString(enc)
	if err != nil || string(s) != strings.Repeat("a", 25) {
		t.Fatalf("LZF: %q %v", s, err)
	}
	for _, bad := range [][]byte{
		{0xC3, 0x05, 0x7F, 0x00, 'a', 0xE0, 15, 0x00}, // announced length wrong
		{0xC3, 0x03, 25, 0xE0, 15, 0x00},              // reference before any output
		{0xC3, 0x02, 0x3F, 0xFF, 0xFF},                // huge claim for 2 bytes
		{0xC4}, {0x80, 0, 0, 0}, {0x82},
	} {
		if _, err := DecodeString(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%x: %v", bad, err)
		}
	}
}

func TestCorruptObjects(t *testing.T) {
	lp := func(b ...byte) []byte { return AppendString([]byte{TypeHashListpack}, b) }
	cases := map[string][]byte{
		"count past the input":         {TypeList, 0x3F, 0x01, 'a'},
		"odd hash":                     append([]byte{TypeHashZiplist}, AppendString(nil, ziplist("f"))...),
		"listpack length header":       lp(9, 0, 0, 0, 0, 0, 0xFF),
		"listpack without end":         lp(7, 0, 0, 0, 1, 0, 0x01),
		"listpack entry past the end":  lp(9, 0, 0, 0, 1, 0, 0x85, 'a', 0xFF),
		"listpack bad count":           lp(9, 0, 0, 0, 3, 0, 0x01, 0x01, 0xFF),
		"intset unsorted":              append([]byte{TypeSetIntset}, AppendString(nil, []byte("\x02\x00\x00\x00\x02\x00\x00\x00\x05\x00\x01\x00"))...),
		"quicklist container":          {TypeListQuicklist2, 1, 7, 1, 'a'},
		"empty list":                   {TypeList, 0},
		"NaN binary score":             append(append([]byte{TypeZSet2, 1}, AppendString(nil, []byte("m"))...), AppendBinaryDouble(nil, math.NaN())...),
		"module":                       {TypeModule2, 0x01},
		"stream node key of wrong len": {TypeStreamListpacks2, 1, 1, 'k', 1, 'x'},
	}
	for name, b := range cases {
		_, err := DecodeObject(b[0], b[1:])
		if err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// FuzzDecodeObject: any input decodes or fails with ErrCorrupt, ErrEmpty
// or ErrUnsupported, never panics, and CopyObject over a stream agrees on
// where the object ends.
func FuzzDecodeObject(f *testing.F) {
	elems := bs(lpElems[:20]...)
	l, _ := AppendListObject(nil, len(elems), slices.Values(elems))
	h, _ := AppendHashObject(nil, 2, pairs("f", "1", "g", "x"), true)
	z, _ := AppendZSetObject(nil, 1, func(y func([]byte, float64) bool) { y([]byte("m"), 2.5) }, true)
	s, _ := AppendSetObject(nil, 2, slices.Values(bs("1", "2")), true)
	for _, seed := range [][]byte{l, h, z, s, AppendStringObject(nil, []byte("hello")),
		append([]byte{TypeListZiplist}, AppendString(nil, ziplist("a", "1", "300"))...),
		{TypeStreamListpacks2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		o, err := DecodeObject(data[0], data[1:])
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("unexpected error %v", err)
		}
		src := &sliceSource{b: data[1:]}
		copied, cerr := CopyObject(nil, src, data[0])
		if err == nil && (cerr != nil || len(copied) != len(data)-1) {
			t.Fatalf("decoded (%v) but the stream walk disagrees: %d of %d bytes, %v", o.Kind, len(copied), len(data)-1, cerr)
		}
	})
}

type sliceSource struct{ b []byte }

func (s *sliceSource) ReadByte() (byte, error) {
	if len(s.b) == 0 {
		return 0, errors.New("EOF")
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c, nil
}

func (s *sliceSource) AppendN(dst []byte, n uint64) ([]byte, error) {
	if n > uint64(len(s.b)) {
		return dst, errors.New("EOF")
	}
	dst = append(dst, s.b[:n]...)
	s.b = s.b[n:]
	return dst, nil
}

func TestCanonicalInt(t *testing.T) {
	for _, s := range []string{"0", "1", "-1", "9223372036854775807", "-9223372036854775808", "123", "-70000"} {
		if v, ok := canonicalInt([]byte(s)); !ok || fmt.Sprint(v) != s {
			t.Errorf("%q: %d %v", s, v, ok)
		}
	}
	for _, s := range []string{"", "-", "-0", "00", "01", "+1", " 1", "1 ", "9223372036854775808", "-9223372036854775809", "99999999999999999999", "1.0", "key:1"} {
		if v, ok := canonicalInt([]byte(s)); ok {
			t.Errorf("%q: took it for %d", s, v)
		}
	}
}
