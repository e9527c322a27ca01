// Package nodetest starts the processes that tests run against: our data
// node (shoal-node, built once per test binary from this module) and
// Debian's redis-server, the reference. Start runs one on a free 127.0.0.1
// port with the given arguments and its own directory, waits until it
// answers PING (anything but -LOADING) within a deadline, and stops it by
// PID when the test ends (SIGTERM, SIGKILL after a grace), checking the
// node's log for data races and printing it when the test failed.
//
// It is a normal package so that the tests of node/server (package server,
// internal), node/cmd/shoal-node and controllers share it; only tests may
// import it. It must not import node/server or anything of the operator:
// it talks to the processes as any client does.
package nodetest
