package list

import (
	"bytes"
	"testing"
)

func TestEntryCodecRoundTripsEveryLengthClass(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 300, 16383, 16384, 1<<21 - 1, 1 << 21} {
		v := bytes.Repeat([]byte{'v'}, n)
		sz := entrySize(n)
		if want := n + 2*uvarintLen(n); sz != want {
			t.Fatalf("entrySize(%d) = %d, want %d", n, sz, want)
		}
		// Surround the entry with other bytes so that reads that overrun show.
		buf := make([]byte, sz+4)
		buf[0], buf[1] = 0xff, 0xff
		buf[sz+2], buf[sz+3] = 0xff, 0xff
		putEntry(buf[2:2+sz], v)
		got, next := readForward(buf, 2)
		if !bytes.Equal(got, v) || next != 2+sz {
			t.Fatalf("readForward len %d: got len %d next %d, want next %d", n, len(got), next, 2+sz)
		}
		got, start := readBackward(buf, 2+sz)
		if !bytes.Equal(got, v) || start != 2 {
			t.Fatalf("readBackward len %d: got len %d start %d, want start 2", n, len(got), start)
		}
		if cap(got) != len(got) {
			t.Fatalf("returned slice of len %d has spare capacity %d: an append would overwrite the node", n, cap(got))
		}
	}
}

func TestUvarintLenMatchesSevenBitGroups(t *testing.T) {
	cases := []struct{ n, want int }{{0, 1}, {127, 1}, {128, 2}, {16383, 2}, {16384, 3}, {1<<21 - 1, 3}, {1 << 21, 4}}
	for _, c := range cases {
		if got := uvarintLen(c.n); got != c.want {
			t.Errorf("uvarintLen(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}
