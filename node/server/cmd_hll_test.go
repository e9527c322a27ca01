package server

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
)

// runDifferentialShort is runDifferential for long replies (HLL values):
// a mismatch is reported by its first differing byte, not in full.
func runDifferentialShort(t *testing.T, a, b *rawConn, script []step) {
	t.Helper()
	for _, s := range script {
		got, want := a.do(s.args...), b.do(s.args...)
		if got == want {
			continue
		}
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		lo, hiA, hiB := max(0, i-16), min(len(got), i+32), min(len(want), i+32)
		name := s.args
		if len(name) > 4 {
			name = append(name[:4:4], fmt.Sprintf("...(%d args)", len(s.args)))
		}
		t.Errorf("%q: replies differ at byte %d (lengths %d, %d):\n ours  %q\n redis %q", name, i, len(got), len(want), got[lo:hiA], want[lo:hiB])
	}
}

func pfaddBatch(key, prefix string, from, to int) step {
	args := []string{"PFADD", key}
	for i := from; i < to; i++ {
		args = append(args, prefix+strconv.Itoa(i))
	}
	return cmd(args...)
}

// HyperLogLog against Redis: the value GET returns byte for byte and
// PFCOUNT's numbers, through sparse values, the sparse->dense promotion,
// dense values, merges of both, counts of one to three keys.
func TestDifferentialHLL(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	a, b := ours.raw(t), ref.raw(t)
	script := []step{
		cmd("PFADD", "h"), cmd("GET", "h"), cmd("PFCOUNT", "h"), cmd("GET", "h"),
		cmd("PFADD", "h", "a", "b", "c"), cmd("GET", "h"), cmd("PFADD", "h", "a"),
		cmd("PFCOUNT", "h"), cmd("GET", "h"), cmd("PFCOUNT", "h"),
		cmd("PFDEBUG", "ENCODING", "h"), cmd("PFDEBUG", "DECODE", "h"),
		cmd("PFCOUNT", "nokey"), cmd("PFCOUNT", "nokey", "h"), cmd("EXISTS", "nokey"),
		cmd("PFMERGE", "m1", "nokey"), cmd("GET", "m1"), cmd("PFMERGE", "m2"), cmd("GET", "m2"),
		cmd("PFADD", "z"), cmd("PFADD", "z", ""), cmd("GET", "z"),
	}
	// One element at a time for a while: every sparse opcode split and merge.
	for i := 0; i < 300; i++ {
		script = append(script, cmd("PFADD", "s1", "e"+strconv.Itoa(i)))
		if i%25 == 0 {
			script = append(script, cmd("GET", "s1"), cmd("PFDEBUG", "DECODE", "s1"), cmd("PFCOUNT", "s1"))
		}
	}
	script = append(script, cmd("GET", "s1"), cmd("PFCOUNT", "s1"))
	// Batches through the promotion to dense and on up to 200k.
	sizes := map[string]int{"k10": 10000, "k50": 50000, "k200": 200000}
	for _, key := range []string{"k10", "k50", "k200"} {
		n := sizes[key]
		for from := 0; from < n; from += 500 {
			script = append(script, pfaddBatch(key, key+":", from, min(from+500, n)))
			if from < 4000 {
				script = append(script, cmd("PFDEBUG", "ENCODING", key), cmd("STRLEN", key))
			}
			if from%20000 == 0 {
				script = append(script, cmd("PFCOUNT", key), cmd("GET", key))
			}
		}
		script = append(script, cmd("PFCOUNT", key), cmd("GET", key))
	}
	// Overlapping sets and merges of sparse and dense.
	script = append(script,
		pfaddBatch("sp", "k10:", 0, 300), pfaddBatch("sp2", "x:", 0, 700),
		cmd("PFCOUNT", "sp", "k10"), cmd("PFCOUNT", "sp", "sp2"), cmd("PFCOUNT", "sp", "sp2", "k200"),
		cmd("PFCOUNT", "k10", "k50", "k200"), cmd("PFCOUNT", "k10", "nokey", "k50"),
		cmd("PFMERGE", "ms", "sp", "sp2"), cmd("GET", "ms"), cmd("PFCOUNT", "ms"), cmd("PFDEBUG", "ENCODING", "ms"),
		cmd("PFMERGE", "ms", "s1"), cmd("GET", "ms"),
		cmd("PFMERGE", "md", "sp", "k50"), cmd("GET", "md"), cmd("PFCOUNT", "md"),
		cmd("PFMERGE", "sp", "k10"), cmd("GET", "sp"), cmd("PFCOUNT", "sp"),
		cmd("PFMERGE", "k200", "k10", "k50"), cmd("GET", "k200"), cmd("PFCOUNT", "k200"),
		cmd("PFDEBUG", "TODENSE", "sp2"), cmd("GET", "sp2"), cmd("PFDEBUG", "TODENSE", "sp2"),
		cmd("PFDEBUG", "DECODE", "sp2"), cmd("PFDEBUG", "GETREG", "s1"), cmd("GET", "s1"),
		cmd("PFDEBUG", "BOGUS", "s1"), cmd("PFDEBUG", "GETREG", "nokey"),
	)
	runDifferentialShort(t, a, b, script)

	// A small hll-sparse-max-bytes promotes early; 0 promotes at once.
	for _, max := range []string{"200", "0", "3000"} {
		a.do("CONFIG", "SET", "hll-sparse-max-bytes", max)
		b.do("CONFIG", "SET", "hll-sparse-max-bytes", max)
		key := "cfg" + max
		var sc []step
		for i := 0; i < 120; i += 7 {
			sc = append(sc, pfaddBatch(key, "c", i, i+7), cmd("GET", key))
		}
		runDifferentialShort(t, a, b, sc)
	}
}

