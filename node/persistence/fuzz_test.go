package persistence

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/shoal-dev/shoal/node/resp"
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
	f.Add(writeLegacySnapshot(f, [][2]string{{"shoal-ver", "1"}}, legacyGoldenRecords(f)))
	for _, name := range redisGoldenFiles(f) {
		if b, err := os.ReadFile(name); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Add(writeWith(f, SnapshotOptions{Compress: true, Access: AccessLRU}, optionRecords()))
	f.Add(writeWith(f, SnapshotOptions{Compress: true, Access: AccessLFU}, optionRecords()))
	f.Add([]byte(SnapshotMagic))
	f.Add([]byte{})
	codecs := KeyspaceCodecs(nil, nil, nil, nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range [][]byte{data, withTrailer(data)} {
			err := ReadSnapshot(bytes.NewReader(in), "fuzz.snap", SnapshotHandler{
				Key: func(r Record) error {
					if r.ExpireAt < NoExpire || !r.Type.Valid() {
						t.Fatalf("bad record delivered: %+v", r)
					}
					decode := codecs.DecodeValue
					if r.Legacy {
						decode = codecs.DecodeLegacy
					}
					if _, err := decode(r.Type, r.Value); err != nil && !errors.Is(err, ErrBadValue) {
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
	codecs := KeyspaceCodecs(nil, nil, nil, nil)
	for _, r := range goldenRecords(f) {
		p := AppendDump(nil, r.Value)
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
				if err != ErrDumpPayload && err != ErrBadDataFormat && !errors.Is(err, ErrStreamUnsupported) {
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

// FuzzAOFLoad: any byte stream loads, stops with a *LoadError (truncated or
// corrupt), or with truncation allowed reports a tail that adds up to the
// input; never a panic or a hang.
func FuzzAOFLoad(f *testing.F) {
	good := resp.AppendCommand(nil, bs("SELECT", "0"))
	good = resp.AppendCommand(good, bs("SET", "k", "v"))
	good = resp.AppendCommand(good, bs("MULTI"))
	good = resp.AppendCommand(good, bs("INCR", "n"))
	good = resp.AppendCommand(good, bs("EXEC"))
	f.Add(good)
	f.Add(good[:len(good)-4])
	f.Add([]byte("*1\r\n$-1\r\n"))
	f.Add([]byte("*99999999999\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		_, err := ReadAOF(bytes.NewReader(data), "fuzz.aof", false, func(a [][]byte) error {
			if len(a) == 0 {
				t.Fatal("empty command delivered")
			}
			n++
			return nil
		})
		var le *LoadError
		if err != nil && !errors.As(err, &le) {
			t.Fatalf("error is not a *LoadError: %v", err)
		}
		info, err2 := ReadAOF(bytes.NewReader(data), "fuzz.aof", true, func([][]byte) error { return nil })
		switch {
		case err == nil:
			if err2 != nil || info.Truncated || info.Size != int64(len(data)) || info.Commands != int64(n) {
				t.Fatalf("clean load disagrees: %+v %v", info, err2)
			}
		case errors.Is(err, ErrTruncated):
			if err2 != nil || !info.Truncated || info.TruncatedAt != le.Offset || info.TruncatedAt+info.TailBytes != int64(len(data)) {
				t.Fatalf("truncation report %+v (%v) vs %v", info, err2, err)
			}
		default:
			if !errors.Is(err2, ErrCorrupt) {
				t.Fatalf("corrupt input passed with truncation allowed: %v then %v", err, err2)
			}
		}
	})
}

// FuzzAOFManifest: a manifest parses or fails with ErrBadManifest; what
// parses encodes to a manifest that parses to the same files.
func FuzzAOFManifest(f *testing.F) {
	f.Add([]byte("file appendonly.aof.1.base.snap seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"))
	f.Add([]byte("# c\ntype h seq 2 file x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseAOFManifest(bytes.NewReader(data), "fuzz.manifest")
		if err != nil {
			if !errors.Is(err, ErrBadManifest) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		again, err := ParseAOFManifest(bytes.NewReader(m.Encode()), "again")
		if err != nil {
			t.Fatalf("re-encoded manifest does not parse: %v\n%s", err, m.Encode())
		}
		if !slices.Equal(again.Files(), m.Files()) {
			t.Fatalf("round trip changed the files: %v vs %v", again.Files(), m.Files())
		}
	})
}
