package geohash

import (
	"math"
	"math/rand/v2"
	"testing"
)

// trigArgs are arguments of the shapes distances use: uniform over the
// ranges of half longitude and latitude differences, latitudes, and
// log-uniform small ones (nearby points).
func trigArgs(rng *rand.Rand, n int, span float64) []float64 {
	xs := make([]float64, 0, n)
	for len(xs) < n {
		switch len(xs) % 3 {
		case 0:
			xs = append(xs, (rng.Float64()*2-1)*span)
		case 1:
			xs = append(xs, math.Copysign(math.Exp2(-40*rng.Float64()), rng.Float64()-0.5))
		default:
			// near multiples of pi/4 and pi/2 (the quadrant and table edges)
			k := float64(rng.IntN(9) - 4)
			xs = append(xs, k*math.Pi/4+(rng.Float64()-0.5)*1e-6)
		}
	}
	return xs
}

// The fast path gives the double-double path's double whenever it
// answers, answers for nearly every argument, and stays within its
// claimed error bound (checked against the 106-bit values).
func TestFastTrigAgreesWithDoubleDouble(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 1))
	n := 200000
	if testing.Short() {
		n = 20000
	}
	type fn struct {
		name  string
		span  float64
		fast  func(float64) (float64, bool)
		slow  func(float64) float64
		exact func(float64) (dd, bool) // the slow 106-bit value and the fast one, when both exist
		fastD func(float64) (dd, bool)
		eps   float64
	}
	fns := []fn{
		{"sin", math.Pi, sinFast, sinSlow, func(x float64) (dd, bool) { return sinDD(x), true }, sinFastDD, epsSinCos},
		{"cos", 2, cosFast, cosSlow, func(x float64) (dd, bool) { return cosDD(x), true }, cosFastDD, epsSinCos},
		{"asin", 1, asinFast, asinSlow, asinDD, func(y float64) (dd, bool) {
			if math.Abs(y) > asinFastMax {
				return asinDD(y)
			}
			return asinFastDD(y)
		}, epsAsin},
	}
	for _, f := range fns {
		misses, worst := 0, 0.0
		args := trigArgs(rng, n, f.span)
		declinable := 0 // asin leaves |y| > asinFastMax to the slow path
		for i, x := range args {
			if f.name == "asin" && math.Abs(x) > 1 {
				x = math.Mod(x, 1)
				args[i] = x
			}
			if f.name == "asin" && math.Abs(x) > asinFastMax {
				declinable++
			}
		}
		for _, x := range args {
			want := f.slow(x)
			got, ok := f.fast(x)
			if !ok {
				misses++
				continue
			}
			if got != want {
				t.Fatalf("%s(%v): fast %v, double-double %v", f.name, x, got, want)
			}
			if f.exact != nil && math.Abs(x) >= tinyArg {
				e, _ := f.exact(x)
				v, _ := f.fastD(x)
				rel := math.Abs((v.hi-e.hi)+(v.lo-e.lo)) / math.Abs(e.hi)
				worst = math.Max(worst, rel)
			}
		}
		if worst > f.eps/2 {
			t.Errorf("%s: fast path error %g (2^%.1f) above half its bound %g", f.name, worst, math.Log2(worst), f.eps)
		}
		if misses > declinable+n/40 {
			t.Errorf("%s: the fast path declined %d of %d arguments", f.name, misses, n)
		}
		t.Logf("%s: declined %d of %d, worst relative error 2^%.1f", f.name, misses, n, math.Log2(worst))
	}
}

// Special arguments keep their values: signed zeros, infinities, NaN,
// the tiny and the large.
func TestTrigSpecialArguments(t *testing.T) {
	negZero := math.Copysign(0, -1)
	if v := sin(negZero); v != 0 || !math.Signbit(v) {
		t.Errorf("sin(-0) = %v", v)
	}
	if v := asin(negZero); v != 0 || !math.Signbit(v) {
		t.Errorf("asin(-0) = %v", v)
	}
	for _, x := range []float64{math.Inf(1), math.Inf(-1), math.NaN()} {
		if !math.IsNaN(sin(x)) || !math.IsNaN(cos(x)) {
			t.Errorf("sin/cos(%v) not NaN", x)
		}
	}
	if !math.IsNaN(asin(1.5)) || asin(-1) != -math.Pi/2 {
		t.Errorf("asin(1.5) = %v, asin(-1) = %v", asin(1.5), asin(-1))
	}
	for _, x := range []float64{1e-300, 5e-324, 0x1p-29, 3e-9} {
		if sin(x) != x || cos(x) != 1 || asin(x) != x {
			t.Errorf("tiny %v: sin %v cos %v asin %v", x, sin(x), cos(x), asin(x))
		}
	}
	for _, x := range []float64{100, -1e5, 1e7} {
		if sin(x) != sinSlow(x) || cos(x) != cosSlow(x) {
			t.Errorf("large %v: sin %v/%v cos %v/%v", x, sin(x), sinSlow(x), cos(x), cosSlow(x))
		}
	}
}

// asinDD is asin y to about 106 bits: a Newton step in double-double
// from the slow path's double.
func asinDD(y float64) (dd, bool) {
	z := asinSlow(y)
	r := sinDD(z).add(dd{-y, 0})
	return twoSum(z, -r.hi/math.Cos(z)), true
}

func BenchmarkDistance(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	pts := make([][4]float64, 1024)
	for i := range pts {
		pts[i] = [4]float64{15 + rng.Float64()*4 - 2, 37 + rng.Float64()*4 - 2, 15, 37}
	}
	b.ResetTimer()
	s := 0.0
	for i := 0; i < b.N; i++ {
		p := &pts[i&1023]
		s += Distance(p[0], p[1], p[2], p[3])
	}
	_ = s
}
