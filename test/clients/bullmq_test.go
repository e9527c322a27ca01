package clients

import (
	"strings"
	"testing"
	"time"
)

// TestBullMQ runs a BullMQ queue (node/bullmq.mjs: a producer, two
// workers, delayed jobs, jobs that fail twice before they succeed, and
// QueueEvents reading the events stream with XREAD BLOCK) against each
// server, standalone and as a cluster with a hash-tagged prefix. BullMQ
// drives the server almost only through its Lua scripts (EVALSHA), which
// use streams, sorted sets, hashes, lists and cmsgpack. The script checks
// that every job completes exactly once after the attempts it was given.
func TestBullMQ(t *testing.T) {
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
				out, err := nodeScript(t, 2*time.Minute, "bullmq.mjs", mode, strings.Join(addrs, ","))
				if err != nil {
					t.Fatalf("bullmq against %s (%s): %v\n%s", srv.name, mode, err, out)
				}
				t.Logf("%s", strings.TrimSpace(out))
			})
		}
	}
}
