// Package wal archives each master's replication stream for point-in-time
// recovery and replays it. After a base backup (a snapshot consistent with
// a replication ID and offset), an Archiver continues the shard's stream
// from that offset as a replica would (PSYNC <replid> <offset+1>) and
// uploads it every interval as a segment object, <backup folder>/wal/
// <shard>/<from>-<to>.seg: the raw bytes that take a replica from offset
// from to offset to, and checkpoints (offset, time received) at least one
// per read, under a SHA-256 so a corrupt segment is refused.
//
// A restore to a time T replays, per shard, the commands whose last byte
// was received at or before T (the last checkpoint at or before T), each
// on the master of its key's slot in the new cluster; a FLUSHALL of a
// shard's history empties that shard's slots only.
//
// Segment, Chain and Cut are pure; Archiver and Replay do I/O against an
// object store and nodes. The package decides nothing about when to
// archive: that is the reconciler's.
package wal
