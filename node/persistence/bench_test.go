package persistence

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/shoal-dev/shoal/node/keyspace"
)

// populated is a database of n string keys as DEBUG POPULATE makes them.
func populated(n int) *keyspace.DB {
	db := keyspace.New(0, keyspace.NewEnv())
	for i := range n {
		v := fmt.Appendf(nil, "value:%d", i)
		v = append(v, make([]byte, 32-len(v))...)
		db.AddString(fmt.Appendf(nil, "key:%d", i), v)
	}
	return db
}

const benchKeys = 200_000

// BenchmarkSnapshotWrite: SAVE's path (WriteDatabases), with Redis's
// default rdbcompression yes and with no.
func BenchmarkSnapshotWrite(b *testing.B) {
	for _, compress := range []bool{true, false} {
		b.Run(fmt.Sprintf("compress=%v", compress), func(b *testing.B) { benchWrite(b, compress) })
	}
}

func benchWrite(b *testing.B, compress bool) {
	db := populated(benchKeys)
	codecs := KeyspaceCodecs(nil, nil, nil, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		w := NewSnapshotWriter(io.Discard)
		w.SetOptions(SnapshotOptions{Compress: compress})
		if err := WriteDatabases(w, codecs, []*keyspace.DB{db}); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchKeys, "ns/key")
}

// BenchmarkSnapshotLoad: the start-up load of a file written with
// rdbcompression yes and no.
func BenchmarkSnapshotLoad(b *testing.B) {
	for _, compress := range []bool{true, false} {
		b.Run(fmt.Sprintf("compress=%v", compress), func(b *testing.B) { benchLoad(b, compress) })
	}
}

func benchLoad(b *testing.B, compress bool) {
	codecs := KeyspaceCodecs(nil, nil, nil, nil)
	var buf bytes.Buffer
	w := NewSnapshotWriter(&buf)
	w.SetOptions(SnapshotOptions{Compress: compress})
	if err := WriteDatabases(w, codecs, []*keyspace.DB{populated(benchKeys)}); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		db := keyspace.New(0, keyspace.NewEnv())
		err := ReadSnapshot(bytes.NewReader(buf.Bytes()), "bench", SnapshotHandler{Reuse: true, Key: func(r Record) error {
			return LoadKey(db, codecs, r, true)
		}})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchKeys, "ns/key")
}
