package hash

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestHINCRBYFLOATMatchesRedisGolden replays testdata/incrbyfloat.golden,
// recorded from redis-server 7.0.15 on x86-64: long double parsing (decimal,
// hex, inf, NaN, overflow, underflow, subnormals), addition and the
// "%.17Lf" printing with trailing zeros removed.
func TestHINCRBYFLOATMatchesRedisGolden(t *testing.T) {
	f, err := os.Open("testdata/incrbyfloat.golden")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 64*1024)
	lines := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, "\t")
		if len(parts) != 3 {
			t.Fatalf("bad golden line %q", line)
		}
		stored, incr, want := parts[0], parts[1], parts[2]
		lines++
		h := New()
		lim := DefaultLimits()
		if stored != "(none)" {
			h.Set([]byte("f"), []byte(stored), lim)
		}
		got := hincrbyfloat(h, []byte(incr), lim)
		if got != want {
			t.Errorf("HSET f %q; HINCRBYFLOAT f %q = %.200q, Redis says %.200q", stored, incr, got, want)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if lines < 100 {
		t.Fatalf("only %d golden lines", lines)
	}
}

// hincrbyfloat runs HINCRBYFLOAT as the command does and returns the reply
// or the error text.
func hincrbyfloat(h *Hash, incr []byte, lim Limits) string {
	in, err := ParseFloatIncrement(incr)
	if err != nil {
		return err.Error()
	}
	res, err := h.IncrByFloat([]byte("f"), in, lim)
	if err != nil {
		return err.Error()
	}
	if v, _ := h.Get([]byte("f")); string(v) != string(res) {
		return "stored " + string(v) + " differs from reply " + string(res)
	}
	return string(res)
}
