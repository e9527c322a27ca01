// Package clusternode is the driver of the cluster machine (node/cluster)
// in a data node, as etcd keeps node.go beside raft.go: the machine is
// pure (typed inputs, a Ready value out) and this package carries its
// Readys out against the world. It owns the cluster bus transport
// (bus_link.go: listeners, links, a reader and a writer goroutine per
// link), the saving of nodes.conf (confsave.go), the reactions to lost
// slots (slotloss.go: blocked clients redirected, shard channels
// dropped), the check of the data against the slot map at start-up
// (verify.go), the routing of commands (route.go: MOVED, ASK,
// CLUSTERDOWN, ...), the CLUSTER, ASKING, READONLY and READWRITE commands
// (commands.go) and MIGRATE (migrate.go).
//
// It plugs into the engine as a server.Plugin (node/cmd/shoal-node:
// server.New(cfg, clusternode.Plugin)) and reaches the engine through the
// hooks (server.Hooks) and the few functions node/server exports for it
// (node/server/cluster_api.go); node/server does not import it. Sharded
// pub/sub is the engine's (it works in standalone mode too): this package
// carries PUBLISH and SPUBLISH over the bus and delivers what comes from
// it.
//
// Locking: everything here runs under the server lock (Server.Lock), the
// lock that guards the keyspace, so a Ready is carried out atomically with
// the commands around it; sockets are written by the links' writer
// goroutines, never under the lock.
package clusternode
