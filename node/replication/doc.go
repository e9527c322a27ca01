// Package replication is master-replica replication as Redis does it.
//
// The pure parts: the replication ID and offset, the backlog (a ring
// buffer of the most recent bytes of the replication stream), the PSYNC
// decision (full or partial resynchronisation), the parsing of the
// master's PSYNC replies, and the replication state a snapshot is saved
// at (SaveInfo: repl-id, repl-offset, repl-stream-db) so that a restarted
// replica can continue with a partial resync (psync.go, backlog.go,
// saveinfo.go).
//
// The I/O, which plugs into the engine (node/server) through its hooks
// only (Plugin, passed to server.New by node/cmd/shoal-node): the master
// side (master.go: the backlog fed by the propagated writes, PSYNC/SYNC
// with a snapshot streamed to the replica, the replicas' writers), the
// replica side (replica.go: the link to the master, the full sync loaded
// beside the live data set, the stream applied under the server lock),
// the commands and INFO replication (commands.go) and the cluster
// machine's replication target (cluster.go).
//
// It imports node/server; node/server must not import it. The
// replication configuration (ReplConfig, the repl-* and replica-*
// parameters) stays with the engine's CONFIG.
package replication
