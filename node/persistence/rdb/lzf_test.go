package rdb

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func lzfInputs() [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 5000)
	for i := range random {
		random[i] = byte(rng.UintN(256))
	}
	populate := append([]byte("value:12345"), make([]byte, 21)...) // DEBUG POPULATE n key 32
	return [][]byte{
		populate,
		[]byte(strings.Repeat("a", 21)),
		[]byte(strings.Repeat("a", 100000)),
		[]byte(strings.Repeat("abcdefgh", 3000)),
		[]byte(strings.Repeat("the quick brown fox jumps over the lazy dog ", 50)),
		random,
		append(bytes.Repeat(random[:100], 100), random...),
	}
}

// TestLZFRoundTrip: what Compress writes, the decoder (lzf_d.c's rules)
// expands to the input, for compressible and incompressible data, with
// one compressor reused across calls (its hash table is not cleared).
func TestLZFRoundTrip(t *testing.T) {
	var z LZF
	for round := 0; round < 3; round++ {
		for i, in := range lzfInputs() {
			c, ok := z.Compress(nil, in, len(in)-4)
			if !ok {
				if i != 5 {
					t.Errorf("input %d (%d bytes) did not compress", i, len(in))
				}
				continue
			}
			out, err := lzfDecompress(nil, c, uint64(len(in)))
			if err != nil || !bytes.Equal(out, in) {
				t.Fatalf("input %d: round trip failed: %v", i, err)
			}
		}
	}
}

// TestLZFAppendString: rdbcompression's rule (strings of more than 20
// bytes, when LZF saves 4 bytes or more) and the string decoder reading
// it back; integers and short strings stay as they are.
func TestLZFAppendString(t *testing.T) {
	var z LZF
	for _, in := range append(lzfInputs(), []byte("12345"), []byte(strings.Repeat("b", 20)), []byte("")) {
		enc := z.AppendString([]byte{0xAA}, in)
		if enc[0] != 0xAA {
			t.Fatal("prefix overwritten")
		}
		compressed := enc[1] == 0xC0|encLZF
		if want := len(in) > 20 && len(in) != 5000; compressed != want {
			t.Errorf("%d bytes: compressed %v, want %v", len(in), compressed, want)
		}
		got, err := DecodeString(enc[1:])
		if err != nil || !bytes.Equal(got, in) {
			t.Errorf("%d bytes: decoded %d bytes, %v", len(in), len(got), err)
		}
		if !compressed && !bytes.Equal(enc[1:], AppendString(nil, in)) {
			t.Errorf("%d bytes: uncompressed form differs from AppendString", len(in))
		}
	}
}

// FuzzLZF: any input round-trips through Compress and the decoder, and
// the compressed form never exceeds the limit it was given.
func FuzzLZF(f *testing.F) {
	for _, in := range lzfInputs() {
		f.Add(in[:min(len(in), 2000)])
	}
	var z LZF
	f.Fuzz(func(t *testing.T, in []byte) {
		limit := len(in) - 4
		c, ok := z.Compress([]byte("x"), in, limit)
		if !ok {
			if string(c) != "x" {
				t.Fatal("failed compression left bytes behind")
			}
			return
		}
		if len(c)-1 > limit {
			t.Fatalf("%d compressed bytes over the limit %d", len(c)-1, limit)
		}
		out, err := lzfDecompress(nil, c[1:], uint64(len(in)))
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}

func BenchmarkLZFPopulateValue(b *testing.B) {
	var z LZF
	in := append([]byte("value:12345"), make([]byte, 21)...)
	var dst []byte
	for range b.N {
		dst = z.AppendString(dst[:0], in)
	}
}

// TestLZFAppendObjectBody: every form this package writes, compressed, decodes
// to the same object as uncompressed, and long strings in it shrink.
func TestLZFAppendObjectBody(t *testing.T) {
	long := strings.Repeat("compressible ", 10)
	elems := bs(long, "1", "x", long+"2", "300")
	var objs [][]byte
	l, _ := AppendListObject(nil, len(elems), slices.Values(elems))
	hl, _ := AppendHashObject(nil, 2, pairs("f", long, long, "1"), true)
	hp, _ := AppendHashObject(nil, 2, pairs("f", long, long, "1"), false)
	zl, _ := AppendZSetObject(nil, 1, func(y func([]byte, float64) bool) { y([]byte(long), 2.5) }, true)
	zp, _ := AppendZSetObject(nil, 1, func(y func([]byte, float64) bool) { y([]byte(long), 2.5) }, false)
	sp, _ := AppendSetObject(nil, 2, slices.Values(bs(long, "a")), false)
	si, _ := AppendSetObject(nil, 40, slices.Values(intStrings(40)), true)
	objs = append(objs, l, hl, hp, zl, zp, sp, si, AppendStringObject(nil, []byte(long)), AppendStringObject(nil, []byte("short")))
	var z LZF
	for _, obj := range objs {
		c := z.AppendObjectBody([]byte{obj[0]}, obj)
		want, err := DecodeObject(obj[0], obj[1:])
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeObject(c[0], c[1:])
		if err != nil {
			t.Fatalf("type %d compressed: %v", obj[0], err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("type %d: compressed decodes to %v, want %v", obj[0], got, want)
		}
		if obj[0] != TypeSetIntset && len(obj) > 100 && len(c) >= len(obj) {
			t.Errorf("type %d: %d bytes compressed to %d", obj[0], len(obj), len(c))
		}
	}
}

func intStrings(n int) [][]byte {
	var out [][]byte
	for i := range n {
		out = append(out, []byte(fmt.Sprint(i*1000)))
	}
	return out
}
