package zset

import (
	"bytes"
	"math"
)

// ScoreRange is a ZRANGEBYSCORE interval (Redis's zrangespec).
type ScoreRange struct {
	Min, Max     float64
	MinEx, MaxEx bool // "(" prefix: bound excluded
}

// ParseScoreRange parses min and max as ZRANGEBYSCORE, ZCOUNT and
// ZREMRANGEBYSCORE do: an optional "(" then a C strtod number; as in Redis,
// parsing stops at a NUL byte, an empty number is 0, leading spaces and
// overflow to infinity are accepted, NaN is not.
func ParseScoreRange(min, max []byte) (ScoreRange, error) {
	var r ScoreRange
	var ok bool
	if r.Min, r.MinEx, ok = parseScoreBound(min); !ok {
		return r, ErrMinMaxNotFloat
	}
	if r.Max, r.MaxEx, ok = parseScoreBound(max); !ok {
		return r, ErrMinMaxNotFloat
	}
	return r, nil
}

func parseScoreBound(b []byte) (v float64, ex bool, ok bool) {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i] // C string
	}
	if len(b) > 0 && b[0] == '(' {
		ex = true
		b = b[1:]
	}
	v, n, _ := strtod(b)
	if n != len(b) || math.IsNaN(v) {
		return 0, false, false
	}
	return v, ex, true
}

func (r *ScoreRange) gteMin(v float64) bool {
	if r.MinEx {
		return v > r.Min
	}
	return v >= r.Min
}

func (r *ScoreRange) lteMax(v float64) bool {
	if r.MaxEx {
		return v < r.Max
	}
	return v <= r.Max
}

// empty reports ranges that can never match.
func (r *ScoreRange) empty() bool {
	return r.Min > r.Max || (r.Min == r.Max && (r.MinEx || r.MaxEx))
}

// lexKind tells a string bound from the "-" and "+" infinities.
type lexKind int8

const (
	lexValue lexKind = iota
	lexMinusInf
	lexPlusInf
)

// LexBound is one end of a lex range: "-" , "+", "[value" or "(value".
type LexBound struct {
	kind  lexKind
	Value []byte
	Ex    bool
}

// LexRange is a ZRANGEBYLEX interval (Redis's zlexrangespec).
type LexRange struct {
	Min, Max LexBound
}

// ParseLexRange parses ZRANGEBYLEX min and max: "-", "+", "[member" or
// "(member". Bound values alias the arguments.
func ParseLexRange(min, max []byte) (LexRange, error) {
	var r LexRange
	var ok bool
	if r.Min, ok = parseLexBound(min); !ok {
		return r, ErrLexRange
	}
	if r.Max, ok = parseLexBound(max); !ok {
		return r, ErrLexRange
	}
	return r, nil
}

func parseLexBound(b []byte) (LexBound, bool) {
	if len(b) == 0 {
		return LexBound{}, false
	}
	switch b[0] {
	case '+':
		// Redis marks the infinities exclusive; it matters for "+ +".
		return LexBound{kind: lexPlusInf, Ex: true}, len(b) == 1
	case '-':
		return LexBound{kind: lexMinusInf, Ex: true}, len(b) == 1
	case '(':
		return LexBound{Value: b[1:], Ex: true}, true
	case '[':
		return LexBound{Value: b[1:]}, true
	}
	return LexBound{}, false
}

// cmpLex compares a member with a bound (sdscmplex): "-" is below and "+"
// above every member.
func cmpLex(m []byte, b *LexBound) int {
	switch b.kind {
	case lexMinusInf:
		return 1
	case lexPlusInf:
		return -1
	}
	return bytes.Compare(m, b.Value)
}

func (r *LexRange) gteMin(m []byte) bool {
	c := cmpLex(m, &r.Min)
	if r.Min.Ex {
		return c > 0
	}
	return c >= 0
}

func (r *LexRange) lteMax(m []byte) bool {
	c := cmpLex(m, &r.Max)
	if r.Max.Ex {
		return c < 0
	}
	return c <= 0
}

// empty reports ranges that can never match (min above max, or equal bounds
// with one excluded).
func (r *LexRange) empty() bool {
	var c int
	switch {
	case r.Min.kind == r.Max.kind && r.Min.kind != lexValue:
		c = 0
	case r.Min.kind == lexPlusInf || r.Max.kind == lexMinusInf:
		c = 1
	case r.Min.kind == lexMinusInf || r.Max.kind == lexPlusInf:
		c = -1
	default:
		c = bytes.Compare(r.Min.Value, r.Max.Value)
	}
	return c > 0 || (c == 0 && (r.Min.Ex || r.Max.Ex))
}

// RankRange sanitises ZRANGE-style start and stop indexes (negative counts
// from the end) for a set of length n, as Redis does; ok is false when the
// range is empty.
func RankRange(start, stop, n int) (int, int, bool) {
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= n {
		return 0, 0, false
	}
	if stop >= n {
		stop = n - 1
	}
	return start, stop, true
}
