package zset

import (
	"errors"
	"math"
	"strconv"
)

// Errors worded as Redis words them.
var (
	ErrNotFloat       = errors.New("ERR value is not a valid float")
	ErrNaN            = errors.New("ERR resulting score is not a number (NaN)")
	ErrMinMaxNotFloat = errors.New("ERR min or max is not a float")
	ErrLexRange       = errors.New("ERR min or max not valid string range item")
)

// ParseScore parses a score, increment or weight argument exactly as Redis's
// string2d does: the whole argument must be a C strtod number (decimal, hex,
// inf/infinity), with no leading space, not NaN, and not overflowing or
// underflowing to zero.
func ParseScore(b []byte) (float64, bool) {
	if len(b) == 0 || isSpace(b[0]) {
		return 0, false
	}
	v, n, erange := strtod(b)
	if n != len(b) || math.IsNaN(v) || (erange && (math.IsInf(v, 0) || v == 0)) {
		return 0, false
	}
	return v, true
}

// AppendScore appends a score as Redis 7.0 prints doubles (printf "%.17g",
// with "inf" and "-inf").
func AppendScore(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	return strconv.AppendFloat(dst, f, 'g', 17, 64)
}

// FormatScore is AppendScore into a new string.
func FormatScore(f float64) string { return string(AppendScore(nil, f)) }

func isSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHexDigit(c byte) bool {
	return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

// hasPrefixFold reports whether b starts with the lower-case ASCII word w,
// ignoring case.
func hasPrefixFold(b []byte, w string) bool {
	if len(b) < len(w) {
		return false
	}
	for i := 0; i < len(w); i++ {
		if b[i]|0x20 != w[i] {
			return false
		}
	}
	return true
}

// strtod mimics C's strtod on b: it returns the value of the longest prefix
// that is a number, the length of that prefix (0 when there is none, like an
// end pointer left at the start), and whether the conversion over- or
// underflowed (errno ERANGE).
func strtod(b []byte) (v float64, n int, erange bool) {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	start := i
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	rest := b[i:]
	switch {
	case hasPrefixFold(rest, "inf"):
		end := i + 3
		if hasPrefixFold(rest, "infinity") {
			end = i + 8
		}
		if neg {
			return math.Inf(-1), end, false
		}
		return math.Inf(1), end, false
	case hasPrefixFold(rest, "nan"):
		end := i + 3
		if end < len(b) && b[end] == '(' {
			j := end + 1
			for j < len(b) && (isDigit(b[j]) || (b[j]|0x20 >= 'a' && b[j]|0x20 <= 'z') || b[j] == '_') {
				j++
			}
			if j < len(b) && b[j] == ')' {
				end = j + 1
			}
		}
		return math.NaN(), end, false
	case len(rest) >= 3 && rest[0] == '0' && rest[1]|0x20 == 'x' && (isHexDigit(rest[2]) || (rest[2] == '.' && len(rest) > 3 && isHexDigit(rest[3]))):
		return hexFloat(b, i, neg)
	}
	// Decimal: digits [. digits] [e [sign] digits], at least one digit.
	j := i
	digits, nonzero := 0, false
	for j < len(b) && isDigit(b[j]) {
		nonzero = nonzero || b[j] != '0'
		j++
		digits++
	}
	if j < len(b) && b[j] == '.' {
		j++
		for j < len(b) && isDigit(b[j]) {
			nonzero = nonzero || b[j] != '0'
			j++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0, false
	}
	j = exponent(b, j, 'e')
	f, err := strconv.ParseFloat(string(b[start:j]), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, 0, false
	}
	erange = errors.Is(err, strconv.ErrRange) || (f == 0 && nonzero) || isSubnormal(f)
	return f, j, erange
}

// exponent returns the end of an optional exponent part starting at j
// (marker, optional sign, at least one digit), or j when there is none.
func exponent(b []byte, j int, marker byte) int {
	if j >= len(b) || b[j]|0x20 != marker {
		return j
	}
	k := j + 1
	if k < len(b) && (b[k] == '+' || b[k] == '-') {
		k++
	}
	if k >= len(b) || !isDigit(b[k]) {
		return j
	}
	for k < len(b) && isDigit(b[k]) {
		k++
	}
	return k
}

// hexFloat parses a C hexadecimal float ("0x1.8p3", "0x10") whose "0x" is at
// b[i:].
func hexFloat(b []byte, i int, neg bool) (float64, int, bool) {
	j := i + 2
	nonzero := false
	for j < len(b) && isHexDigit(b[j]) {
		nonzero = nonzero || b[j] != '0'
		j++
	}
	if j < len(b) && b[j] == '.' {
		j++
		for j < len(b) && isHexDigit(b[j]) {
			nonzero = nonzero || b[j] != '0'
			j++
		}
	}
	end := exponent(b, j, 'p')
	s := string(b[i:end])
	if end == j {
		s += "p0" // Go requires the binary exponent C makes optional
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, 0, false
	}
	if neg {
		f = -f
	}
	erange := errors.Is(err, strconv.ErrRange) || (f == 0 && nonzero) || isSubnormal(f)
	return f, end, erange
}

func isSubnormal(f float64) bool {
	return f != 0 && math.Abs(f) < 0x1p-1022
}

// Strtod is C's strtod on b, for callers that keep C's looser rules (SORT
// reads weights with it, accepting leading space): the value of the longest
// prefix that is a number, that prefix's length (0 when there is none) and
// whether the conversion set errno to ERANGE.
func Strtod(b []byte) (v float64, n int, erange bool) { return strtod(b) }
