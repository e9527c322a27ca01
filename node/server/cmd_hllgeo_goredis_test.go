package server

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"
)

// go-redis's HyperLogLog API against a node process.
func TestGoRedisHyperLogLog(t *testing.T) {
	c := startNode(t).client(t)
	ctx := ctxT(t)
	for i := 0; i < 5000; i++ {
		if err := c.PFAdd(ctx, "visitors", fmt.Sprintf("user:%d", i), fmt.Sprintf("user:%d", i%100)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	n, err := c.PFCount(ctx, "visitors").Result()
	if err != nil || math.Abs(float64(n)-5000) > 5000*0.02 {
		t.Fatalf("PFCount = %d, %v; want about 5000", n, err)
	}
	c.PFAdd(ctx, "other", "user:1", "x", "y")
	if err := c.PFMerge(ctx, "all", "visitors", "other").Err(); err != nil {
		t.Fatal(err)
	}
	m, _ := c.PFCount(ctx, "all").Result()
	both, _ := c.PFCount(ctx, "visitors", "other").Result()
	if m != both || m < n {
		t.Fatalf("PFCount(all) = %d, PFCount(visitors, other) = %d, PFCount(visitors) = %d", m, both, n)
	}
	if added, _ := c.PFAdd(ctx, "visitors", "user:1").Result(); added != 0 {
		t.Fatalf("re-adding a counted element reports %d", added)
	}
	c.Set(ctx, "plain", "not an hll", 0)
	if err := c.PFAdd(ctx, "plain", "a").Err(); err == nil || err.Error() != "WRONGTYPE Key is not a valid HyperLogLog string value." {
		t.Fatalf("PFAdd on a plain string: %v", err)
	}
}

// go-redis's geo API against a node process, and a BZPOPMIN served by
// the zset GEOSEARCHSTORE creates.
func TestGoRedisGeo(t *testing.T) {
	n := startNode(t)
	c := n.client(t)
	ctx := ctxT(t)
	added, err := c.GeoAdd(ctx, "Sicily",
		&redis.GeoLocation{Name: "Palermo", Longitude: 13.361389, Latitude: 38.115556},
		&redis.GeoLocation{Name: "Catania", Longitude: 15.087269, Latitude: 37.502669}).Result()
	if err != nil || added != 2 {
		t.Fatalf("GeoAdd = %d, %v", added, err)
	}
	if d, _ := c.GeoDist(ctx, "Sicily", "Palermo", "Catania", "km").Result(); d != 166.2742 {
		t.Fatalf("GeoDist = %v, want 166.2742", d)
	}
	if h, _ := c.GeoHash(ctx, "Sicily", "Palermo", "Catania").Result(); !slices.Equal(h, []string{"sqc8b49rny0", "sqdtr74hyu0"}) {
		t.Fatalf("GeoHash = %v", h)
	}
	pos, _ := c.GeoPos(ctx, "Sicily", "Palermo", "nope").Result()
	if len(pos) != 2 || pos[1] != nil || math.Abs(pos[0].Longitude-13.361389) > 1e-5 {
		t.Fatalf("GeoPos = %v", pos)
	}
	locs, err := c.GeoSearchLocation(ctx, "Sicily", &redis.GeoSearchLocationQuery{
		GeoSearchQuery: redis.GeoSearchQuery{Longitude: 15, Latitude: 37, Radius: 200, RadiusUnit: "km", Sort: "ASC"},
		WithCoord:      true, WithDist: true,
	}).Result()
	if err != nil || len(locs) != 2 || locs[0].Name != "Catania" || locs[0].Dist != 56.4413 || locs[1].Dist != 190.4424 {
		t.Fatalf("GeoSearchLocation = %+v, %v", locs, err)
	}
	names, _ := c.GeoRadius(ctx, "Sicily", 15, 37, &redis.GeoRadiusQuery{Radius: 100, Unit: "km"}).Result()
	if len(names) != 1 || names[0].Name != "Catania" {
		t.Fatalf("GeoRadius = %+v", names)
	}

	waiter := n.client(t)
	done := make(chan result, 1)
	go func() {
		v, err := waiter.BZPopMin(ctxT(t), 0, "near").Result()
		if err != nil {
			done <- result{err: err}
			return
		}
		done <- result{vals: []string{v.Key, v.Member.(string)}}
	}()
	waitBlocked(t, c, 1)
	stored, err := c.GeoSearchStore(ctx, "Sicily", "near", &redis.GeoSearchStoreQuery{
		GeoSearchQuery: redis.GeoSearchQuery{Member: "Palermo", Radius: 500, RadiusUnit: "km"}, StoreDist: true,
	}).Result()
	if err != nil || stored != 2 {
		t.Fatalf("GeoSearchStore = %d, %v", stored, err)
	}
	r := await(t, done, "BZPOPMIN")
	if r.err != nil || !slices.Equal(r.vals, []string{"near", "Palermo"}) {
		t.Fatalf("BZPOPMIN = %v, %v; want the member at distance 0", r.vals, r.err)
	}
}
