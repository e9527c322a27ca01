package gen

import (
	"math/rand/v2"
	"testing"
)

// Payloads as Redis 7.0.15 DUMPs them: SET str hello; RPUSH list a b c 1.
const (
	dumpHello = "\x00\x05hello\n\x00cr\xdfve4 \n"
	dumpList  = "\x12\x01\x02\x12\x12\x00\x00\x00\x04\x00\x81a\x02\x81b\x02\x81c\x02\x01\x01\xff\n\x00W\xde\xa3\xd9\a\xb3\x97\xaa"
)

func TestSealReproducesRedisCRC(t *testing.T) {
	for _, p := range []string{dumpHello, dumpList} {
		if got := string(Seal([]byte(p))); got != p {
			t.Errorf("Seal(%q) = %q: the CRC differs from Redis's", p, got)
		}
	}
}

func TestMangleKeepsTheTrailerAndMostlySeals(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	changed, sealed := 0, 0
	for range 1000 {
		m := Mangle(r, dumpList)
		if m != dumpList {
			changed++
		}
		if len(m) >= 10 && m[len(m)-10:len(m)-8] != "\n\x00" {
			t.Fatalf("RDB version bytes lost: %q", m)
		}
		if string(Seal([]byte(m))) == m {
			sealed++
		}
	}
	if changed < 900 || sealed < 800 || sealed > 950 {
		t.Errorf("of 1000 mangled payloads %d changed and %d carry a valid CRC", changed, sealed)
	}
}
