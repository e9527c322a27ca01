// Package clusteradmin is the admin client of one Redis Cluster node, shared
// by the operator (controllers) and the data node's own subcommands
// (shoal-node prestop). It reads the node's view of the cluster (CLUSTER
// NODES, CLUSTER INFO, DBSIZE, INFO replication) into a typed NodeView and
// sends the cluster commands (MEET, ADDSLOTSRANGE, SETSLOT, REPLICATE,
// FAILOVER, FORGET, CONFIG GET/SET, COUNTKEYSINSLOT, GETKEYSINSLOT,
// MIGRATE). It is built on github.com/redis/go-redis/v9 and speaks to any
// Redis Cluster node, ours or Redis itself.
//
// It owns the view types (NodeView, Node, SlotRange, ClusterInfo,
// Replication) and the parsing of those replies (pure functions, tested
// without sockets). It must not decide anything: what to send, and when, is
// the planner's (controllers/topology) and the reconciler's business. It
// never shells out to redis-cli and never drops an error. It must not import
// the operator (controllers/...) nor the node's internals (node/server): it
// talks to a node as any client does.
package clusteradmin
