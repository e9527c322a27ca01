package wal

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func testSegment() *Segment {
	data := []byte("*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n")
	return &Segment{ReplID: "0123456789012345678901234567890123456789", From: 100, To: 100 + int64(len(data)),
		Checkpoints: []Checkpoint{{Offset: 114, UnixMilli: 1000}, {Offset: 100 + int64(len(data)), UnixMilli: 1005}}, Data: data}
}

// TestSegmentRoundTrip: a segment decodes to what was encoded.
func TestSegmentRoundTrip(t *testing.T) {
	s := testSegment()
	got, err := Decode(s.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if got.ReplID != s.ReplID || got.From != s.From || got.To != s.To || !bytes.Equal(got.Data, s.Data) || len(got.Checkpoints) != 2 || got.Checkpoints[1] != s.Checkpoints[1] {
		t.Errorf("decoded %+v, want %+v", got, s)
	}
}

// TestSegmentRefusesCorruption: a flipped byte anywhere, a truncated
// object, and a header that contradicts the data are ErrCorrupt.
func TestSegmentRefusesCorruption(t *testing.T) {
	good := testSegment().Encode()
	for i := range good {
		bad := bytes.Clone(good)
		bad[i] ^= 0x20
		if _, err := Decode(bad); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("byte %d flipped: %v", i, err)
		}
	}
	for _, n := range []int{0, 10, len(good) - 1} {
		if _, err := Decode(good[:n]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated to %d bytes: %v", n, err)
		}
	}
	lying := []*Segment{testSegment(), testSegment(), testSegment()}
	lying[0].To++                                   // length disagrees
	lying[1].Checkpoints[0].UnixMilli = 2000        // time goes back
	lying[2].Checkpoints = lying[2].Checkpoints[:1] // last checkpoint not at the end
	for i, s := range lying {
		if _, err := Decode(s.Encode()); !errors.Is(err, ErrCorrupt) {
			t.Errorf("inconsistent segment %d: %v", i, err)
		}
	}
}

// TestChain: segments continue each other from the base; the longest
// wins where two start at the same offset; a missing range ends the chain.
func TestChain(t *testing.T) {
	keys := []string{Key("f/", 0, 10, 20), Key("f/", 0, 20, 25), Key("f/", 0, 20, 30), Key("f/", 0, 30, 40),
		Key("f/", 0, 50, 60), "f/wal/0/junk", Key("f/", 0, 5, 10)}
	chain, end := Chain(keys, 10)
	if end != 40 || len(chain) != 3 || chain[1].To != 30 {
		t.Errorf("chain %+v end %d", chain, end)
	}
	if chain, end := Chain(keys, 11); len(chain) != 0 || end != 11 {
		t.Errorf("no segment at the base: %+v %d", chain, end)
	}
	if Key("b/x/", 3, 7, 9) != "b/x/wal/3/00000000000000000007-00000000000000000009.seg" {
		t.Errorf("key %s", Key("b/x/", 3, 7, 9))
	}
}

// TestCut: the last checkpoint at or before the time; none after the
// archive's end.
func TestCut(t *testing.T) {
	cps := []Checkpoint{{Offset: 10, UnixMilli: 100}, {Offset: 20, UnixMilli: 200}, {Offset: 25, UnixMilli: 200}, {Offset: 30, UnixMilli: 300}}
	ms := func(v int64) time.Time { return time.UnixMilli(v) }
	for _, c := range []struct {
		t       int64
		cut     int64
		covered bool
	}{{50, 5, true}, {100, 10, true}, {199, 10, true}, {200, 25, true}, {299, 25, true}, {300, 30, true}, {301, 5, false}} {
		cut, _, ok := Cut(cps, 5, ms(c.t))
		if cut != c.cut || ok != c.covered {
			t.Errorf("t=%d: cut %d ok %v, want %d %v", c.t, cut, ok, c.cut, c.covered)
		}
	}
	if _, _, ok := Cut(nil, 5, ms(1)); ok {
		t.Error("an empty archive covers a time")
	}
}
