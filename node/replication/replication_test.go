package replication

import (
	"bytes"
	"math/rand"
	"testing"
)

// TestBacklogMatchesStream: after random writes, every offset still held
// yields exactly the tail of the whole stream, and older ones are refused.
func TestBacklogMatchesStream(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, size := range []int{1, 7, 64, 1000, 3*initialBacklogBytes + 5} {
		b := NewBacklog(size, 100)
		var stream []byte // bytes from offset 101 on
		for i := 0; i < 300; i++ {
			p := make([]byte, rng.Intn(3*size+2))
			rng.Read(p)
			b.Write(p)
			stream = append(stream, p...)
			if b.Offset() != 100+int64(len(stream)) {
				t.Fatalf("offset %d, want %d", b.Offset(), 100+len(stream))
			}
			if want := min(int64(len(stream)), int64(size)); b.HistLen() != want {
				t.Fatalf("histlen %d, want %d", b.HistLen(), want)
			}
			for _, next := range []int64{b.FirstByteOffset(), b.Offset() + 1, b.FirstByteOffset() + int64(rng.Intn(int(b.HistLen())+1))} {
				got, ok := b.AppendFrom(nil, next)
				if !ok || !bytes.Equal(got, stream[next-101:]) {
					t.Fatalf("size %d: AppendFrom(%d) = %v, wrong bytes", size, next, ok)
				}
			}
			if _, ok := b.AppendFrom(nil, b.FirstByteOffset()-1); ok && b.FirstByteOffset() > 101 {
				t.Fatalf("offset before the backlog accepted")
			}
			if _, ok := b.AppendFrom(nil, b.Offset()+2); ok {
				t.Fatalf("offset after the end accepted")
			}
		}
		b.Resize(size/2 + 1)
		got, _ := b.AppendFrom(nil, b.FirstByteOffset())
		if !bytes.Equal(got, stream[len(stream)-int(b.HistLen()):]) || b.Offset() != 100+int64(len(stream)) {
			t.Fatalf("resize lost the tail")
		}
	}
}

// TestBacklogAllocatesAsBytesArrive: a huge repl-backlog-size is a limit,
// not an allocation (CONFIG SET repl-backlog-size 1tb killed the node), and
// growing past what is allocated keeps every byte held in order.
func TestBacklogAllocatesAsBytesArrive(t *testing.T) {
	b := NewBacklog(1<<40, 0)
	if b.Size() != 1<<40 || len(b.buf) > initialBacklogBytes {
		t.Fatalf("size %d, allocated %d", b.Size(), len(b.buf))
	}
	var stream []byte
	for i := 0; i < 40; i++ {
		p := bytes.Repeat([]byte{byte(i)}, 10000+i)
		b.Write(p)
		stream = append(stream, p...)
	}
	got, ok := b.AppendFrom(nil, 1)
	if !ok || !bytes.Equal(got, stream) || b.HistLen() != int64(len(stream)) {
		t.Fatalf("grown backlog lost bytes: ok=%v held %d of %d", ok, len(got), len(stream))
	}
	if len(b.buf) > 2*len(stream) {
		t.Fatalf("allocated %d for %d bytes", len(b.buf), len(stream))
	}
	b.Resize(1 << 41)
	if got, _ := b.AppendFrom(nil, 1); !bytes.Equal(got, stream) || b.Size() != 1<<41 {
		t.Fatalf("raising the limit lost bytes")
	}
}

// TestCanContinue: the PSYNC decision after a promotion accepts the old ID
// up to the switch offset only.
func TestCanContinue(t *testing.T) {
	b := NewBacklog(100, 0)
	b.Write(make([]byte, 50))
	h := IDs{ID: NewReplID(), ID2: NoReplID, Offset: 50, SecondOffset: -1}
	old := h.ID
	if ok, _ := CanContinue(h, b, old, 51); !ok {
		t.Fatalf("own ID at the end refused")
	}
	if ok, _ := CanContinue(h, b, "?", 1); ok {
		t.Fatalf("? accepted")
	}
	h.Shift()
	if h.ID == old || h.ID2 != old || h.SecondOffset != 51 {
		t.Fatalf("shift: %+v", h)
	}
	b.Write(make([]byte, 10))
	h.Offset = 60
	if ok, _ := CanContinue(h, b, old, 51); !ok {
		t.Fatalf("old ID at the switch refused")
	}
	if ok, _ := CanContinue(h, b, old, 52); ok {
		t.Fatalf("old ID beyond the switch accepted")
	}
	if ok, _ := CanContinue(h, b, h.ID, 61); !ok {
		t.Fatalf("new ID refused")
	}
	if ok, _ := CanContinue(h, b, NewReplID(), 51); ok {
		t.Fatalf("unknown ID accepted")
	}
}

func TestParseReply(t *testing.T) {
	id := NewReplID()
	r, err := ParseReply("FULLRESYNC " + id + " 1234")
	if err != nil || !r.Full || r.ID != id || r.Offset != 1234 {
		t.Fatalf("%+v %v", r, err)
	}
	r, err = ParseReply("CONTINUE " + id)
	if err != nil || r.Full || r.ID != id {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := ParseReply("NOMASTERLINK"); err == nil {
		t.Fatalf("accepted garbage")
	}
}
