package clients

import (
	"testing"
)

// TestBullMQ runs a BullMQ queue (node/bullmq.mjs: a producer, two
// workers, delayed jobs, jobs that fail twice before they succeed, and
// QueueEvents reading the events stream with XREAD BLOCK) against each
// server, standalone and as a cluster with a hash-tagged prefix. BullMQ
// drives the server almost only through its Lua scripts (EVALSHA), which
// use streams, sorted sets, hashes, lists and cmsgpack. The script checks
// that every job completes exactly once after the attempts it was given.
func TestBullMQ(t *testing.T) {
	runScenario(t, "bullmq.mjs", "bullmq")
}
