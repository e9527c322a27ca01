package gen

import (
	"encoding/binary"
	"hash/crc64"
	"math/rand/v2"
)

// DUMP payloads: the RDB encoding of one value, then the RDB version (2
// bytes, little endian) and a CRC-64 (Jones polynomial, reflected, no
// initial or final xor; little endian) of everything before it. RESTORE
// checks the version and CRC first, so damage only reaches the decoder
// when the CRC is recomputed, which Mangle does most of the time.

var jones = crc64.MakeTable(0x95ac9329ac4bc9b5)

// CRC64 is Redis's crc64(0, p).
func CRC64(p []byte) uint64 {
	return ^crc64.Update(^uint64(0), jones, p)
}

// Seal recomputes the CRC of a payload whose last 8 bytes are a CRC.
func Seal(payload []byte) []byte {
	if len(payload) < 10 {
		return payload
	}
	body := payload[:len(payload)-8]
	return binary.LittleEndian.AppendUint64(body, CRC64(body))
}

// Mangle damages a valid payload: flips, sets or deletes bytes of the
// value, truncates or extends it, or swaps its type byte, and seals it
// again nine times in ten.
func Mangle(r *rand.Rand, payload string) string {
	p := []byte(payload)
	if len(p) < 11 {
		return payload
	}
	value := p[:len(p)-10]
	trailer := append([]byte(nil), p[len(p)-10:]...)
	for range 1 + r.IntN(3) {
		switch op := r.IntN(6); {
		case op == 0 && len(value) > 0:
			value[r.IntN(len(value))] ^= byte(1 << r.IntN(8))
		case op == 1 && len(value) > 0:
			value[r.IntN(len(value))] = []byte{0x00, 0xff, 0x7f, 0x80, 0xc0, 0x3f}[r.IntN(6)]
		case op == 2 && len(value) > 1:
			i := r.IntN(len(value))
			value = append(value[:i], value[i+1:]...)
		case op == 3 && len(value) > 1:
			value = value[:r.IntN(len(value))]
		case op == 4:
			value = append(value, []byte{0xff, 0x00, 0x01, 0xc3, 0x80}[:1+r.IntN(5)]...)
		default:
			if len(value) > 0 {
				value[0] = byte(r.IntN(24)) // another RDB object type
			}
		}
	}
	out := append(value, trailer...)
	if r.IntN(10) != 0 {
		out = Seal(out)
	}
	return string(out)
}
