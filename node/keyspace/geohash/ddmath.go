package geohash

import "math"

// Redis computes distances with glibc's sin, cos and asin, which are
// correctly rounded in all but vanishingly rare cases; Go's math package
// is within an ulp but not correctly rounded (a fifth to a third of the
// results differ from glibc's in the last bit), which changes the order of
// equal-looking distances and the scores STOREDIST stores. So the three
// functions are evaluated here in double-double arithmetic (about 106
// bits) and rounded once.

// dd is an unevaluated sum hi+lo with |lo| <= ulp(hi)/2.
type dd struct{ hi, lo float64 }

func twoSum(a, b float64) dd {
	s := a + b
	bb := s - a
	return dd{s, (a - (s - bb)) + (b - bb)}
}

func quickTwoSum(a, b float64) dd {
	s := a + b
	return dd{s, b - (s - a)}
}

func twoProd(a, b float64) dd {
	p := a * b
	return dd{p, math.FMA(a, b, -p)}
}

func (x dd) add(y dd) dd {
	s := twoSum(x.hi, y.hi)
	t := twoSum(x.lo, y.lo)
	s.lo += t.hi
	s = quickTwoSum(s.hi, s.lo)
	s.lo += t.lo
	return quickTwoSum(s.hi, s.lo)
}

func (x dd) neg() dd { return dd{-x.hi, -x.lo} }

func (x dd) mul(y dd) dd {
	p := twoProd(x.hi, y.hi)
	p.lo += x.hi*y.lo + x.lo*y.hi
	return quickTwoSum(p.hi, p.lo)
}

func (x dd) mulF(f float64) dd {
	p := twoProd(x.hi, f)
	p.lo += x.lo * f
	return quickTwoSum(p.hi, p.lo)
}

// pi/2 in three parts (161 bits).
const (
	pio2a = 1.5707963267948966
	pio2b = 6.123233995736766e-17
	pio2c = -1.4973849048591698e-33
)

// invFact[i] is 1/i! as a double-double.
var invFact = func() [32]dd {
	var t [32]dd
	t[0] = dd{1, 0}
	f := dd{1, 0}
	for i := 1; i < len(t); i++ {
		f = f.mulF(float64(i))
		// 1/f by Newton on the double-double: q = 1/f.hi, refined.
		q := dd{1 / f.hi, 0}
		r := dd{1, 0}.add(f.mul(q).neg())
		q = q.add(q.mul(r))
		r = dd{1, 0}.add(f.mul(q).neg())
		t[i] = q.add(q.mul(r))
	}
	return t
}()

// reduce returns r = x - k*pi/2 and k mod 4, for |x| up to a few pi.
func reduce(x float64) (dd, int) {
	k := math.Round(x / pio2a)
	r := dd{x, 0}
	r = r.add(twoProd(k, pio2a).neg())
	r = r.add(twoProd(k, pio2b).neg())
	r = r.add(twoProd(k, pio2c).neg())
	return r, int(int64(k)) & 3
}

// sinPoly and cosPoly are the Taylor series for |r| <= pi/4.
func sinPoly(r dd) dd {
	r2 := r.mul(r)
	sum := invFact[29]
	for i := 27; i >= 1; i -= 2 {
		sum = sum.mul(r2).neg()
		sum = sum.add(invFact[i])
	}
	return sum.mul(r)
}

func cosPoly(r dd) dd {
	r2 := r.mul(r)
	sum := invFact[30]
	for i := 28; i >= 0; i -= 2 {
		sum = sum.mul(r2).neg()
		sum = sum.add(invFact[i])
	}
	return sum
}

func sinDD(x float64) dd {
	r, k := reduce(x)
	switch k {
	case 0:
		return sinPoly(r)
	case 1:
		return cosPoly(r)
	case 2:
		return sinPoly(r).neg()
	}
	return cosPoly(r).neg()
}

func cosDD(x float64) dd {
	r, k := reduce(x)
	switch k {
	case 0:
		return cosPoly(r)
	case 1:
		return sinPoly(r).neg()
	case 2:
		return cosPoly(r).neg()
	}
	return sinPoly(r)
}

// largeArg is where the reduction above stops being exact enough; beyond
// it (only bounding boxes of absurd radii get there) Go's functions do.
const largeArg = 1e6

// sin is glibc's sin for the arguments distances use: the fast path of
// fastmath.go when it can decide, else the double-double evaluation.
func sin(x float64) float64 {
	if v, ok := sinFast(x); ok {
		return v
	}
	return sinSlow(x)
}

// cos is glibc's cos for the arguments distances use (as sin).
func cos(x float64) float64 {
	if v, ok := cosFast(x); ok {
		return v
	}
	return cosSlow(x)
}

// asin is glibc's asin on [-1, 1] (as sin).
func asin(y float64) float64 {
	if v, ok := asinFast(y); ok {
		return v
	}
	return asinSlow(y)
}

// sinSlow is sin x evaluated in double-double and rounded once.
func sinSlow(x float64) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > largeArg {
		return math.Sin(x)
	}
	if math.Abs(x) < 1e-8 {
		// sin x = x - x^3/6 (+ x^5/120): x^3/6 decides the rounding alone.
		d := dd{x, 0}.add(dd{x, 0}.mul(dd{x, 0}).mul(dd{x, 0}).mul(invFact[3]).neg())
		return d.hi
	}
	return sinDD(x).hi
}

// cosSlow is cos x evaluated in double-double and rounded once.
func cosSlow(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > largeArg {
		return math.Cos(x)
	}
	return cosDD(x).hi
}

// asinSlow is asin y on [-1, 1]: Go's value refined by one Newton step
// on sin in double-double.
func asinSlow(y float64) float64 {
	if !(y > -1 && y < 1) || y == 0 {
		return math.Asin(y)
	}
	z := math.Asin(y)
	// z' = z - (sin z - y) / cos z: the residual needs double-double
	// precision, the derivative only a double's.
	s := sinDD(z).add(dd{-y, 0})
	corr := s.hi / math.Cos(z)
	return dd{z, 0}.add(dd{-corr, 0}).hi
}
