package persistence

import (
	"bytes"
	"fmt"

	"github.com/shoal-dev/shoal/node/keyspace"
)

// The keyspace's entries in the files' terms: the mapping between a
// keyspace entry and a (type, value, expiry) record, for the snapshot
// writer, the loaders (the files at start, a full resync's stream),
// DUMP/RESTORE and MIGRATE.

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
func LoadKey(db *keyspace.DB, codecs *Codecs, r Record, reused bool) error {
	var e *keyspace.Entry
	var added bool
	if r.Type == TypeString && codecs.RawStrings() {
		e, added = db.AddStringIfAbsent(r.Key, r.Value)
	} else {
		val := r.Value
		if reused {
			val = bytes.Clone(val)
		}
		v, err := codecs.DecodeValue(r.Type, val)
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
	return nil
}

// ExpireOf is an entry's expiry in the files' terms.
func ExpireOf(e *keyspace.Entry) int64 {
	if at := e.ExpireAt(); at != 0 {
		return at
	}
	return NoExpire
}

// WriteDatabases writes every live key of dbs to w, each database's keys
// after its size hint (the caller holds the lock that guards dbs).
func WriteDatabases(w *SnapshotWriter, codecs *Codecs, dbs []*keyspace.DB) error {
	var buf []byte
	var err error
	for i, db := range dbs {
		if db.Len() > 0 {
			if err := w.ResizeDB(i, db.Len(), db.VolatileLen()); err != nil {
				return err
			}
		}
		db.ForEach(func(e *keyspace.Entry) bool {
			t, v, terr := EntryValue(e)
			if terr != nil {
				err = terr
				return false
			}
			buf, err = codecs.AppendValue(buf[:0], t, v)
			if err == nil {
				err = w.Key(i, []byte(e.Key()), ExpireOf(e), t, buf)
			}
			return err == nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
