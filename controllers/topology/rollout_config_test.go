package topology

import (
	"fmt"
	"testing"
)

func TestLiveConfigDiffComparesAsTheNodeReads(t *testing.T) {
	tests := []struct {
		key, want, got string
		set            bool
	}{
		{"maxmemory-policy", "allkeys-lru", "allkeys-lru", false},
		{"maxmemory-policy", "allkeys-lru", "noeviction", true},
		{"maxmemory-policy", "ALLKEYS-LRU", "allkeys-lru", false},
		{"maxmemory", "64mb", "67108864", false},
		{"maxmemory", "64m", "67108864", true},
		{"maxmemory", "1gb", "1073741824", false},
		{"slowlog-max-len", "512", "128", true},
		{"appendonly", "yes", "yes", false},
		{"save", "3600 1  300 100", "3600 1 300 100", false},
		{"save", "", "3600 1", true},
		{"client-output-buffer-limit", "replica 256mb 64mb 60", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", false},
		{"client-output-buffer-limit", "pubsub 64mb 16mb 60", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %q vs %q", tt.key, tt.want, tt.got), func(t *testing.T) {
			d := LiveConfigDiff(map[string]string{tt.key: tt.want}, map[string]string{tt.key: tt.got})
			if _, set := d[tt.key]; set != tt.set {
				t.Errorf("set = %v, want %v", set, tt.set)
			}
		})
	}
	if d := LiveConfigDiff(map[string]string{"hz": "20"}, map[string]string{}); d["hz"] != "20" {
		t.Error("a key the node did not report must be set")
	}
}
