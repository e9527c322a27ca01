package main

import (
	"github.com/shoal-dev/shoal/node/replication"
	"github.com/shoal-dev/shoal/node/server"
)

// plugins are the subsystems plugged into the engine (node/server
// hooks.go), in the order the engine calls their hooks. Replication comes
// first: its dispatch Guard (MASTERDOWN, READONLY, NOREPLICAS) refuses
// right after the cluster routing, before the other subsystems' checks.
func plugins() []server.Plugin {
	return []server.Plugin{
		replication.Plugin,
	}
}
