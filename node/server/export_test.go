package server

// testPlugins are the subsystems the in-process tests plug into every
// server they make (newInProcess, newPlugged), as node/cmd/shoal-node
// plugs them into the node: set by plugins_test.go, an external test
// package, because the subsystems import node/server.
var testPlugins []Plugin

// SetTestPlugins sets testPlugins (from plugins_test.go's init).
func SetTestPlugins(p ...Plugin) { testPlugins = p }
