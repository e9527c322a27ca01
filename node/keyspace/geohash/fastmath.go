package geohash

import "math"

// The fast path of sin, cos and asin (Ziv's strategy): evaluate in about
// 62 bits with a table and short polynomials (a few dozen flops), and
// return the rounded value only when the error bound cannot reach a
// rounding boundary; otherwise (well under 1% of arguments) the
// double-double path of ddmath.go decides. Both paths give the correctly
// rounded double, so the fast path never changes a result.
//
// Error analysis. After the reduction r = x - k*pi/2 (absolute error below
// k*2^-104, rejected when |r| < 2^-30 so it stays below 2^-72 relative),
// r = i/64 + d with |d| <= 1/128 and the table holds sin(i/64), cos(i/64)
// in double-double, so
//
//	sin r = S + C*d + [S*(cos d - 1) + C*(sin d - d)]
//	cos r = C - S*d + [C*(cos d - 1) - S*(sin d - d)]
//
// S + C*d (and C - S*d) is summed exactly (twoProd, twoSum); the bracket
// is below 2^-14 of the result and is summed in doubles with seven
// roundings of 2^-53 each, the truncated series (d^10/10!, d^11/11!) and
// the neglected products of the low part of d (below 2^-67) stay under
// 2^-70: the total relative error is below 2^-63. epsSinCos is twice that.
const (
	epsSinCos = 0x1p-62
	// epsAsin: the Newton step on asin carries sin's error multiplied by
	// y/(asin(y)*sqrt(1-y*y)), at most 1.44 for |y| <= asinFastMax.
	epsAsin     = 0x1p-61
	asinFastMax = 0.8
	// fastMaxArg bounds the reduction's k (|k| <= 5).
	fastMaxArg = 8.0
	// tinyArg: below it sin x, asin x round to x and cos x to 1 (the cubic
	// term is under a quarter ulp).
	tinyArg = 0x1p-28
)

// sinCosTable[i] is sin(i/64) and cos(i/64) in double-double, i/64 up to
// just past pi/4.
var sinCosTable = func() [52][2]dd {
	var t [52][2]dd
	for i := range t {
		a := float64(i) / 64
		t[i] = [2]dd{sinPoly(dd{a, 0}), cosPoly(dd{a, 0})}
	}
	return t
}()

// reduceFast is x - k*pi/2 as rh+rl and k mod 4; ok is false when the
// argument is too large or r too small for the fast path's bound.
func reduceFast(x float64) (rh, rl float64, q int, ok bool) {
	k := math.Round(x * (2 / math.Pi))
	if k == 0 {
		return x, 0, 0, true
	}
	ph := k * pio2a
	pl := math.FMA(k, pio2a, -ph)
	h := x - ph // exact (Sterbenz: x is within a factor 1.5 of k*pi/2)
	t := pl + k*pio2b
	s := twoSum(h, -t)
	if math.Abs(s.hi) < 0x1p-30 {
		return 0, 0, 0, false
	}
	return s.hi, s.lo, int(int64(k)) & 3, true
}

// splitTable is |rh| = i/64 + dh (dh exact), with d's series terms:
// sin d - d (without rl) and cos d - 1 (with rl's first-order term).
func splitTable(rh, rl float64) (i int, dh, ds, cm1 float64) {
	i = int(rh*64 + 0.5)
	dh = rh - float64(i)/64
	d2 := dh * dh
	ds = dh * d2 * (-1.0/6 + d2*(1.0/120+d2*(-1.0/5040+d2*(1.0/362880))))
	cm1 = d2*(-0.5+d2*(1.0/24+d2*(-1.0/720+d2*(1.0/40320)))) - dh*rl
	return i, dh, ds, cm1
}

// sinR is sin(rh+rl) for |rh| <= pi/4 (plus a little), as hi+lo.
func sinR(rh, rl float64) dd {
	neg := rh < 0
	if neg {
		rh, rl = -rh, -rl
	}
	i, dh, ds, cm1 := splitTable(rh, rl)
	S, C := sinCosTable[i][0], sinCosTable[i][1]
	p := twoProd(C.hi, dh)
	s := twoSum(S.hi, p.hi)
	lo := s.lo + p.lo + S.lo + S.hi*cm1 + C.hi*rl + C.lo*dh + C.hi*ds
	r := quickTwoSum(s.hi, lo)
	if neg {
		return r.neg()
	}
	return r
}

