package hash

import (
	"errors"
	"math"
	"strconv"

	"github.com/shoal-dev/shoal/node/keyspace/internal/number"
	"github.com/shoal-dev/shoal/node/keyspace/longdouble"
)

// Errors worded as Redis words them.
var (
	ErrHashValueNotInteger = errors.New("ERR hash value is not an integer")
	ErrOverflow            = errors.New("ERR increment or decrement would overflow")
	ErrHashValueNotFloat   = errors.New("ERR hash value is not a float")
	ErrNotFloat            = errors.New("ERR value is not a valid float")
	ErrIncrNaNOrInfinity   = errors.New("ERR value is NaN or Infinity")
	ErrResultNaNOrInfinity = errors.New("ERR increment would produce NaN or Infinity")
)

// parseInt is Redis's string2ll.
func parseInt(b []byte) (int64, bool) { return number.ParseLongLong(b) }

// IncrBy is HINCRBY: it adds incr to the integer in field (0 when absent)
// and returns the new value.
func (h *Hash) IncrBy(field []byte, incr int64, lim Limits) (int64, error) {
	var old int64
	if v, ok := h.Get(field); ok {
		n, ok := parseInt(v)
		if !ok {
			return 0, ErrHashValueNotInteger
		}
		old = n
	}
	if (incr < 0 && old < 0 && incr < math.MinInt64-old) ||
		(incr > 0 && old > 0 && incr > math.MaxInt64-old) {
		return 0, ErrOverflow
	}
	n := old + incr
	var buf [20]byte
	h.Set(field, strconv.AppendInt(buf[:0], n, 10), lim)
	return n, nil
}

// FloatIncrement is a parsed HINCRBYFLOAT increment, a C long double.
type FloatIncrement struct {
	ld longdouble.Value
}

// ParseFloatIncrement parses HINCRBYFLOAT's increment argument as Redis
// does before it looks the key up.
func ParseFloatIncrement(arg []byte) (FloatIncrement, error) {
	ld, ok := longdouble.Parse(arg)
	if !ok {
		return FloatIncrement{}, ErrNotFloat
	}
	if ld.IsInf() {
		return FloatIncrement{}, ErrIncrNaNOrInfinity
	}
	return FloatIncrement{ld}, nil
}

// IncrByFloat is HINCRBYFLOAT: it adds incr to the number in field (0 when
// absent), stores the result as Redis prints it and returns those bytes,
// which is also what a replica or the AOF gets as HSET.
func (h *Hash) IncrByFloat(field []byte, incr FloatIncrement, lim Limits) ([]byte, error) {
	old := longdouble.Zero()
	if v, ok := h.Get(field); ok {
		ld, ok := longdouble.Parse(v)
		if !ok {
			return nil, ErrHashValueNotFloat
		}
		old = ld
	}
	sum, ok := longdouble.Add(old, incr.ld)
	if !ok {
		return nil, ErrResultNaNOrInfinity
	}
	res := longdouble.AppendHuman(nil, sum)
	h.Set(field, res, lim)
	return res, nil
}
