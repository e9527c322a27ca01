package persistence

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/node/persistence/rdb"
)

// optionRecords are records with long, compressible strings and access
// information.
func optionRecords() []Record {
	long := strings.Repeat("compressible ", 8)
	list, _ := rdb.AppendListObject(nil, 2, slices.Values(bs(long, "b")))
	hash, _ := rdb.AppendHashObject(nil, 1, pairsOf("f", long), true)
	return []Record{
		{DB: 0, Key: []byte("s"), ExpireAt: NoExpire, Type: TypeString, Value: rdb.AppendStringObject(nil, []byte(long)), Access: 30},
		{DB: 0, Key: []byte(long), ExpireAt: 1700000000123, Type: TypeString, Value: rdb.AppendStringObject(nil, []byte("v")), Access: 7},
		{DB: 1, Key: []byte("l"), ExpireAt: NoExpire, Type: TypeList, Value: list, Access: 200},
		{DB: 1, Key: []byte("h"), ExpireAt: NoExpire, Type: TypeHash, Value: hash},
	}
}

func writeWith(t testing.TB, opt SnapshotOptions, recs []Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewSnapshotWriter(&buf)
	w.SetOptions(opt)
	for _, r := range recs {
		r.AccessKind = opt.Access
		if err := w.WriteRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSnapshotOptions: rdbcompression writes smaller files whose records
// decode to the same values; an LRU (LFU) policy writes RDB_OPCODE_IDLE
// (RDB_OPCODE_FREQ) before each key, which the reader hands back with the
// record; without a policy no hint is written.
func TestSnapshotOptions(t *testing.T) {
	plain := writeWith(t, SnapshotOptions{}, optionRecords())
	for _, opt := range []SnapshotOptions{{}, {Compress: true}, {Access: AccessLRU}, {Access: AccessLFU}, {Compress: true, Access: AccessLFU}} {
		file := writeWith(t, opt, optionRecords())
		if opt.Compress && len(file) >= len(plain)-100 {
			t.Errorf("%+v: %d bytes, uncompressed %d", opt, len(file), len(plain))
		}
		var got []Record
		err := ReadSnapshot(bytes.NewReader(file), "opts", SnapshotHandler{Key: func(r Record) error {
			got = append(got, r)
			return nil
		}})
		if err != nil {
			t.Fatalf("%+v: %v", opt, err)
		}
		want := optionRecords()
		if len(got) != len(want) {
			t.Fatalf("%+v: %d records", opt, len(got))
		}
		for i, r := range got {
			w := want[i]
			gv, err1 := decodeTestObject(r.Value)
			wv, err2 := decodeTestObject(w.Value)
			if err1 != nil || err2 != nil || !bytes.Equal(r.Key, w.Key) || r.ExpireAt != w.ExpireAt ||
				r.DB != w.DB || !equalValues(gv, wv) {
				t.Errorf("%+v: record %d = %q %v, want %q %v (%v %v)", opt, i, r.Key, gv, w.Key, wv, err1, err2)
			}
			if r.AccessKind != opt.Access || (opt.Access != AccessNone && r.Access != w.Access) {
				t.Errorf("%+v: record %d access %d %d", opt, i, r.AccessKind, r.Access)
			}
		}
	}
}

func equalValues(a, b rdb.Object) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// TestSnapshotAccessBytes freezes the hint's bytes: IDLE is a length,
// FREQ one byte, both after the expiry and before the type byte, as in
// Redis's rdbSaveKeyValuePair.
func TestSnapshotAccessBytes(t *testing.T) {
	r := Record{Key: []byte("k"), ExpireAt: 5, Type: TypeString, Value: rdb.AppendStringObject(nil, []byte("v")), Access: 300}
	exp := binary.LittleEndian.AppendUint64([]byte{rdb.OpExpireTimeMs}, 5)
	for _, c := range []struct {
		p    AccessPolicy
		hint []byte
	}{{AccessLRU, []byte{rdb.OpIdle, 0x41, 0x2c}}, {AccessLFU, []byte{rdb.OpFreq, 255}}} {
		file := writeWith(t, SnapshotOptions{Access: c.p}, []Record{r})
		want := append(append(append([]byte{rdb.OpSelectDB, 0}, exp...), c.hint...), 0, 1, 'k', 1, 'v')
		if !bytes.Contains(file, want) {
			t.Errorf("policy %d: file %x lacks %x", c.p, file, want)
		}
	}
}
