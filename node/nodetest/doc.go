// Package nodetest starts the processes that tests run against: our data
// node (shoal-node, built once per test binary from this module: Binary,
// removed by Run from TestMain) and Debian's redis-server, the reference.
// Start runs one on a free 127.0.0.1 port with the given arguments and its
// own directory, waits until it answers PING (anything but -LOADING) within
// a deadline, without sleeps, and stops it by PID when the test ends
// (SIGTERM, SIGKILL after a grace), failing the test on a data race in the
// node's log and printing this run's log when the test failed. Launch does
// the same for simulators that start processes off the test's goroutine
// (pods of the operator's tests): they wait and stop them themselves.
//
// It is a normal package so that the tests of node/server (package server,
// internal), node/cmd/shoal-node and controllers share it; only tests may
// import it. It must not import node/server or anything of the operator:
// it talks to the processes as any client does.
package nodetest
