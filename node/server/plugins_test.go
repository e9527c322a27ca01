package server_test

import (
	"github.com/shoal-dev/shoal/node/replication"
	"github.com/shoal-dev/shoal/node/server"
)

// The in-process tests' servers get the subsystems the node plugs in
// (node/cmd/shoal-node plug.go), in the same order: the engine alone
// has no handler for their commands' specs.
func init() {
	server.SetTestPlugins(replication.Plugin)
}
