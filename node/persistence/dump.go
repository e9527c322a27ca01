package persistence

import (
	"encoding/binary"
	"errors"
)

// DUMP payload layout, modelled on Redis's:
//
//	type tag (1 byte) | value encoding (value.go) | uint16 version | uint64 CRC-64/Jones
//
// Both integers are little-endian; the CRC covers every byte before it. The
// version's high bit marks a shoal payload and its low 15 bits carry
// ValueEncodingVersion: Redis accepts only its own small RDB version numbers,
// so a shoal payload given to Redis (or a Redis payload given to shoal) is
// rejected with "DUMP payload version or checksum are wrong" instead of being
// misread.

const (
	dumpShoalFlag  = 0x8000
	dumpTrailerLen = 2 + 8
)

// DumpVersion is the version field this build writes.
const DumpVersion uint16 = dumpShoalFlag | ValueEncodingVersion

// The errors RESTORE replies with, worded (with the ERR prefix) as Redis words them.
var (
	ErrDumpPayload   = errors.New("ERR DUMP payload version or checksum are wrong")
	ErrBadDataFormat = errors.New("ERR Bad data format")
)

// AppendDump appends a DUMP payload for a value of type t whose encoding is
// value.
func AppendDump(dst []byte, t ValueType, value []byte) []byte {
	start := len(dst)
	dst = append(dst, byte(t))
	dst = append(dst, value...)
	dst = binary.LittleEndian.AppendUint16(dst, DumpVersion)
	return binary.LittleEndian.AppendUint64(dst, CRC64(dst[start:]))
}

// VerifyDump checks a payload's version and checksum (Redis's
// verifyDumpPayload). It returns ErrDumpPayload when they are wrong.
func VerifyDump(payload []byte) error {
	if len(payload) < 1+dumpTrailerLen {
		return ErrDumpPayload
	}
	body := payload[:len(payload)-8]
	ver := binary.LittleEndian.Uint16(body[len(body)-2:])
	if ver&dumpShoalFlag == 0 || ver&^dumpShoalFlag == 0 || ver&^dumpShoalFlag > ValueEncodingVersion {
		return ErrDumpPayload
	}
	if CRC64(body) != binary.LittleEndian.Uint64(payload[len(payload)-8:]) {
		return ErrDumpPayload
	}
	return nil
}

// DecodeDump verifies a payload and splits it into type and value encoding
// (a slice of payload). An unknown type tag is ErrBadDataFormat.
func DecodeDump(payload []byte) (ValueType, []byte, error) {
	if err := VerifyDump(payload); err != nil {
		return 0, nil, err
	}
	t := ValueType(payload[0])
	if !t.Valid() {
		return 0, nil, ErrBadDataFormat
	}
	return t, payload[1 : len(payload)-dumpTrailerLen], nil
}

// Dump returns the DUMP payload of v, a value of type t.
func (c *Codecs) Dump(t ValueType, v any) ([]byte, error) {
	enc, err := c.AppendValue(nil, t, v)
	if err != nil {
		return nil, err
	}
	return AppendDump(make([]byte, 0, len(enc)+1+dumpTrailerLen), t, enc), nil
}

// Restore decodes a DUMP payload into a value: ErrDumpPayload for a bad
// version or checksum, ErrBadDataFormat when the checksum holds but the
// value does not decode. The value may alias payload.
func (c *Codecs) Restore(payload []byte) (ValueType, any, error) {
	t, enc, err := DecodeDump(payload)
	if err != nil {
		return 0, nil, err
	}
	v, err := c.DecodeValue(t, enc)
	if err != nil {
		return 0, nil, ErrBadDataFormat
	}
	return t, v, nil
}
