package sealed

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
)

var (
	testKey  = bytes.Repeat([]byte{7}, KeySize)
	otherKey = bytes.Repeat([]byte{8}, KeySize)
)

// seal seals data with chunks of chunk bytes, written in pieces of at
// most piece bytes.
func seal(t testing.TB, data []byte, chunk, piece int) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := NewWriter(&out, testKey, chunk)
	if err != nil {
		t.Fatal(err)
	}
	for p := data; len(p) > 0; {
		n := min(piece, len(p))
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func open(obj, key []byte) ([]byte, error) {
	r, err := NewReader(bytes.NewReader(obj), key)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func random(n int) []byte {
	b := make([]byte, n)
	rng := rand.New(rand.NewPCG(uint64(n), 1))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// TestRoundTrip: every length around the chunk boundaries comes back, in
// the documented size (header, chunks of chunk+16 bytes, a final chunk
// always present).
func TestRoundTrip(t *testing.T) {
	const chunk = 64
	for _, n := range []int{0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk, 3*chunk + 5, 10000} {
		for _, piece := range []int{1, 7, chunk, 4096} {
			data := random(n)
			obj := seal(t, data, chunk, piece)
			chunks := max(1, (n+chunk-1)/chunk)
			if want := HeaderSize + n + chunks*TagSize; len(obj) != want {
				t.Fatalf("n=%d: sealed size %d, want %d", n, len(obj), want)
			}
			got, err := open(obj, testKey)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("n=%d piece=%d: opened %d bytes, %v", n, piece, len(got), err)
			}
		}
	}
}

// TestHeaderLayout freezes the header's fields at their offsets.
func TestHeaderLayout(t *testing.T) {
	obj := seal(t, []byte("x"), 1000, 1)
	if string(obj[:8]) != "SHOALENC" || obj[8] != 1 || obj[9] != 1 || binary.BigEndian.Uint32(obj[10:14]) != 1000 {
		t.Fatalf("header %x", obj[:14])
	}
	id := sha256.Sum256(append([]byte("shoal backup key id"), testKey...))
	if !bytes.Equal(obj[14:22], id[:8]) || KeyID(testKey) != hex.EncodeToString(id[:8]) {
		t.Fatalf("key ID %x, want %x", obj[14:22], id[:8])
	}
	if other := seal(t, []byte("x"), 1000, 1); bytes.Equal(obj[22:54], other[22:54]) {
		t.Fatal("two objects have the same salt")
	}
}

// TestWrongKeyRefusedBeforeAnyChunk: another key is ErrWrongKey at
// NewReader, without reading past the header.
func TestWrongKeyRefusedBeforeAnyChunk(t *testing.T) {
	obj := seal(t, random(500), 64, 500)
	_, err := NewReader(io.LimitReader(bytes.NewReader(obj), HeaderSize), otherKey)
	if !errors.Is(err, ErrWrongKey) {
		t.Fatalf("NewReader with another key: %v, want ErrWrongKey", err)
	}
}

// TestCorruptionRefused: any altered byte, any truncation, anything
// appended, two chunks swapped, or a plain (unsealed) object is ErrCorrupt
// (or ErrWrongKey for a byte of the key ID); nothing is ever returned as a
// complete object.
func TestCorruptionRefused(t *testing.T) {
	const chunk = 32
	data := random(3*chunk + 10)
	obj := seal(t, data, chunk, 100)
	refused := func(what string, b []byte) {
		t.Helper()
		_, err := open(b, testKey)
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrWrongKey) {
			t.Fatalf("%s: %v, want ErrCorrupt", what, err)
		}
	}
	for i := range obj {
		b := bytes.Clone(obj)
		b[i] ^= 0x20
		refused("byte "+strconv.Itoa(i)+" altered", b)
	}
	for n := range len(obj) {
		refused("truncated to "+strconv.Itoa(n), obj[:n])
	}
	refused("a byte appended", append(bytes.Clone(obj), 0))
	refused("a chunk appended", append(bytes.Clone(obj), obj[HeaderSize:HeaderSize+chunk+TagSize]...))
	c := chunk + TagSize
	swapped := bytes.Clone(obj)
	copy(swapped[HeaderSize:], obj[HeaderSize+c:HeaderSize+2*c])
	copy(swapped[HeaderSize+c:], obj[HeaderSize:HeaderSize+c])
	refused("chunks 0 and 1 swapped", swapped)
	refused("a plain RDB", append([]byte("REDIS0010"), make([]byte, 100)...))
	// A header with a huge chunk size is refused before any allocation.
	b := bytes.Clone(obj)
	binary.BigEndian.PutUint32(b[10:14], MaxChunkSize+1)
	refused("chunk size over the limit", b)
}

// TestReadStopsAtTheFirstBadChunk: the chunks before a bad one are
// returned (each authenticated), then the error, never bytes of the bad
// chunk.
func TestReadStopsAtTheFirstBadChunk(t *testing.T) {
	const chunk = 16
	data := random(5 * chunk)
	obj := seal(t, data, chunk, 1000)
	obj[HeaderSize+2*(chunk+TagSize)+3] ^= 1 // chunk 2
	r, err := NewReader(bytes.NewReader(obj), testKey)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if !errors.Is(err, ErrCorrupt) || !bytes.Equal(got, data[:2*chunk]) {
		t.Fatalf("read %d bytes, %v; want the first 2 chunks (%d bytes) and ErrCorrupt", len(got), err, 2*chunk)
	}
}

func TestParseKey(t *testing.T) {
	raw := random(KeySize)
	for _, in := range [][]byte{raw, []byte(base64.StdEncoding.EncodeToString(raw) + "\n"), []byte(hex.EncodeToString(raw))} {
		if k, err := ParseKey(in); err != nil || !bytes.Equal(k, raw) {
			t.Errorf("ParseKey(%q) = %x, %v", in, k, err)
		}
	}
	for _, in := range []string{"", "short", base64.StdEncoding.EncodeToString(random(16))} {
		if _, err := ParseKey([]byte(in)); err == nil {
			t.Errorf("ParseKey(%q) accepted", in)
		}
	}
}

// FuzzReader: any input is opened or refused, never a panic, and only a
// correctly sealed object opens.
func FuzzReader(f *testing.F) {
	f.Add(seal(f, []byte("hello"), 4, 2))
	f.Add(seal(f, nil, 8, 1))
	f.Add([]byte("SHOALENC"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := open(b, testKey); err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrWrongKey) {
			t.Fatalf("error %v is neither ErrCorrupt nor ErrWrongKey", err)
		}
	})
}
