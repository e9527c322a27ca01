package persistence

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// withTrailer appends a correct checksum so the fuzzer gets past it and
// explores the record parser, not just the CRC.
func withTrailer(body []byte) []byte {
	out := append(append([]byte(nil), body...), opEOF)
	return binary.LittleEndian.AppendUint64(out, CRC64(out))
}

// FuzzSnapshotLoad: any input gives records or a *LoadError, never a panic
// or a hang; values that load decode or fail with ErrBadValue.
func FuzzSnapshotLoad(f *testing.F) {
	good := writeSnapshot(f, [][2]string{{"shoal-ver", "1"}}, goldenRecords(f))
	f.Add(good)
	f.Add(good[:len(good)-9])
	f.Add([]byte(SnapshotMagic))
	f.Add([]byte{})
	codecs := allTestCodecs()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range [][]byte{data, withTrailer(data)} {
			err := ReadSnapshot(bytes.NewReader(in), "fuzz.snap", SnapshotHandler{
				Key: func(r Record) error {
					if r.ExpireAt < NoExpire || !r.Type.Valid() {
						t.Fatalf("bad record delivered: %+v", r)
					}
					if _, err := codecs.DecodeValue(r.Type, r.Value); err != nil && !errors.Is(err, ErrBadValue) {
						t.Fatalf("value decode error is not ErrBadValue: %v", err)
					}
					return nil
				},
			})
			var le *LoadError
			if err != nil && !errors.As(err, &le) {
				t.Fatalf("error is not a *LoadError: %v", err)
			}
			if le != nil && (le.Offset < 0 || le.Offset > int64(len(in))) {
				t.Fatalf("offset %d outside a %d-byte file", le.Offset, len(in))
			}
		}
	})
}

// FuzzDumpPayload: RESTORE of any payload is a value or one of Redis's two
// errors, never a panic; what decodes re-encodes to a payload that decodes.
func FuzzDumpPayload(f *testing.F) {
	codecs := allTestCodecs()
	for _, r := range goldenRecords(f) {
		p := AppendDump(nil, r.Type, r.Value)
		f.Add(p)
		f.Add(p[:len(p)-dumpTrailerLen])
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		fixed := binary.LittleEndian.AppendUint16(append([]byte(nil), data...), DumpVersion)
		fixed = binary.LittleEndian.AppendUint64(fixed, CRC64(fixed))
		for _, in := range [][]byte{data, fixed} {
			typ, v, err := codecs.Restore(in)
			if err != nil {
				if err != ErrDumpPayload && err != ErrBadDataFormat {
					t.Fatalf("unexpected error %v", err)
				}
				continue
			}
			again, err := codecs.Dump(typ, v)
			if err != nil {
				t.Fatalf("re-dump of a restored %s failed: %v", typ, err)
			}
			if _, _, err := codecs.Restore(again); err != nil {
				t.Fatalf("re-dumped %s does not restore: %v", typ, err)
			}
		}
	})
}
