package longdouble

import (
	"bytes"
	"math"
	"math/big"
)

// The emulation: strtold's correctly rounded parsing (decimal and hex, inf,
// subnormals), correctly rounded addition, and printf("%.17Lf") with the
// trailing zeros Redis trims.

const (
	// ldPrec is the significand width of the x87 extended format.
	ldPrec = 64
	// ldMaxExp is one more than the binary exponent of the largest finite
	// value, in big.Float's convention (x = mant * 2^exp, 0.5 <= mant < 1).
	ldMaxExp = 16384
	// ldMinExp is the big.Float exponent of the smallest normal value,
	// 2^-16382.
	ldMinExp = -16381
	// ldDenormShift scales the smallest subnormal, 2^-16445, to 1.
	ldDenormShift = 16445
	// maxLongDoubleChars is Redis's MAX_LONG_DOUBLE_CHARS: longer inputs are
	// not numbers.
	maxLongDoubleChars = 5 * 1024
	// maxDecimalExp bounds decimal exponents: beyond it every non-zero
	// value overflows (about 1.19e4932 is the largest) or underflows
	// (about 3.65e-4951 the smallest).
	maxDecimalExp = 4933
	minDecimalExp = -4952
)

// Value is a finite or infinite x87 extended value. The zero Value is not
// usable; get one from Zero or Parse.
type Value struct {
	f *big.Float
}

// Zero is 0.
func Zero() Value { return Value{newLD()} }

func newLD() *big.Float {
	return new(big.Float).SetPrec(ldPrec).SetMode(big.ToNearestEven)
}

// Parse is Redis's string2ld: strtold over the whole input, which
// must not start with white space; an overflow to infinity, an underflow to
// zero and NaN are not numbers, while a literal "inf" is. A zero byte
// anywhere makes the input not a number (Redis 7.0.15 checks that strtold
// consumed all of it, so "1.5\x00x" is refused, not read as 1.5).
func Parse(s []byte) (Value, bool) {
	if len(s) == 0 || len(s) >= maxLongDoubleChars || isCSpace(s[0]) || bytes.IndexByte(s, 0) >= 0 {
		return Value{}, false
	}
	neg := false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var f *big.Float
	var ok bool
	switch {
	case len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		f, ok = parseHexFloat(s[2:])
	case len(s) > 0 && (s[0] == 'i' || s[0] == 'I' || s[0] == 'n' || s[0] == 'N'):
		// "inf" and "infinity" are numbers; NaN is refused.
		if !bytes.EqualFold(s, []byte("inf")) && !bytes.EqualFold(s, []byte("infinity")) {
			return Value{}, false
		}
		f, ok = newLD().SetInf(false), true
	default:
		f, ok = parseDecimalFloat(s)
	}
	if !ok {
		return Value{}, false
	}
	if neg {
		f.Neg(f)
	}
	return Value{f}, true
}

// isCSpace is C's isspace in the C locale.
func isCSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// scanNumber scans digits [. digits] [<expLetter> [sign] digits] over the
// whole input, with at least one mantissa digit. It returns the mantissa
// digits without leading zeros, how many of the mantissa's digits followed
// the point, and the exponent.
func scanNumber(s []byte, isDigit func(byte) bool, expLetter byte) (digits []byte, frac, exp int, ok bool) {
	i, seen, dot := 0, false, false
	for ; i < len(s); i++ {
		c := s[i]
		if isDigit(c) {
			seen = true
			if c != '0' || len(digits) > 0 {
				digits = append(digits, c)
			}
			if dot {
				frac++
			}
			continue
		}
		if c == '.' && !dot {
			dot = true
			continue
		}
		break
	}
	if !seen {
		return nil, 0, 0, false
	}
	if i < len(s) {
		if s[i]|0x20 != expLetter {
			return nil, 0, 0, false
		}
		if exp, ok = parseExponent(s[i+1:]); !ok {
			return nil, 0, 0, false
		}
	}
	return digits, frac, exp, true
}

func isDecimalDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHexDigit(c byte) bool {
	return isDecimalDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

// parseDecimalFloat parses a decimal number and rounds it to the extended
// format.
func parseDecimalFloat(s []byte) (*big.Float, bool) {
	digits, frac, exp, ok := scanNumber(s, isDecimalDigit, 'e')
	if !ok {
		return nil, false
	}
	exp -= frac
	// Trailing zeros of the digits move into the exponent.
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		exp++
	}
	if len(digits) == 0 {
		return newLD(), true
	}
	if mag := len(digits) + exp; mag > maxDecimalExp+1 || mag < minDecimalExp {
		// Overflow to HUGE_VAL or underflow to zero, both with ERANGE.
		return nil, false
	}
	mant, _ := new(big.Int).SetString(string(digits), 10)
	return roundExtended(scaled(mant, big.NewInt(10), exp))
}

