package geohash

import "math"

// Shape is a search area (GeoShape): a circle of Radius or a box of
// Width x Height around (Lon, Lat), in a unit of Conversion meters.
type Shape struct {
	Box           bool
	Lon, Lat      float64
	Radius        float64
	Width, Height float64
	Conversion    float64
	// Bounds are min lon, min lat, max lon, max lat, set by Areas.
	Bounds [4]float64
	// cosLat is cos of the centre's latitude in radians, set by Areas.
	cosLat float64
	// lonBound (degrees), when hasLonBound, is a longitude difference
	// beyond which a point is certainly outside the circle; set by Areas.
	lonBound    float64
	hasLonBound bool
}

// Radius is the 9 cells a search covers (GeoHashRadius).
type Radius struct {
	Hash      Bits
	Area      Area
	Neighbors Neighbors
}

// EstimateSteps is geohashEstimateStepsByRadius.
func EstimateSteps(rangeMeters, lat float64) uint8 {
	if rangeMeters == 0 {
		return 26
	}
	step := 1
	for rangeMeters < mercatorMax {
		rangeMeters *= 2
		step++
	}
	step -= 2
	if lat > 66 || lat < -66 {
		step--
		if lat > 80 || lat < -80 {
			step--
		}
	}
	if step < 1 {
		step = 1
	}
	if step > 26 {
		step = 26
	}
	return uint8(step)
}

// boundingBox is geohashBoundingBox.
func (s *Shape) boundingBox() {
	var height, width float64
	if s.Box {
		height = s.Conversion * (s.Height / 2)
		width = s.Conversion * (s.Width / 2)
	} else {
		height = s.Conversion * s.Radius
		width = s.Conversion * s.Radius
	}
	latDelta := radDeg(height / EarthRadius)
	longDeltaTop := radDeg(width / EarthRadius / cos(degRad(s.Lat+latDelta)))
	longDeltaBottom := radDeg(width / EarthRadius / cos(degRad(s.Lat-latDelta)))
	if s.Lat < 0 {
		s.Bounds[0] = s.Lon - longDeltaBottom
		s.Bounds[2] = s.Lon + longDeltaBottom
	} else {
		s.Bounds[0] = s.Lon - longDeltaTop
		s.Bounds[2] = s.Lon + longDeltaTop
	}
	s.Bounds[1] = s.Lat - latDelta
	s.Bounds[3] = s.Lat + latDelta
}

// Areas is geohashCalculateAreasByShapeWGS84: the centre cell at the
// estimated step (one step coarser when a neighbour does not reach the
// bounding box) and its neighbours, those outside the box zeroed.
func (s *Shape) Areas() Radius {
	s.boundingBox()
	s.cosLat = cos(degRad(s.Lat))
	if !s.Box {
		s.lonBound, s.hasLonBound = lonBound(s.cosLat, s.Radius*s.Conversion)
	}
	minLon, minLat, maxLon, maxLat := s.Bounds[0], s.Bounds[1], s.Bounds[2], s.Bounds[3]
	radiusMeters := s.Radius
	if s.Box {
		radiusMeters = math.Sqrt((s.Width/2)*(s.Width/2) + (s.Height/2)*(s.Height/2))
	}
	radiusMeters *= s.Conversion

	steps := EstimateSteps(radiusMeters, s.Lat)
	hash, _ := Encode(s.Lon, s.Lat, steps)
	nb := NeighborsOf(hash)
	area, _ := Decode(hash)

	decrease := false
	{
		north, _ := Decode(nb.North)
		south, _ := Decode(nb.South)
		east, _ := Decode(nb.East)
		west, _ := Decode(nb.West)
		if north.Lat.Max < maxLat {
			decrease = true
		}
		if south.Lat.Min > minLat {
			decrease = true
		}
		if east.Long.Max < maxLon {
			decrease = true
		}
		if west.Long.Min > minLon {
			decrease = true
		}
	}
	if steps > 1 && decrease {
		steps--
		hash, _ = Encode(s.Lon, s.Lat, steps)
		nb = NeighborsOf(hash)
		area, _ = Decode(hash)
	}
	if steps >= 2 {
		if area.Lat.Min < minLat {
			nb.South, nb.SouthWest, nb.SouthEast = Bits{}, Bits{}, Bits{}
		}
		if area.Lat.Max > maxLat {
			nb.North, nb.NorthEast, nb.NorthWest = Bits{}, Bits{}, Bits{}
		}
		if area.Long.Min < minLon {
			nb.West, nb.SouthWest, nb.NorthWest = Bits{}, Bits{}, Bits{}
		}
		if area.Long.Max > maxLon {
			nb.East, nb.SouthEast, nb.NorthEast = Bits{}, Bits{}, Bits{}
		}
	}
	return Radius{Hash: hash, Area: area, Neighbors: nb}
}

// LatDistance is geohashGetLatDistance: the distance along a meridian.
func LatDistance(lat1, lat2 float64) float64 {
	return EarthRadius * math.Abs(degRad(lat2)-degRad(lat1))
}

