package server

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"
)

// BITFIELD and BITFIELD_RO against Redis: every subcommand, type and
// overflow policy, # offsets, the offset bound, every error, the reply
// shapes (nil for a FAIL overflow), then random operations.
func TestDifferentialBitfield(t *testing.T) {
	ours, ref := startNode(t, "--proto-max-bulk-len", "1mb"), startRedis(t, "--proto-max-bulk-len", "1mb")
	script := []step{
		cmd("BITFIELD", "nokey"), cmd("BITFIELD_RO", "nokey"), cmd("EXISTS", "nokey"),
		cmd("BITFIELD", "nokey", "GET", "u8", "0"), cmd("EXISTS", "nokey"),
		cmd("BITFIELD", "bf", "SET", "i8", "0", "100", "GET", "i8", "0", "GET", "u4", "0", "GET", "u4", "4"),
		cmd("GET", "bf"), cmd("STRLEN", "bf"),
		cmd("BITFIELD", "bf", "INCRBY", "i8", "0", "100"),
		cmd("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "100", "INCRBY", "i8", "0", "-1000"),
		cmd("BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "-1000", "GET", "i8", "0"),
		cmd("BITFIELD", "bf", "overflow", "wrap", "incrby", "u2", "100", "1", "incrby", "u2", "100", "1", "incrby", "u2", "100", "1", "incrby", "u2", "100", "1"),
		cmd("BITFIELD", "bf", "OVERFLOW", "FAIL", "SET", "u2", "102", "4", "SET", "u2", "102", "3"),
		cmd("BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "u2", "102", "-1", "SET", "i4", "0", "100", "SET", "i4", "0", "-100", "GET", "i4", "0"),
		cmd("BITFIELD", "bf", "OVERFLOW", "WRAP", "SET", "u8", "0", "-1", "SET", "i8", "0", "200", "SET", "u8", "8", "300", "GET", "u16", "0"),
		cmd("GET", "bf"), cmd("STRLEN", "bf"),
		// # offsets: in units of the type's width.
		cmd("BITFIELD", "h", "SET", "u8", "#0", "65", "SET", "u8", "#1", "66", "SET", "u8", "#2", "67", "GET", "u8", "#1", "GET", "i16", "#1"),
		cmd("GET", "h"),
		// 64-bit signed, 63-bit unsigned, and the 1-bit types.
		cmd("BITFIELD", "w", "SET", "i64", "0", "9223372036854775807", "INCRBY", "i64", "0", "1", "GET", "i64", "0"),
		cmd("BITFIELD", "w", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1", "INCRBY", "i64", "0", "-9223372036854775808", "INCRBY", "i64", "0", "-9223372036854775808", "INCRBY", "i64", "0", "9223372036854775807", "INCRBY", "i64", "0", "9223372036854775807"),
		cmd("BITFIELD", "w", "OVERFLOW", "FAIL", "SET", "i64", "0", "-9223372036854775808", "INCRBY", "i64", "0", "-1", "INCRBY", "i64", "0", "1"),
		cmd("BITFIELD", "w", "SET", "u63", "64", "9223372036854775807", "INCRBY", "u63", "64", "1", "OVERFLOW", "SAT", "INCRBY", "u63", "64", "-5", "SET", "u63", "64", "-1", "INCRBY", "u63", "64", "9223372036854775807"),
		cmd("BITFIELD", "w", "OVERFLOW", "FAIL", "SET", "u63", "64", "-1", "INCRBY", "u63", "64", "-9223372036854775808"),
		cmd("BITFIELD", "w", "SET", "i1", "3", "1", "GET", "i1", "3", "SET", "u1", "3", "5", "OVERFLOW", "SAT", "SET", "i1", "5", "-5", "GET", "u1", "5", "INCRBY", "i1", "5", "3"),
		cmd("GET", "w"),
		// Unaligned fields across bytes, reads past the end read zeros.
		cmd("SET", "s", "\xff\x00\xaa\x55"),
		cmd("BITFIELD_RO", "s", "GET", "u7", "3", "GET", "i13", "5", "GET", "u63", "1", "GET", "i64", "0", "GET", "u8", "100000", "GET", "i9", "28"),
		cmd("BITFIELD", "s", "INCRBY", "u7", "3", "-3", "INCRBY", "i13", "5", "4097", "GET", "u32", "0"),
		// The grown string reaches the farthest bit written, even when a
		// FAIL overflow writes nothing.
		cmd("BITFIELD", "grow", "OVERFLOW", "FAIL", "SET", "u2", "1000", "7"), cmd("STRLEN", "grow"), cmd("GET", "grow"),
		cmd("BITFIELD", "grow", "SET", "i64", "8000", "-2"), cmd("STRLEN", "grow"),
		// Errors: the first wrong argument, before the key is touched.
		cmd("BITFIELD", "e", "GET", "u64", "0"), cmd("BITFIELD", "e", "GET", "i65", "0"), cmd("BITFIELD", "e", "GET", "i0", "0"),
		cmd("BITFIELD", "e", "GET", "I8", "0"), cmd("BITFIELD", "e", "GET", "x8", "0"), cmd("BITFIELD", "e", "GET", "i", "0"),
		cmd("BITFIELD", "e", "GET", "i08", "0"), cmd("BITFIELD", "e", "GET", "i+8", "0"), cmd("BITFIELD", "e", "GET", "", "0"),
		cmd("BITFIELD", "e", "GET", "u-1", "0"), cmd("BITFIELD", "e", "GET", "i8\x00zz", "0"),
		cmd("BITFIELD", "e", "GET", "u8", "-1"), cmd("BITFIELD", "e", "GET", "u8", "x"), cmd("BITFIELD", "e", "GET", "u8", "#"),
		cmd("BITFIELD", "e", "GET", "u8", "#-1"), cmd("BITFIELD", "e", "GET", "u8", "8388607"), cmd("BITFIELD", "e", "GET", "u8", "8388608"),
		cmd("BITFIELD", "e", "GET", "u8", "#1048575"), cmd("BITFIELD", "e", "GET", "u8", "#1048576"),
		cmd("BITFIELD", "e", "GET", "i64", "#1152921504606846976"), cmd("BITFIELD", "e", "GET", "i64", "#9223372036854775807"),
		cmd("BITFIELD", "e", "GET", "u8", "99999999999999999999"), cmd("BITFIELD", "e", "GET", "u8", " 1"), cmd("BITFIELD", "e", "GET", "u8", "01"),
		cmd("BITFIELD", "e", "SET", "u8", "0", "x"), cmd("BITFIELD", "e", "SET", "u8", "0", "1.5"), cmd("BITFIELD", "e", "INCRBY", "u8", "0", "99999999999999999999"),
		cmd("BITFIELD", "e", "SET", "u8", "0"), cmd("BITFIELD", "e", "GET", "u8"), cmd("BITFIELD", "e", "INCRBY", "u8", "0"),
		cmd("BITFIELD", "e", "OVERFLOW"), cmd("BITFIELD", "e", "OVERFLOW", "NOPE", "GET", "u8", "0"), cmd("BITFIELD", "e", "NOPE"),
		cmd("BITFIELD", "e", "GET", "u8", "0", "SET", "u8", "0"), cmd("BITFIELD", "e", "SET", "u8", "0", "1", "BOGUS", "x"),
		cmd("BITFIELD", "e", "OVERFLOW", "SAT"), cmd("EXISTS", "e"),
		cmd("BITFIELD", "e", "SET", "u8", "8388607", "1", "GET", "u8", "8388607"), cmd("STRLEN", "e"),
		cmd("BITFIELD", "e2", "SET", "i64", "8388607", "-1"), cmd("STRLEN", "e2"),
		cmd("BITFIELD_RO", "e", "SET", "u8", "0", "1"), cmd("BITFIELD_RO", "e", "INCRBY", "u8", "0", "1"),
		cmd("BITFIELD_RO", "e", "OVERFLOW", "FAIL", "GET", "u8", "0"), cmd("BITFIELD_RO", "e", "GET", "u8", "0", "INCRBY", "u8", "x", "1"),
		cmd("BITFIELD_RO", "e", "OVERFLOW", "x"), cmd("BITFIELD_RO", "nokey", "SET", "u8", "0", "1"),
		cmd("RPUSH", "list", "a"), cmd("BITFIELD", "list", "GET", "u8", "0"), cmd("BITFIELD", "list", "SET", "u8", "0", "1"),
		cmd("BITFIELD_RO", "list", "GET", "u8", "0"), cmd("BITFIELD", "list", "GET", "u64", "0"), cmd("BITFIELD", "list"),
		cmd("BITFIELD"), cmd("BITFIELD_RO"),
		// An integer-encoded string value.
		cmd("SET", "num", "12345"), cmd("BITFIELD", "num", "GET", "u8", "0", "SET", "u8", "0", "50", "GET", "u16", "8"), cmd("GET", "num"),
		cmd("SET", "ttl", "x", "EX", "100"), cmd("BITFIELD", "ttl", "SET", "u8", "0", "65"), ttl("TTL", "ttl"),
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 300; i++ {
		args := []string{"BITFIELD", "r"}
		for k := 0; k < 1+rng.IntN(4); k++ {
			if rng.IntN(4) == 0 {
				args = append(args, "OVERFLOW", []string{"WRAP", "SAT", "FAIL"}[rng.IntN(3)])
			}
			typ := "i" + strconv.Itoa(1+rng.IntN(64))
			if rng.IntN(2) == 0 {
				typ = "u" + strconv.Itoa(1+rng.IntN(63))
			}
			off := strconv.Itoa(rng.IntN(80))
			if rng.IntN(5) == 0 {
				off = "#" + strconv.Itoa(rng.IntN(4))
			}
			v := strconv.FormatInt(int64(rng.Uint64()), 10)
			if rng.IntN(2) == 0 {
				v = strconv.Itoa(rng.IntN(600) - 300)
			}
			switch rng.IntN(3) {
			case 0:
				args = append(args, "GET", typ, off)
			case 1:
				args = append(args, "SET", typ, off, v)
			default:
				args = append(args, "INCRBY", typ, off, v)
			}
		}
		script = append(script, cmd(args...))
	}
	script = append(script, cmd("GET", "r"))
	runDifferential(t, ours, ref, script)

	// RESP3: a FAIL overflow is the RESP3 null.
	a, b := ours.raw(t), ref.raw(t)
	a.do("HELLO", "3")
	b.do("HELLO", "3")
	s := []string{"BITFIELD", "r3", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9", "GET", "u2", "0"}
	if got, want := a.do(s...), b.do(s...); got != want {
		t.Errorf("RESP3 %q:\n ours  %q\n redis %q", s, got, want)
	}
}

// go-redis's BitField and BitFieldRO against a node process.
func TestBitfieldGoRedis(t *testing.T) {
	ctx := context.Background()
	c := startNode(t).client(t)
	got, err := c.BitField(ctx, "gr", "SET", "i8", 0, 100, "INCRBY", "i8", 0, 100, "GET", "u4", 0).Result()
	if err != nil || len(got) != 3 || got[0] != 0 || got[1] != -56 || got[2] != 12 {
		t.Fatalf("BitField = %v, %v", got, err)
	}
	ro, err := c.BitFieldRO(ctx, "gr", "u8", "0", "i8", "#0").Result()
	if err != nil || len(ro) != 2 || ro[0] != 200 || ro[1] != -56 {
		t.Fatalf("BitFieldRO = %v, %v", ro, err)
	}
	// A FAIL overflow is a nil element, which go-redis reads as 0.
	res, err := c.Do(ctx, "BITFIELD", "gr", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "100").Slice()
	if err != nil || len(res) != 1 || res[0] != nil {
		t.Fatalf("FAIL overflow = %#v, %v", res, err)
	}
	if err := c.Do(ctx, "BITFIELD_RO", "gr", "SET", "u8", "0", "1").Err(); err == nil || err.Error() != "ERR BITFIELD_RO only supports the GET subcommand" {
		t.Fatalf("BITFIELD_RO SET: %v", err)
	}
}
