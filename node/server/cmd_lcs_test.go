package server

import (
	"math/rand/v2"
	"testing"
)

// LCS against Redis: fixed cases for every option and error, then random
// strings over small alphabets (many matches, ties in the table walk).
func TestDifferentialLCS(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	script := []step{
		cmd("MSET", "key1", "ohmytext", "key2", "mynewtext"),
		cmd("LCS", "key1", "key2"),
		cmd("LCS", "key1", "key2", "LEN"),
		cmd("LCS", "key1", "key2", "IDX"),
		cmd("LCS", "key1", "key2", "idx", "MINMATCHLEN", "4"),
		cmd("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"),
		cmd("LCS", "key1", "key2", "IDX", "WITHMATCHLEN"),
		cmd("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "-5"),
		cmd("LCS", "key1", "key2", "WITHMATCHLEN"),
		cmd("LCS", "key1", "key2", "MINMATCHLEN", "2"),
		cmd("LCS", "key1", "key2", "LEN", "IDX"),
		cmd("LCS", "key1", "key2", "IDX", "LEN", "BOGUS"),
		cmd("LCS", "key1", "key2", "MINMATCHLEN"),
		cmd("LCS", "key1", "key2", "MINMATCHLEN", "x"),
		cmd("LCS", "key1", "key2", "MINMATCHLEN", "99999999999999999999"),
		cmd("LCS", "key1", "key2", "BOGUS"),
		cmd("LCS", "key1", "nokey"),
		cmd("LCS", "nokey", "nokey", "IDX"),
		cmd("LCS", "nokey", "nokey", "LEN"),
		cmd("RPUSH", "list", "a"),
		cmd("LCS", "key1", "list"),
		cmd("LCS", "list", "key1", "BOGUS"),
		cmd("LCS", "key1"),
		cmd("SET", "n1", "12345"), cmd("SET", "n2", "2468"),
		cmd("LCS", "n1", "n2", "IDX", "WITHMATCHLEN"),
		cmd("SET", "bin1", "a\x00b\xffc"), cmd("SET", "bin2", "\x00\xff"),
		cmd("LCS", "bin1", "bin2"),
		cmd("LCS", "bin1", "bin2", "IDX"),
		cmd("SET", "same", "abcabc"),
		cmd("LCS", "same", "same", "IDX", "WITHMATCHLEN"),
	}
	rng := rand.New(rand.NewPCG(12, 34))
	for i := 0; i < 60; i++ {
		a, b := randomString(rng, "ab", 12), randomString(rng, "abc", 15)
		if i%3 == 0 {
			a, b = randomString(rng, "abcdefgh", 40), randomString(rng, "abcdefgh", 40)
		}
		script = append(script,
			cmd("MSET", "ra", a, "rb", b),
			cmd("LCS", "ra", "rb"),
			cmd("LCS", "rb", "ra", "LEN"),
			cmd("LCS", "ra", "rb", "IDX", "WITHMATCHLEN"),
			cmd("LCS", "rb", "ra", "IDX", "MINMATCHLEN", "2"),
		)
	}
	runDifferential(t, ours, ref, script)

	// RESP3: IDX answers a map.
	a, b := ours.raw(t), ref.raw(t)
	a.do("HELLO", "3")
	b.do("HELLO", "3")
	for _, s := range [][]string{{"LCS", "key1", "key2", "IDX", "WITHMATCHLEN"}, {"LCS", "key1", "key2"}} {
		if got, want := a.do(s...), b.do(s...); got != want {
			t.Errorf("RESP3 %q:\n ours  %q\n redis %q", s, got, want)
		}
	}
}

func randomString(rng *rand.Rand, alphabet string, maxLen int) string {
	b := make([]byte, rng.IntN(maxLen+1))
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// The table is bounded as Redis bounds it: 4 bytes a cell, refused above
// proto-max-bulk-len before anything is allocated.
func TestDifferentialLCSMemoryBound(t *testing.T) {
	ours, ref := startNode(t, "--proto-max-bulk-len", "1mb"), startRedis(t, "--proto-max-bulk-len", "1mb")
	big := string(make([]byte, 600))
	runDifferential(t, ours, ref, []step{
		cmd("SET", "a", big), cmd("SET", "b", big),
		cmd("LCS", "a", "b", "LEN"), // 601*601*4 > 1 MB
		cmd("SET", "b", big[:400]),
		cmd("LCS", "a", "b", "LEN"), // 601*401*4 < 1 MB
		cmd("LCS", "a", "nokey", "LEN"),
	})
}
