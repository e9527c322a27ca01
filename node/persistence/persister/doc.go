// Package persister is the persistence subsystem of a data node: it
// plugs node/persistence's formats (the snapshot, the multi-part AOF, the
// point-in-time capture) into the engine of node/server through the hooks
// the engine owns (node/server/hooks.go), without call sites in engine
// files. node/cmd/shoal-node wires it: server.New(cfg, persister.Plugin).
//
// It serves, through those hooks:
//
//   - Load: the data set at start-up (the AOF, or without one the
//     snapshot) while clients get -LOADING; a corrupt file stops start-up.
//   - Persistence: SAVE, BGSAVE (a fork-less point-in-time capture),
//     LASTSAVE, BGREWRITEAOF, and the failed-save state behind MISCONF.
//   - Cron (its own 100 ms loop): the save rules, CONFIG SET appendonly
//     and appendfsync, a scheduled rewrite.
//   - Propagation: the AOF is the server's Propagator while appendonly is
//     on; ReplyMark/ReplyWait hold a batch's replies until its writes are
//     as durable as appendfsync promises (the group commit of always).
//   - Shutdown: stop a background save or rewrite, fsync the AOF, save
//     when asked; a failed final save refuses SHUTDOWN.
//   - ReplSnapshot and DatasetReplaced: a replica's full resync (the
//     engine's SnapshotForReplica and DatasetReplaced are what replication
//     calls).
//   - The INFO persistence section, with Redis 7.0's fields.
//
// It uses of node/server only the hooks and the exports listed in
// node/server/subsystem.go; node/server must not import it.
package persister
