package server

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func ff(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// geoGrid is GEOADD of a grid of points over the whole encodable range,
// its limits (poles, antimeridian) included, and a dense cluster.
func geoGrid(key string) []step {
	var s []step
	args := []string{"GEOADD", key}
	n := 0
	add := func(lon, lat float64) {
		args = append(args, ff(lon), ff(lat), fmt.Sprintf("p%d", n))
		n++
		if len(args) > 300 {
			s = append(s, cmd(args...))
			args = []string{"GEOADD", key}
		}
	}
	for lon := -180.0; lon <= 180; lon += 15 {
		for lat := -85.0; lat <= 85; lat += 10 {
			add(lon, lat)
		}
	}
	for _, lat := range []float64{-85.05112878, 85.05112878, 0} {
		for _, lon := range []float64{-180, 180, -179.9999, 179.9999, 0} {
			add(lon, lat)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 400; i++ {
		add(13+rng.Float64(), 38+rng.Float64())
	}
	for i := 0; i < 100; i++ {
		add(-180+rng.Float64()*360, -85+rng.Float64()*170)
	}
	add(13.5, 38.5)
	add(13.5, 38.5) // same position, another name: distance ties
	s = append(s, cmd(args...))
	return s
}

// GEO against Redis: every command and option over a grid, compared byte
// for byte (scores, distances, coordinates, order), STORE results read
// back with ZRANGE WITHSCORES.
func TestDifferentialGeo(t *testing.T) {
	ours, ref := startNode(t), startRedis(t)
	script := []step{
		cmd("GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"),
		cmd("GEODIST", "Sicily", "Palermo", "Catania"), cmd("GEODIST", "Sicily", "Palermo", "Catania", "km"),
		cmd("GEODIST", "Sicily", "Palermo", "Catania", "MI"), cmd("GEODIST", "Sicily", "Palermo", "Catania", "ft"),
		cmd("GEODIST", "Sicily", "Palermo", "Catania", "yd"), cmd("GEODIST", "Sicily", "Palermo", "nope"),
		cmd("GEODIST", "nokey", "a", "b"), cmd("GEODIST", "Sicily", "a", "b", "km", "x"),
		cmd("GEOHASH", "Sicily", "Palermo", "Catania", "nope"), cmd("GEOHASH", "nokey", "a"),
		cmd("GEOPOS", "Sicily", "Palermo", "nope", "Catania"), cmd("GEOPOS", "nokey", "a"),
		cmd("ZRANGE", "Sicily", "0", "-1", "WITHSCORES"),
		cmd("GEOADD", "Sicily", "NX", "13", "38", "Palermo", "14", "37", "New"),
		cmd("GEOADD", "Sicily", "XX", "CH", "13.361389", "38.115556", "Palermo", "1", "1", "Nope"),
		cmd("GEOADD", "Sicily", "CH", "13.361389", "38.2", "Palermo"),
		cmd("GEOADD", "Sicily", "XX", "NX", "1", "1", "a"), cmd("GEOADD", "Sicily", "1", "1"),
		cmd("GEOADD", "Sicily", "CH", "NX", "XX"), cmd("GEOADD", "Sicily", "GT", "1", "1", "a"),
		cmd("GEOADD", "Sicily", "181", "1", "a"), cmd("GEOADD", "Sicily", "1", "86", "a"),
		cmd("GEOADD", "Sicily", "inf", "1", "a"), cmd("GEOADD", "Sicily", "-inf", "1e300", "a"),
		cmd("GEOADD", "Sicily", "x", "1", "a"), cmd("GEOADD", "Sicily", "1", "nan", "a"),
		cmd("GEOADD", "Sicily", "1", "1", "ok", "1", "100", "bad"), cmd("ZSCORE", "Sicily", "ok"),
		cmd("GEOADD", "Sicily", "-180", "-85.05112878", "corner"), cmd("GEOPOS", "Sicily", "corner"),
		cmd("GEOHASH", "Sicily", "corner"), cmd("ZSCORE", "Sicily", "corner"),
		cmd("SET", "str", "x"), cmd("GEOADD", "str", "1", "1", "a"), cmd("GEOPOS", "str", "a"),
		cmd("GEORADIUS", "str", "1", "1", "1", "km"), cmd("GEOSEARCH", "str", "FROMLONLAT", "1", "1", "BYRADIUS", "1", "km"),
	}
	script = append(script, geoGrid("g")...)
	script = append(script, cmd("ZRANGE", "g", "0", "-1", "WITHSCORES"), cmd("GEOHASH", "g", "p0", "p1", "p100", "p300"))
	members := []string{"GEOPOS", "g"}
	for i := 0; i < 900; i += 7 {
		members = append(members, fmt.Sprintf("p%d", i))
	}
	script = append(script, cmd(members...), cmd(append([]string{"GEOHASH"}, members[1:]...)...))
	for i := 0; i < 60; i++ {
		script = append(script, cmd("GEODIST", "g", fmt.Sprintf("p%d", i), fmt.Sprintf("p%d", i*13%900), "km"))
	}

	centers := [][2]string{{"13.5", "38.5"}, {"0", "0"}, {"179.99", "0"}, {"-180", "85"}, {"180", "-85.05112878"}, {"-179.5", "70"}, {"13.361389", "38.115556"}}
	radii := [][2]string{{"0", "m"}, {"1", "km"}, {"50", "km"}, {"200", "km"}, {"1000", "mi"}, {"5000", "km"}, {"15000", "km"}, {"30000000", "ft"}, {"inf", "m"}}
	boxes := [][3]string{{"100", "100", "km"}, {"400", "50", "km"}, {"2000", "3000", "mi"}, {"0", "0", "m"}, {"40000", "20000", "km"}}
	opts := [][]string{nil, {"ASC"}, {"DESC"}, {"WITHDIST"}, {"WITHCOORD", "WITHHASH"}, {"WITHDIST", "WITHCOORD", "WITHHASH", "ASC"},
		{"COUNT", "3"}, {"COUNT", "5", "DESC", "WITHDIST"}, {"COUNT", "2", "ANY"}, {"COUNT", "1000", "ANY", "ASC", "WITHDIST"}, {"COUNT", "7", "ASC"}}
	for _, c := range centers {
		for _, r := range radii {
			for _, o := range opts {
				script = append(script,
					cmd(append([]string{"GEORADIUS", "g", c[0], c[1], r[0], r[1]}, o...)...),
					cmd(append([]string{"GEOSEARCH", "g", "FROMLONLAT", c[0], c[1], "BYRADIUS", r[0], r[1]}, o...)...))
			}
		}
		for _, b := range boxes {
			for _, o := range opts {
				script = append(script, cmd(append([]string{"GEOSEARCH", "g", "FROMLONLAT", c[0], c[1], "BYBOX", b[0], b[1], b[2]}, o...)...))
			}
		}
	}
	for _, m := range []string{"p0", "p17", "p250", "p500", "p700"} {
		for _, r := range radii {
			script = append(script,
				cmd("GEORADIUSBYMEMBER", "g", m, r[0], r[1], "WITHDIST", "ASC"),
				cmd("GEORADIUSBYMEMBER_RO", "g", m, r[0], r[1], "COUNT", "4"),
				cmd("GEOSEARCH", "g", "FROMMEMBER", m, "BYRADIUS", r[0], r[1], "DESC", "WITHCOORD"),
				cmd("GEOSEARCH", "g", "FROMMEMBER", m, "BYBOX", r[0], r[0], r[1], "WITHDIST"))
		}
	}
	// STORE and STOREDIST, read back.
	stores := [][]string{
		{"GEORADIUS", "g", "13.5", "38.5", "100", "km", "STORE", "dst"},
		{"GEORADIUS", "g", "13.5", "38.5", "100", "km", "STOREDIST", "dst"},
		{"GEORADIUS", "g", "13.5", "38.5", "100", "km", "COUNT", "5", "STOREDIST", "dst"},
		{"GEORADIUSBYMEMBER", "g", "p0", "3000", "km", "STORE", "dst", "DESC"},
		{"GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "13.5", "38.5", "BYRADIUS", "80", "km"},
		{"GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "13.5", "38.5", "BYBOX", "80", "80", "km", "STOREDIST"},
		{"GEOSEARCHSTORE", "dst", "g", "FROMMEMBER", "p3", "BYRADIUS", "9000", "km", "COUNT", "3", "STOREDIST"},
		{"GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m"},
		{"GEOSEARCHSTORE", "dst", "nokey", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m"},
		{"GEORADIUS", "nokey", "0", "0", "1", "m", "STORE", "dst"},
	}
	for _, st := range stores {
		script = append(script, cmd("SET", "dst", "old"), cmd("EXPIRE", "dst", "100"), cmd(st...),
			cmd("ZRANGE", "dst", "0", "-1", "WITHSCORES"), cmd("TYPE", "dst"), cmd("TTL", "dst"), cmd("OBJECT", "ENCODING", "dst"))
	}
	// Errors, in Redis's order of checks.
	script = append(script,
		cmd("GEORADIUS", "g", "200", "0", "1", "km"), cmd("GEORADIUS", "g", "0", "0", "-1", "km"),
		cmd("GEORADIUS", "g", "0", "0", "x", "km"), cmd("GEORADIUS", "g", "0", "0", "1", "parsec"),
		cmd("GEORADIUS", "g", "0", "0", "1", "km", "COUNT", "0"), cmd("GEORADIUS", "g", "0", "0", "1", "km", "COUNT", "x"),
		cmd("GEORADIUS", "g", "0", "0", "1", "km", "COUNT"), cmd("GEORADIUS", "g", "0", "0", "1", "km", "ANY"),
		cmd("GEORADIUS", "g", "0", "0", "1", "km", "STORE", "x", "WITHDIST"), cmd("GEORADIUS", "g", "0", "0", "1", "km", "BOGUS"),
		cmd("GEORADIUS_RO", "g", "0", "0", "1", "km", "STORE", "x"), cmd("GEORADIUSBYMEMBER", "g", "nope", "1", "km"),
		cmd("GEORADIUSBYMEMBER", "nokey", "nope", "x", "y"), cmd("GEORADIUSBYMEMBER", "nokey", "nope", "1", "km", "BOGUS"),
		cmd("GEOSEARCH", "g", "BYRADIUS", "1", "km"), cmd("GEOSEARCH", "g", "FROMLONLAT", "0", "0", "WITHDIST"),
		cmd("geosearch", "g", "FROMLONLAT", "0", "0", "ASC"), cmd("GEOSEARCH", "g", "FROMMEMBER", "p1", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"),
		cmd("GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "BYBOX", "1", "1", "km"),
		cmd("GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYBOX", "-1", "1", "km"), cmd("GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYBOX", "x", "1", "km"),
		cmd("GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYBOX", "1", "y", "km"), cmd("GEOSEARCH", "g", "FROMMEMBER", "nope", "BYBOX", "1", "1", "km"),
		cmd("GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "STOREDIST"),
		cmd("GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "km"),
		cmd("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "WITHCOORD"),
		cmd("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "STORE", "x"),
		cmd("GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "COUNT", "1", "ANY", "COUNT", "2"),
	)
	runGeoDifferential(t, ours, ref, script)

	// RESP3: coordinates are doubles.
	a, b := ours.raw(t), ref.raw(t)
	a.do("HELLO", "3")
	b.do("HELLO", "3")
	for _, s := range [][]string{{"GEOPOS", "g", "p1", "nope"}, {"GEOSEARCH", "g", "FROMMEMBER", "p500", "BYRADIUS", "3000", "km", "WITHCOORD", "WITHDIST", "WITHHASH"}, {"GEODIST", "g", "p1", "p2"}} {
		if got, want := a.do(s...), b.do(s...); got != want {
			t.Errorf("RESP3 %q:\n ours  %q\n redis %q", s, got, want)
		}
	}
}

// runGeoDifferential is runDifferential with one documented allowance:
// Redis's distances go through glibc's sin, cos and asin, which misround
// about 0.15% of their results by one ulp; ours are correctly rounded (see
// node/keyspace/geohash's ddmath.go). A distance printed with "%.4f" can
// then differ in its last digit when it lies within an ulp of a rounding
// midpoint; such a reply, identical in every other byte, is counted and
// logged, not failed.
func runGeoDifferential(t *testing.T, ours, ref *testNode, script []step) {
	t.Helper()
	a, b := ours.raw(t), ref.raw(t)
	tolerated := map[string]bool{}
	for _, s := range script {
		got, want := a.do(s.args...), b.do(s.args...)
		if got == want {
			continue
		}
		if diffs, ok := lastDigitOnly(got, want); ok {
			for _, d := range diffs {
				tolerated[d] = true
			}
			t.Logf("%q: a distance differs in its last printed digit: %q", s.args, diffs)
			continue
		}
		t.Errorf("%q:\n ours  %q\n redis %q", s.args, got, want)
	}
	if len(tolerated) > 2 {
		t.Errorf("%d distances differ in their last digit: more than ulp-level divergence", len(tolerated))
	}
}

// lastDigitOnly reports whether two replies differ only in "%.4f" numbers
// that are 0.0001 apart, and which ones ("ours/redis").
func lastDigitOnly(a, b string) ([]string, bool) {
	x, y := strings.Split(a, "\r\n"), strings.Split(b, "\r\n")
	if len(x) != len(y) {
		return nil, false
	}
	var diffs []string
	for i := range x {
		if x[i] == y[i] {
			continue
		}
		fx, errX := strconv.ParseFloat(x[i], 64)
		fy, errY := strconv.ParseFloat(y[i], 64)
		if errX != nil || errY != nil || len(x[i]) != len(y[i]) || !strings.Contains(x[i], ".") ||
			len(x[i])-strings.IndexByte(x[i], '.') != 5 || math.Abs(fx-fy) > 0.000101 {
			return nil, false
		}
		diffs = append(diffs, x[i]+"/"+y[i])
	}
	return diffs, true
}
