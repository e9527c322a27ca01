package server

// TestPlugins are plugged, before a test's own, into every in-process
// server of these tests (newInProcess, newPlugged): the subsystems that
// live in packages of their own, which package server cannot import.
// plugins_test.go, in package server_test, lists them.
var TestPlugins []Plugin
