// Package persistence owns the bytes shoal keeps on disk and puts on the
// wire for DUMP/RESTORE: the snapshot file format, the value encodings, the
// DUMP payload, the append-only file (writer with its fsync policies,
// loader, multi-part manifest and rewrite), and the point-in-time capture
// that lets BGSAVE and BGREWRITEAOF run while clients keep writing.
//
// It must not: know the command table, clients or the network; take the
// server's lock except where a caller hands it a sync.Locker (Capture.Write);
// keep package-level mutable state; or silently drop data: every load either
// delivers all of a file or stops with a *LoadError naming the file and the
// byte offset.
//
// # Formats
//
// Redis's own, so data moves between shoal and Redis 7.0 either way. Frozen
// by golden-byte tests and by files redis-server 7.0.15 wrote
// (interop/testdata); the byte layouts are in package rdb, snapshot_rdb.go,
// dump.go and aof_manifest.go.
//
//   - Snapshot (dbfilename, the base of the AOF, a full sync's stream): an
//     RDB file, version 10: "REDIS0010", AUX fields, the function
//     libraries as FUNCTION2 records, SELECTDB and RESIZEDB before each
//     database's keys, EXPIRETIME_MS, IDLE or FREQ under an LRU or LFU
//     maxmemory-policy (SnapshotOptions.Access), one RDB object per key
//     (package rdb: listpacks for small hashes and sorted sets, intsets,
//     quicklists of listpacks, plain forms otherwise; with rdbcompression
//     its strings of more than 20 bytes LZF-compressed), EOF, then a
//     CRC-64/Jones (reflected polynomial 0xad93d23594c935a9, init 0, no
//     xorout) over every byte before it. Written to a temp file in the same
//     directory, fsynced, renamed over the target, the directory fsynced.
//     The reader takes RDB versions 1 to 10 (FUNCTION2 records to a hook,
//     IDLE/FREQ into the key's clock, modules refused) and the "SHOALSNP"
//     snapshots of earlier builds (snapshot_format.go), told apart by
//     their magic; files of earlier RDB builds carry the function
//     libraries in a "shoal-functions" aux field, which still loads.
//   - DUMP payload: RDB object + uint16 RDB version (10) + CRC-64/Jones,
//     byte for byte Redis's; payloads of earlier builds (version with the
//     high bit set) still restore. RESTORE errors are Redis's words:
//     ErrDumpPayload, ErrBadDataFormat.
//   - AOF: a directory with a manifest (Redis 7's syntax), one base (an RDB
//     file, <name>.N.base.rdb, as Redis 7 writes with aof-use-rdb-preamble)
//     and incremental files of RESP commands. See aof_dir.go for the
//     rewrite protocol, aof_writer.go for appendfsync and group commit,
//     aof_reader.go for truncated and corrupt files.
//
// # Point-in-time snapshots without fork
//
// Redis forks and lets the kernel copy pages on write. A Go process cannot
// fork, and copying the data set under the server lock stalls every client
// for as long as the copy takes. shoal uses copy-on-write per key instead,
// driven by a snapshot generation number:
//
//   - The server keeps one generation counter. A capture (BGSAVE,
//     BGREWRITEAOF, a replica's full resync) increments it under the
//     lock and remembers the new value G. Starting costs O(1); the AOF
//     rotation of a rewrite happens in the same lock hold, so the base and
//     the new incremental file meet exactly.
//   - Every key entry carries the generation that last claimed it. New
//     entries are born with the current counter, so keys created after the
//     start are never captured.
//   - The capture walks each database with the keyspace's SCAN cursor, a
//     chunk of keys (128) per lock hold: an entry with generation < G is
//     claimed (stamped G), encoded under the lock into a reused arena (no
//     allocation, so the lock holder never pays for garbage collection) and
//     written to the file after the lock is released. SCAN returns every
//     key present for the whole walk; the others changed, and the next rule
//     covers them. Between chunks the capture leaves the lock to the
//     clients (CaptureOptions.DutyCycle: the server uses 50%, owed only
//     for chunks whose lock a client held when the capture came for it, so
//     an idle server captures at full speed). A replica's full resync
//     streams the capture straight to the connection as it is encoded
//     (flushed every 100ms), nothing is built in memory first.
//   - Before any change to an existing entry whose generation is < G (value
//     modified in place, overwritten, TTL changed, deleted, expired,
//     evicted, renamed away) the keyspace calls Capture.Preserve with the
//     current value, which is encoded at once, and stamps G. The capture
//     writes preserved records between chunks.
//   - FLUSHDB/FLUSHALL during a capture hand the old table to
//     Capture.AddDetached instead of preserving key by key; it is streamed
//     at the end without the lock (nothing live reaches it). SWAPDB makes
//     the server adapter swap which table it walks for each db index.
//
// Every key of the start state is written exactly once, with its value as
// of the start (capture_test.go checks this against concurrent set, delete,
// expire and flush). Costs: 8 bytes per key; one predictable branch per
// write when no capture runs; a key changed during a capture is encoded
// once more (the analogue of fork's page copy), so memory in the worst case
// is one encoded copy of the data set, as fork's worst case is one copy of
// its pages; the longest lock hold is one chunk, plus, for a write to a huge
// key not yet claimed, that key's encoding (a 100 MB value costs about the
// time to encode 100 MB, once per capture).
//
// What the keyspace (node/keyspace, owned by the server's author) provides,
// and node/persistence/persister/capture.go adapts to CaptureSource: a
// generation field on Entry; DB.BeginSnapshot(G, hook) / EndSnapshot(); a claim check
// called from LookupWrite, SetString on an existing key, ReplaceObject,
// SetExpire, Persist and removeEntry (DEL, expiry, eviction, RENAME/MOVE);
// Flush handing its old table to the hook while a capture runs; SwapWith
// telling the hook.
//
// Rejected alternatives: cloning the data set under the lock (a stall
// proportional to its size); cloning in chunks without change tracking (not
// a point in time: a MULTI that moves a value between two keys could be
// seen twice or not at all); persistent data structures (every type
// rewritten, and slower on the hot path).
package persistence
