package persistence

import (
	"errors"
	"strconv"
	"strings"
)

// Snapshot file layout (format version 1). All fixed-width integers are
// little-endian; "varint" is an unsigned LEB128 varint (encoding/binary
// Uvarint); "bytes" is a varint length followed by that many bytes.
//
//	header   "SHOALSNP" (8 bytes magic), uint16 format version (= 1)
//	records  any number of:
//	  0xFA AUX       bytes name, bytes value      metadata ("shoal-ver", "ctime", ...)
//	  0xFE SELECTDB  varint db                    following keys belong to db
//	  0xFC EXPIREMS  int64 unix time in ms (>= 0) expiry of the next key record
//	  0x00..0x04     type tag (ValueType), bytes key, bytes value encoding
//	trailer  0xFF EOF, uint64 CRC-64/Jones of every byte before it
//	         (magic through the 0xFF), then nothing.
//
// AUX records are optional metadata: loaders ignore the names they do not
// know, so new fields need no new format version and older snapshots
// (without them) load as before. Fields written today: "shoal-ver",
// "ctime", "aof-base" (an AOF base), "resize-db" (AuxResizeDB, before the
// keys of each database), and the replication state a snapshot
// file was taken at, under Redis's RDB names (see node/replication
// SaveInfo): "repl-stream-db", "repl-id", "repl-offset". A replica
// restarted from the file continues its master's stream from there.
//
// A snapshot sent to a replica is this same format, streamed as it is
// encoded; it is self-delimiting (the trailer ends it), so a reader on a
// connection stops right after the checksum (ReadSnapshotStream).
//
// Keys before the first SELECTDB belong to db 0. The value encodings are
// described in value.go (ValueEncodingVersion; the format version covers both).
// A loader that meets an opcode or type tag it does not know stops with an
// error: newer files are never half-read.

// SnapshotMagic starts every snapshot file of earlier shoal builds (the
// format above); they still load. Files written today are RDB files
// (snapshot_rdb.go).
const SnapshotMagic = "SHOALSNP"

// RDBMagic starts an RDB file, followed by the version in four digits.
const RDBMagic = "REDIS"

// AuxResizeDB names the AUX field that announces the size of a database
// before its keys, as Redis's RESIZEDB opcode does: its value is three
// decimals separated by spaces, "<db> <keys> <keys with a TTL>" (counted
// at the snapshot's start; a hint, not a promise). A loader that knows it
// sizes its hash table once instead of growing it step by step; one that
// does not (older builds) ignores it as any unknown AUX field, so the hint
// needs no new format version, and snapshots without it load as before.
const AuxResizeDB = "resize-db"

// SnapshotVersion is the format version this package writes and the highest
// it reads.
const SnapshotVersion = 1

// NoExpire is the ExpireAt of a key without a time to live.
const NoExpire int64 = -1

const (
	opAux      = 0xFA
	opExpireMs = 0xFC
	opSelectDB = 0xFE
	opEOF      = 0xFF

	snapshotHeaderLen = 10 // len(SnapshotMagic) + 2
	rdbHeaderLen      = 9  // "REDIS" + 4 digits
)

// Errors a snapshot load can stop with, wrapped in a *LoadError.
var (
	ErrBadMagic       = errors.New("not an RDB file nor a shoal snapshot (bad magic)")
	ErrFunctions      = errors.New("the file holds functions and nothing here loads them")
	ErrModule         = errors.New("the file holds module data (modules are not supported)")
	ErrBadVersion     = errors.New("unsupported snapshot format version")
	ErrBadChecksum    = errors.New("checksum mismatch")
	ErrTruncated      = errors.New("unexpected end of file (truncated)")
	ErrUnknownType    = errors.New("unknown record type tag")
	ErrCorrupt        = errors.New("corrupt record")
	ErrTrailingData   = errors.New("data after the end marker")
	ErrBadExpireOrder = errors.New("expire time not followed by a key")
)

// Record is one key of a snapshot: its database, name, absolute expiry and
// encoded value (decode it with Codecs.DecodeValue).
type Record struct {
	DB       int
	Key      []byte
	ExpireAt int64 // unix ms, NoExpire when none
	Type     ValueType
	// Value is the RDB encoding (type byte, object; Codecs.DecodeValue),
	// or, for Legacy records (the snapshots of earlier builds), the
	// encoding of value.go (Codecs.DecodeLegacy).
	Value  []byte
	Legacy bool
	// AccessKind says what Access is: none, the key's LRU idle time in
	// seconds, or its LFU counter (RDB_OPCODE_IDLE, RDB_OPCODE_FREQ).
	AccessKind AccessPolicy
	Access     uint64
}

// formatResizeDB is the value of an AuxResizeDB field.
func formatResizeDB(db, keys, expires int) string {
	return strconv.Itoa(db) + " " + strconv.Itoa(keys) + " " + strconv.Itoa(expires)
}

// parseResizeDB parses the value of an AuxResizeDB field: three
// non-negative decimals (a db index, counts of keys; the loader bounds
// what it reserves).
func parseResizeDB(v string) (db, keys, expires int, ok bool) {
	f := strings.Fields(v)
	if len(f) != 3 {
		return 0, 0, 0, false
	}
	var n [3]int
	for i, s := range f {
		x, err := strconv.ParseUint(s, 10, 63)
		if err != nil {
			return 0, 0, 0, false
		}
		n[i] = int(x)
	}
	return n[0], n[1], n[2], true
}

// ErrDatabaseIndex is a key of a database this server does not have (the
// writer had more 'databases'): loading it again fails again.
var ErrDatabaseIndex = errors.New("database index out of range")

// IsFormatError reports whether err says that a snapshot's content cannot
// be loaded by this build (a format, version, type, module, functions or
// stream it does not load, or a corrupt record), as opposed to a transfer
// that went wrong (truncated, checksum mismatch, I/O): reading the same
// snapshot again fails again, so a replica backs off.
func IsFormatError(err error) bool {
	if err == nil || errors.Is(err, ErrTruncated) || errors.Is(err, ErrBadChecksum) {
		return false
	}
	for _, e := range []error{ErrBadMagic, ErrBadVersion, ErrUnknownType, ErrModule, ErrFunctions,
		ErrStreamUnsupported, ErrCorrupt, ErrBadValue, ErrBadExpireOrder, ErrDatabaseIndex} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
