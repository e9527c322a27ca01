package persistence

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/shoal-dev/shoal/node/keyspace"
)

// The keyspace's entries in the files' terms: the mapping between a
// keyspace entry and a (type, value, expiry) record, for the snapshot
// writer, the loaders (the files at start, a full resync's stream),
// DUMP/RESTORE and MIGRATE.

// ErrEmptyValue is an RDB collection without elements.
var ErrEmptyValue = errors.New("empty collection")

// EntryValue maps a keyspace entry to its persistence type and value.
func EntryValue(e *keyspace.Entry) (ValueType, any, error) {
	switch e.Type() {
	case keyspace.TypeString:
		return TypeString, e.Bytes(), nil
	case keyspace.TypeList:
		return TypeList, e.Object(), nil
	case keyspace.TypeSet:
		return TypeSet, e.Object(), nil
	case keyspace.TypeZSet:
		return TypeZSet, e.Object(), nil
	case keyspace.TypeHash:
		return TypeHash, e.Object(), nil
	case keyspace.TypeStream:
		return TypeStream, e.Object(), nil
	}
	return 0, nil, fmt.Errorf("key %q: type %s cannot be persisted", e.Key(), e.Type())
}

// keyspaceType maps a persistence type tag to the keyspace's type.
func keyspaceType(t ValueType) keyspace.Type {
	switch t {
	case TypeList:
		return keyspace.TypeList
	case TypeSet:
		return keyspace.TypeSet
	case TypeZSet:
		return keyspace.TypeZSet
	case TypeHash:
		return keyspace.TypeHash
	case TypeStream:
		return keyspace.TypeStream
	}
	return keyspace.TypeString
}

// AddValue adds a decoded value as a new key.
func AddValue(db *keyspace.DB, key []byte, t ValueType, v any) *keyspace.Entry {
	if t == TypeString {
		return db.AddString(key, v.([]byte))
	}
	return db.AddObject(key, keyspaceType(t), v)
}

// LoadKey adds one key of a snapshot to db, for both loads (the file at
// start, a full resync's stream). Like Redis's loader with dictAdd, it
// hashes the key and probes the table once, to add it and to detect a
// duplicate, which makes the snapshot corrupt. reused says that the reader
// reuses r's buffers after the call (SnapshotHandler.Reuse): a value of a
// type other than string is then copied before it is decoded, as decoders
// may keep slices of their input. With raw strings, a string's encoding is
// its bytes, which the keyspace copies.
//
// A collection without elements (ErrEmptyValue) is skipped, as Redis
// skips it. A stream is ErrStreamUnsupported until a stream codec is
// registered.
func LoadKey(db *keyspace.DB, codecs *Codecs, r Record, reused bool) error {
	var e *keyspace.Entry
	var added bool
	if r.Type == TypeString && codecs.RawStrings() {
		s := r.Value
		if !r.Legacy {
			// An LZF string expands into buf, on the stack when small:
			// the keyspace copies it.
			var buf [64]byte
			var err error
			if s, err = appendRDBString(buf[:0], r.Value); err != nil {
				return fmt.Errorf("key %q: %w", r.Key, err)
			}
		}
		e, added = db.AddStringIfAbsent(r.Key, s)
	} else {
		val := r.Value
		if reused {
			val = bytes.Clone(val)
		}
		var v any
		var err error
		if r.Legacy {
			v, err = codecs.DecodeLegacy(r.Type, val)
		} else {
			v, err = codecs.DecodeValue(r.Type, val)
		}
		if errors.Is(err, ErrEmptyValue) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("key %q: %w", r.Key, err)
		}
		if b, ok := v.([]byte); ok && r.Type == TypeString {
			e, added = db.AddStringIfAbsent(r.Key, b)
		} else {
			e, added = db.AddObjectIfAbsent(r.Key, keyspaceType(r.Type), v)
		}
	}
	if !added {
		return fmt.Errorf("%w: duplicate key %q in database %d", ErrCorrupt, r.Key, r.DB)
	}
	if r.ExpireAt != NoExpire {
		db.SetExpire(e, r.ExpireAt)
	}
	switch r.AccessKind {
	case AccessLRU:
		db.SetAccessHint(e, int64(min(r.Access, 1<<40)), -1)
	case AccessLFU:
		db.SetAccessHint(e, -1, int(min(r.Access, 255)))
	}
	return nil
}

// AccessOf is e's access information of kind p, as Redis saves it: the
// estimated idle time in seconds (LRU) or the decayed counter (LFU).
func AccessOf(db *keyspace.DB, e *keyspace.Entry, p AccessPolicy) uint64 {
	switch p {
	case AccessLRU:
		return uint64(max(db.IdleMillis(e), 0) / 1000)
	case AccessLFU:
		return uint64(db.LFUCounter(e))
	}
	return 0
}

// ExpireOf is an entry's expiry in the files' terms.
func ExpireOf(e *keyspace.Entry) int64 {
	if at := e.ExpireAt(); at != 0 {
		return at
	}
	return NoExpire
}

// WriteDatabases writes every live key of dbs to w, each database's keys
// after its size hint, with the access hints of the writer's options (the
// caller holds the lock that guards dbs).
func WriteDatabases(w *SnapshotWriter, codecs *Codecs, dbs []*keyspace.DB) error {
	policy := w.Options().Access
	// Keys are encoded a batch at a time into an arena, then written:
	// reading the keyspace is a chain of cache misses (entry, key,
	// value), which the CPU overlaps when the loop that takes them is
	// short; the writer's own work (LZF, the checksum) then runs on
	// data in the cache.
	ch := &Chunk{codecs: codecs, access: policy}
	flush := func() error {
		err := ch.writeTo(w)
		ch.reset()
		return err
	}
	for i, db := range dbs {
		if db.Len() > 0 {
			if err := w.ResizeDB(i, db.Len(), db.VolatileLen()); err != nil {
				return err
			}
		}
		var err error
		db.ForEach(func(e *keyspace.Entry) bool {
			var access uint64
			if policy != AccessNone {
				access = AccessOf(db, e, policy)
			}
			if e.Type() == keyspace.TypeString {
				err = ch.AddString(i, e.Key(), ExpireOf(e), e.Bytes(), access)
			} else {
				t, v, terr := EntryValue(e)
				if terr != nil {
					err = terr
					return false
				}
				err = ch.Add(i, e.Key(), ExpireOf(e), t, v, access)
			}
			if err == nil && (ch.Len() >= writeBatchKeys || len(ch.arena) >= writeBatchBytes) {
				err = flush()
			}
			return err == nil
		})
		if err == nil {
			err = flush()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// A batch of WriteDatabases: enough keys for the CPU to overlap their
// cache misses, few enough bytes to stay in its cache.
const (
	writeBatchKeys  = 256
	writeBatchBytes = 64 << 10
)
