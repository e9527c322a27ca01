package server

import (
	"testing"

	"github.com/shoal-dev/shoal/node/commands"
)

// TestPlugins are plugged, after the command families and before a
// test's own, into every in-process server of these tests (newInProcess,
// newPlugged): the subsystems that live in packages of their own, which
// package server cannot import. plugins_test.go, in package server_test,
// lists them in the node's order (node/cmd/shoal-node plug.go).
var TestPlugins []Plugin

// enginePlugins are the plugins of an in-process test's server, in the
// node's order: the command families, TestPlugins, then extra.
func enginePlugins(extra ...Plugin) []Plugin {
	ps := []Plugin{CommandFamilies(commands.All()...)}
	ps = append(ps, TestPlugins...)
	return append(ps, extra...)
}

// testPluginHandlers are the handlers of TestPlugins, as plugged into a
// standalone server.
func testPluginHandlers(t *testing.T) []map[string]Handler {
	t.Helper()
	cfg, err := ParseArgs(nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]Handler
	for _, p := range TestPlugins {
		h, err := p(&Server{cfg: cfg})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h.Handlers)
	}
	return out
}
