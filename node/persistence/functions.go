package persistence

import (
	"encoding/binary"
	"fmt"

	"github.com/shoal-dev/shoal/node/persistence/rdb"
)

// FunctionsPayload is a FUNCTION DUMP payload of the function libraries
// whose codes are given, as Redis's functionsDumpCommand writes it: an
// RDB_OPCODE_FUNCTION2 record per library, the RDB version and the CRC64.
// A snapshot of Redis carries its libraries as the same records; the
// loaders hand them to the scripting runtime as this payload.
func FunctionsPayload(codes [][]byte) []byte {
	var b []byte
	for _, code := range codes {
		b = rdb.AppendString(append(b, rdb.OpFunction2), code)
	}
	b = binary.LittleEndian.AppendUint16(b, rdb.Version)
	return binary.LittleEndian.AppendUint64(b, CRC64(b))
}

// FunctionCodes splits a FUNCTION DUMP payload (FunctionsPayload, or the
// runtime's dump) into the code of each library, as a snapshot writes
// them (SnapshotWriter.Function: an RDB_OPCODE_FUNCTION2 record each).
func FunctionCodes(payload []byte) ([][]byte, error) {
	if len(payload) < dumpTrailerLen {
		return nil, fmt.Errorf("%w: function payload of %d bytes", ErrCorrupt, len(payload))
	}
	body := payload[:len(payload)-dumpTrailerLen]
	if binary.LittleEndian.Uint64(payload[len(payload)-8:]) != CRC64(payload[:len(payload)-8]) {
		return nil, fmt.Errorf("%w: function payload checksum", ErrCorrupt)
	}
	r := rdb.NewReader(body)
	var codes [][]byte
	for r.Left() > 0 && r.Err() == nil {
		if r.Byte() != rdb.OpFunction2 {
			return nil, fmt.Errorf("%w: function payload record", ErrCorrupt)
		}
		if code := r.String(); r.Err() == nil {
			codes = append(codes, code)
		}
	}
	if r.Err() != nil {
		return nil, fmt.Errorf("%w: function payload: %w", ErrCorrupt, r.Err())
	}
	return codes, nil
}
