package hll

import (
	"strconv"
	"testing"
)

// An empty HyperLogLog is the header and one XZERO of 16384 registers,
// as createHLLObject makes it.
func TestNewIsOneXZero(t *testing.T) {
	h := New()
	if want := "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"; string(h) != want {
		t.Fatalf("New() = %q, want %q", h, want)
	}
	if n, err := Count(h); err != nil || n != 0 {
		t.Fatalf("Count(empty) = %d, %v", n, err)
	}
	if got := Decode(h); got != "Z:16384" {
		t.Fatalf("Decode(empty) = %q", got)
	}
}

// Every element maps to a register and a pattern length in range.
func TestPatLenRange(t *testing.T) {
	for i := 0; i < 10000; i++ {
		idx, n := PatLen([]byte(strconv.Itoa(i)))
		if idx < 0 || idx >= Registers || n < 1 || n > Q+1 {
			t.Fatalf("PatLen(%d) = %d, %d", i, idx, n)
		}
	}
}

// The sparse and dense representations agree on every register and on
// the count, through the sparse->dense promotion.
func TestSparseAndDenseAgree(t *testing.T) {
	dense, err := ToDense(New())
	if err != nil {
		t.Fatal(err)
	}
	sparse := New()
	for i := 0; i < 5000; i++ {
		ele := []byte("e" + strconv.Itoa(i))
		var c1, c2 bool
		dense, c1, _ = Add(dense, ele, 3000)
		sparse, c2, err = Add(sparse, ele, 1<<30)
		if err != nil || c1 != c2 {
			t.Fatalf("element %d: changed %v/%v err %v", i, c1, c2, err)
		}
		if i%500 == 0 {
			d2, err := ToDense(sparse)
			if err != nil {
				t.Fatal(err)
			}
			if string(d2[HeaderSize:]) != string(dense[HeaderSize:]) {
				t.Fatalf("element %d: registers differ", i)
			}
			n1, _ := Count(dense)
			n2, _ := Count(sparse)
			if n1 != n2 {
				t.Fatalf("element %d: counts %d and %d", i, n1, n2)
			}
		}
	}
	if Encoding(sparse) != EncSparse {
		t.Fatal("a sparse value with an unbounded limit turned dense")
	}
}

// The cached cardinality round-trips and its top bit marks it stale.
func TestCachedCount(t *testing.T) {
	h := New()
	SetCachedCount(h, 12345)
	if n, ok := CachedCount(h); !ok || n != 12345 {
		t.Fatalf("CachedCount = %d, %v", n, ok)
	}
	InvalidateCache(h)
	if _, ok := CachedCount(h); ok {
		t.Fatal("invalidated cache reads as valid")
	}
}

func TestSelfTest(t *testing.T) {
	if msg := SelfTest(20000); msg != "" {
		t.Fatal(msg)
	}
}

// FuzzHLL runs every operation on arbitrary bytes behind a valid header:
// errors are fine, panics are not, and what Add returns stays walkable.
func FuzzHLL(f *testing.F) {
	f.Add([]byte{1, 0x7f, 0xff}, []byte("a"))
	f.Add([]byte{1, 0x7f, 0xfe, 0x80}, []byte("b"))
	f.Add([]byte{1, 0x00, 0x7f}, []byte("c"))
	f.Add([]byte{0}, []byte("d"))
	f.Add([]byte{1}, []byte(""))
	f.Add([]byte{1, 0x40}, []byte("x"))
	f.Fuzz(func(t *testing.T, body, ele []byte) {
		if len(body) == 0 {
			return
		}
		enc := body[0] & 1
		h := append([]byte("HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80"), body[1:]...)
		h[4] = enc
		if enc == EncDense {
			// Dense values must have the exact size to be accepted.
			h = append(h, make([]byte, max(0, DenseSize-len(h)))...)[:DenseSize]
		}
		if !IsHLL(h) {
			t.Fatalf("a value with a valid header is refused: %q", h[:HeaderSize])
		}
		_, _ = Count(h)
		var raw Raw
		_ = raw.Merge(h)
		_ = raw.Count()
		_ = Decode(h)
		if d, err := ToDense(h); err == nil && len(d) != DenseSize {
			t.Fatalf("ToDense gave %d bytes", len(d))
		}
		cp := append([]byte(nil), h...)
		for _, limit := range []int{0, 40, 3000} {
			out, _, err := Add(append([]byte(nil), cp...), ele, limit)
			if err != nil {
				continue
			}
			if !IsHLL(out) {
				t.Fatalf("Add returned a value that is not a HyperLogLog")
			}
			_, _ = Count(out)
			for i := 0; i < 20; i++ {
				out, _, _ = Set(out, (i*977)%Registers, uint8(1+i%40), limit)
			}
			_ = Decode(out)
		}
	})
}
