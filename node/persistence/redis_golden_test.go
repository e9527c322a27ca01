package persistence

import (
	"path/filepath"
	"testing"
)

// redisGoldenFiles lists the RDB files written by Debian's redis-server
// 7.0.15 kept under testdata/redis (see TestRedisGoldenFiles for how
// they are made).
func redisGoldenFiles(t testing.TB) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "redis", "*.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}
