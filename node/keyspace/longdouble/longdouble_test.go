package longdouble

import (
	"strings"
	"testing"
)

func human(t *testing.T, s string) string {
	t.Helper()
	v, ok := Parse([]byte(s))
	if !ok {
		return "invalid"
	}
	return string(AppendHuman(nil, v))
}

func TestParseAndPrintAsString2ldAndLdStrHuman(t *testing.T) {
	cases := []struct{ in, want string }{
		{"10.5", "10.5"}, {"5.0e3", "5000"}, {"1000.1", "1000.09999999999999998"},
		{"0x1.8p1", "3"}, {"-0", "0"}, {"-1e-30", "0"}, {".5", "0.5"}, {"5.", "5"},
		{"+3", "3"}, {"1e4933", "invalid"}, {"1e-5000", "invalid"}, {"nan", "invalid"},
		{" 1", "invalid"}, {"1 ", "invalid"}, {"1e", "invalid"}, {"0x", "invalid"}, {"", "invalid"},
		{"3.0000000000000001e+20", "300000000000000009984"},
	}
	for _, c := range cases {
		if got := human(t, c.in); got != c.want {
			t.Errorf("%q prints as %q, Redis 7.0.15 prints %q", c.in, got, c.want)
		}
	}
}

func TestInfinityParsesButDoesNotAdd(t *testing.T) {
	for _, s := range []string{"inf", "-INF", "Infinity"} {
		v, ok := Parse([]byte(s))
		if !ok || !v.IsInf() {
			t.Fatalf("%q: ok %v", s, ok)
		}
		if _, ok := Add(v, Zero()); ok {
			t.Fatalf("%q + 0 is finite", s)
		}
	}
}

func TestAddRoundsInExtendedPrecision(t *testing.T) {
	cases := []struct{ a, b, want string }{
		{"0.1", "0.2", "0.3"}, // float64 would give 0.30000000000000004
		{"1e308", "1e308", "199999999999999999993371759311691291321120199694831134415594095989843469737676123744200253843777078640893494450108026446304269499187921167194841628860392837535918200039206381557326219209014213335878306791577877829121087126122536729803237260434173178506889763247582601711514636284849020905456510092687857156096"},
		{"9223372036854775807", "1", "9223372036854775808"},
		{"1.18973149535723176502e+4932", "1e4932", "overflow"},
	}
	for _, c := range cases {
		a, _ := Parse([]byte(c.a))
		b, _ := Parse([]byte(c.b))
		got := "overflow"
		if s, ok := Add(a, b); ok {
			got = string(AppendHuman(nil, s))
		}
		if got != c.want {
			t.Errorf("%s + %s = %.80q, want %.80q", c.a, c.b, got, c.want)
		}
	}
}

func TestLongDoubleWithAZeroByteIsNotANumber(t *testing.T) {
	for _, s := range []string{"12\x0034", "1.5\x00x", "1\x00", "\x001", "\x00"} {
		if ld, ok := Parse([]byte(s)); ok {
			t.Errorf("%q parsed as %s", s, AppendHuman(nil, ld))
		}
	}
}

func TestLongDoubleInputOfMaxCharsIsRefused(t *testing.T) {
	long := "1" + strings.Repeat("0", maxLongDoubleChars-1)
	if _, ok := Parse([]byte(long)); ok {
		t.Fatalf("a %d-character number was accepted", len(long))
	}
	if _, ok := Parse([]byte(long[:maxLongDoubleChars-1] + "e-4000")); ok {
		t.Fatal("refusal is by length, even when the value would fit")
	}
	if _, ok := Parse([]byte("0." + strings.Repeat("0", 4000) + "1e4000")); !ok {
		t.Fatal("a long input under the limit is a number")
	}
}

func TestMulCeilIsRedisTimeoutConversion(t *testing.T) {
	cases := []struct {
		in   string
		ms   int64
		isOK bool
	}{
		{"1", 1000, true}, {"0.5", 500, true}, {"1e-5", 1, true}, {"-0.0001", 0, true},
		{"0x10", 16000, true}, {"9.2e15", 9200000000000000000, true}, {"9.3e15", 0, false},
		{"inf", 0, false}, {"-1e300", 0, false}, {"-2", -2000, true}, {"0.0015", 2, true},
		{"-0.001", 0, true}, {"-0.0011", -1, true}, {"1e-400", 1, true},
	}
	for _, c := range cases {
		v, ok := Parse([]byte(c.in))
		if !ok {
			t.Fatalf("%q does not parse", c.in)
		}
		ms, ok := v.MulCeil(1000)
		if ms != c.ms || ok != c.isOK {
			t.Errorf("%q * 1000 = %d,%v want %d,%v", c.in, ms, ok, c.ms, c.isOK)
		}
	}
}
