package server_test

import (
	"github.com/shoal-dev/shoal/node/clusternode"
	"github.com/shoal-dev/shoal/node/server"
)

// The in-process servers get the plugins main gives shoal-node, so that
// every command of the table has its handler.
func init() {
	server.TestPlugins = append(server.TestPlugins, clusternode.Plugin)
}
