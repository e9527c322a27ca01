package nodeadmin_test

import (
	"context"
	"testing"
	"time"
)

// TestConfigSetAndGetOnRealRedis sets two live keys in one CONFIG SET and
// reads them back with one CONFIG GET, on Debian's redis-server.
func TestConfigSetAndGetOnRealRedis(t *testing.T) {
	nodes := startRedisNodes(t, 1)
	c := dial(t, nodes)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	want := map[string]string{"maxmemory-policy": "allkeys-lru", "slowlog-max-len": "77"}
	if err := c.ConfigSet(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := c.ConfigGet(ctx, "maxmemory-policy", "slowlog-max-len", "no-such-key")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["maxmemory-policy"] != "allkeys-lru" || got["slowlog-max-len"] != "77" {
		t.Errorf("CONFIG GET after CONFIG SET: %v, want %v", got, want)
	}
	// All or nothing: a bad value leaves the good one unset.
	if err := c.ConfigSet(ctx, map[string]string{"slowlog-max-len": "88", "maxmemory-policy": "bogus"}); err == nil {
		t.Fatal("CONFIG SET with a bad value succeeded")
	}
	if got, _ := c.ConfigGet(ctx, "slowlog-max-len"); got["slowlog-max-len"] != "77" {
		t.Errorf("a failed CONFIG SET changed slowlog-max-len to %q", got["slowlog-max-len"])
	}
}
