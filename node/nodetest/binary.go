package nodetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/shoal-dev/shoal/internal/testenv"
)

// NodePackage is the import path of the data node's command.
const NodePackage = "github.com/shoal-dev/shoal/node/cmd/shoal-node"

// RaceVar, set to 1, builds the node with the race detector; a race then
// shows in the node's log and fails the test that ran it.
const RaceVar = "SHOAL_NODE_RACE"

// build is the node binary of this test binary, built on first use.
var build struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Binary is the path of shoal-node built from this module, built on the
// first call in the test binary (with -race when RaceVar is 1). TestMain
// calls Run so that it is removed at the end.
func Binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "shoal-nodetest")
		if build.err != nil {
			return
		}
		build.path = filepath.Join(build.dir, "shoal-node")
		args := []string{"build", "-o", build.path}
		if os.Getenv(RaceVar) == "1" {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, NodePackage)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("building shoal-node: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// Run runs the tests of m, removes the node binary built meanwhile and
// returns the exit code: func TestMain(m *testing.M) { os.Exit(nodetest.Run(m)) }.
func Run(m *testing.M) int {
	code := m.Run()
	if build.dir != "" {
		_ = os.RemoveAll(build.dir)
	}
	return code
}

// RedisServer is Debian's redis-server, or the test is Unavailable.
func RedisServer(t testing.TB) string {
	t.Helper()
	return testenv.LookTool(t, "redis-server", "redis-server")
}
