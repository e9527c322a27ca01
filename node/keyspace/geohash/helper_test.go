package geohash

import (
	"math"
	"math/rand/v2"
	"testing"
)

// containsExact is geoWithinShape as Redis computes it: every distance
// exact, no bound.
func (s *Shape) containsExact(lon, lat float64) (float64, bool) {
	if !s.Box {
		d := Distance(s.Lon, s.Lat, lon, lat)
		return d, d <= s.Radius*s.Conversion
	}
	if LatDistance(lat, s.Lat) > s.Height*s.Conversion/2 || Distance(lon, lat, s.Lon, lat) > s.Width*s.Conversion/2 {
		return 0, false
	}
	return Distance(s.Lon, s.Lat, lon, lat), true
}

// The cheap bounds of Contains never change its answer: random circles
// and boxes from a metre to around the world, points near their edges
// (where the bounds must decline) and anywhere.
func TestContainsBoundsAgreeWithExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 3))
	for i := 0; i < 3000; i++ {
		s := Shape{Box: i%3 == 0, Lon: rng.Float64()*360 - 180, Lat: rng.Float64()*170 - 85, Conversion: 1}
		size := math.Exp2(rng.Float64() * 25) // 1 m .. 33000 km
		s.Radius, s.Width, s.Height = size, size*(0.5+rng.Float64()), size*(0.5+rng.Float64())
		s.Areas()
		for j := 0; j < 40; j++ {
			var lon, lat float64
			if j%4 == 1 && !s.Box && s.hasLonBound {
				// near the circle's easternmost or westernmost point, where
				// the longitude bound is tight: (lat1 + or - the bound,
				// asin(sin lat1 / cos(r/R)))
				rr := size / EarthRadius
				dl := radDeg(math.Asin(math.Sin(rr)/math.Cos(degRad(s.Lat)))) * (1 + (rng.Float64()-0.5)*1e-6)
				if j%8 == 1 {
					dl = -dl
				}
				lon = math.Remainder(s.Lon+dl, 360)
				lat = radDeg(math.Asin(math.Min(1, math.Sin(degRad(s.Lat))/math.Cos(rr))))
			} else if j%2 == 0 {
				// near the edge: the distance to the centre close to the radius
				ang := size / EarthRadius * (1 + (rng.Float64()-0.5)*1e-6)
				brg := rng.Float64() * 2 * math.Pi
				lat1 := degRad(s.Lat)
				lat2 := math.Asin(math.Sin(lat1)*math.Cos(ang) + math.Cos(lat1)*math.Sin(ang)*math.Cos(brg))
				lon2 := degRad(s.Lon) + math.Atan2(math.Sin(brg)*math.Sin(ang)*math.Cos(lat1), math.Cos(ang)-math.Sin(lat1)*math.Sin(lat2))
				lon, lat = math.Remainder(radDeg(lon2), 360), radDeg(lat2)
			} else {
				lon, lat = rng.Float64()*360-180, rng.Float64()*170-85
			}
			d, ok := s.Contains(lon, lat)
			wd, wok := s.containsExact(lon, lat)
			if ok != wok || ok && d != wd {
				t.Fatalf("%+v at (%v, %v): Contains %v %v, exact %v %v", s, lon, lat, d, ok, wd, wok)
			}
		}
	}
}

func BenchmarkContains(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := Shape{Lon: 15, Lat: 37, Radius: 200, Conversion: 1000}
	s.Areas()
	pts := make([][2]float64, 1024)
	for i := range pts {
		pts[i] = [2]float64{15 + rng.Float64()*8 - 4, 37 + rng.Float64()*8 - 4}
	}
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		p := &pts[i&1023]
		if _, ok := s.Contains(p[0], p[1]); ok {
			n++
		}
	}
	_ = n
}
