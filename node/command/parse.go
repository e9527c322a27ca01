package command

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/node/keyspace"
	"github.com/shoal-dev/shoal/node/keyspace/longdouble"
)

// The number parsers of the node, in one place. Each follows the Redis
// function whose rules a client can see. All but the cursor read the whole
// argument: a zero byte, a space or any trailing byte makes it "not a
// number" (Redis 7.0.15 checks the end pointer against the length).
//
//	parseLongLong      string2ll   integers (INCRBY, LRANGE, counts, ...);
//	                               c.ParseInt, c.ParseInt32 (C int: DB indexes)
//	parseDouble        strtod      getDoubleFromObject (ZADD, ZINCRBY, ...)
//	longdouble.Parse   string2ld   INCRBYFLOAT, HINCRBYFLOAT, c.ParseTimeout
//	c.ParseTimeoutMillis string2ll timeouts in ms (WAIT, CLIENT PAUSE)
//	parseScanCursor    strtoul     SCAN-family cursors: a C string, so it
//	                               stops at a zero byte as Redis does
//
// The keyspace's copy of string2ll is keyspace/internal/number (values
// read as numbers: INCR on a stored string, intset members).

// eqFold compares an argument with a lower-case keyword without allocating.
func EqFold(arg []byte, lower string) bool {
	if len(arg) != len(lower) {
		return false
	}
	for i := 0; i < len(arg); i++ {
		c := arg[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// parseLongLong is Redis's string2ll: a canonical signed 64-bit decimal
// (no '+', no leading zeros, no spaces, at most 20 bytes).

// ErrOutOfInt32 is getIntFromObjectOrReply's error for an integer outside
// a C int.
const ErrOutOfInt32 = "ERR value is out of range, value must between -2147483648 and 2147483647"

// ParseInt32 parses an integer argument that Redis reads as a C int
// (getIntFromObjectOrReply: SELECT, MOVE, COPY ... DB), replying its
// errors: msg when not empty, otherwise Redis's defaults.
func (c *Ctx) ParseInt32(arg []byte, msg string) (int64, bool) {
	n, ok := keyspace.ParseInt(arg)
	switch {
	case ok && n == int64(int32(n)):
		return n, true
	case msg != "":
		c.Error(msg)
	case ok:
		c.Error(ErrOutOfInt32)
	default:
		c.Error(ErrNotInteger)
	}
	return 0, false
}

// parseDouble is Redis's getDoubleFromObject: C strtod (decimal or hex,
// "inf"/"infinity") over the whole input, which must not start with white
// space; NaN, an overflow to infinity and an underflow to zero are not
// numbers.
func ParseDouble(arg []byte) (float64, bool) {
	if f, ok := smallInteger(arg); ok {
		return f, true
	}
	lit, ok := strtodLiteral(arg)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false // ErrRange: strtod's HUGE_VAL with ERANGE
	}
	if f == 0 && hasNonZeroDigit(arg) {
		return 0, false // underflow to zero: ERANGE
	}
	return f, true
}

// smallInteger is the common case of ParseDouble without strtod's
// grammar: an optional sign and 1 to 15 decimal digits, a value below
// 2^53 that strtod converts exactly (a minus zero included).
func smallInteger(arg []byte) (float64, bool) {
	digits, neg := arg, false
	if len(digits) > 0 && (digits[0] == '-' || digits[0] == '+') {
		neg = digits[0] == '-'
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 15 {
		return 0, false
	}
	var n int64
	for _, d := range digits {
		if d < '0' || d > '9' {
			return 0, false
		}
		n = n*10 + int64(d-'0')
	}
	f := float64(n)
	if neg {
		f = -f
	}
	return f, true
}

// strtodLiteral checks that arg is exactly one number of C strtod's
// grammar and returns it in Go's (a hex mantissa needs an exponent).
func strtodLiteral(arg []byte) (string, bool) {
	i := 0
	if i < len(arg) && (arg[i] == '+' || arg[i] == '-') {
		i++
	}
	rest := arg[i:]
	switch {
	case EqFold(rest, "inf"), EqFold(rest, "infinity"):
		return string(arg[:i]) + "inf", true
	case len(rest) >= 2 && rest[0] == '0' && rest[1]|0x20 == 'x':
		n, exp := scanMantissa(rest[2:], isHexDigitByte), 0
		if n < 0 {
			return "", false
		}
		if j := 2 + n; j < len(rest) {
			if rest[j]|0x20 != 'p' || !allExponent(rest[j+1:]) {
				return "", false
			}
			exp = 1
		}
		if exp == 0 {
			return string(arg) + "p0", true
		}
		return string(arg), true
	}
	n := scanMantissa(rest, isDigitByte)
	if n < 0 {
		return "", false
	}
	if n < len(rest) && (rest[n]|0x20 != 'e' || !allExponent(rest[n+1:])) {
		return "", false
	}
	return string(arg), true
}

// scanMantissa scans digits [. digits] with at least one digit and
// returns its length, or -1.
func scanMantissa(s []byte, digit func(byte) bool) int {
	i, digits := 0, 0
	for ; i < len(s) && digit(s[i]); i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && digit(s[i]); i++ {
			digits++
		}
	}
	if digits == 0 {
		return -1
	}
	return i
}

// allExponent reports whether s is [sign] decimal digits, all of s.
func allExponent(s []byte) bool {
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if !isDigitByte(c) {
			return false
		}
	}
	return true
}

func isDigitByte(c byte) bool { return '0' <= c && c <= '9' }

func isHexDigitByte(c byte) bool { return isDigitByte(c) || ('a' <= c|0x20 && c|0x20 <= 'f') }

// hasNonZeroDigit reports whether a number's mantissa has a digit other
// than 0 (so a zero result is an underflow).
func hasNonZeroDigit(arg []byte) bool {
	hex := false
	for i, c := range arg {
		switch {
		case c == 'x' || c == 'X':
			hex = true
		case (c|0x20 == 'e' && !hex) || (c|0x20 == 'p' && hex):
			return false
		case c >= '1' && c <= '9', hex && i > 1 && isHexDigitByte(c) && c != '0':
			return true
		}
	}
	return false
}

// parseScanCursor is Redis's cursor parsing: C strtoul over the argument
// as a C string. A leading space is refused; the number ends at a zero
// byte; '+' and '-' are accepted (a negative cursor wraps around, as
// strtoul's); an empty string is cursor 0; a value beyond 64 bits is out
// of range.
func ScanCursor(arg []byte) (uint64, bool) {
	if len(arg) > 0 && isSpaceByte(arg[0]) {
		return 0, false
	}
	for i, c := range arg {
		if c == 0 {
			arg = arg[:i]
			break
		}
	}
	if len(arg) == 0 {
		return 0, true
	}
	neg := false
	if arg[0] == '+' || arg[0] == '-' {
		neg = arg[0] == '-'
		arg = arg[1:]
	}
	if len(arg) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range arg {
		if !isDigitByte(c) {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	if neg {
		n = -n
	}
	return n, true
}

func isSpaceByte(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f'
}

// ParseTimeout is Redis 7.0's getTimeoutFromObjectOrReply in seconds:
// a long double (string2ld), times 1000 rounded up to whole milliseconds
// (so 1e-5 is 1 ms, and -0.0001 is 0, forever), negative results refused.
func (c *Ctx) ParseTimeout(arg []byte) (time.Duration, bool) {
	v, ok := longdouble.Parse(arg)
	if !ok {
		c.Error(ErrTimeoutNotFloat)
		return 0, false
	}
	ms, ok := v.MulCeil(1000)
	if !ok || ms < 0 {
		c.Error(ErrTimeoutNegative)
		return 0, false
	}
	if ms > math.MaxInt64/int64(time.Millisecond) {
		return math.MaxInt64, true
	}
	return time.Duration(ms) * time.Millisecond, true
}

// ErrTimeoutNotInteger is getTimeoutFromObjectOrReply's error for a
// timeout in milliseconds that is not an integer.
const ErrTimeoutNotInteger = "ERR timeout is not an integer or out of range"

// ParseTimeoutMillis is Redis's getTimeoutFromObjectOrReply in
// milliseconds (WAIT, CLIENT PAUSE): string2ll, negative refused. The
// duration saturates where milliseconds overflow time.Duration.
func (c *Ctx) ParseTimeoutMillis(arg []byte) (time.Duration, bool) {
	ms, ok := keyspace.ParseInt(arg)
	if !ok {
		c.Error(ErrTimeoutNotInteger)
		return 0, false
	}
	if ms < 0 {
		c.Error(ErrTimeoutNegative)
		return 0, false
	}
	return time.Duration(min(ms, math.MaxInt64/int64(time.Millisecond))) * time.Millisecond, true
}

// errorTail is an argument that ends an error message as Redis's
// addReplyErrorFormat prints it: "%s" stops at a zero byte, and the
// message's trailing CR and LF are trimmed (the others become spaces when
// the reply is written).
func ErrorTail(arg []byte) string {
	if i := bytes.IndexByte(arg, 0); i >= 0 {
		arg = arg[:i]
	}
	return strings.TrimRight(string(arg), "\r\n")
}

// ScanOptions are the parsed MATCH/COUNT/TYPE options of the SCAN family.
type ScanOptions struct {
	Match   []byte // nil: everything
	Count   int
	Type    string
	NoValue bool
}

// ParseScanCursor parses a SCAN cursor or replies "invalid cursor".
func (c *Ctx) ParseScanCursor(arg []byte) (uint64, bool) {
	n, ok := ScanCursor(arg)
	if !ok {
		c.Error("ERR invalid cursor")
		return 0, false
	}
	return n, true
}

// ParseScanOptions parses the options after the cursor (allowType for
// SCAN only), replying the error on failure.
func (c *Ctx) ParseScanOptions(args [][]byte, allowType bool) (ScanOptions, bool) {
	o := ScanOptions{Count: 10}
	for i := 0; i < len(args); i++ {
		more := i+1 < len(args)
		switch {
		case EqFold(args[i], "count") && more:
			n, ok := c.ParseInt(args[i+1])
			if !ok {
				return o, false
			}
			if n < 1 {
				c.Error(ErrSyntax)
				return o, false
			}
			if n > math.MaxInt32 {
				n = math.MaxInt32
			}
			o.Count = int(n)
			i++
		case EqFold(args[i], "match") && more:
			o.Match = args[i+1]
			if len(o.Match) == 1 && o.Match[0] == '*' {
				o.Match = nil
			}
			i++
		case allowType && EqFold(args[i], "type") && more:
			o.Type = strings.ToLower(string(args[i+1]))
			i++
		default:
			c.Error(ErrSyntax)
			return o, false
		}
	}
	return o, true
}

// ParseInt parses an integer argument or replies "value is not an integer
// or out of range".
func (c *Ctx) ParseInt(arg []byte) (int64, bool) {
	n, ok := keyspace.ParseInt(arg)
	if !ok {
		c.Error(ErrNotInteger)
	}
	return n, ok
}

// ParseFloat parses a float argument as Redis's getDoubleFromObject (no
// NaN, no spaces) or replies "value is not a valid float".
func (c *Ctx) ParseFloat(arg []byte) (float64, bool) {
	f, ok := ParseDouble(arg)
	if !ok {
		c.Error(ErrNotFloat)
	}
	return f, ok
}
