package nodeadmin_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api/v1alpha1"
	"github.com/shoal-dev/shoal/controllers/builders"
	"github.com/shoal-dev/shoal/node/clusteradmin"
	"github.com/shoal-dev/shoal/node/nodetest"
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

// TestLiveConfigKeysAreTheOnesTheNodeSetsLive checks builders' split of
// spec.config against this repository's node: CONFIG SET (to the value the
// node has) succeeds for every live key and fails for every other key
// admission accepts, so a change of a live key is never lost to a refused
// CONFIG SET, and a key the node cannot change at runtime always restarts.
func TestLiveConfigKeysAreTheOnesTheNodeSetsLive(t *testing.T) {
	port := nodetest.Start(t, nodetest.Options{Port: freeClusterPort(t), Ready: 30 * time.Second,
		Args: []string{"--cluster-enabled", "yes", "--requirepass", password}}).Port
	c := clusteradmin.New(fmt.Sprintf("127.0.0.1:%d", port), clusteradmin.Options{Password: password, Timeout: 10 * time.Second})
	t.Cleanup(func() { _ = c.Close() })
	ctx := context.Background()
	eventually(t, 30*time.Second, func() error { _, err := c.ConfigGet(ctx, "port"); return err })

	for _, key := range v1alpha1.SupportedConfigKeys() {
		got, err := c.ConfigGet(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		value, known := got[key]
		err = c.ConfigSet(ctx, map[string]string{key: value})
		switch live := builders.IsLiveConfig(key); {
		case live && (!known || err != nil):
			t.Errorf("%s is live in builders but the node refuses CONFIG SET %s %q: %v", key, key, value, err)
		case !live && known && err == nil:
			t.Errorf("%s needs a restart in builders but the node sets it live: add it to builders' live keys", key)
		}
	}
}
