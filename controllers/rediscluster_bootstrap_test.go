package controllers

import "testing"

func TestPodShardOrdinal(t *testing.T) {
	rc := newCluster("ns", "rc")
	tests := []struct {
		pod            string
		shard, ordinal int
		ok             bool
	}{
		{"rc-shard-0-0", 0, 0, true},
		{"rc-shard-12-3", 12, 3, true},
		{"rc-shard-1", 0, 0, false},
		{"rc-shard-01-0", 0, 0, false},
		{"rc-shard--1-0", 0, 0, false},
		{"rc-shard-1-x", 0, 0, false},
		{"other-shard-1-0", 0, 0, false},
		{"rc-shard-1-0-0", 0, 0, false},
	}
	for _, tt := range tests {
		s, o, ok := podShardOrdinal(rc, tt.pod)
		if ok != tt.ok || ok && (s != tt.shard || o != tt.ordinal) {
			t.Errorf("podShardOrdinal(%q) = %d, %d, %v; want %d, %d, %v", tt.pod, s, o, ok, tt.shard, tt.ordinal, tt.ok)
		}
	}
}
