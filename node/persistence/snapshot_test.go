package persistence

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/node/persistence/rdb"
)

// goldenRecords is one key of every type, across two databases, with and
// without expiry, in RDB encodings.
func goldenRecords(t testing.TB) []Record {
	str := func(s string) []byte { return rdb.AppendStringObject(nil, []byte(s)) }
	list, _ := rdb.AppendListObject(nil, 2, slices.Values(bs("a", "bc")))
	set, _ := rdb.AppendSetObject(nil, 1, slices.Values(bs("m")), false)
	zset, _ := rdb.AppendZSetObject(nil, 2, scoredOf(scored{"x", 1}, scored{"y", 2.5}), false)
	hash, _ := rdb.AppendHashObject(nil, 1, pairsOf("f", "v"), true)
	return []Record{
		{DB: 0, Key: []byte("s"), ExpireAt: NoExpire, Type: TypeString, Value: str("v")},
		{DB: 0, Key: []byte("e"), ExpireAt: 1700000000123, Type: TypeString, Value: str("x")},
		{DB: 2, Key: []byte("l"), ExpireAt: NoExpire, Type: TypeList, Value: list},
		{DB: 2, Key: []byte("t"), ExpireAt: NoExpire, Type: TypeSet, Value: set},
		{DB: 2, Key: []byte("z"), ExpireAt: NoExpire, Type: TypeZSet, Value: zset},
		{DB: 2, Key: []byte("h"), ExpireAt: 0, Type: TypeHash, Value: hash},
	}
}

// legacyGoldenRecords is goldenRecords in the encodings of earlier
// builds' snapshots (value.go).
func legacyGoldenRecords(t testing.TB) []Record {
	list := must(AppendElements(nil, 2, slices.Values(bs("a", "bc"))))
	set := must(AppendElements(nil, 1, slices.Values(bs("m"))))
	zset := must(AppendScored(nil, 2, scoredOf(scored{"x", 1}, scored{"y", 2.5})))
	hash := must(AppendPairs(nil, 1, pairsOf("f", "v")))
	return []Record{
		{DB: 0, Key: []byte("s"), ExpireAt: NoExpire, Type: TypeString, Value: []byte("v"), Legacy: true},
		{DB: 0, Key: []byte("e"), ExpireAt: 1700000000123, Type: TypeString, Value: []byte("x"), Legacy: true},
		{DB: 2, Key: []byte("l"), ExpireAt: NoExpire, Type: TypeList, Value: list, Legacy: true},
		{DB: 2, Key: []byte("t"), ExpireAt: NoExpire, Type: TypeSet, Value: set, Legacy: true},
		{DB: 2, Key: []byte("z"), ExpireAt: NoExpire, Type: TypeZSet, Value: zset, Legacy: true},
		{DB: 2, Key: []byte("h"), ExpireAt: 0, Type: TypeHash, Value: hash, Legacy: true},
	}
}

// writeLegacySnapshot writes the snapshot format of earlier builds
// (snapshot_format.go), which this build still loads.
func writeLegacySnapshot(t testing.TB, aux [][2]string, recs []Record) []byte {
	t.Helper()
	b := append([]byte(SnapshotMagic), SnapshotVersion, 0)
	for _, a := range aux {
		b = append(b, opAux)
		b = appendBytes(b, []byte(a[0]))
		b = appendBytes(b, []byte(a[1]))
	}
	db := 0
	for _, r := range recs {
		if r.DB != db {
			b = binary.AppendUvarint(append(b, opSelectDB), uint64(r.DB))
			db = r.DB
		}
		if r.ExpireAt != NoExpire {
			b = binary.LittleEndian.AppendUint64(append(b, opExpireMs), uint64(r.ExpireAt))
		}
		b = append(b, byte(r.Type))
		b = appendBytes(b, r.Key)
		b = appendBytes(b, r.Value)
	}
	b = append(b, opEOF)
	return append(b, le64(CRC64(b))...)
}

