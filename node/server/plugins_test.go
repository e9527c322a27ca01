package server_test

import (
	"github.com/shoal-dev/shoal/node/clusternode"
	"github.com/shoal-dev/shoal/node/replication"
	"github.com/shoal-dev/shoal/node/server"
)

// The in-process servers get the subsystems main gives shoal-node
// (node/cmd/shoal-node plug.go), in the same order, so that every command
// of the table has its handler.
func init() {
	server.TestPlugins = append(server.TestPlugins, replication.Plugin, clusternode.Plugin)
}
