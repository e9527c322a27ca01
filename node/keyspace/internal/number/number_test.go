package number

import (
	"math/big"
	"regexp"
	"testing"
)

// canonical is string2ll's grammar written as a regular expression.
var canonical = regexp.MustCompile(`^(0|-?[1-9][0-9]*)$`)

// refLongLong is a reference for string2ll: the grammar, then the range
// checked in arbitrary precision.
func refLongLong(b []byte) (int64, bool) {
	if len(b) > 20 || !canonical.Match(b) {
		return 0, false
	}
	n, _ := new(big.Int).SetString(string(b), 10)
	if !n.IsInt64() {
		return 0, false
	}
	return n.Int64(), true
}

func TestParseLongLongCases(t *testing.T) {
	for in, want := range map[string]bool{
		"0": true, "-0": false, "01": false, "+1": false, " 1": false, "1 ": false, "42\x00": false,
		"9223372036854775807": true, "9223372036854775808": false, "-9223372036854775808": true,
		"-9223372036854775809": false, "": false, "-": false, "123456789012345678901": false,
	} {
		if _, ok := ParseLongLong([]byte(in)); ok != want {
			t.Errorf("ParseLongLong(%q) ok=%v, want %v", in, ok, want)
		}
	}
}

func FuzzParseLongLong(f *testing.F) {
	for _, s := range []string{"0", "-1", "42\x00", "9223372036854775807", "-9223372036854775808", "+5", "007", "18446744073709551616"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := ParseLongLong(b)
		want, wantOK := refLongLong(b)
		if got != want || ok != wantOK {
			t.Fatalf("ParseLongLong(%q) = %d,%v; reference %d,%v", b, got, ok, want, wantOK)
		}
	})
}
