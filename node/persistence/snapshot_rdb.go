package persistence

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/shoal-dev/shoal/node/persistence/rdb"
)

// Reading an RDB file (Redis's format, version 1 to 10): opcodes and keys
// up to the EOF opcode and the CRC-64 trailer. Values are not decoded
// here: each key's object is copied as it is (rdb.CopyObject walks its
// structure to find its end) and decoded by the key's handler (LoadKey),
// so the reader stays a thin, checksummed stream walker.

// AppendN implements rdb.Source: it appends exactly n bytes, checksummed
// and counted, growing dst only as the data arrives.
func (sr *snapReader) AppendN(dst []byte, n uint64) ([]byte, error) {
	if n > math.MaxInt32*16 {
		return dst, fmt.Errorf("%w: length %d too large", ErrCorrupt, n)
	}
	if n == 1 {
		b, err := sr.ReadByte()
		if err != nil {
			return dst, err
		}
		return append(dst, b), nil
	}
	for n > 0 {
		want := int(min(n, 1<<20))
		start := len(dst)
		dst = slices.Grow(dst, want)[:start+want]
		got, err := io.ReadFull(sr.r, dst[start:])
		sr.crc = crc64Update(sr.crc, dst[start:start+got])
		sr.off += int64(got)
		if err != nil {
			return dst[:start+got], truncatedIfEOF(err)
		}
		n -= uint64(want)
	}
	return dst, nil
}

// rdbErr maps the rdb package's errors to this package's.
func rdbErr(err error) error {
	switch {
	case err == nil, errors.Is(err, ErrTruncated):
		return err
	case errors.Is(err, rdb.ErrUnsupported):
		return ErrModule
	case errors.Is(err, rdb.ErrCorrupt):
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return err
}

// rdbString reads one string, decoded.
func (sr *snapReader) rdbString(buf *[]byte) ([]byte, error) {
	enc, err := rdb.CopyString((*buf)[:0], sr)
	if cap(enc) <= 1<<20 {
		*buf = enc
	}
	if err != nil {
		return nil, rdbErr(err)
	}
	s, err := rdb.DecodeString(enc)
	return s, rdbErr(err)
}

func (sr *snapReader) rdbLen() (uint64, error) {
	n, err := rdb.ReadLen(sr)
	return n, rdbErr(err)
}

// valueType maps an RDB object type to the keyspace's type tag.
func valueType(t byte) (ValueType, bool) {
	k, ok := rdb.KindOf(t)
	if !ok {
		return 0, false
	}
	switch k {
	case rdb.KindString:
		return TypeString, true
	case rdb.KindList:
		return TypeList, true
	case rdb.KindSet:
		return TypeSet, true
	case rdb.KindZSet:
		return TypeZSet, true
	case rdb.KindHash:
		return TypeHash, true
	case rdb.KindStream:
		return TypeStream, true
	}
	return 0, false
}

func (sr *snapReader) rdbRecords(h SnapshotHandler, version int) error {
	db := 0
	expireAt := NoExpire
	accessKind, access := AccessNone, uint64(0)
	var nameBuf, auxBuf []byte
	for {
		sr.recStart = sr.off
		op, err := sr.ReadByte()
		if err != nil {
			return err
		}
		switch op {
		case rdb.OpAux:
			name, err := sr.rdbString(&nameBuf)
			if err != nil {
				return err
			}
			name = slices.Clone(name)
			value, err := sr.rdbString(&auxBuf)
			if err != nil {
				return err
			}
			if h.Aux != nil {
				if err := h.Aux(name, slices.Clone(value)); err != nil {
					return err
				}
			}
			continue
		case rdb.OpResizeDB:
			keys, err := sr.rdbLen()
			if err != nil {
				return err
			}
			expires, err := sr.rdbLen()
			if err != nil {
				return err
			}
			if h.ResizeDB != nil {
				if err := h.ResizeDB(db, int(min(keys, math.MaxInt32)), int(min(expires, math.MaxInt32))); err != nil {
					return err
				}
			}
			continue
		case rdb.OpSelectDB:
			n, err := sr.rdbLen()
			if err != nil {
				return err
			}
			if n > math.MaxInt32 {
				return fmt.Errorf("%w: db index %d", ErrCorrupt, n)
			}
			db = int(n)
			continue
		case rdb.OpExpireTimeMs:
			b, err := sr.full(8)
			if err != nil {
				return err
			}
			expireAt = max(int64(binary.LittleEndian.Uint64(b)), 0)
			continue
		case rdb.OpExpireTime:
			b, err := sr.full(4)
			if err != nil {
				return err
			}
			expireAt = max(int64(int32(binary.LittleEndian.Uint32(b))), 0) * 1000
			continue
		case rdb.OpIdle:
			// The next key's LRU idle time in seconds.
			if access, err = sr.rdbLen(); err != nil {
				return err
			}
			accessKind = AccessLRU
			continue
		case rdb.OpFreq:
			// The next key's LFU counter.
			b, err := sr.ReadByte()
			if err != nil {
				return err
			}
			accessKind, access = AccessLFU, uint64(b)
			continue
		case rdb.OpFunction2:
			var buf []byte
			code, err := sr.rdbString(&buf)
			if err != nil {
				return err
			}
			if h.Function == nil {
				return ErrFunctions
			}
			if err := h.Function(slices.Clone(code)); err != nil {
				return err
			}
			continue
		case rdb.OpFunction:
			return fmt.Errorf("%w (the pre-release 7.0 functions format)", ErrFunctions)
		case rdb.OpModuleAux:
			return ErrModule
		case rdb.OpEOF:
			if expireAt != NoExpire {
				return ErrBadExpireOrder
			}
			return sr.rdbTrailer(version)
		}
		t, ok := valueType(op)
		if !ok {
			if k, isObj := rdb.KindOf(op); isObj && k == rdb.KindModule {
				return ErrModule
			}
			return fmt.Errorf("%w 0x%02x", ErrUnknownType, op)
		}
		rec := Record{DB: db, ExpireAt: expireAt, Type: t, AccessKind: accessKind, Access: access}
		expireAt, accessKind, access = NoExpire, AccessNone, 0
		if h.Reuse {
			rec.Key, err = sr.rdbString(&sr.keyBuf)
		} else {
			var buf []byte
			rec.Key, err = sr.rdbString(&buf)
			rec.Key = slices.Clip(rec.Key)
		}
		if err != nil {
			return err
		}
		var val []byte
		if h.Reuse {
			val = sr.valBuf[:0]
		}
		val, err = rdb.CopyObject(append(val, op), sr, op)
		if h.Reuse && cap(val) <= 4<<20 {
			sr.valBuf = val
		}
		if err != nil {
			return rdbErr(err)
		}
		rec.Value = val
		if h.Key != nil {
			if err := h.Key(rec); err != nil {
				return err
			}
		}
	}
}

// rdbTrailer checks the CRC-64 after the EOF opcode (RDB version 5 on; a
// zero checksum means the writer had rdbchecksum off).
func (sr *snapReader) rdbTrailer(version int) error {
	if version >= 5 {
		return sr.checksum(true)
	}
	sr.recStart = sr.off
	if sr.stream {
		return nil
	}
	if _, err := sr.r.ReadByte(); err == nil {
		return ErrTrailingData
	} else if !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