// Values that are not HyperLogLogs, and corrupted ones, are refused as
// Redis refuses them, never crash the node, and leave it serving.
func TestDifferentialHLLCorrupt(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	a, b := ours.raw(t), ref.raw(t)
	hdr := func(enc byte, body string) string {
		return "HYLL" + string([]byte{enc, 0, 0, 0}) + "\x00\x00\x00\x00\x00\x00\x00\x80" + body
	}
	values := []string{
		"", "x", "HYLL", "HYLLxxxxxxxxxxxx", hdr(2, ""), hdr(1, ""), hdr(1, "\x7f"), hdr(1, "\x7f\xff"),
		hdr(1, "\x7f\xff\x7f\xff"), hdr(1, "\x40\x00"), hdr(1, "\x7f\xfe\x80"), hdr(1, "\x7f\xfe\x83"),
		hdr(1, "\xff\xff\xff\xff"), hdr(1, "\x3f\x7f\xbf"), hdr(0, ""), hdr(0, string(make([]byte, 12287))),
		hdr(0, string(make([]byte, 12288))), hdr(0, string(make([]byte, 12289))),
		hdr(0, string(bytesOf(0xff, 12288))), hdr(0, string(bytesOf(0xcc, 12288))),
		hdr(1, "\x7f\xfd\x80\x80"), hdr(1, "\x00\x7f\xfe"),
	}
	rng := rand.New(rand.NewPCG(7, 9))
	for i := 0; i < 40; i++ {
		body := make([]byte, rng.IntN(40))
		for j := range body {
			body[j] = byte(rng.Uint32())
		}
		values = append(values, hdr(1, string(body)))
	}
	a.do("SET", "good", "x")
	b.do("SET", "good", "x")
	a.do("DEL", "good")
	b.do("DEL", "good")
	script := []step{cmd("PFADD", "good", "a", "b"), cmd("LPUSH", "list", "a"),
		cmd("PFADD", "list", "a"), cmd("PFCOUNT", "list"), cmd("PFCOUNT", "good", "list"), cmd("PFMERGE", "list", "good"),
		cmd("PFMERGE", "good", "list"), cmd("PFDEBUG", "ENCODING", "list")}
	for _, v := range values {
		script = append(script,
			cmd("SET", "bad", v), cmd("PFCOUNT", "bad"), cmd("GET", "bad"),
			cmd("SET", "bad", v), cmd("PFADD", "bad", "a", "b", "c", "d"), cmd("GET", "bad"),
			cmd("SET", "bad", v), cmd("PFCOUNT", "bad", "good"), cmd("PFMERGE", "dst", "good", "bad"), cmd("GET", "dst"),
			cmd("SET", "bad", v), cmd("PFMERGE", "bad", "good"), cmd("GET", "bad"),
			cmd("SET", "bad", v), cmd("PFDEBUG", "DECODE", "bad"), cmd("PFDEBUG", "ENCODING", "bad"),
			cmd("PFDEBUG", "TODENSE", "bad"), cmd("GET", "bad"),
			cmd("SET", "bad", v), cmd("PFDEBUG", "GETREG", "bad"),
		)
	}
	script = append(script, cmd("PING"))
	runDifferentialShort(t, a, b, script)
}

func bytesOf(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}
