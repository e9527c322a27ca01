package longdouble

import (
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// strtoldGrammar is C strtold's grammar (C locale), anchored: string2ld
// wants all of the input to be one number.
var strtoldGrammar = regexp.MustCompile(`^[+-]?(?i:inf|infinity|nan|0x([0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)(p[+-]?[0-9]+)?|([0-9]+\.?[0-9]*|\.[0-9]+)(e[+-]?[0-9]+)?)$`)

// refAccepts is the reference for which inputs string2ld accepts: the
// grammar, no NaN, under MAX_LONG_DOUBLE_CHARS, no leading space, and a
// magnitude that neither overflows the extended format (about 1.19e4932)
// nor underflows to zero (below about 1.8e-4951, half the smallest
// subnormal). ok is false when the reference cannot tell cheaply (values
// within a factor 10 of the limits).
func refAccepts(s string) (accept, sure bool) {
	if len(s) >= maxLongDoubleChars || !strtoldGrammar.MatchString(s) {
		return false, true
	}
	body := strings.ToLower(strings.TrimLeft(s, "+-"))
	switch body {
	case "nan":
		return false, true
	case "inf", "infinity":
		return true, true
	}
	body = bigLiteral(body)
	f, _, err := big.ParseFloat(body, 0, 256, big.ToNearestEven)
	if err != nil {
		return false, false
	}
	if f.IsInf() {
		return false, true // beyond even big.Float's exponent range
	}
	if f.Sign() == 0 {
		// A true zero, or an underflow of big.Float's exponent range.
		mant := body
		if i := strings.IndexAny(mant, "ep"); i >= 0 && !strings.HasPrefix(mant, "0x") || strings.HasPrefix(mant, "0x") && strings.Contains(mant, "p") {
			mant = mant[:strings.LastIndexAny(mant, "ep")]
		}
		return strings.Trim(strings.TrimPrefix(mant, "0x"), "0.") == "", true
	}
	exp := f.MantExp(nil) // |f| in [2^(exp-1), 2^exp)
	switch {
	case exp > ldMaxExp+4 || exp < -ldDenormShift-4:
		return false, true
	case exp < ldMaxExp-4 && exp > -ldDenormShift+4:
		return true, true
	}
	return false, false
}

// bigLiteral is a strtold literal (lower case) as math/big reads it: a hex
// mantissa needs an exponent, and no trailing point.
func bigLiteral(s string) string {
	if strings.HasPrefix(strings.TrimLeft(s, "+-"), "0x") && !strings.Contains(s, "p") {
		s += "p0"
	}
	return strings.Replace(s, ".p", "p", 1)
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1", "1.5\x00x", "0x1p-16445", "1e4932", "1.18e4932", "3e-4951", "inf", "nan", " 1", "1e", "0x", ".5", "5."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 300 {
			return
		}
		v, ok := Parse([]byte(s))
		want, sure := refAccepts(s)
		if sure && ok != want {
			t.Fatalf("Parse(%q) ok=%v; reference %v", s, ok, want)
		}
		if !ok || v.IsInf() {
			return
		}
		// Where a double holds it and %.17Lf shows every digit that counts,
		// the value agrees with math/big's.
		x, _ := strconv.ParseFloat(string(AppendHuman(nil, v)), 64)
		r, _, err := big.ParseFloat(bigLiteral(strings.TrimSuffix(strings.ToLower(s), ".")), 0, 256, big.ToNearestEven)
		if err != nil {
			return
		}
		y, _ := r.Float64()
		if a := math.Abs(y); a >= 1 && a < 1e15 && math.Abs(x-y) > 1e-15*a {
			t.Fatalf("Parse(%q) = %v; reference %v", s, x, y)
		}
	})
}
