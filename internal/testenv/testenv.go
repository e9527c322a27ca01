// Package testenv decides what a test does when something it needs from
// the machine is missing: a tool (redis-server, redis-cli), two CPUs, a
// non-loopback address. On a developer's machine the test skips, saying
// what to install; where SHOAL_REQUIRE_TOOLS=1 (the Makefile's test
// targets, run by CI, which installs redis-server and redis-tools) it
// fails, so a missing tool cannot hide a regression behind a skip.
//
// It is only for what the machine lacks. A command or an INFO field the
// node under test lacks is a failure everywhere, never a reason to skip.
// It must not be imported by non-test code.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// RequireVar is the environment variable that turns skips into failures.
const RequireVar = "SHOAL_REQUIRE_TOOLS"

// Required reports whether what tests need must be present.
func Required() bool { return os.Getenv(RequireVar) == "1" }

// Unavailable skips the test, or fails it when Required, for a need the
// machine does not meet.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("%s (%s=1: the test needs it)", msg, RequireVar)
		return
	}
	t.Skip(msg)
}

// LookTool finds a program on PATH, or is Unavailable naming the Debian
// package that installs it.
func LookTool(t testing.TB, name, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "%s not installed (apt-get install %s)", name, debianPackage)
	}
	return path
}
