package persistence

import (
	"encoding/binary"

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
