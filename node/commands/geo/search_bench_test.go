package geo

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/shoal-dev/shoal/node/keyspace/geohash"
	"github.com/shoal-dev/shoal/node/keyspace/zset"
)

// benchSet is the set hack/bench-node.sh searches: 200 points spread over
// 40 degrees of longitude and 30 of latitude.
func benchSet(tb testing.TB) *zset.ZSet {
	lim := zset.DefaultLimits()
	z := zset.New(lim, 200)
	for i := 1; i <= 200; i++ {
		// the coordinates as the shell prints them: "-19.7", "11.13"
		lon, _ := strconv.ParseFloat(fmt.Sprintf("%d.%d", i%40-20, i*7%100), 64)
		lat, _ := strconv.ParseFloat(fmt.Sprintf("%d.%d", i%30+10, i*13%100), 64)
		h, ok := geohash.Encode(lon, lat, geohash.StepMax)
		if !ok {
			tb.Fatal("encode")
		}
		if _, _, err := z.Add(lim, []byte(fmt.Sprintf("p%d", i)), float64(geohash.Align52(h)), 0); err != nil {
			tb.Fatal(err)
		}
	}
	return z
}

// BenchmarkMembersOfAllNeighbors is the scan of GEOSEARCH bench:geo
// FROMLONLAT 15 37 BYRADIUS 200 km, the part of the command that depends
// on the set.
func BenchmarkMembersOfAllNeighbors(b *testing.B) {
	z := benchSet(b)
	var ptsBuf [32]point
	var cellBuf [64]zset.Entry
	n := 0
	for b.Loop() {
		shape := geohash.Shape{Lon: 15, Lat: 37, Radius: 200, Conversion: 1000}
		n = len(membersOfAllNeighbors(z, &shape, 0, ptsBuf[:0], cellBuf[:0]))
	}
	if n != 3 {
		b.Fatalf("%d points found, want 3", n)
	}
}
