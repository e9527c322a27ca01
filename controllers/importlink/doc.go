// Package importlink is the operator's replication link to a source Redis
// (spec.bootstrap.fromRedis with method Replicate): it connects to one
// source node as a replica would (REPLCONF, PSYNC), loads the snapshot of
// a full resynchronisation into the cluster (each key RESTOREd on the
// master of its slot, the function libraries on every master), then
// applies the source's command stream in order, each command on the
// master of its keys, and acknowledges the offset the cluster holds
// (REPLCONF ACK), so WAIT on the source counts the cluster as a replica.
//
// A link that breaks continues with a partial resynchronisation from the
// offset the cluster holds when the source still has it; a failed apply
// (the cluster did not take a batch) starts over with a full one, after
// the cluster is emptied. Commands of databases other than 0 are
// skipped and counted (a cluster has database 0 only); a command whose
// keys lie in several slots and that cannot be split (RENAME, SMOVE, ...
// over slots of different masters) stops the link with an error naming
// it. A transaction (MULTI/EXEC, which is also how Redis 7 propagates the
// effects of a script) runs as a transaction when its keys are on one
// master, and command by command otherwise.
//
// Route is the pure part (what a source command becomes on which
// master); Link does the I/O.
package importlink
