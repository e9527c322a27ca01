package geohash

import (
	"context"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/node/nodetest"
)

// libmScript evaluates, inside redis-server, glibc's sin, cos or asin
// (Lua's math library calls libm) on each argument, or Redis's own
// geohashGetDistance expression on each group of four, and returns the
// doubles in "%.17g" (exact). Lua's numbers are C doubles, with the same
// operations in the same order as geohash_helper.c.
const libmScript = `
local f, r, d_r = ARGV[1], {}, math.pi / 180.0
local function dist(lon1, lat1, lon2, lat2)
  local lon1r, lon2r = lon1 * d_r, lon2 * d_r
  local v = math.sin((lon2r - lon1r) / 2)
  if v == 0.0 then return 6372797.560856 * math.abs(lat2 * d_r - lat1 * d_r) end
  local lat1r, lat2r = lat1 * d_r, lat2 * d_r
  local u = math.sin((lat2r - lat1r) / 2)
  local a = u * u + math.cos(lat1r) * math.cos(lat2r) * v * v
  return 2.0 * 6372797.560856 * math.asin(math.sqrt(a))
end
if f == 'dist' then
  for i = 2, #ARGV, 4 do
    r[#r + 1] = string.format('%.17g', dist(tonumber(ARGV[i]), tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])))
  end
  return r
end
local g = math[f]
for i = 2, #ARGV do r[#r + 1] = string.format('%.17g', g(tonumber(ARGV[i]))) end
return r`

// libm evaluates fn ("sin", "cos", "asin" or "dist") in redis-server.
func libm(t *testing.T, c *redis.Client, fn string, xs []float64) []float64 {
	t.Helper()
	args := []any{fn}
	for _, x := range xs {
		args = append(args, strconv.FormatFloat(x, 'g', -1, 64))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := c.Eval(ctx, libmScript, nil, args...).StringSlice()
	if err != nil {
		t.Fatal(err)
	}
	vs := make([]float64, len(out))
	for i, s := range out {
		if vs[i], err = strconv.ParseFloat(s, 64); err != nil {
			t.Fatalf("%s: %q", fn, s)
		}
	}
	return vs
}

// Our sin, cos, asin and Distance against glibc's, evaluated by
// redis-server itself: glibc's functions are not correctly rounded, ours
// are, so a few results in a thousand may differ by one ulp (see
// ddmath.go); more than that, or more than an ulp, is a bug.
func TestTrigAgainstGlibc(t *testing.T) {
	p := nodetest.Start(t, nodetest.Options{Binary: nodetest.RedisServer(t), Args: []string{"--save", "", "--appendonly", "no"}})
	c := redis.NewClient(&redis.Options{Addr: p.Addr})
	defer c.Close()
	rng := rand.New(rand.NewPCG(15, 2))
	const n = 20000
	check := func(name string, xs []float64, ours func(float64) float64) {
		want := libm(t, c, name, xs)
		diffs := 0
		for i, x := range xs {
			got := ours(x)
			if got == want[i] {
				continue
			}
			diffs++
			if math.Abs(got-want[i]) > math.Abs(got)*0x1p-52 {
				t.Errorf("%s(%v) = %v, glibc %v: more than an ulp", name, x, got, want[i])
			}
		}
		t.Logf("%s: %d of %d differ from glibc by an ulp", name, diffs, len(xs))
		if diffs > len(xs)/250 {
			t.Errorf("%s: %d of %d differ from glibc", name, diffs, len(xs))
		}
	}
	check("sin", trigArgs(rng, n, math.Pi), sin)
	check("cos", trigArgs(rng, n, 1.6), cos)
	ys := trigArgs(rng, n, 1)
	for i := range ys {
		ys[i] = math.Mod(ys[i], 1)
	}
	check("asin", ys, asin)

	// Distances between random points of the encodable range, and near
	// ones (a search's neighbourhood).
	var pts []float64
	for i := 0; i < n/4; i++ {
		lon, lat := rng.Float64()*360-180, rng.Float64()*170-85
		if i%2 == 0 {
			pts = append(pts, lon, lat, lon+rng.Float64()*4-2, math.Max(-85, math.Min(85, lat+rng.Float64()*4-2)))
		} else {
			pts = append(pts, lon, lat, rng.Float64()*360-180, rng.Float64()*170-85)
		}
	}
	want := libm(t, c, "dist", pts)
	diffs := 0
	for i := range want {
		q := pts[4*i : 4*i+4]
		got := Distance(q[0], q[1], q[2], q[3])
		if got != want[i] {
			diffs++
			if math.Abs(got-want[i]) > math.Abs(got)*0x1p-50 {
				t.Errorf("Distance(%v) = %v, Redis %v", q, got, want[i])
			}
		}
	}
	t.Logf("dist: %d of %d differ from Redis's in the last bits", diffs, len(want))
	if diffs > len(want)/100 {
		t.Errorf("dist: %d of %d differ from Redis's", diffs, len(want))
	}
}