// cosR is cos(rh+rl) for |rh| <= pi/4 (plus a little), as hi+lo.
func cosR(rh, rl float64) dd {
	if rh < 0 {
		rh, rl = -rh, -rl
	}
	i, dh, ds, cm1 := splitTable(rh, rl)
	S, C := sinCosTable[i][0], sinCosTable[i][1]
	p := twoProd(S.hi, dh)
	s := twoSum(C.hi, -p.hi)
	lo := s.lo - p.lo + C.lo + C.hi*cm1 - S.hi*rl - S.lo*dh - S.hi*ds
	return quickTwoSum(s.hi, lo)
}

// sinFastDD is sin x as hi+lo within epsSinCos, for |x| <= fastMaxArg.
func sinFastDD(x float64) (dd, bool) { return sinQuarterDD(x, 0) }

// cosFastDD is cos x, that is sin(x + pi/2), as sinFastDD.
func cosFastDD(x float64) (dd, bool) { return sinQuarterDD(x, 1) }

// sinQuarterDD is sin(x + quarters*pi/2) as hi+lo within epsSinCos.
func sinQuarterDD(x float64, quarters int) (dd, bool) {
	if !(math.Abs(x) <= fastMaxArg) {
		return dd{}, false
	}
	rh, rl, q, ok := reduceFast(x)
	if !ok {
		return dd{}, false
	}
	switch (q + quarters) & 3 {
	case 0:
		return sinR(rh, rl), true
	case 1:
		return cosR(rh, rl), true
	case 2:
		return sinR(rh, rl).neg(), true
	}
	return cosR(rh, rl).neg(), true
}

// roundedIfSafe returns v rounded to a double when every value within
// eps*|v| of it rounds to the same double (round to nearest even), and
// false when v is too close to a rounding boundary (or is zero,
// subnormal or not finite).
func roundedIfSafe(v dd, eps float64) (float64, bool) {
	bits := math.Float64bits(v.hi)
	exp := bits & 0x7ff0000000000000
	if exp < 0x0400000000000000 || exp == 0x7ff0000000000000 {
		return 0, false
	}
	half := math.Float64frombits(exp) * 0x1p-53 // half an ulp of |hi|
	if bits&(1<<52-1) == 0 && v.lo != 0 && (v.lo < 0) != (v.hi < 0) {
		half /= 2 // a power of two: the gap toward zero is half as wide
	}
	if math.Abs(v.lo)+eps*math.Abs(v.hi) < half {
		return v.hi, true
	}
	return 0, false
}

// sinFast is the correctly rounded sin x when the fast path can decide.
func sinFast(x float64) (float64, bool) {
	if math.Abs(x) < tinyArg {
		return x, x != 0 // x itself; 0 keeps its sign on the slow path
	}
	v, ok := sinFastDD(x)
	if !ok {
		return 0, false
	}
	return roundedIfSafe(v, epsSinCos)
}

// cosFast is the correctly rounded cos x when the fast path can decide.
func cosFast(x float64) (float64, bool) {
	if math.Abs(x) < tinyArg {
		return 1, true
	}
	v, ok := cosFastDD(x)
	if !ok {
		return 0, false
	}
	return roundedIfSafe(v, epsSinCos)
}

// asinFast is the correctly rounded asin y when the fast path can decide.
func asinFast(y float64) (float64, bool) {
	if math.Abs(y) < tinyArg {
		return y, y != 0
	}
	v, ok := asinFastDD(y)
	if !ok {
		return 0, false
	}
	return roundedIfSafe(v, epsAsin)
}

// asinFastDD is asin y as hi+lo within epsAsin, for |y| <= asinFastMax:
// Go's asin (within a few ulps) refined by one Newton step on sin, whose
// residual sin(z)-y comes from sinFastDD.
func asinFastDD(y float64) (dd, bool) {
	if !(math.Abs(y) <= asinFastMax) {
		return dd{}, false
	}
	z := math.Asin(y)
	s, ok := sinFastDD(z)
	if !ok {
		return dd{}, false
	}
	resid := (s.hi - y) + s.lo // s.hi - y is exact: s.hi is within ulps of y
	return twoSum(z, -resid/math.Sqrt((1-y)*(1+y))), true
}
