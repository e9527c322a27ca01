// Package replication holds the pure parts of master-replica replication
// as Redis does it: the replication ID and offset, the backlog (a ring
// buffer of the most recent bytes of the replication stream), the PSYNC
// decision (full or partial resynchronisation) and the parsing of the
// master's PSYNC replies, and the replication state a snapshot is saved
// at (SaveInfo: repl-id, repl-offset, repl-stream-db) so that a restarted
// replica can continue with a partial resync.
//
// It owns no sockets, goroutines, clocks or keyspace: node/server carries
// the stream over connections, captures and loads snapshots and applies
// the commands (node/server/repl_*.go). It must not import node/server.
package replication
