// Package topology is the pure planner of cluster formation. It holds the
// typed view of a Redis Cluster as its nodes report it (CLUSTER NODES,
// CLUSTER INFO, DBSIZE, INFO replication: NodeView), the members the
// RedisCluster expects (Member: pod, shard, ordinal, address), and the
// functions that turn them into the next safe actions (MEET, ADDSLOTSRANGE,
// REPLICATE).
//
// It must not do I/O: no sockets, no API server, no clock. The node admin
// client (controllers/nodeadmin) fills the views and carries out the actions.
// It must never plan slot assignment or replication on a node that holds
// keys, or slots other than the ones formation would give it: that is repair,
// not formation.
package topology
