package server

import "github.com/shoal-dev/shoal/node/commands"

// testPlugins are the subsystems the in-process tests plug into every
// server they make, as node/cmd/shoal-node plugs them into the node: set
// by plugins_test.go, an external test package, because the subsystems
// import node/server.
var testPlugins []Plugin

// SetTestPlugins sets testPlugins (from plugins_test.go's init).
func SetTestPlugins(p ...Plugin) { testPlugins = p }

// enginePlugins are the plugins of an in-process test's server, in the
// node's order (node/cmd/shoal-node plug.go): the command families, the
// subsystems, then extra.
func enginePlugins(extra ...Plugin) []Plugin {
	ps := []Plugin{CommandFamilies(commands.All()...)}
	ps = append(ps, testPlugins...)
	return append(ps, extra...)
}
