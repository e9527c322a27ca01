package clients

import (
	"strings"
	"testing"
	"time"
)

// TestIORedisConsumerGroup runs a consumer group with ioredis
// (node/streams.mjs: XADD, XREADGROUP BLOCK by two consumers, XACK, a
// consumer that stops with entries pending, XAUTOCLAIM by another) against
// each server, standalone and as a cluster: every entry is acknowledged
// exactly once and nothing stays pending.
func TestIORedisConsumerGroup(t *testing.T) {
	for _, srv := range servers {
		for _, mode := range []string{"single", "cluster"} {
			t.Run(srv.name+"/"+mode, func(t *testing.T) {
				bin := srv.bin(t)
				var addrs []string
				if mode == "single" {
					addrs = []string{startSingle(t, bin)}
				} else {
					addrs = startCluster(t, bin)
				}
				out, err := nodeScript(t, 2*time.Minute, "streams.mjs", mode, strings.Join(addrs, ","))
				if err != nil {
					t.Fatalf("consumer group against %s (%s): %v\n%s", srv.name, mode, err, out)
				}
				t.Logf("%s", strings.TrimSpace(out))
			})
		}
	}
}
