package list

import "testing"

// The redis-benchmark payload is 3 bytes ("xxx") by default.
var benchValue = []byte("xxx")

func BenchmarkLPUSH(b *testing.B) {
	l := New(DefaultFill)
	b.ReportAllocs()
	for b.Loop() {
		l.Push(Head, benchValue)
	}
}

func BenchmarkRPOP(b *testing.B) {
	l := New(DefaultFill)
	for range b.N {
		l.Push(Tail, benchValue)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, ok := l.Pop(Tail); !ok {
			b.Fatal("empty")
		}
	}
}

// BenchmarkLRANGE100 is redis-benchmark's lrange_100: the first 100
// elements of a long list.
func BenchmarkLRANGE100(b *testing.B) {
	l := New(DefaultFill)
	for range 10000 {
		l.Push(Head, benchValue)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		it := l.Range(0, 99)
		for v, ok := it.Next(); ok; v, ok = it.Next() {
			n += len(v)
		}
	}
	if n == 0 {
		b.Fatal("nothing read")
	}
}

func BenchmarkLINDEXMiddleOf100k(b *testing.B) {
	l := New(DefaultFill)
	for range 100000 {
		l.Push(Tail, benchValue)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := l.Index(50000); !ok {
			b.Fatal("missing")
		}
	}
}

func BenchmarkLPUSHLPOPSmallList(b *testing.B) {
	l := New(DefaultFill)
	l.Push(Head, benchValue)
	b.ReportAllocs()
	for b.Loop() {
		l.Push(Head, benchValue)
		l.Pop(Head)
	}
}
