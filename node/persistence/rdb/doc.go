// Package rdb holds Redis's RDB version 10 object encodings (what Redis 7.0
// writes in dump.rdb, in DUMP payloads and in a full resync's stream): the
// length and string encodings (integers, LZF), listpacks, ziplists,
// intsets, zipmaps, quicklists, sorted set doubles and streams with their
// consumer groups.
//
// It reads every object type Redis 7.0 writes (plus the older forms it
// still loads) into a neutral Go representation, Object, and writes the
// forms Redis 7.0 loads. It knows nothing of files, checksums or the
// keyspace: node/persistence frames objects into files and payloads and
// maps them to the keyspace's types.
//
// Corrupt input is an error wrapping ErrCorrupt, never a panic, and never
// an allocation larger than a small multiple of the input: every count is
// checked against the bytes left before anything is reserved.
package rdb
