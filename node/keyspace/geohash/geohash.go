package geohash

import "math"

// The limits of EPSG:900913 Redis encodes within, and its step.
const (
	LongMin = -180.0
	LongMax = 180.0
	LatMin  = -85.05112878
	LatMax  = 85.05112878
	StepMax = 26 // GEO_STEP_MAX: 52 bits

	EarthRadius = 6372797.560856 // EARTH_RADIUS_IN_METERS
	mercatorMax = 20037726.37
	dr          = math.Pi / 180.0 // D_R
)

// Range is a closed interval of one coordinate.
type Range struct{ Min, Max float64 }

// Bits is a hash of step*2 interleaved bits.
type Bits struct {
	Bits uint64
	Step uint8
}

// IsZero is HASHISZERO: a cell excluded from a search.
func (b Bits) IsZero() bool { return b.Bits == 0 && b.Step == 0 }

// Area is a cell: its hash and its bounds.
type Area struct {
	Hash      Bits
	Long, Lat Range
}

// Neighbors are the 8 cells around one.
type Neighbors struct {
	North, East, West, South                   Bits
	NorthEast, SouthEast, NorthWest, SouthWest Bits
}

// WGS84 are the ranges GEOADD encodes in.
var (
	longRange = Range{LongMin, LongMax}
	latRange  = Range{LatMin, LatMax}
)

func degRad(a float64) float64 { return a * dr }
func radDeg(a float64) float64 { return a / dr }

func interleave64(xlo, ylo uint32) uint64 {
	b := [...]uint64{0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF}
	s := [...]uint{1, 2, 4, 8, 16}
	x, y := uint64(xlo), uint64(ylo)
	for i := 4; i >= 0; i-- {
		x = (x | x<<s[i]) & b[i]
		y = (y | y<<s[i]) & b[i]
	}
	return x | y<<1
}

func deinterleave64(v uint64) uint64 {
	// The steps of geohash.c's loop, unrolled: x gathers the even bits
	// (latitude), y the odd ones (longitude).
	x, y := v, v>>1
	x &= 0x5555555555555555
	y &= 0x5555555555555555
	x = (x | x>>1) & 0x3333333333333333
	y = (y | y>>1) & 0x3333333333333333
	x = (x | x>>2) & 0x0F0F0F0F0F0F0F0F
	y = (y | y>>2) & 0x0F0F0F0F0F0F0F0F
	x = (x | x>>4) & 0x00FF00FF00FF00FF
	y = (y | y>>4) & 0x00FF00FF00FF00FF
	x = (x | x>>8) & 0x0000FFFF0000FFFF
	y = (y | y>>8) & 0x0000FFFF0000FFFF
	x = (x | x>>16) & 0x00000000FFFFFFFF
	y = (y | y>>16) & 0x00000000FFFFFFFF
	return x | y<<32
}

// encode is geohashEncode over the given ranges; ok is false out of range.
func encode(lr, ar Range, lon, lat float64, step uint8) (Bits, bool) {
	if step > 32 || step == 0 {
		return Bits{}, false
	}
	if lon > LongMax || lon < LongMin || lat > LatMax || lat < LatMin {
		return Bits{}, false
	}
	if lat < ar.Min || lat > ar.Max || lon < lr.Min || lon > lr.Max {
		return Bits{Step: step}, false
	}
	latOff := (lat - ar.Min) / (ar.Max - ar.Min)
	lonOff := (lon - lr.Min) / (lr.Max - lr.Min)
	latOff *= float64(uint64(1) << step)
	lonOff *= float64(uint64(1) << step)
	return Bits{Bits: interleave64(uint32(latOff), uint32(lonOff)), Step: step}, true
}

// Encode is geohashEncodeWGS84.
func Encode(lon, lat float64, step uint8) (Bits, bool) {
	return encode(longRange, latRange, lon, lat, step)
}

// EncodeStandard encodes with the standard geohash ranges (-180..180,
// -90..90), as GEOHASH re-encodes a decoded position.
func EncodeStandard(lon, lat float64, step uint8) Bits {
	h, _ := encode(Range{-180, 180}, Range{-90, 90}, lon, lat, step)
	return h
}