func writeSnapshot(t testing.TB, aux [][2]string, recs []Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewSnapshotWriter(&buf)
	for _, a := range aux {
		if err := w.Aux(a[0], a[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range recs {
		if err := w.Key(r.DB, r.Key, r.ExpireAt, r.Type, r.Value); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// goldenSnapshotHex is a file of format version 1, written by earlier
// builds: it must keep loading.
const goldenSnapshotHex = "" +
	"53484f414c534e50" + "0100" + // magic "SHOALSNP", version 1
	"fa" + "0973686f616c2d766572" + "0131" + // AUX "shoal-ver" = "1"
	"00" + "0173" + "0176" + // string "s" = "v"
	"fc" + "7b68e5cf8b010000" + "00" + "0165" + "0178" + // EXPIREMS 1700000000123, string "e" = "x"
	"fe" + "02" + // SELECTDB 2
	"01" + "016c" + "06" + "02" + "0161" + "026263" + // list "l" = [a bc]
	"02" + "0174" + "03" + "01" + "016d" + // set "t" = {m}
	"03" + "017a" + "15" + "02" + "0178" + "000000000000f03f" + "0179" + "0000000000000440" + // zset "z" = {x:1 y:2.5}
	"fc" + "0000000000000000" + "04" + "0168" + "05" + "01" + "0166" + "0176" + // EXPIREMS 0, hash "h" = {f:v}
	"ff" + "CRC"

func TestLegacySnapshotGoldenBytesLoad(t *testing.T) {
	body := must(hex.DecodeString(goldenSnapshotHex[:len(goldenSnapshotHex)-len("CRC")]))
	file := append(body, le64(CRC64(body))...)
	if !bytes.Equal(file, writeLegacySnapshot(t, [][2]string{{"shoal-ver", "1"}}, legacyGoldenRecords(t))) {
		t.Fatal("the test's legacy writer does not write the golden bytes")
	}
	recs, aux, err := loadAll(t, file)
	if err != nil || aux["shoal-ver"] != "1" {
		t.Fatalf("aux %v err %v", aux, err)
	}
	want := legacyGoldenRecords(t)
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i := range want {
		g, w := recs[i], want[i]
		if g.DB != w.DB || string(g.Key) != string(w.Key) || g.ExpireAt != w.ExpireAt || g.Type != w.Type || !bytes.Equal(g.Value, w.Value) || !g.Legacy {
			t.Errorf("record %d = %+v, want %+v", i, g, w)
		}
	}
}

// goldenRDBHex freezes what this build writes for goldenRecords: an RDB
// file (version 10) as Redis 7.0 writes one, except that the lengths of
// packed strings and of a quicklist's node count use the 32-bit form.
const goldenRDBHex = "" +
	"524544495330303130" + // "REDIS0010"
	"fa" + "0973686f616c2d766572" + "c001" + // AUX "shoal-ver" = 1 (an integer string)
	"fe00" + "00" + "0173" + "0176" + // SELECTDB 0, string "s" = "v"
	"fc" + "7b68e5cf8b010000" + "00" + "0165" + "0178" + // EXPIRETIME_MS 1700000000123, "e" = "x"
	"fe02" + // SELECTDB 2
	"12" + "016c" + "8000000001" + "02" + "800000000e" + "0e000000020081610282626303ff" + // quicklist "l" = [a bc]
	"02" + "0174" + "01" + "016d" + // set "t" = {m}
	"05" + "017a" + "02" + "0178" + "000000000000f03f" + "0179" + "0000000000000440" + // zset2 "z" = {x:1 y:2.5}
	"fc" + "0000000000000000" + "10" + "0168" + "800000000d" + "0d0000000200816602817602ff" + // hash listpack "h" = {f:v}
	"ff" + "CRC"

func TestSnapshotGoldenBytesRDB(t *testing.T) {
	got := writeSnapshot(t, [][2]string{{"shoal-ver", "1"}}, goldenRecords(t))
	wantBody := must(hex.DecodeString(goldenRDBHex[:len(goldenRDBHex)-len("CRC")]))
	if !bytes.Equal(got[:len(got)-8], wantBody) {
		t.Fatalf("snapshot bytes changed:\n got %x\nwant %x", got[:len(got)-8], wantBody)
	}
	if crc := CRC64(wantBody); !bytes.Equal(got[len(got)-8:], le64(crc)) {
		t.Fatalf("trailer %x, want CRC-64/Jones %016x little-endian", got[len(got)-8:], crc)
	}
}

func le64(v uint64) []byte {
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return b
}

func loadAll(t testing.TB, data []byte) ([]Record, map[string]string, error) {
	t.Helper()
	var recs []Record
	aux := map[string]string{}
	err := ReadSnapshot(bytes.NewReader(data), "test.snap", SnapshotHandler{
		Aux: func(n, v []byte) error { aux[string(n)] = string(v); return nil },
		Key: func(r Record) error { recs = append(recs, r); return nil },
	})
	return recs, aux, err
}

func TestSnapshotRoundTrip(t *testing.T) {
	want := goldenRecords(t)
	recs, aux, err := loadAll(t, writeSnapshot(t, [][2]string{{"shoal-ver", "1"}, {"ctime", "42"}}, want))
	if err != nil {
		t.Fatal(err)
	}
	if aux["shoal-ver"] != "1" || aux["ctime"] != "42" {
		t.Fatalf("aux = %v", aux)
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i := range want {
		g, w := recs[i], want[i]
		if g.DB != w.DB || string(g.Key) != string(w.Key) || g.ExpireAt != w.ExpireAt || g.Type != w.Type || !bytes.Equal(g.Value, w.Value) {
			t.Errorf("record %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestSnapshotLargeValueRoundTrip(t *testing.T) {
	big := rdb.AppendStringObject(nil, bytes.Repeat([]byte("0123456789abcdef"), 300_000)) // 4.8 MB, several read chunks
	recs, _, err := loadAll(t, writeSnapshot(t, nil, []Record{{DB: 7, Key: []byte("big"), ExpireAt: NoExpire, Type: TypeString, Value: big}}))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].DB != 7 || !bytes.Equal(recs[0].Value, big) {
		t.Fatalf("big value not loaded intact")
	}
}

func TestSnapshotEmpty(t *testing.T) {
	data := writeSnapshot(t, nil, nil)
	if len(data) != rdbHeaderLen+1+8 {
		t.Fatalf("empty snapshot is %d bytes", len(data))
	}
	recs, _, err := loadAll(t, data)
	if err != nil || len(recs) != 0 {
		t.Fatalf("recs %v err %v", recs, err)
	}
}

// Every way a file can be bad stops the load with an error naming the file
// and the offset, never a silent partial load.
func TestSnapshotLoadErrors(t *testing.T) {
	good := writeSnapshot(t, nil, goldenRecords(t))
	eof := len(good) - 9 // offset of the 0xFF end marker
	setByte := func(off int, b byte) []byte {
		d := slices.Clone(good)
		d[off] = b
		return d
	}
	withVersion := func(v string) []byte { return append([]byte("REDIS"+v), good[9:]...) }
	// A record ending the file, with a correct checksum, so the record
	// (not the checksum) is what stops the load.
	ending := func(rec ...byte) []byte {
		d := append(slices.Clone(good[:eof]), rec...)
		d = append(d, rdb.OpEOF)
		return append(d, le64(CRC64(d))...)
	}
	legacy := writeLegacySnapshot(t, nil, legacyGoldenRecords(t))
	cases := []struct {
		name   string
		data   []byte
		want   error
		offset int64
	}{
		{"empty file", nil, ErrTruncated, 0},
		{"bad magic", append([]byte("XEDIS0010"), good[9:]...), ErrBadMagic, 0},
		{"short file with bad magic", []byte("RXD"), ErrBadMagic, 0},
		{"header only", good[:rdbHeaderLen], ErrTruncated, rdbHeaderLen},
		{"version 0", withVersion("0000"), ErrBadVersion, 0},
		{"not a version", withVersion("00x1"), ErrBadVersion, 0},
		{"future version", withVersion("0011"), ErrBadVersion, 0},
		{"flipped value byte", setByte(rdbHeaderLen+6, 'w'), ErrBadChecksum, int64(eof + 1)},
		{"flipped checksum byte", setByte(len(good)-1, good[len(good)-1]^1), ErrBadChecksum, int64(eof + 1)},
		{"no end marker", good[:eof], ErrTruncated, int64(eof)},
		{"cut inside the checksum", good[:len(good)-3], ErrTruncated, int64(eof + 1)},
		{"cut inside a record", good[:rdbHeaderLen+4], ErrTruncated, rdbHeaderLen + 2},
		{"trailing data", append(slices.Clone(good), 0), ErrTrailingData, int64(len(good))},
		{"unknown type tag", ending(0x1f, 0x01, 'k', 0x01, 'v'), ErrUnknownType, int64(eof)},
		{"module value", ending(rdb.TypeModule2, 0x01, 'k', 0x01), ErrModule, int64(eof)},
		{"module aux", ending(rdb.OpModuleAux, 0x01), ErrModule, int64(eof)},
		{"functions without a handler", ending(rdb.OpFunction2, 0x01, 'f'), ErrFunctions, int64(eof)},
		{"corrupt length", ending(rdb.TypeString, 0x01, 'k', 0x82), ErrCorrupt, int64(eof)},
		{"expire then end", ending(rdb.OpExpireTimeMs, 1, 0, 0, 0, 0, 0, 0, 0), ErrBadExpireOrder, int64(eof + 9)},
		{"legacy header only", legacy[:snapshotHeaderLen], ErrTruncated, snapshotHeaderLen},
		{"legacy future version", append(append([]byte(SnapshotMagic), SnapshotVersion+1, 0), legacy[snapshotHeaderLen:]...), ErrBadVersion, 8},
		{"legacy flipped value byte", func() []byte { d := slices.Clone(legacy); d[snapshotHeaderLen+4] = 'w'; return d }(), ErrBadChecksum, int64(len(legacy) - 8)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := loadAll(t, tc.data)
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *LoadError", err)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if le.File != "test.snap" || le.Offset != tc.offset {
				t.Fatalf("error at %s offset %d, want test.snap offset %d: %v", le.File, le.Offset, tc.offset, err)
			}
			if !strings.Contains(err.Error(), "test.snap") {
				t.Fatalf("message does not name the file: %v", err)
			}
		})
	}
}

func TestSnapshotHandlerErrorStopsLoad(t *testing.T) {
	stop := errors.New("db index out of range")
	n := 0
	err := ReadSnapshot(bytes.NewReader(writeSnapshot(t, nil, goldenRecords(t))), "x", SnapshotHandler{
		Key: func(r Record) error {
			n++
			if r.DB == 2 {
				return stop
			}
			return nil
		},
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Fatalf("err %v after %d records", err, n)
	}
}

func TestSaveSnapshotFileIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dump.snap")
	if err := SaveSnapshotFile(path, func(w *SnapshotWriter) error {
		return w.Key(0, []byte("k"), NoExpire, TypeString, rdb.AppendStringObject(nil, []byte("one")))
	}); err != nil {
		t.Fatal(err)
	}
	// A failing save leaves the previous file and no temp file behind.
	boom := errors.New("boom")
	if err := SaveSnapshotFile(path, func(w *SnapshotWriter) error {
		w.Key(0, []byte("k"), NoExpire, TypeString, rdb.AppendStringObject(nil, []byte("two")))
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "dump.snap" {
		t.Fatalf("dir holds %v", entries)
	}
	var got []string
	if err := LoadSnapshotFile(path, SnapshotHandler{Key: func(r Record) error {
		got = append(got, string(must(decodeRDBString(r.Value))))
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"one"}) {
		t.Fatalf("loaded %v", got)
	}
}

// The size hint is RDB's SELECTDB and RESIZEDB: frozen bytes.
func TestSnapshotResizeDBGoldenBytes(t *testing.T) {
	var buf bytes.Buffer
	w := NewSnapshotWriter(&buf)
	if err := w.ResizeDB(2, 1000, 7); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := "524544495330303130" + // REDIS0010
		"fe02" + "fb" + "43e8" + "07" + // SELECTDB 2, RESIZEDB 1000 7
		"ff"
	if got := hex.EncodeToString(buf.Bytes()[:buf.Len()-8]); got != want {
		t.Fatalf("bytes %s, want %s", got, want)
	}
}

func TestSnapshotResizeDBReachesItsHandlerOnly(t *testing.T) {
	var buf bytes.Buffer
	w := NewSnapshotWriter(&buf)
	recs := goldenRecords(t)
	mustOK(t, w.Aux("shoal-ver", "1"))
	mustOK(t, w.ResizeDB(0, 2, 1))
	for i, r := range recs {
		if i == 2 {
			mustOK(t, w.ResizeDB(2, 4, 1))
		}
		mustOK(t, w.Key(r.DB, r.Key, r.ExpireAt, r.Type, r.Value))
	}
	mustOK(t, w.Close())
	data := buf.Bytes()

	var hints [][3]int
	aux := map[string]string{}
	keys := 0
	err := ReadSnapshot(bytes.NewReader(data), "test.snap", SnapshotHandler{
		Aux:      func(n, v []byte) error { aux[string(n)] = string(v); return nil },
		ResizeDB: func(db, k, e int) error { hints = append(hints, [3]int{db, k, e}); return nil },
		Key:      func(Record) error { keys++; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(hints) != "[[0 2 1] [2 4 1]]" || keys != len(recs) {
		t.Fatalf("hints %v, %d keys", hints, keys)
	}
	if _, ok := aux[AuxResizeDB]; ok || aux["shoal-ver"] != "1" {
		t.Fatalf("aux %v: the hint must go to ResizeDB only", aux)
	}
	// The legacy form (an AUX field) reaches ResizeDB too.
	hints = nil
	err = ReadSnapshot(bytes.NewReader(writeLegacySnapshot(t, [][2]string{{AuxResizeDB, "3 10 2"}}, nil)), "old.snap", SnapshotHandler{
		ResizeDB: func(db, k, e int) error { hints = append(hints, [3]int{db, k, e}); return nil },
	})
	if err != nil || fmt.Sprint(hints) != "[[3 10 2]]" {
		t.Fatalf("legacy hint: %v %v", hints, err)
	}
	// A loader without a ResizeDB handler (as an older build, which sees
	// an unknown AUX field) loads every key all the same.
	got, _, err := loadAll(t, data)
	if err != nil || len(got) != len(recs) {
		t.Fatalf("without a ResizeDB handler: %d keys, %v", len(got), err)
	}
}

func TestSnapshotBadResizeDBIsCorrupt(t *testing.T) {
	for _, v := range []string{"", "1 2", "1 2 3 4", "-1 2 3", "a 2 3", "1 2 99999999999999999999"} {
		data := writeLegacySnapshot(t, [][2]string{{AuxResizeDB, v}}, nil)
		_, _, err := loadAll(t, data)
		var le *LoadError
		if !errors.As(err, &le) || !errors.Is(err, ErrCorrupt) || le.Offset != snapshotHeaderLen {
			t.Errorf("%q: %v, want a corrupt record at offset %d", v, err, snapshotHeaderLen)
		}
	}
}

func mustOK(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
