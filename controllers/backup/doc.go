// Package backup takes the backups of a RedisCluster: each shard's
// snapshot, streamed from its master the way a replica receives one in a
// full resynchronisation (PSYNC ? -1: +FULLRESYNC <replid> <offset>, then
// the RDB payload, framed $<length> or $EOF:<mark>), so no copy is made on
// the node's disk and the snapshot comes with the replication ID and offset
// it is consistent with.
//
// Stream writes the payload to any io.Writer (an object store upload, a
// file) while it computes the payload's SHA-256 and checks the RDB's own
// trailer (its CRC-64, when the master computed one), so a truncated or
// corrupted transfer fails the backup instead of storing a bad object.
//
// Follow continues a master's stream from an offset (PSYNC <replid>
// <offset+1>, +CONTINUE) for the archive of package wal; a master that
// offers a full resynchronisation instead is ErrFullResync (a gap).
//
// It talks to a node as any replica does (Redis 7.0 or ours) and must not
// import the node's internals beyond the RDB checksum of node/persistence.
// It decides nothing about when to back up: that is the reconciler's.
package backup
