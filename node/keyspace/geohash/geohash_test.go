package geohash

import (
	"math"
	"strconv"
	"testing"
)

// GEOADD Sicily 13.361389 38.115556 Palermo stores 3479099956230698 and
// GEOPOS decodes it to the centre of its cell (Redis's documented example).
func TestEncodeDecodePalermo(t *testing.T) {
	h, ok := Encode(13.361389, 38.115556, StepMax)
	if !ok || Align52(h) != 3479099956230698 {
		t.Fatalf("Encode = %d, %v", Align52(h), ok)
	}
	lon, lat, ok := DecodeScore(3479099956230698)
	if !ok || math.Abs(lon-13.361389) > 1e-5 || math.Abs(lat-38.115556) > 1e-5 {
		t.Fatalf("DecodeScore = %v, %v", lon, lat)
	}
	lon2, lat2, _ := DecodeScore(3479447370796909) // Catania
	if d := Distance(lon, lat, lon2, lat2); strconv.FormatFloat(d, 'f', 4, 64) != "166274.1516" {
		t.Fatalf("Distance Palermo-Catania = %v, GEODIST says 166274.1516", d)
	}
}

// Out-of-range coordinates do not encode.
func TestEncodeRange(t *testing.T) {
	for _, c := range [][2]float64{{181, 0}, {0, 86}, {-180.0001, 0}, {0, -85.06}} {
		if _, ok := Encode(c[0], c[1], StepMax); ok {
			t.Errorf("Encode(%v) accepted", c)
		}
	}
}

// The double-double sin, cos and asin are correctly rounded: checked
// against values whose rounding is known (glibc agrees on these).
func TestTrigCorrectlyRounded(t *testing.T) {
	third := 1.0471975511965976 // the double nearest math.Pi/3 computed in doubles
	cases := []struct {
		got, want float64
	}{
		{sin(math.Pi), 1.2246467991473532e-16},
		{cos(third), 0.5000000000000001},
		{sin(0.5), 0.479425538604203},
		{asin(0.16864007515411195), 0.16944982070246026},
		{asin(1), math.Pi / 2},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: %v, want %v", i, c.got, c.want)
		}
	}
}