// Distance is geohashGetDistance: haversine on Redis's earth radius, along
// the meridian when the longitudes' half-difference has a zero sine.
func Distance(lon1, lat1, lon2, lat2 float64) float64 {
	return distance(lon1, lat1, lon2, lat2, math.NaN())
}

// distance is Distance with cos(lat1 in radians) given when known (not
// NaN): the same value, computed once per search.
func distance(lon1, lat1, lon2, lat2, cosLat1 float64) float64 {
	lon1r := degRad(lon1)
	lon2r := degRad(lon2)
	v := sin((lon2r - lon1r) / 2)
	if v == 0 {
		return LatDistance(lat1, lat2)
	}
	lat1r := degRad(lat1)
	lat2r := degRad(lat2)
	u := sin((lat2r - lat1r) / 2)
	if math.IsNaN(cosLat1) {
		cosLat1 = cos(lat1r)
	}
	// The conversions keep each product rounded, as C's are (Go may fuse
	// x*y+z into one FMA on some targets; geohash_helper.c is not).
	a := float64(u*u) + float64(cosLat1*cos(lat2r)*v*v)
	return 2.0 * EarthRadius * asin(math.Sqrt(a))
}

// Contains is geoAppendIfWithinShape's test of a point (lon, lat): within
// the circle, or within the box (the meridian and parallel distances to
// its centre at most half its height and width); dist is its distance to
// the centre in meters.
//
// Only the points inside need their exact distance: one certainly outside
// (by a bound, see beyond) is rejected without it.
func (s *Shape) Contains(lon, lat float64) (dist float64, ok bool) {
	if !s.Box {
		r := s.Radius * s.Conversion
		if LatDistance(lat, s.Lat) > r*(1+boundMargin) || s.hasLonBound && lonDelta(lon, s.Lon) > s.lonBound {
			return 0, false
		}
		d := distance(s.Lon, s.Lat, lon, lat, s.cosLat)
		return d, d <= r
	}
	w, h := s.Width*s.Conversion, s.Height*s.Conversion
	if LatDistance(lat, s.Lat) > h/2 {
		return 0, false
	}
	if beyond(lon, lat, s.Lon, lat, math.NaN(), w/2) || Distance(lon, lat, s.Lon, lat) > w/2 {
		return 0, false
	}
	return distance(s.Lon, s.Lat, lon, lat, s.cosLat), true
}

// lonBound is, for a circle of radius meters around latitude lat (whose
// cosine is cosLat), a longitude difference (degrees) beyond which every
// point is farther than the radius; ok is false when there is none (the
// circle reaches a pole).
//
// A point at longitude difference dl is at least as far as the great
// circle of that meridian: sin(d/R) >= cos(lat) |sin dl| for |dl| <= 90
// degrees, and d >= 90 - |lat| degrees (the nearer pole) beyond 90. So
// when the circle does not reach the pole, |dl| > asin(sin(r/R)/cos(lat))
// is outside. Cheaper and only larger: sin(r/R) <= r/R, and asin x <=
// x/sqrt(1-x^2). The radius is taken with boundMargin, so the rounding of
// this bound and of Redis's distance cannot turn an inside point out.
func lonBound(cosLat, meters float64) (float64, bool) {
	x := meters * (1 + boundMargin) / EarthRadius / cosLat
	if !(x < 0.5) {
		return 0, false // or a pole in reach: no bound worth its cost
	}
	return radDeg(x/math.Sqrt(1-x*x)) * (1 + boundMargin), true
}

// lonDelta is the longitude difference of two points, in [0, 180].
func lonDelta(lon1, lon2 float64) float64 {
	d := math.Abs(lon1 - lon2)
	if d > 180 {
		d = 360 - d
	}
	return d
}

// boundMargin is the relative margin of the cheap bounds on a distance.
// Redis's distance is within 1e-14 of the true one (a few roundings of
// 2^-53) except near the antipode, where asin's slope magnifies them, yet
// to at most 5e-9 (asin(1-e) moves by sqrt(2e) with e one rounding); the
// meridian distance never exceeds the true one, and the approximation of
// beyond stays within 1e-14 of it where it is used.
const boundMargin = 1e-7

// beyond reports whether Redis's distance between the two points is
// certainly above limit, from an approximation with Go's sin, cos and
// asin (each within a couple of ulps) where asin's slope is small;
// false when it cannot tell. cosLat1 is cos(lat1 in radians) if known.
func beyond(lon1, lat1, lon2, lat2, cosLat1, limit float64) bool {
	v := math.Sin((degRad(lon2) - degRad(lon1)) / 2)
	lat1r, lat2r := degRad(lat1), degRad(lat2)
	u := math.Sin((lat2r - lat1r) / 2)
	if math.IsNaN(cosLat1) {
		cosLat1 = math.Cos(lat1r)
	}
	y := math.Sqrt(u*u + cosLat1*math.Cos(lat2r)*v*v)
	return y <= asinFastMax && 2*EarthRadius*math.Asin(y) > limit*(1+boundMargin)
}
