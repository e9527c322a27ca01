package hash

import (
	"strconv"
	"testing"
)

// BenchmarkHSETListpack is redis-benchmark's hset: one small hash, the same
// field set again and again.
func BenchmarkHSETListpack(b *testing.B) {
	h := New()
	lim := DefaultLimits()
	f, v := []byte("element:__rand_int__"), []byte("xxx")
	b.ReportAllocs()
	for b.Loop() {
		h.Set(f, v, lim)
	}
}

// BenchmarkHSETHashtable sets fields of a 100k-field hash.
func BenchmarkHSETHashtable(b *testing.B) {
	h := New()
	lim := DefaultLimits()
	fields := make([][]byte, 100000)
	for i := range fields {
		fields[i] = []byte("element:" + strconv.Itoa(i))
		h.Set(fields[i], []byte("xxx"), lim)
	}
	v := []byte("yyy")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		h.Set(fields[i%len(fields)], v, lim)
		i++
	}
}

func BenchmarkHGETListpack128(b *testing.B) {
	h := New()
	lim := DefaultLimits()
	for i := range 128 {
		h.Set([]byte("field:"+strconv.Itoa(i)), []byte("value"), lim)
	}
	f := []byte("field:64")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := h.Get(f); !ok {
			b.Fatal("missing")
		}
	}
}

func BenchmarkHGETHashtable(b *testing.B) {
	h := New()
	lim := DefaultLimits()
	fields := make([][]byte, 100000)
	for i := range fields {
		fields[i] = []byte("element:" + strconv.Itoa(i))
		h.Set(fields[i], []byte("xxx"), lim)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := h.Get(fields[i%len(fields)]); !ok {
			b.Fatal("missing")
		}
		i++
	}
}

func BenchmarkHINCRBYFLOAT(b *testing.B) {
	h := New()
	lim := DefaultLimits()
	in, _ := ParseFloatIncrement([]byte("1.5"))
	f := []byte("f")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.IncrByFloat(f, in, lim); err != nil {
			b.Fatal(err)
		}
	}
}
