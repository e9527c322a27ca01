package clients

import (
	"testing"
)

// TestIORedisConsumerGroup runs a consumer group with ioredis
// (node/streams.mjs: XADD, XREADGROUP BLOCK by two consumers, XACK, a
// consumer that stops with entries pending, XAUTOCLAIM by another) against
// each server, standalone and as a cluster: every entry is acknowledged
// exactly once and nothing stays pending.
func TestIORedisConsumerGroup(t *testing.T) {
	runScenario(t, "streams.mjs", "consumer group")
}
