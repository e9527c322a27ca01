// Package redistest starts a real redis-server (Debian's, the reference
// implementation) for differential tests of the keyspace value types.
//
// It owns only the lifetime of that process: a private directory, a unix
// socket (no TCP port to collide on), no persistence, and a stop by PID at
// the end of the test. It must not be imported by non-test code.
package redistest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shoal-dev/shoal/internal/testenv"
)

// startTimeout bounds how long redis-server may take to accept connections
// on a loaded machine.
const startTimeout = 20 * time.Second

// Start runs redis-server for the test and returns a client connected to
// it. The test is skipped when redis-server is not installed.
func Start(t testing.TB) *redis.Client {
	t.Helper()
	bin := testenv.LookTool(t, "redis-server", "redis-server")
	dir := t.TempDir()
	sock := filepath.Join(dir, "redis.sock")
	cmd := exec.Command(bin, "--port", "0", "--unixsocket", sock, "--dir", dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", filepath.Join(dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	rdb := redis.NewClient(&redis.Options{Network: "unix", Addr: sock, Protocol: 2})
	t.Cleanup(func() { _ = rdb.Close() })
	ctx := context.Background()
	deadline := time.Now().Add(startTimeout)
	for {
		if _, err := os.Stat(sock); err == nil {
			if err := rdb.Ping(ctx).Err(); err == nil {
				return rdb
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			t.Fatalf("redis-server did not answer within %v; log:\n%s", startTimeout, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
