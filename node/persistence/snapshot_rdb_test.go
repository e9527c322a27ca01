package persistence

import (
	"bytes"
	"testing"

	"github.com/shoal-dev/shoal/node/persistence/rdb"
)

// Opcodes Redis 7.0 no longer writes but older files hold: an expiry in
// seconds, LRU and LFU hints before a key, a version-4 file without a
// checksum.
func TestRDBOlderOpcodes(t *testing.T) {
	body := []byte("REDIS0004")
	body = append(body, rdb.OpSelectDB, 1, rdb.OpExpireTime, 0x10, 0, 0, 0) // 16 s
	body = append(body, rdb.OpIdle, 5, rdb.OpFreq, 3)
	body = append(append(body, rdb.TypeString), rdb.AppendString(rdb.AppendString(nil, []byte("k")), []byte("v"))...)
	body = append(body, rdb.OpEOF)
	var recs []Record
	err := ReadSnapshot(bytes.NewReader(body), "old.rdb", SnapshotHandler{Key: func(r Record) error { recs = append(recs, r); return nil }})
	if err != nil || len(recs) != 1 || recs[0].DB != 1 || recs[0].ExpireAt != 16000 || string(recs[0].Key) != "k" {
		t.Fatalf("%+v %v", recs, err)
	}
}