// parseExponent parses [sign] digits, the whole input; absurd exponents are
// clamped far outside the format's range.
func parseExponent(s []byte) (int, bool) {
	neg := false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 {
		return 0, false
	}
	e := 0
	for _, c := range s {
		if !isDecimalDigit(c) {
			return 0, false
		}
		if e < 1<<24 {
			e = e*10 + int(c-'0')
		}
	}
	if neg {
		e = -e
	}
	return e, true
}

// parseHexFloat parses what follows "0x": hexdigits [. hexdigits]
// [p [sign] decimal digits], a binary exponent.
func parseHexFloat(s []byte) (*big.Float, bool) {
	digits, frac, exp, ok := scanNumber(s, isHexDigit, 'p')
	if !ok {
		return nil, false
	}
	if len(digits) == 0 {
		return newLD(), true
	}
	mant, _ := new(big.Int).SetString(string(digits), 16)
	exp -= 4 * frac
	if mag := mant.BitLen() + exp; mag > ldMaxExp+1 || mag < -ldDenormShift-1 {
		return nil, false
	}
	return roundExtended(scaled(mant, big.NewInt(2), exp))
}

// scaled is the exact value mant * base^exp.
func scaled(mant, base *big.Int, exp int) *big.Rat {
	r := new(big.Rat).SetInt(mant)
	if exp == 0 {
		return r
	}
	p := new(big.Rat).SetInt(new(big.Int).Exp(base, big.NewInt(int64(max(exp, -exp))), nil))
	if exp > 0 {
		return r.Mul(r, p)
	}
	return r.Quo(r, p)
}

// roundExtended rounds a positive exact value to the extended format, to
// nearest with ties to even, including the fixed-point rounding of the
// subnormal range. ok is false on overflow and on underflow to zero.
func roundExtended(r *big.Rat) (*big.Float, bool) {
	f := newLD().SetRat(r)
	exp := f.MantExp(nil)
	if exp > ldMaxExp {
		return nil, false
	}
	if exp >= ldMinExp {
		return f, true
	}
	// Subnormal: round r * 2^16445 to an integer.
	x := new(big.Rat).Mul(r, scaled(big.NewInt(1), big.NewInt(2), ldDenormShift))
	q, rem := new(big.Int).QuoRem(x.Num(), x.Denom(), new(big.Int))
	switch c := new(big.Int).Lsh(rem, 1).Cmp(x.Denom()); {
	case c > 0, c == 0 && q.Bit(0) == 1:
		q.Add(q, big.NewInt(1))
	}
	if q.Sign() == 0 {
		return nil, false
	}
	f.SetInt(q)
	f.SetMantExp(f, -ldDenormShift)
	return f, true
}

// IsInf reports whether x is infinite.
func (x Value) IsInf() bool { return x.f.IsInf() }

// Add returns a+b rounded to the extended format; ok is false
// when the sum is infinite or NaN (Redis: "increment would produce NaN or
// Infinity").
func Add(a, b Value) (Value, bool) {
	if a.f.IsInf() || b.f.IsInf() {
		return Value{}, false
	}
	sum := newLD().Add(a.f, b.f)
	if sum.MantExp(nil) > ldMaxExp {
		return Value{}, false
	}
	// The sum of two values on the subnormal grid is exact, so no second
	// rounding is needed below the normal range.
	return Value{sum}, true
}

// AppendHuman appends x as Redis's ld2string in LD_STR_HUMAN mode
// prints it: printf("%.17Lf"), trailing zeros after the point removed, the
// point too if nothing follows it, and "-0" printed as "0".
func AppendHuman(dst []byte, x Value) []byte {
	start := len(dst)
	dst = x.f.Append(dst, 'f', 17)
	if bytes.IndexByte(dst[start:], '.') >= 0 {
		for dst[len(dst)-1] == '0' {
			dst = dst[:len(dst)-1]
		}
		if dst[len(dst)-1] == '.' {
			dst = dst[:len(dst)-1]
		}
	}
	if string(dst[start:]) == "-0" {
		dst = append(dst[:start], '0')
	}
	return dst
}

// MulCeil is (long long)ceill(x * k), the product rounded to the extended
// format, as Redis turns a timeout in seconds into milliseconds (so 1e-5
// seconds is 1 ms, and -0.001, whose product is just above -1, is 0). ok
// is false when the product is infinite or outside int64, where C's
// conversion has no defined result (x86-64 gives LLONG_MIN, so Redis
// reports a negative timeout).
func (x Value) MulCeil(k int64) (int64, bool) {
	if x.f.IsInf() {
		return 0, false
	}
	p := newLD().Mul(x.f, newLD().SetInt64(k))
	n, acc := p.Int64()
	if (acc == big.Below && n == math.MaxInt64) || (acc == big.Above && n == math.MinInt64) {
		return 0, false
	}
	if acc == big.Below { // truncated toward zero from above
		if n == math.MaxInt64 {
			return 0, false
		}
		n++
	}
	return n, true
}
