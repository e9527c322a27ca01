// Package persistence owns the bytes shoal keeps on disk and puts on the
// wire for DUMP/RESTORE: the snapshot file format, the value encodings, the
// DUMP payload, the append-only file (writer with its fsync policies, loader,
// multi-part manifest and rewrite), and the point-in-time capture that lets
// BGSAVE and BGREWRITEAOF run while clients keep writing.
//
// It must not: know the command table or the network, hold or take the
// server's lock on its own (callers pass a sync.Locker where a capture needs
// it), keep package-level mutable state, or silently drop data — every load
// either delivers all of a file or stops with an error naming the file and
// the byte offset.
//
// Formats (frozen by golden-byte tests; see snapshot_format.go, value.go,
// dump.go for the byte layouts):
//   - Snapshot: "SHOALSNP" + uint16 version, typed records (AUX, SELECTDB,
//     EXPIREMS, one type tag per value type), 0xFF and a CRC-64/Jones (the
//     variant Redis uses for RDB and DUMP) over the whole file. Written to a
//     temp file in the same directory, fsynced, renamed, directory fsynced.
//   - DUMP payload: type tag + value encoding + uint16 version (high bit set:
//     a shoal payload) + CRC-64/Jones, as Redis lays out its own.
package persistence
