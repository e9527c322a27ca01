// Package replication holds the pure decisions of the RedisReplication
// reconciler: which data node is the master (what the sentinels agree on,
// or the first pod while nothing was ever seeded), which nodes must be
// pointed at it with REPLICAOF, the role label of every pod (which the
// <name>-master and <name>-replicas Services select by), the replicas'
// sync state for the status, and the next step of a rolling update,
// switchover or scale-in.
//
// It parses INFO replication and the sentinels' replies handed to it, and
// must not call the API server or the nodes, nor read the clock.
package replication
