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

// lzfReference is lzf_d.c's loop, byte by byte and without shortcuts:
// the decoder every LZF reader implements, to check the compressor's
// output and the fast decoder against. ok is false where lzf_decompress
// returns 0 (E2BIG, EINVAL) or expands to another length than ulen.
func lzfReference(in []byte, ulen int) ([]byte, bool) {
	out := make([]byte, 0, ulen)
	for ip := 0; ip < len(in); {
		ctrl := int(in[ip])
		ip++
		if ctrl < 32 {
			ctrl++
			if len(out)+ctrl > ulen || ip+ctrl > len(in) {
				return nil, false
			}
			out = append(out, in[ip:ip+ctrl]...)
			ip += ctrl
			continue
		}
		n := ctrl >> 5
		ref := len(out) - (ctrl&0x1f)<<8 - 1
		if ip >= len(in) {
			return nil, false
		}
		if n == 7 {
			n += int(in[ip])
			ip++
			if ip >= len(in) {
				return nil, false
			}
		}
		ref -= int(in[ip])
		ip++
		if len(out)+n+2 > ulen || ref < 0 {
			return nil, false
		}
		for i := 0; i < n+2; i++ {
			out = append(out, out[ref+i])
		}
	}
	return out, len(out) == ulen
}

// TestLZFReference: the compressor's output is what lzf_d.c expands to
// the input, for inputs that exercise each of its limits (literal runs of
// 32, back references of 264 bytes and of the largest offset, a match in
// the last 3 bytes).
func TestLZFReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	far := random(lzfMaxOff + 100)
	copy(far[lzfMaxOff-1:], far[:50]) // a match at offset 8191, and 8192 (too far)
	copy(far[lzfMaxOff+40:], far[:50])
	inputs := append(lzfInputs(),
		append(random(64), []byte("xyzxyz")...), // the tail matches
		append(random(31), random(31)...),
		append(bytes.Repeat([]byte{7}, 265), 8),
		append(random(100), bytes.Repeat([]byte("ab"), 1000)...),
		far,
	)
	var z LZF
	for i, in := range inputs {
		c, ok := z.Compress(nil, in, len(in)+len(in)/32+1)
		if !ok {
			t.Fatalf("input %d: not compressed with room for literals", i)
		}
		if out, ok := lzfReference(c, len(in)); !ok || !bytes.Equal(out, in) {
			t.Fatalf("input %d (%d bytes): lzf_d.c does not expand it to the input", i, len(in))
		}
	}
}

// FuzzLZF: any input round-trips through Compress and both decoders (the
// fast one and lzf_d.c's loop), for any output limit, and the compressed
// form never exceeds the limit it was given.
func FuzzLZF(f *testing.F) {
	for _, in := range lzfInputs() {
		f.Add(in[:min(len(in), 2000)], uint16(4))
	}
	var z LZF
	f.Fuzz(func(t *testing.T, in []byte, slack uint16) {
		limit := len(in) - int(slack)
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
		if ref, ok := lzfReference(c[1:], len(in)); !ok || !bytes.Equal(ref, in) {
			t.Fatal("lzf_d.c's loop does not expand the output to the input")
		}
	})
}

// FuzzLZFDecompress: arbitrary compressed bytes and announced lengths
// never panic, reserve at most the bound, and expand exactly as lzf_d.c's
// loop does or are refused.
func FuzzLZFDecompress(f *testing.F) {
	var z LZF
	for _, in := range lzfInputs() {
		c, _ := z.Compress(nil, in, len(in)+len(in)/32+1)
		f.Add(c[:min(len(c), 3000)], uint32(len(in)))
	}
	f.Add([]byte{0xe0, 0xff, 0x00}, uint32(300))
	f.Add([]byte{0x00, 'a', 0xe0, 0xff, 0x00}, uint32(1+264))
	f.Fuzz(func(t *testing.T, in []byte, ulen uint32) {
		dst := make([]byte, 1, 64)
		out, err := lzfDecompress(dst, in, uint64(ulen))
		if uint64(ulen) > uint64(len(in))*100+64 && err == nil {
			t.Fatalf("%d bytes from %d compressed accepted", ulen, len(in))
		}
		if len(out) < 1 || out[0] != 0 {
			t.Fatal("dst's prefix lost")
		}
		if err != nil {
			if len(out) != 1 {
				t.Fatalf("failed decompression left %d bytes", len(out)-1)
			}
			if ulen > 0 && uint64(ulen) <= uint64(len(in))*100+64 {
				if _, ok := lzfReference(in, int(ulen)); ok {
					t.Fatalf("refused what lzf_d.c accepts: %v", err)
				}
			}
			return
		}
		ref, ok := lzfReference(in, int(ulen))
		if !ok || !bytes.Equal(out[1:], ref) {
			t.Fatalf("expanded to %d bytes, lzf_d.c: %v", len(out)-1, ok)
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
