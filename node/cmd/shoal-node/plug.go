package main

import (
	"github.com/shoal-dev/shoal/node/clusternode"
	"github.com/shoal-dev/shoal/node/commands"
	"github.com/shoal-dev/shoal/node/metrics"
	"github.com/shoal-dev/shoal/node/persistence/persister"
	"github.com/shoal-dev/shoal/node/replication"
	"github.com/shoal-dev/shoal/node/server"
)

// plugins are what the node plugs into the engine (node/server hooks.go),
// in the order the engine calls their hooks: the command families, then
// the subsystems. Replication comes before persistence and the cluster
// node, as their calls
// were ordered when both lived in node/server: its Start, Cron and Close
// run first, and its dispatch Guard (MASTERDOWN, READONLY, NOREPLICAS)
// refuses right after the cluster routing. The metrics endpoint comes last:
// it only reads what the others report.
func plugins() []server.Plugin {
	return []server.Plugin{
		server.CommandFamilies(commands.All()...),
		replication.Plugin,
		persister.Plugin,
		clusternode.Plugin,
		metrics.Plugin,
	}
}
