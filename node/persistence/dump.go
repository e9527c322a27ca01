package persistence

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/shoal-dev/shoal/node/persistence/rdb"
)

// DUMP payload layout, Redis's:
//
//	RDB object (type byte, object) | uint16 RDB version | uint64 CRC-64/Jones
//
// Both integers are little-endian; the CRC covers every byte before it.
// This build writes version 10 (Redis 7.0's) and accepts 1 to 10, so a
// payload moves between shoal and Redis 7.0 either way (MIGRATE, DUMP and
// RESTORE). Payloads of earlier shoal builds (version with the high bit
// set, value.go encodings) are still accepted, for mixed-version clusters
// during an upgrade.

const (
	dumpShoalFlag  = 0x8000
	dumpTrailerLen = 2 + 8
)

// DumpVersion is the version field this build writes.
const DumpVersion uint16 = rdb.Version

// The errors RESTORE replies with, worded (with the ERR prefix) as Redis words them.
var (
	ErrDumpPayload   = errors.New("ERR DUMP payload version or checksum are wrong")
	ErrBadDataFormat = errors.New("ERR Bad data format")
)

// AppendDump appends a DUMP payload for a value whose RDB encoding (type
// byte, object) is value.
func AppendDump(dst []byte, value []byte) []byte {
	return sealDump(append(dst, value...), len(dst))
}

// sealDump appends the DUMP trailer (RDB version, CRC-64 of both) to the
// value encoded in b from start on.
func sealDump(b []byte, start int) []byte {
	b = binary.LittleEndian.AppendUint16(b, DumpVersion)
	return binary.LittleEndian.AppendUint64(b, CRC64(b[start:]))
}

// VerifyDump checks a payload's version and checksum (Redis's
// verifyDumpPayload). It returns ErrDumpPayload when they are wrong, and
// whether the payload is of an earlier shoal build.
func VerifyDump(payload []byte) (legacy bool, err error) {
	if len(payload) < 1+dumpTrailerLen {
		return false, ErrDumpPayload
	}
	body := payload[:len(payload)-8]
	ver := binary.LittleEndian.Uint16(body[len(body)-2:])
	if ver&dumpShoalFlag != 0 {
		legacy = true
		if ver&^dumpShoalFlag == 0 || ver&^dumpShoalFlag > ValueEncodingVersion {
			return false, ErrDumpPayload
		}
	} else if ver > rdb.Version {
		return false, ErrDumpPayload
	}
	if CRC64(body) != binary.LittleEndian.Uint64(payload[len(payload)-8:]) {
		return false, ErrDumpPayload
	}
	return legacy, nil
}

// DecodeDump verifies a payload and returns its type and value encoding
// (a slice of payload: the RDB object, or for a legacy payload the
// value.go encoding). An unknown type is ErrBadDataFormat.
func DecodeDump(payload []byte) (t ValueType, value []byte, legacy bool, err error) {
	if legacy, err = VerifyDump(payload); err != nil {
		return 0, nil, false, err
	}
	body := payload[:len(payload)-dumpTrailerLen]
	if legacy {
		t = ValueType(body[0])
		if !t.Valid() || t == TypeStream {
			return 0, nil, false, ErrBadDataFormat
		}
		return t, body[1:], true, nil
	}
	t, ok := valueType(body[0])
	if !ok {
		return 0, nil, false, ErrBadDataFormat
	}
	return t, body, false, nil
}

// Dump returns the DUMP payload of v, a value of type t.
func (c *Codecs) Dump(t ValueType, v any) ([]byte, error) {
	enc, err := c.AppendValue(nil, t, v)
	if err != nil {
		return nil, err
	}
	return AppendDump(make([]byte, 0, len(enc)+dumpTrailerLen), enc), nil
}

// AppendDumpOf appends the DUMP payload of a value to dst (Dump without
// its allocations, for a caller that copies the payload on at once).
func (c *Codecs) AppendDumpOf(dst []byte, t ValueType, v any) ([]byte, error) {
	start := len(dst)
	dst, err := c.AppendValue(dst, t, v)
	if err != nil {
		return dst[:start], err
	}
	return sealDump(dst, start), nil
}

// Restore decodes a DUMP payload into a value: ErrDumpPayload for a bad
// version or checksum, ErrBadDataFormat when the checksum holds but the
// value does not decode (an empty collection included, as Redis), and
// ErrStreamUnsupported (wrapped) for a stream while no codec loads one.
// The value may alias payload.
func (c *Codecs) Restore(payload []byte) (ValueType, any, error) {
	t, enc, legacy, err := DecodeDump(payload)
	if err != nil {
		return 0, nil, err
	}
	var v any
	if legacy {
		v, err = c.DecodeLegacy(t, enc)
	} else {
		v, err = c.DecodeValue(t, enc)
	}
	if errors.Is(err, ErrStreamUnsupported) {
		return 0, nil, fmt.Errorf("ERR %w", ErrStreamUnsupported)
	}
	if err != nil {
		return 0, nil, ErrBadDataFormat
	}
	return t, v, nil
}
