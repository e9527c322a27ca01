package persistence

import (
	"bufio"
	"bytes"
	"errors"
	"testing"

	"github.com/shoal-dev/shoal/node/persistence/rdb"
)

// TestReadSnapshotStreamStopsAtTheChecksum: on a stream that goes on after
// the snapshot (a replication link), the reader consumes exactly the
// snapshot, and with Reuse the records match those of a plain load when
// copied during the call.
func TestReadSnapshotStreamStopsAtTheChecksum(t *testing.T) {
	want := goldenRecords(t)
	want = append(want, Record{DB: 2, Key: []byte("big"), ExpireAt: NoExpire, Type: TypeString, Value: rdb.AppendStringObject(nil, bytes.Repeat([]byte("x"), 2<<20))})
	snap := writeSnapshot(t, [][2]string{{"shoal-ver", "1"}}, want)
	after := []byte("*1\r\n$4\r\nPING\r\n")
	br := bufio.NewReaderSize(bytes.NewReader(append(bytes.Clone(snap), after...)), 4096)
	var got []Record
	n, err := ReadSnapshotStream(br, "stream", SnapshotHandler{Reuse: true, Key: func(r Record) error {
		r.Key, r.Value = bytes.Clone(r.Key), bytes.Clone(r.Value)
		got = append(got, r)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(snap)) {
		t.Fatalf("read %d bytes, the snapshot is %d", n, len(snap))
	}
	rest := make([]byte, len(after)+1)
	m, _ := br.Read(rest)
	if !bytes.Equal(rest[:m], after) {
		t.Fatalf("after the snapshot the stream holds %q, want %q", rest[:m], after)
	}
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.DB != w.DB || string(g.Key) != string(w.Key) || g.ExpireAt != w.ExpireAt || g.Type != w.Type || !bytes.Equal(g.Value, w.Value) {
			t.Errorf("record %d = %v %q, want %v %q", i, g.DB, g.Key, w.DB, w.Key)
		}
	}
}

// TestReadSnapshotStreamRejectsCorruption: a flipped byte is a checksum
// error, a cut stream a truncation.
func TestReadSnapshotStreamRejectsCorruption(t *testing.T) {
	snap := writeSnapshot(t, nil, goldenRecords(t))
	bad := bytes.Clone(snap)
	bad[len(bad)-12] ^= 1
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{{"flipped byte", bad, ErrBadChecksum}, {"cut", snap[:len(snap)-3], ErrTruncated}} {
		_, err := ReadSnapshotStream(bufio.NewReader(bytes.NewReader(tc.data)), "stream", SnapshotHandler{Reuse: true, Key: func(Record) error { return nil }})
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