// Decode is geohashDecode with the WGS84 ranges.
func Decode(h Bits) (Area, bool) {
	if h.IsZero() {
		return Area{}, false
	}
	sep := deinterleave64(h.Bits)
	latScale := latRange.Max - latRange.Min
	longScale := longRange.Max - longRange.Min
	ilato := uint32(sep)
	ilono := uint32(sep >> 32)
	// Dividing by 2^step is multiplying by 2^-step exactly (no rounding
	// either way for these integers), without four divisions.
	inv := 1 / float64(uint64(1)<<h.Step)
	a := Area{Hash: h}
	// float64() keeps the products rounded (no FMA), as in geohash.c.
	a.Lat.Min = latRange.Min + float64((float64(ilato)*inv)*latScale)
	a.Lat.Max = latRange.Min + float64(((float64(ilato)+1)*inv)*latScale)
	a.Long.Min = longRange.Min + float64((float64(ilono)*inv)*longScale)
	a.Long.Max = longRange.Min + float64(((float64(ilono)+1)*inv)*longScale)
	return a, true
}

// Center is geohashDecodeAreaToLongLat: the cell's centre, clamped.
func (a Area) Center() (lon, lat float64) {
	// Plain comparisons, as geohash.c's (math.Min and Max are calls that
	// also order NaNs and zeros' signs, which a cell never has).
	lon = (a.Long.Min + a.Long.Max) / 2
	if lon > LongMax {
		lon = LongMax
	}
	if lon < LongMin {
		lon = LongMin
	}
	lat = (a.Lat.Min + a.Lat.Max) / 2
	if lat > LatMax {
		lat = LatMax
	}
	if lat < LatMin {
		lat = LatMin
	}
	return lon, lat
}

// DecodeScore is decodeGeohash: a GEOADD score back to the centre of its
// 52-bit cell; ok is false when it cannot be decoded.
func DecodeScore(score float64) (lon, lat float64, ok bool) {
	a, ok := Decode(Bits{Bits: scoreBits(score), Step: StepMax})
	if !ok {
		return 0, 0, false
	}
	lon, lat = a.Center()
	return lon, lat, true
}

// scoreBits is C's (uint64_t) conversion of a score (saturating the
// out-of-range values as x86-64 does: they decode to some cell anyway).
func scoreBits(score float64) uint64 {
	switch {
	case score != score:
		return 1 << 63
	case score >= 18446744073709551616.0:
		return 0
	case score >= 9223372036854775808.0:
		return uint64(int64(score-9223372036854775808.0)) ^ 1<<63
	case score <= -9223372036854775808.0:
		return 1 << 63
	}
	return uint64(int64(score))
}

// Align52 is geohashAlign52Bits: the hash as a 52-bit score prefix.
func Align52(h Bits) uint64 { return h.Bits << (52 - uint(h.Step)*2) }

// move is geohash_move_x (mask 0xaaaa...) and geohash_move_y (mask
// 0x5555...): one cell in direction d along the coordinate whose bits the
// mask selects.
func move(h *Bits, d int, mask uint64) {
	if d == 0 {
		return
	}
	x := h.Bits & mask
	y := h.Bits &^ mask
	zz := ^mask >> (64 - uint(h.Step)*2)
	if d > 0 {
		x = x + (zz + 1)
	} else {
		x = x | zz
		x = x - (zz + 1)
	}
	x &= mask >> (64 - uint(h.Step)*2)
	h.Bits = x | y
}

// NeighborsOf is geohashNeighbors.
func NeighborsOf(h Bits) Neighbors {
	mv := func(dx, dy int) Bits {
		b := h
		move(&b, dx, 0xaaaaaaaaaaaaaaaa)
		move(&b, dy, 0x5555555555555555)
		return b
	}
	return Neighbors{
		East: mv(1, 0), West: mv(-1, 0), South: mv(0, -1), North: mv(0, 1),
		NorthWest: mv(-1, 1), NorthEast: mv(1, 1), SouthEast: mv(1, -1), SouthWest: mv(-1, -1),
	}
}
